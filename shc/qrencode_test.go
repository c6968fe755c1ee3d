package shc

import (
	"bytes"
	"image/png"
	"math/rand/v2"
	"strings"
	"testing"

	qrcode "github.com/skip2/go-qrcode"
)

// randomJWSText is n JWS characters (as QRText sees them), seeded.
func randomJWSText(r *rand.Rand, n int) string {
	const alphabet = "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz."
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

// TestEncodeQRMatchesReference holds the encoder to an independent one
// (github.com/skip2/go-qrcode, which chooses its mask by its own penalty
// arithmetic): for every version, the reference symbol must be exactly our
// symbol with one of the eight masks, module for module, so data encoding,
// Reed-Solomon, interleaving, placement, format and version information
// all agree.
func TestEncodeQRMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	compared := map[int]bool{}
	for v := 1; v <= MaxQRVersion; v++ {
		// The longest JWS this version holds, and a shorter one (padding).
		n := 1
		for MinQRVersion(n+1) != 0 && MinQRVersion(n+1) <= v {
			n++
		}
		for _, length := range []int{n, max(1, n-7)} {
			if MinQRVersion(length) != v {
				continue
			}
			text := QRText(randomJWSText(r, length))
			ref, err := qrcode.NewWithForcedVersion(text, v, qrcode.Low)
			if err != nil {
				continue // the reference cannot do versions 1..9 for long texts
			}
			ref.DisableBorder = true
			want := ref.Bitmap()
			compared[v] = true
			matched := -1
			for mask := 0; mask < 8 && matched < 0; mask++ {
				q, err := encodeQR(QRPrefix, strings.TrimPrefix(text, QRPrefix), v, mask)
				if err != nil {
					t.Fatalf("version %d: %v", v, err)
				}
				if equalModules(q.Modules, want) {
					matched = mask
				}
			}
			if matched < 0 {
				t.Errorf("version %d, %d characters: no mask reproduces the reference symbol", v, length)
			}
		}
	}
	// The reference refuses long texts at versions below 10; the short
	// texts of versions 1..9 must still have been compared.
	if len(compared) < 18 {
		t.Fatalf("compared only versions %v", compared)
	}
}

func equalModules(a, b [][]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for y := range a {
		if len(a[y]) != len(b[y]) {
			return false
		}
		for x := range a[y] {
			if a[y][x] != b[y][x] {
				return false
			}
		}
	}
	return true
}

// TestEncodeQRDecodes reads symbols of every version and every mask back
// with ZXing.
func TestEncodeQRDecodes(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for v := 1; v <= MaxQRVersion; v++ {
		n := 1
		for MinQRVersion(n+1) != 0 && MinQRVersion(n+1) <= v {
			n++
		}
		jws := randomJWSText(r, n)
		for _, mask := range []int{-1, v % 8} {
			q, err := encodeQR(QRPrefix, strings.TrimPrefix(QRText(jws), QRPrefix), v, mask)
			if err != nil {
				t.Fatal(err)
			}
			if q.Version != v || len(q.Modules) != 17+4*v {
				t.Fatalf("version %d: got version %d, %d modules", v, q.Version, len(q.Modules))
			}
			var buf bytes.Buffer
			if err := png.Encode(&buf, q.Image(2)); err != nil {
				t.Fatal(err)
			}
			text, segs := decodePNG(t, buf.Bytes())
			if text != QRText(jws) || len(segs) != 1 || string(segs[0]) != QRPrefix {
				t.Fatalf("version %d mask %d: decoded %d characters, segments %q", v, mask, len(text), segs)
			}
		}
	}
}

func TestEncodeQRRefuses(t *testing.T) {
	tests := []struct {
		name           string
		prefix, digits string
		version        int
	}{
		{"version 0", QRPrefix, "12", 0},
		{"version 23", QRPrefix, "12", 23},
		{"too long for the version", QRPrefix, strings.Repeat("1", 100), 1},
		{"not digits", QRPrefix, "12a4", 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := encodeQR(tt.prefix, tt.digits, tt.version, -1); err == nil {
				t.Fatal("encoded")
			}
		})
	}
}

func TestRSGenerator(t *testing.T) {
	// (x-α^0)(x-α^1) = x² + 3x + 2 in GF(256): α^0+α^1 = 1^2 = 3, α^0·α^1 = 2.
	if g := rsGenerator(2); !bytes.Equal(g, []byte{3, 2}) {
		t.Fatalf("generator of degree 2 = %v", g)
	}
	// Appending the remainder makes a codeword divisible by the generator:
	// re-dividing it leaves nothing.
	gen := rsGenerator(10)
	data := []byte("health cards are verifiable")
	cw := append(append([]byte(nil), data...), rsRemainder(data, gen)...)
	if rem := rsRemainder(cw, gen); !bytes.Equal(rem, make([]byte, 10)) {
		t.Fatalf("codeword remainder %v", rem)
	}
}
