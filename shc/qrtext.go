package shc

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// QRPrefix starts every health-card QR text.
const QRPrefix = "shc:/"

// MaxChunkJWSLength is the longest JWS part a deprecated chunk may carry.
const MaxChunkJWSLength = 1191

// QRText encodes a JWS as the numeric QR text: "shc:/" followed by two
// digits per character, ord(c)-45. jws must consist of JWS characters
// (base64url and '.'), which all map into 00..77.
func QRText(jws string) string {
	var b strings.Builder
	b.Grow(len(QRPrefix) + 2*len(jws))
	b.WriteString(QRPrefix)
	for i := 0; i < len(jws); i++ {
		v := int(jws[i]) - 45
		b.WriteByte(byte('0' + v/10))
		b.WriteByte(byte('0' + v%10))
	}
	return b.String()
}

// Chunk is one decoded QR text: a whole JWS (Index = Total = 1, Chunked =
// false) or one part of a deprecated multi-QR card ("shc:/C/N/…").
type Chunk struct {
	Index, Total int
	Chunked      bool
	JWS          string // the JWS, or this chunk's part of it
}

// ParseQRText decodes a single-QR text to its JWS. Deprecated chunked texts
// are refused here; use ParseQRChunk and Reassemble for those.
func ParseQRText(s string) (string, error) {
	c, err := ParseQRChunk(s)
	if err != nil {
		return "", err
	}
	if c.Chunked {
		return "", formatErr("qr_chunked", fmt.Sprintf("QR text is chunk %d of %d of a multi-QR card", c.Index, c.Total))
	}
	return c.JWS, nil
}

// ParseQRChunk decodes a "shc:/" text, single or chunked, checking the
// prefix, that the digits come in pairs, and that every pair is 00..77.
func ParseQRChunk(s string) (Chunk, error) {
	rest, ok := strings.CutPrefix(s, QRPrefix)
	if !ok {
		if strings.HasPrefix(strings.ToLower(s), "shc:") {
			return Chunk{}, formatErr("qr_prefix", `QR text starts with "shc:" but not "shc:/"`)
		}
		return Chunk{}, formatErr("qr_prefix", `QR text does not start with "shc:/"`)
	}
	c := Chunk{Index: 1, Total: 1}
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		idx, tail, ok1 := strings.Cut(rest, "/")
		tot, digits, ok2 := strings.Cut(tail, "/")
		n1, err1 := strictUint(idx)
		n2, err2 := strictUint(tot)
		if !ok1 || !ok2 || err1 != nil || err2 != nil || n1 < 1 || n2 < 1 || n1 > n2 || n2 > 99 {
			return Chunk{}, formatErr("qr_prefix", `malformed chunk header: want "shc:/C/N/" with 1 <= C <= N`)
		}
		c = Chunk{Index: n1, Total: n2, Chunked: true}
		rest = digits
	}
	jws, err := decodeDigits(rest)
	if err != nil {
		return Chunk{}, err
	}
	if c.Chunked && len(jws) > MaxChunkJWSLength {
		return Chunk{}, formatErr("qr_too_large", fmt.Sprintf("chunk carries %d characters; at most %d allowed", len(jws), MaxChunkJWSLength))
	}
	c.JWS = jws
	return c, nil
}

func strictUint(s string) (int, error) {
	if s == "" || len(s) > 2 || (len(s) > 1 && s[0] == '0') {
		return 0, strconv.ErrSyntax
	}
	return strconv.Atoi(s)
}

func decodeDigits(d string) (string, error) {
	if d == "" {
		return "", formatErr("qr_digits", "QR text has no digits after the prefix")
	}
	if len(d)%2 != 0 {
		return "", formatErr("qr_digits", fmt.Sprintf("QR text has an odd number of digits (%d)", len(d)))
	}
	out := make([]byte, len(d)/2)
	for i := 0; i < len(d); i += 2 {
		a, b := d[i], d[i+1]
		if a < '0' || a > '9' || b < '0' || b > '9' {
			return "", formatErr("qr_digits", fmt.Sprintf("QR text has a non-digit at offset %d", len(QRPrefix)+i))
		}
		v := int(a-'0')*10 + int(b-'0')
		if v > 77 {
			return "", formatErr("qr_digits", fmt.Sprintf("QR digit pair %02d at offset %d is above 77", v, len(QRPrefix)+i))
		}
		out[i/2] = byte(v + 45)
	}
	return string(out), nil
}

// Reassemble joins the chunks of one deprecated multi-QR card, given in any
// order. Every index 1..N must be present exactly once (an identical
// duplicate scan is tolerated).
func Reassemble(chunks []Chunk) (string, error) {
	if len(chunks) == 0 {
		return "", formatErr("qr_chunks_incomplete", "no QR chunks")
	}
	total := chunks[0].Total
	byIndex := make(map[int]string, total)
	for _, c := range chunks {
		if !c.Chunked || c.Total != total {
			return "", formatErr("qr_chunks_incomplete", "QR chunks disagree on the number of parts")
		}
		if prev, dup := byIndex[c.Index]; dup && prev != c.JWS {
			return "", formatErr("qr_chunks_incomplete", fmt.Sprintf("two different QR chunks claim to be part %d", c.Index))
		}
		byIndex[c.Index] = c.JWS
	}
	idx := make([]int, 0, len(byIndex))
	for i := range byIndex {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	if len(idx) != total {
		return "", formatErr("qr_chunks_incomplete", fmt.Sprintf("have %d of %d QR chunks", len(idx), total))
	}
	var b strings.Builder
	for _, i := range idx {
		b.WriteString(byIndex[i])
	}
	return b.String(), nil
}
