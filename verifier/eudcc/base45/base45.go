// Package base45 implements the Base45 encoding of RFC 9285, the text form
// that carries EU Digital COVID Certificates in QR alphanumeric mode.
//
// Decoding is strict: any character outside the 45-symbol alphabet, an input
// length of 3n+1, a triplet worth more than 65535 or a final pair worth more
// than 255 is an error. Lenient decoders accept some of these and so give two
// texts the same bytes, which a verifier must not do.
package base45

import (
	"errors"
	"fmt"
)

const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"

// ErrLength reports an input whose length leaves a single dangling character.
var ErrLength = errors.New("base45: invalid length")

// CorruptInputError reports the offset of the first offending character or
// chunk.
type CorruptInputError struct {
	Offset int
	Reason string
}

func (e *CorruptInputError) Error() string {
	return fmt.Sprintf("base45: %s at offset %d", e.Reason, e.Offset)
}

// decodeTable maps a byte to its Base45 value, or 0xff when the byte is not
// in the alphabet.
var decodeTable = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = byte(i)
	}
	return t
}()

// DecodedLen returns the number of bytes n characters decode to, or -1 when
// n is not a valid Base45 length.
func DecodedLen(n int) int {
	if n%3 == 1 {
		return -1
	}
	return n/3*2 + n%3/2
}

// EncodedLen returns the length of the encoding of n bytes.
func EncodedLen(n int) int { return n/2*3 + n%2*2 }

// Decode returns the bytes that s encodes.
func Decode(s string) ([]byte, error) {
	n := DecodedLen(len(s))
	if n < 0 {
		return nil, ErrLength
	}
	out := make([]byte, 0, n)
	for i := 0; i < len(s); i += 3 {
		chunk := s[i:min(i+3, len(s))]
		v := 0
		for j := len(chunk) - 1; j >= 0; j-- {
			d := decodeTable[chunk[j]]
			if d == 0xff {
				return nil, &CorruptInputError{Offset: i + j, Reason: fmt.Sprintf("character %q outside the alphabet", chunk[j])}
			}
			v = v*45 + int(d)
		}
		if len(chunk) == 3 {
			if v > 0xffff {
				return nil, &CorruptInputError{Offset: i, Reason: "triplet exceeds 65535"}
			}
			out = append(out, byte(v>>8), byte(v))
		} else {
			if v > 0xff {
				return nil, &CorruptInputError{Offset: i, Reason: "final pair exceeds 255"}
			}
			out = append(out, byte(v))
		}
	}
	return out, nil
}

// Encode returns the Base45 text of b.
func Encode(b []byte) string {
	out := make([]byte, 0, EncodedLen(len(b)))
	for i := 0; i+1 < len(b); i += 2 {
		v := int(b[i])<<8 | int(b[i+1])
		out = append(out, alphabet[v%45], alphabet[v/45%45], alphabet[v/2025])
	}
	if len(b)%2 == 1 {
		v := int(b[len(b)-1])
		out = append(out, alphabet[v%45], alphabet[v/45])
	}
	return string(out)
}
