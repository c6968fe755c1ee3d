package verifier

import (
	"context"
	"fmt"

	"github.com/vaxcert/vaxcert/verifier/pdfread"
	"github.com/vaxcert/vaxcert/verifier/qrimage"
	"github.com/vaxcert/vaxcert/verifier/verdict"
)

// verifyPDF looks for the card in a certificate PDF: first the embedded
// attachments (our PDFs embed the .smart-health-card file), then a QR code
// in the page images.
func (v *Verifier) verifyPDF(ctx context.Context, input []byte, source string, depth int) []verdict.Result {
	doc, err := pdfread.Parse(input)
	if err != nil {
		return []verdict.Result{unrecognised(source, "pdf_invalid", err.Error())}
	}
	files, _ := doc.EmbeddedFiles()
	var results []verdict.Result
	for _, f := range files {
		src := source
		if f.Name != "" {
			src = fmt.Sprintf("%s[%s]", source, f.Name)
		}
		for _, r := range v.dispatch(ctx, f.Data, src, depth+1) {
			if r.Format != FormatUnknown {
				results = append(results, r)
			}
		}
	}
	if len(results) > 0 {
		return results
	}
	// Image XObjects first, then QR codes drawn as vector rectangles (as
	// our own certificate template draws them).
	images := doc.Images()
	images = append(images, doc.VectorImages()...)
	for _, img := range images {
		if ctx.Err() != nil {
			break
		}
		payload, err := qrimage.Decode(img)
		if err != nil {
			continue
		}
		for _, r := range v.dispatch(ctx, payload, source+"[QR]", depth+1) {
			if r.Format != FormatUnknown {
				results = append(results, r)
			}
		}
		if len(results) > 0 {
			return results
		}
	}
	return []verdict.Result{unrecognised(source, "pdf_no_card", "the PDF holds no health card attachment and no readable QR code")}
}
