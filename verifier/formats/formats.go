// Package formats plugs the other certificate formats into the verifier:
// EU DCC (verifier/eudcc) and CoWIN/DIVOC (verifier/divoc). It is separate
// so that a build which needs SMART Health Cards only does not carry their
// dependencies (CBOR, COSE, a JSON-LD processor):
//
//	v := &verifier.Verifier{Trust: store, TrustDir: dir, Formats: formats.All()}
//
// The browser verifier (cmd/vaxverify-wasm) takes DIVOC as it is, with no
// TrustDir, so it trusts the built-in Government of India key only.
package formats

import (
	"github.com/vaxcert/vaxcert/verifier"
	"github.com/vaxcert/vaxcert/verifier/divoc"
	"github.com/vaxcert/vaxcert/verifier/eudcc"
	"github.com/vaxcert/vaxcert/verifier/verdict"
)

// EUDCC verifies "HC1:" texts against the document signers in
// <TrustDir>/dsc/.
var EUDCC = verifier.Format{
	Name:   eudcc.Format,
	Detect: eudcc.Detect,
	Verify: func(v *verifier.Verifier, in []byte, source string) verdict.Result {
		return eudcc.Verify(in, v.TrustDir, v.Time())
	},
}

// DIVOC verifies CoWIN certificates (QR ZIP bytes or certificate.json)
// against the keys in <TrustDir>/did/ and the built-in Government of India key.
var DIVOC = verifier.Format{
	Name:   divoc.Format,
	Detect: divoc.Detect,
	Verify: func(v *verifier.Verifier, in []byte, source string) verdict.Result {
		return divoc.Verify(in, v.TrustDir, v.Time())
	},
}

// All is every other format, in the order they are tried.
func All() []verifier.Format { return []verifier.Format{EUDCC, DIVOC} }
