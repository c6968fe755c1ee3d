package qrimage

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"testing"

	qrcode "github.com/skip2/go-qrcode"
	xdraw "golang.org/x/image/draw"
	"golang.org/x/image/math/f64"
)

func render(t *testing.T, content []byte, px int) *image.Gray {
	t.Helper()
	q, err := qrcode.New(string(content), qrcode.Low)
	if err != nil {
		t.Fatal(err)
	}
	bm := q.Bitmap() // includes a 4-module quiet zone
	img := image.NewGray(image.Rect(0, 0, len(bm)*px, len(bm)*px))
	for y, row := range bm {
		for x, dark := range row {
			v := uint8(255)
			if dark {
				v = 0
			}
			for dy := 0; dy < px; dy++ {
				for dx := 0; dx < px; dx++ {
					img.SetGray(x*px+dx, y*px+dy, color.Gray{v})
				}
			}
		}
	}
	return img
}

func rotate(src *image.Gray, degrees float64) *image.Gray {
	a := degrees * math.Pi / 180
	n := src.Bounds().Dx()
	side := int(float64(n)*1.5) + 2
	out := image.NewGray(image.Rect(0, 0, side, side))
	c, s := math.Cos(a), math.Sin(a)
	for y := 0; y < side; y++ {
		for x := 0; x < side; x++ {
			dx, dy := float64(x)-float64(side)/2, float64(y)-float64(side)/2
			sx, sy := int(c*dx+s*dy+float64(n)/2), int(-s*dx+c*dy+float64(n)/2)
			v := uint8(255)
			if sx >= 0 && sy >= 0 && sx < n && sy < n {
				v = src.GrayAt(sx, sy).Y
			}
			out.SetGray(x, y, color.Gray{v})
		}
	}
	return out
}

func TestDecodeExactBytes(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	binary := make([]byte, 300)
	for i := range binary {
		binary[i] = byte(rng.IntN(256))
	}
	binary[0], binary[1] = 'P', 'K' // like a CoWIN ZIP
	tests := []struct {
		name    string
		content []byte
	}{
		{"binary incl. every byte range", binary},
		{"health card text", []byte("shc:/56762909524320603460292437404460312229595326546034602925407728043360287028647167452228092861")},
		{"HC1", []byte("HC1:6BF+70790T9WJWG.FKY*4GO0.O1CV2 O5 N2FBBRW1*70HS8WY04AC*WIFN0AHCD8KD97TK0F90KECTHGWJC0FDC:5AIA%G7X+AQB9746HS80:54IBQF60R6$A80X6S1BTYACG6M+9XG8KIAWNA91AY%67092L4WJCT3EHS8XJC$+DXJCCWENF6OF63W5NW6WF6%JC QE/IAYJC5LEW34U3ET7DXC9 QE-ED8%E.JCBECB1A-:8$96646AL60A60S6Q$D.UDRYA 96NF6L/5QW6307KQEPD09WEQDD+Q6TW6FA7C466KCN9E%961A6DL6FA7D46JPCT3E5JDLA7$Q6E464W5TG6..DX%DZJC6/DTZ9 QE5$CB$DA/D JC1/D3Z8WED1ECW.CCWE.Y92OAGY8MY9L+9MPCG/D5 C5IA5N9$PC5$CUZCY$5Y$527B+A4KZNQG5TKOWWD9FL%I8U$F7O2IBM85CWOC%LEZU4R/BXHDAHN 11$CA5MRI:AONFN7091K9FKIGIY%VWSSSU9%01FO2*FTPQ3C3F")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode(render(t, tt.content, 3))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tt.content) {
				t.Fatalf("got %d bytes, want %d; differ", len(got), len(tt.content))
			}
		})
	}
}

