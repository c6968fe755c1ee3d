package verifier

import (
	"bytes"
	"context"
	"fmt"
	"image"
	_ "image/gif" // decoders for the image inputs
	_ "image/jpeg"
	_ "image/png"

	"github.com/vaxcert/vaxcert/verifier/qrimage"
	"github.com/vaxcert/vaxcert/verifier/verdict"
)

// verifyImage reads the QR code in a PNG, JPEG or GIF and verifies its
// payload (whatever format it turns out to be).
func (v *Verifier) verifyImage(ctx context.Context, input []byte, source string, depth int) []verdict.Result {
	img, err := decodeImage(input)
	if err != nil {
		return []verdict.Result{unrecognised(source, "image_invalid", err.Error())}
	}
	payload, err := qrimage.Decode(img)
	if err != nil {
		return []verdict.Result{unrecognised(source, "qr_not_found", err.Error())}
	}
	return v.dispatch(ctx, payload, source, depth+1)
}

// decodeImage checks the declared size before decoding, so a small file
// declaring a gigantic canvas cannot exhaust memory.
func decodeImage(b []byte) (image.Image, error) {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("unreadable image: %v", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > qrimage.MaxPixels || cfg.Width > 1<<15 || cfg.Height > 1<<15 {
		return nil, fmt.Errorf("image of %dx%d pixels is too large", cfg.Width, cfg.Height)
	}
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("unreadable image: %v", err)
	}
	return img, nil
}
