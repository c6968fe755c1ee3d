package base45

import (
	"bytes"
	"errors"
	"testing"
)

func TestRFC9285Examples(t *testing.T) {
	tests := []struct {
		plain, encoded string
	}{
		{"AB", "BB8"},
		{"Hello!!", "%69 VD92EX0"},
		{"base-45", "UJCLQE7W581"},
		{"ietf!", "QED8WEX0"},
		{"", ""},
		{"\x00", "00"},
		{"\xff", "U5"},
		{"\xff\xff", "FGW"},
		{"\x00\x00", "000"},
	}
	for _, tt := range tests {
		if got := Encode([]byte(tt.plain)); got != tt.encoded {
			t.Errorf("Encode(%q) = %q, want %q", tt.plain, got, tt.encoded)
		}
		got, err := Decode(tt.encoded)
		if err != nil {
			t.Errorf("Decode(%q): %v", tt.encoded, err)
			continue
		}
		if string(got) != tt.plain {
			t.Errorf("Decode(%q) = %q, want %q", tt.encoded, got, tt.plain)
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	tests := []struct {
		name, in string
		length   bool // ErrLength rather than CorruptInputError
	}{
		{"one char", "A", true},
		{"four chars", "BB8A", true},
		{"lower case", "bb8", false},
		{"equals sign", "BB=", false},
		{"triplet above 65535", "GGW", false}, // 16+16*45+32*2025 = 65536
		{"length 3n+1 of valid chars", "::::", true},
		{"largest triplet :::", ":::", false},
		{"final pair above 255", "V5", false}, // 31+5*45 = 256
		{"non-ASCII", "BB\xc3", false},
		{"newline", "BB\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(tt.in)
			if err == nil {
				t.Fatalf("Decode(%q) succeeded", tt.in)
			}
			var ce *CorruptInputError
			if tt.length != errors.Is(err, ErrLength) || (!tt.length && !errors.As(err, &ce)) {
				t.Fatalf("Decode(%q) = %v, wrong error kind", tt.in, err)
			}
		})
	}
}

func TestRoundTripAllPairs(t *testing.T) {
	for v := 0; v <= 0xffff; v++ {
		b := []byte{byte(v >> 8), byte(v)}
		got, err := Decode(Encode(b))
		if err != nil || !bytes.Equal(got, b) {
			t.Fatalf("round trip of %x: %x, %v", b, got, err)
		}
	}
	for v := 0; v <= 0xff; v++ {
		got, err := Decode(Encode([]byte{byte(v)}))
		if err != nil || len(got) != 1 || got[0] != byte(v) {
			t.Fatalf("round trip of %02x: %x, %v", v, got, err)
		}
	}
}

// FuzzDecode checks that Decode never panics, that whatever it accepts
// re-encodes to the same text (the encoding is canonical), and that encoding
// arbitrary bytes always decodes back.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{"", "BB8", "%69 VD92EX0", "GGW", "FGW", "U5", "V5", "A", "NCFOXN%TS3DH3ZSUZK+.V0ETD%65NL-AH"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := Decode(s)
		if err == nil {
			if got := Encode(b); got != s {
				t.Fatalf("Decode(%q) = %x re-encodes to %q", s, b, got)
			}
		}
		raw := []byte(s)
		back, err := Decode(Encode(raw))
		if err != nil || !bytes.Equal(back, raw) {
			t.Fatalf("round trip of %x: %x, %v", raw, back, err)
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	s := Encode(bytes.Repeat([]byte{0x5a, 0xa5, 0x00, 0xff}, 100))
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		if _, err := Decode(s); err != nil {
			b.Fatal(err)
		}
	}
}
