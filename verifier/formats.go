package verifier

import (
	"github.com/vaxcert/vaxcert/verifier/divoc"
	"github.com/vaxcert/vaxcert/verifier/eudcc"
	"github.com/vaxcert/vaxcert/verifier/verdict"
)

// The other certificate formats, tried in this order on inputs that are not
// PDFs or images (after their QR code is read) and before the SHC text
// forms. Each keeps its trust material in its own folder of TrustDir.
func init() {
	otherFormats = append(otherFormats,
		Format{Name: eudcc.Format, Detect: eudcc.Detect, Verify: func(v *Verifier, in []byte, source string) verdict.Result {
			r := eudcc.Verify(in, v.TrustDir, v.now())
			r.Source = source
			return r
		}},
		Format{Name: divoc.Format, Detect: divoc.Detect, Verify: func(v *Verifier, in []byte, source string) verdict.Result {
			r := divoc.Verify(in, v.TrustDir, v.now())
			r.Source = source
			return r
		}},
	)
}