func TestDecodeHardImages(t *testing.T) {
	content := []byte("shc:/" + string(bytes.Repeat([]byte("5676290952432060346029243740446031222959532654603460292540772804336028702864716745222809286133314564376531415906"), 4)))
	base := render(t, content, 4)
	inverted := image.NewGray(base.Bounds())
	for i, v := range base.Pix {
		inverted.Pix[i] = 255 - v
	}
	big := render(t, content, 16)
	tests := []struct {
		name string
		img  image.Image
	}{
		{"plain", base},
		{"rotated 90", rotate(base, 90)},
		{"rotated 180", rotate(base, 180)},
		{"rotated 17", rotate(render(t, content, 6), 17)},
		{"inverted (dark mode)", inverted},
		{"large", big},
		{"RGBA", convert(base, func(r image.Rectangle) draw.Image { return image.NewRGBA(r) })},
		{"NRGBA", convert(base, func(r image.Rectangle) draw.Image { return image.NewNRGBA(r) })},
		{"YCbCr from a colour JPEG", func() image.Image {
			var buf bytes.Buffer
			jpeg.Encode(&buf, convert(base, func(r image.Rectangle) draw.Image { return image.NewRGBA(r) }), &jpeg.Options{Quality: 90})
			img, err := jpeg.Decode(&buf)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := img.(*image.YCbCr); !ok {
				t.Fatalf("JPEG decoded as %T", img)
			}
			return img
		}()},
		{"paletted with offset bounds", func() image.Image {
			p := image.NewPaletted(image.Rect(10, 20, 10+base.Bounds().Dx(), 20+base.Bounds().Dy()), color.Palette{color.White, color.Black})
			for y := 0; y < base.Bounds().Dy(); y++ {
				for x := 0; x < base.Bounds().Dx(); x++ {
					if base.GrayAt(x, y).Y < 128 {
						p.SetColorIndex(10+x, 20+y, 1)
					}
				}
			}
			return p
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode(tt.img)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, content) {
				t.Fatal("wrong payload")
			}
		})
	}
}

func convert(src image.Image, mk func(image.Rectangle) draw.Image) image.Image {
	dst := mk(src.Bounds())
	draw.Draw(dst, dst.Bounds(), src, src.Bounds().Min, draw.Src)
	return dst
}

func TestDecodeNothing(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 120, 90))
	if _, err := Decode(img); !errors.Is(err, ErrNotFound) {
		t.Fatalf("blank image: %v", err)
	}
	if _, err := Decode(image.NewGray(image.Rect(0, 0, 0, 0))); err == nil {
		t.Fatal("empty image accepted")
	}
}

// TestDecodePhotos reads simulated phone photos of health-card QR codes:
// scaled to 2.8–6 pixels a module, turned up to 20°, on a grey background
// with sensor noise. About 3 % of such photos defeat every pass but the
// doubled-and-smoothed one.
func TestDecodePhotos(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 5))
	for i := range 40 {
		digits := make([]byte, 900+rng.IntN(500))
		for j := range digits {
			digits[j] = byte('0' + rng.IntN(10))
		}
		content := []byte("shc:/" + string(digits))
		scale, degrees := 0.7+0.8*rng.Float64(), 40*rng.Float64()-20
		if _, err := Decode(photo(render(t, content, 4), scale, degrees, rng)); err != nil {
			t.Errorf("photo %d (%.1f px a module, turned %.0f°): %v", i, 4*scale, degrees, err)
		}
	}
}

// photo places src, scaled and turned about its centre, on a 1200x900 grey
// frame (bilinear sampling), and adds Gaussian noise.
func photo(src *image.Gray, scale, degrees float64, rng *rand.Rand) *image.Gray {
	out := image.NewGray(image.Rect(0, 0, 1200, 900))
	for i := range out.Pix {
		out.Pix[i] = 150
	}
	a := degrees * math.Pi / 180
	c, s := math.Cos(a)*scale, math.Sin(a)*scale
	half := float64(src.Bounds().Dx()) / 2
	toFrame := f64.Aff3{c, -s, 600 - c*half + s*half, s, c, 450 - s*half - c*half}
	xdraw.BiLinear.Transform(out, toFrame, src, src.Bounds(), xdraw.Src, nil)
	for i, v := range out.Pix {
		out.Pix[i] = uint8(max(0, min(255, float64(v)+12*rng.NormFloat64())))
	}
	return out
}
