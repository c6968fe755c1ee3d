// Package qrimage finds and reads a QR code in an image: a clean render, a
// screenshot, or a photo that is small, rotated or slightly blurred. It
// returns the payload bytes exactly as encoded, whatever the segment modes
// (a CoWIN QR carries raw ZIP bytes in byte mode; a health card mixes a byte
// and a numeric segment).
package qrimage

import (
	"errors"
	"fmt"
	"image"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
	"golang.org/x/text/encoding/charmap"
)

// ErrNotFound means no readable QR code was found in the image.
var ErrNotFound = errors.New("qrimage: no readable QR code found in the image")

// MaxPixels bounds the image size Decode accepts (a 48-megapixel photo).
const MaxPixels = 48 << 20

// pass is one attempt: an image variant, a binarizer and hints.
type pass struct {
	name   string
	img    func(g *image.Gray) *image.Gray
	global bool // GlobalHistogram instead of Hybrid binarizer
	pure   bool // PURE_BARCODE: a clean render with nothing around it
	invert bool
}

// workingSide is the longest side the passes work at: a phone photo is
// scaled down to it first (a QR filling a fifth of a 12-megapixel frame
// still has several pixels per module), which bounds the time a hostile or
// merely large image can cost.
const workingSide = 1600

// detailSide is the resolution of one last pass for large photos in which
// the QR code is small.
const detailSide = 3000

var passes = []pass{
	{name: "pure", img: same, pure: true},
	{name: "hybrid", img: same},
	{name: "global", img: same, global: true},
	{name: "down700", img: downscaleTo(700)},
	{name: "up", img: upscaleBelow(500)},
	{name: "blur", img: boxBlur},
	// Doubled and smoothed: a photo whose QR code has only 3–4 noisy pixels
	// a module (about 3 % of simulated phone photos, TestDecodePhotos) is read
	// only by this pass. Images with both sides of 1,000 pixels or more are
	// not doubled: the detail pass below serves large photos, and the cost of
	// an image with no QR code stays bounded.
	{name: "up-blur", img: func(g *image.Gray) *image.Gray { return boxBlur(upscaleBelow(1000)(g)) }},
	{name: "inverted", img: same, invert: true},
}

// Decode reads the first QR code found in img and returns its payload
// bytes. It tries several passes (binarizers, scales, a light blur,
// inverted colours) before giving up with ErrNotFound.
func Decode(img image.Image) ([]byte, error) {
	b := img.Bounds()
	if b.Dx() <= 0 || b.Dy() <= 0 {
		return nil, fmt.Errorf("qrimage: empty image")
	}
	if b.Dx()*b.Dy() > MaxPixels || b.Dx() > 1<<15 || b.Dy() > 1<<15 {
		return nil, fmt.Errorf("qrimage: image of %dx%d pixels is too large", b.Dx(), b.Dy())
	}
	gray := toGray(img)
	work := gray
	if small := downscaleTo(workingSide)(gray); small != nil {
		work = small
	}
	reader := qrcode.NewQRCodeReader()
	for _, p := range passes {
		g := p.img(work)
		if g == nil {
			continue
		}
		if out, err := decodeOnce(reader, g, p); err == nil {
			return out, nil
		}
	}
	if work != gray {
		detail := gray
		if d := downscaleTo(detailSide)(gray); d != nil {
			detail = d
		}
		if out, err := decodeOnce(reader, detail, pass{name: "detail"}); err == nil {
			return out, nil
		}
	}
	return nil, ErrNotFound
}

func decodeOnce(reader gozxing.Reader, g *image.Gray, p pass) (out []byte, err error) {
	// gozxing is a port of Java code and may panic on hostile input; a panic
	// here is a failed pass, not a crash of the verifier.
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("qrimage: decoder failure: %v", r)
		}
	}()
	var src gozxing.LuminanceSource = gozxing.NewLuminanceSourceFromImage(g)
	if p.invert {
		src = gozxing.NewInvertedLuminanceSource(src)
	}
	var bin gozxing.Binarizer
	if p.global {
		bin = gozxing.NewGlobalHistgramBinarizer(src)
	} else {
		bin = gozxing.NewHybridBinarizer(src)
	}
	bmp, err := gozxing.NewBinaryBitmap(bin)
	if err != nil {
		return nil, err
	}
	hints := map[gozxing.DecodeHintType]any{
		gozxing.DecodeHintType_TRY_HARDER: true,
		// ISO-8859-1 maps every byte of a byte-mode segment to the rune of
		// the same value, so the text maps back to the exact bytes.
		gozxing.DecodeHintType_CHARACTER_SET: charmap.ISO8859_1,
	}
	if p.pure {
		hints[gozxing.DecodeHintType_PURE_BARCODE] = true
	}
	res, err := reader.Decode(bmp, hints)
	if err != nil {
		return nil, err
	}
	return latin1Bytes(res)
}

// latin1Bytes recovers the payload bytes. With the ISO-8859-1 hint every
// rune is <= 0xFF; a rune above means an ECI switched to another charset, in
// which case the byte segments (which gozxing reports raw) are used if they
// are the whole payload.
func latin1Bytes(res *gozxing.Result) ([]byte, error) {
	text := res.GetText()
	out := make([]byte, 0, len(text))
	for _, r := range text {
		if r > 0xFF {
			if segs, ok := res.GetResultMetadata()[gozxing.ResultMetadataType_BYTE_SEGMENTS].([][]byte); ok {
				var all []byte
				for _, s := range segs {
					all = append(all, s...)
				}
				return all, nil
			}
			return nil, fmt.Errorf("qrimage: QR text uses a character set that cannot be mapped back to bytes")
		}
		out = append(out, byte(r))
	}
	return out, nil
}

