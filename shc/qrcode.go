package shc

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"

	qrcode "github.com/skip2/go-qrcode"
)

// MaxQRVersion is the largest QR version a health card may use.
const MaxQRVersion = 22

// QuietZone is the white margin, in modules, QRPNG draws around the symbol.
const QuietZone = 4

// QR is an encoded QR symbol: Modules[y][x] is true for a dark module. It
// has no quiet zone; draw at least QuietZone light modules around it.
type QR struct {
	Version int
	Modules [][]bool
}

// dataCodewordsL is the number of data codewords at error correction L for
// versions 1..22 (ISO/IEC 18004 table 7).
var dataCodewordsL = [MaxQRVersion + 1]int{0,
	19, 34, 55, 80, 108, 136, 156, 194, 232, 274,
	324, 370, 428, 461, 523, 589, 647, 721, 795, 861,
	932, 1006}

// MinQRVersion returns the smallest version (at ECC L) that holds a JWS of
// n characters as the two segments byte "shc:/" + numeric, or 0 if none up
// to MaxQRVersion does.
func MinQRVersion(n int) int {
	for v := 1; v <= MaxQRVersion; v++ {
		byteCount, numCount := 8, 10
		if v >= 10 {
			byteCount, numCount = 16, 12
		}
		digits := 2 * n
		bits := 4 + byteCount + 8*len(QRPrefix) + 4 + numCount + 10*(digits/3)
		switch digits % 3 {
		case 1:
			bits += 4
		case 2:
			bits += 7
		}
		if digits < 1<<numCount && bits <= 8*dataCodewordsL[v] {
			return v
		}
	}
	return 0
}

// QRCode encodes a JWS as a health-card QR symbol: error correction L, two
// segments (byte mode "shc:/", then numeric), the smallest version that fits.
//
// It is built with github.com/skip2/go-qrcode, whose automatic segmentation
// was checked (encoder.go, classifyDataModes/optimiseDataModes) to produce
// exactly those two segments for this text: "shc" classifies as byte and ":/"
// as alphanumeric, which coalesce into one byte segment; the digits stay one
// numeric segment because merging them into byte mode is always longer.
// skip2's own version search skips versions 1..9 for texts above 250
// characters (an overflow check in its segment optimiser), so the version is
// chosen here, with MinQRVersion, and forced. Tests decode the result with
// gozxing and check the segments and the version.
func QRCode(jws string) (QR, error) {
	if len(jws) == 0 || !isJWSText(jws) {
		return QR{}, fmt.Errorf("shc: QR code: text is not a compact JWS")
	}
	if len(jws) > MaxQRJWSLength {
		return QR{}, fmt.Errorf("%w (got %d)", ErrTooLongForQR, len(jws))
	}
	text := QRText(jws)
	var lastErr error
	for v := MinQRVersion(len(jws)); v >= 1 && v <= MaxQRVersion; v++ {
		q, err := qrcode.NewWithForcedVersion(text, v, qrcode.Low)
		if err != nil {
			lastErr = err // versions 1..9 fail for long texts; try the next
			continue
		}
		q.DisableBorder = true
		return QR{Version: q.VersionNumber, Modules: q.Bitmap()}, nil
	}
	if lastErr == nil {
		lastErr = ErrTooLongForQR
	}
	return QR{}, fmt.Errorf("shc: QR code: %w", lastErr)
}

func isJWSText(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '.' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Image renders the symbol with a QuietZone margin, pixelsPerModule pixels
// per module, black on white.
func (q QR) Image(pixelsPerModule int) image.Image {
	if pixelsPerModule < 1 {
		pixelsPerModule = 1
	}
	n := len(q.Modules)
	side := (n + 2*QuietZone) * pixelsPerModule
	img := image.NewPaletted(image.Rect(0, 0, side, side), color.Palette{color.White, color.Black})
	for y, row := range q.Modules {
		for x, dark := range row {
			if !dark {
				continue
			}
			x0, y0 := (x+QuietZone)*pixelsPerModule, (y+QuietZone)*pixelsPerModule
			for dy := 0; dy < pixelsPerModule; dy++ {
				off := img.PixOffset(x0, y0+dy)
				for dx := 0; dx < pixelsPerModule; dx++ {
					img.Pix[off+dx] = 1
				}
			}
		}
	}
	return img
}

// QRPNG renders the health-card QR of a JWS as a PNG with a quiet zone.
func QRPNG(jws string, pixelsPerModule int) ([]byte, error) {
	if pixelsPerModule < 1 || pixelsPerModule > 64 {
		return nil, fmt.Errorf("shc: QR PNG: %d pixels per module out of range 1..64", pixelsPerModule)
	}
	q, err := QRCode(jws)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, q.Image(pixelsPerModule)); err != nil {
		return nil, fmt.Errorf("shc: QR PNG: %w", err)
	}
	return buf.Bytes(), nil
}