func same(g *image.Gray) *image.Gray { return g }

// toGray converts to 8-bit luminance, compositing transparency onto white.
func toGray(img image.Image) *image.Gray {
	b := img.Bounds()
	if g, ok := img.(*image.Gray); ok && b.Min == (image.Point{}) {
		return g
	}
	g := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	switch src := img.(type) {
	case *image.YCbCr: // JPEG photos: Y is the luminance already
		for y := 0; y < b.Dy(); y++ {
			off := src.YOffset(b.Min.X, b.Min.Y+y)
			copy(g.Pix[y*g.Stride:y*g.Stride+b.Dx()], src.Y[off:off+b.Dx()])
		}
		return g
	case *image.Gray:
		for y := 0; y < b.Dy(); y++ {
			off := src.PixOffset(b.Min.X, b.Min.Y+y)
			copy(g.Pix[y*g.Stride:y*g.Stride+b.Dx()], src.Pix[off:off+b.Dx()])
		}
		return g
	case *image.NRGBA, *image.RGBA:
		var pix []uint8
		var stride int
		premultiplied := false
		if n, ok := src.(*image.NRGBA); ok {
			pix, stride = n.Pix[n.PixOffset(b.Min.X, b.Min.Y):], n.Stride
		} else {
			r := src.(*image.RGBA)
			pix, stride, premultiplied = r.Pix[r.PixOffset(b.Min.X, b.Min.Y):], r.Stride, true
		}
		for y := 0; y < b.Dy(); y++ {
			row := pix[y*stride:]
			out := g.Pix[y*g.Stride : y*g.Stride+b.Dx()]
			for x := range out {
				r, gg, bb, a := uint32(row[4*x]), uint32(row[4*x+1]), uint32(row[4*x+2]), uint32(row[4*x+3])
				lum := (299*r + 587*gg + 114*bb) / 1000
				if premultiplied {
					lum += 255 - a // premultiplied: composite onto white
				} else {
					lum = (lum*a + 255*(255-a)) / 255
				}
				out[x] = uint8(min(lum, 255))
			}
		}
		return g
	}
	for y := 0; y < b.Dy(); y++ {
		row := g.Pix[y*g.Stride : y*g.Stride+b.Dx()]
		for x := range row {
			r, gg, bb, a := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			lum := (299*r + 587*gg + 114*bb) / 1000
			lum = (lum*a + 0xffff*(0xffff-a)) / 0xffff
			row[x] = uint8(lum >> 8)
		}
	}
	return g
}

// downscaleTo returns a variant whose longer side is at most max pixels
// (area averaging), or nil when the image is already that small.
func downscaleTo(max int) func(*image.Gray) *image.Gray {
	return func(g *image.Gray) *image.Gray {
		w, h := g.Bounds().Dx(), g.Bounds().Dy()
		long := w
		if h > long {
			long = h
		}
		if long <= max {
			return nil
		}
		f := (long + max - 1) / max
		nw, nh := w/f, h/f
		out := image.NewGray(image.Rect(0, 0, nw, nh))
		for y := 0; y < nh; y++ {
			for x := 0; x < nw; x++ {
				sum := 0
				for dy := 0; dy < f; dy++ {
					off := (y*f+dy)*g.Stride + x*f
					for dx := 0; dx < f; dx++ {
						sum += int(g.Pix[off+dx])
					}
				}
				out.Pix[y*out.Stride+x] = uint8(sum / (f * f))
			}
		}
		return out
	}
}

// upscaleBelow doubles (bilinear) images whose longer side is under limit,
// giving the finder-pattern detector more pixels per module; nil otherwise.
func upscaleBelow(limit int) func(*image.Gray) *image.Gray {
	return func(g *image.Gray) *image.Gray {
		w, h := g.Bounds().Dx(), g.Bounds().Dy()
		if w >= limit && h >= limit {
			return nil
		}
		out := image.NewGray(image.Rect(0, 0, 2*w, 2*h))
		at := func(x, y int) int {
			if x >= w {
				x = w - 1
			}
			if y >= h {
				y = h - 1
			}
			return int(g.Pix[y*g.Stride+x])
		}
		for y := 0; y < 2*h; y++ {
			for x := 0; x < 2*w; x++ {
				sx, sy := x/2, y/2
				fx, fy := x%2, y%2
				v := at(sx, sy)*(2-fx)*(2-fy) + at(sx+1, sy)*fx*(2-fy) + at(sx, sy+1)*(2-fx)*fy + at(sx+1, sy+1)*fx*fy
				out.Pix[y*out.Stride+x] = uint8(v / 4)
			}
		}
		return out
	}
}

// boxBlur is a 3x3 mean filter: it smooths sensor noise and JPEG artefacts
// that break the binarizer's thresholds.
func boxBlur(g *image.Gray) *image.Gray {
	if g == nil {
		return nil
	}
	w, h := g.Bounds().Dx(), g.Bounds().Dy()
	out := image.NewGray(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			sum, n := 0, 0
			for dy := -1; dy <= 1; dy++ {
				yy := y + dy
				if yy < 0 || yy >= h {
					continue
				}
				for dx := -1; dx <= 1; dx++ {
					xx := x + dx
					if xx < 0 || xx >= w {
						continue
					}
					sum += int(g.Pix[yy*g.Stride+xx])
					n++
				}
			}
			out.Pix[y*out.Stride+x] = uint8(sum / n)
		}
	}
	return out
}
