package shc

import (
	"bytes"
	"compress/flate"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"
	"sync"
)

// MaxQRJWSLength is the longest JWS that fits one QR code of version 22 at
// error correction L (2390 numeric digits after the "shc:/" byte segment).
const MaxQRJWSLength = 1195

// MaxInflatedSize caps the inflated payload, so a small JWS cannot expand
// into an arbitrarily large allocation (a zip bomb).
const MaxInflatedSize = 1 << 20

// MaxJWSLength bounds what ParseJWS accepts at all. File-based cards may be
// longer than a QR allows, but nothing legitimate approaches this.
const MaxJWSLength = 1 << 20

// Header is the protected JWS header of a health card.
type Header struct {
	Alg string `json:"alg"`
	Zip string `json:"zip"`
	Kid string `json:"kid"`
}

// JWS is a parsed compact JWS whose signature has not been checked yet.
type JWS struct {
	Header Header
	// Ignored lists header members a verifier must never act on (jku, jwk,
	// x5u, x5c): their key material is not used, so they are reported only.
	Ignored      []string
	SigningInput string // BASE64URL(header) "." BASE64URL(payload)
	Deflated     []byte // the payload as signed: raw DEFLATE
	Signature    []byte // 64 bytes r||s
}

var b64 = base64.RawURLEncoding

// ParseJWS splits and decodes a compact JWS and enforces the header rules
// (ES256, zip DEF, a kid, no crit). It does not verify the signature.
func ParseJWS(s string) (*JWS, error) {
	if s == "" {
		return nil, formatErr("jws_malformed", "empty JWS")
	}
	if len(s) > MaxJWSLength {
		return nil, formatErr("jws_malformed", "JWS is implausibly long")
	}
	if strings.TrimSpace(s) != s {
		return nil, formatErr("jws_whitespace", "JWS is surrounded by whitespace or control characters")
	}
	h, rest, ok1 := strings.Cut(s, ".")
	p, sig, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.Contains(sig, ".") {
		return nil, formatErr("jws_malformed", "not a compact JWS (want three base64url parts separated by dots)")
	}
	if h == "" || p == "" || sig == "" || !isB64URL(h) || !isB64URL(p) || !isB64URL(sig) {
		return nil, formatErr("jws_malformed", "a JWS part is empty or not unpadded base64url")
	}
	rawHeader, err := b64.DecodeString(h)
	if err != nil {
		return nil, formatErr("jws_malformed", "JWS header is not valid base64url")
	}
	j := &JWS{SigningInput: s[:len(h)+1+len(p)]}
	if err := j.parseHeader(rawHeader); err != nil {
		return nil, err
	}
	if j.Deflated, err = b64.DecodeString(p); err != nil {
		return nil, formatErr("jws_malformed", "JWS payload is not valid base64url")
	}
	if j.Signature, err = b64.DecodeString(sig); err != nil {
		return nil, formatErr("jws_malformed", "JWS signature is not valid base64url")
	}
	if len(j.Signature) != 64 {
		if looksLikeDER(j.Signature) {
			return nil, formatErr("signature_format", fmt.Sprintf("signature is %d bytes of ASN.1 DER; ES256 in JWS needs 64 bytes r||s", len(j.Signature)))
		}
		return nil, formatErr("signature_format", fmt.Sprintf("signature is %d bytes; ES256 needs 64 bytes r||s", len(j.Signature)))
	}
	return j, nil
}

func (j *JWS) parseHeader(raw []byte) error {
	var alg, zip, kid string
	var hasAlg, hasZip, hasKid, hasCrit bool
	r := &jreader{b: raw}
	notString := func(name string) error {
		return formatErr("jws_header_invalid", fmt.Sprintf("JWS header %q is not a string", name))
	}
	err := r.object(func(k []byte) error {
		var err error
		switch string(k) {
		case "alg":
			hasAlg = true
			if alg, err = r.str(); err != nil {
				return notString(string(k))
			}
		case "zip":
			hasZip = true
			if zip, err = r.str(); err != nil {
				return notString(string(k))
			}
		case "kid":
			hasKid = true
			if kid, err = r.str(); err != nil {
				return notString(string(k))
			}
		case "crit":
			hasCrit = true
			return r.skip()
		case "jku", "jwk", "x5u", "x5c":
			j.Ignored = append(j.Ignored, string(k))
			return r.skip()
		default:
			return r.skip()
		}
		return nil
	})
	if err == nil {
		err = r.end()
	}
	if err != nil {
		if fe := (*FormatError)(nil); errors.As(err, &fe) {
			return err
		}
		return formatErr("jws_header_invalid", "JWS header is not a JSON object")
	}
	switch {
	case !hasAlg:
		return formatErr("alg_missing", "JWS header has no alg")
	case alg != "ES256":
		return formatErr("alg_not_allowed", fmt.Sprintf("JWS alg %q is not allowed: health cards use ES256 only", alg))
	case !hasZip:
		return formatErr("zip_missing", `JWS header has no "zip":"DEF": the payload must be raw-DEFLATE compressed`)
	case zip != "DEF":
		return formatErr("zip_not_allowed", fmt.Sprintf("JWS zip %q is not DEF", zip))
	case !hasKid || kid == "":
		return formatErr("kid_missing", "JWS header has no kid")
	case hasCrit:
		return formatErr("header_crit", "JWS header has crit: no critical extension is defined for health cards")
	}
	j.Header = Header{Alg: alg, Zip: zip, Kid: kid}
	return nil
}

func isB64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func looksLikeDER(sig []byte) bool {
	return len(sig) >= 8 && len(sig) <= 72 && sig[0] == 0x30 && int(sig[1]) == len(sig)-2
}

// VerifySignature checks the ES256 signature over the signing input.
func (j *JWS) VerifySignature(pub *ecdsa.PublicKey) bool {
	if pub == nil || pub.Curve != elliptic.P256() || len(j.Signature) != 64 {
		return false
	}
	// Hash the string through a stack buffer rather than copying all of it
	// into a new byte slice.
	h := sha256.New()
	var chunk [512]byte
	for in := j.SigningInput; len(in) > 0; {
		n := copy(chunk[:], in)
		h.Write(chunk[:n])
		in = in[n:]
	}
	var digest [sha256.Size]byte
	h.Sum(digest[:0])
	var der [72]byte
	return ecdsa.VerifyASN1(pub, digest[:], rsToDER(der[:0], j.Signature))
}

// rsToDER encodes a 64-byte r||s signature as the ASN.1 DER SEQUENCE of two
// INTEGERs that crypto/ecdsa verifies (without going through big.Int).
func rsToDER(dst, rs []byte) []byte {
	integer := func(v []byte) []byte {
		for len(v) > 1 && v[0] == 0 && v[1] < 0x80 {
			v = v[1:]
		}
		if len(v) == 1 && v[0] == 0 {
			return []byte{0x02, 0x01, 0x00}
		}
		if v[0]&0x80 != 0 {
			return append([]byte{0x02, byte(len(v) + 1), 0x00}, v...)
		}
		return append([]byte{0x02, byte(len(v))}, v...)
	}
	r, s := integer(rs[:32]), integer(rs[32:])
	dst = append(dst, 0x30, byte(len(r)+len(s)))
	dst = append(dst, r...)
	return append(dst, s...)
}

// Inflate decompresses raw DEFLATE (RFC 1951) with a cap on the output.
// zlib- or gzip-wrapped data is refused, not unwrapped: the format forbids it.
func Inflate(deflated []byte, limit int) ([]byte, error) {
	out, err := InflateInto(nil, deflated, limit)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// InflateInto is Inflate writing into dst's storage (reused when large
// enough), so a caller verifying many cards can recycle one buffer. On an
// error it still returns what it inflated before stopping (limit+1 bytes
// when the payload is too large): its length is the work done, which a
// caller bounding the total work of many cards must count.
func InflateInto(dst, deflated []byte, limit int) ([]byte, error) {
	if len(deflated) == 0 {
		return dst[:0], formatErr("deflate_invalid", "payload is empty")
	}
	br := bytes.NewReader(deflated)
	// A flate reader carries a 32 KiB window; reusing one keeps the hot
	// path of verification free of that allocation.
	fr, _ := inflaters.Get().(io.ReadCloser)
	if fr == nil {
		fr = flate.NewReader(br)
	} else if err := fr.(flate.Resetter).Reset(br, nil); err != nil {
		fr = flate.NewReader(br)
	}
	defer inflaters.Put(fr)
	if want := min(4*len(deflated)+512, limit+1); cap(dst) < want {
		dst = make([]byte, 0, want)
	}
	buf := bytes.NewBuffer(dst[:0])
	_, err := buf.ReadFrom(io.LimitReader(fr, int64(limit)+1))
	out := buf.Bytes()
	if err != nil {
		if isZlibHeader(deflated) {
			return out, formatErr("deflate_zlib", "payload is zlib-wrapped; health cards use raw DEFLATE")
		}
		if len(deflated) > 2 && deflated[0] == 0x1f && deflated[1] == 0x8b {
			return out, formatErr("deflate_invalid", "payload is gzip-wrapped; health cards use raw DEFLATE")
		}
		if json.Valid(deflated) {
			return out, formatErr("deflate_invalid", "payload is plain JSON, not raw DEFLATE")
		}
		return out, formatErr("deflate_invalid", "payload is not valid raw DEFLATE: "+err.Error())
	}
	if len(out) > limit {
		return out, formatErr("payload_too_large", fmt.Sprintf("inflated payload exceeds %d bytes", limit))
	}
	if br.Len() != 0 {
		return out, formatErr("deflate_invalid", "payload has bytes after the end of the DEFLATE stream")
	}
	return out, nil
}

func isZlibHeader(b []byte) bool {
	return len(b) >= 2 && b[0]&0x0f == 8 && b[0]>>4 <= 7 && (uint16(b[0])<<8|uint16(b[1]))%31 == 0
}

// Deflate compresses with raw DEFLATE at the best compression level.
func Deflate(data []byte) ([]byte, error) {
	var buf bytes.Buffer
	// A BestCompression writer allocates about 1 MB; the issuer deflates on
	// every certificate, so writers are recycled (Reset gives output
	// identical to a new writer's).
	w, _ := deflaters.Get().(*flate.Writer)
	if w == nil {
		var err error
		if w, err = flate.NewWriter(&buf, flate.BestCompression); err != nil {
			return nil, err
		}
	} else {
		w.Reset(&buf)
	}
	if _, err := w.Write(data); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	deflaters.Put(w)
	return buf.Bytes(), nil
}

var deflaters sync.Pool // *flate.Writer at BestCompression

var inflaters sync.Pool

// DecodePayload parses the inflated payload. The JSON must be minified of
// any surrounding whitespace and must not start with a byte-order mark.
// Members it does not know are skipped (after validation). The bundle
// entries' Resource slices alias inflated, which must not change afterwards.
func DecodePayload(inflated []byte) (*Payload, error) {
	if bytes.HasPrefix(inflated, []byte{0xEF, 0xBB, 0xBF}) {
		return nil, formatErr("payload_bom", "payload starts with a UTF-8 byte-order mark")
	}
	if len(inflated) > 0 && (isJSONSpace(inflated[0]) || isJSONSpace(inflated[len(inflated)-1])) {
		return nil, formatErr("payload_whitespace", "payload JSON has leading or trailing whitespace")
	}
	p, err := decodePayload(inflated)
	if err != nil {
		return nil, formatErr("payload_json", "payload is not the expected JSON: "+err.Error())
	}
	return p, nil
}

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// Sign produces the compact JWS of a health card: minified JSON, raw
// DEFLATE, header {"zip":"DEF","alg":"ES256","kid":kid}, ES256 signature as
// 64 bytes r||s. The signer must hold a P-256 key. A result longer than
// MaxQRJWSLength is refused with an error wrapping ErrTooLongForQR.
func Sign(signer crypto.Signer, kid string, p Payload) (string, error) {
	jws, err := signJWS(signer, kid, p)
	if err != nil {
		return "", err
	}
	if len(jws) > MaxQRJWSLength {
		return "", fmt.Errorf("%w (got %d)", ErrTooLongForQR, len(jws))
	}
	return jws, nil
}

func signJWS(signer crypto.Signer, kid string, p Payload) (string, error) {
	pub, ok := signer.Public().(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		return "", errors.New("shc: signer must hold an ECDSA P-256 key (ES256)")
	}
	if kid == "" {
		return "", errors.New("shc: empty kid")
	}
	if p.NBF.IsZero() {
		return "", errors.New("shc: payload has no nbf")
	}
	payload, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("shc: encoding payload: %w", err)
	}
	deflated, err := Deflate(payload)
	if err != nil {
		return "", fmt.Errorf("shc: compressing payload: %w", err)
	}
	header, err := json.Marshal(struct {
		Zip string `json:"zip"`
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}{"DEF", "ES256", kid})
	if err != nil {
		return "", err
	}
	input := b64.EncodeToString(header) + "." + b64.EncodeToString(deflated)
	digest := sha256.Sum256([]byte(input))
	der, err := signer.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("shc: signing: %w", err)
	}
	rs, err := derToRS(der)
	if err != nil {
		return "", err
	}
	return input + "." + b64.EncodeToString(rs), nil
}

// derToRS converts an ASN.1 DER ECDSA signature into the fixed 64-byte r||s
// form JWS requires.
func derToRS(der []byte) ([]byte, error) {
	var sig struct{ R, S *big.Int }
	rest, err := asn1.Unmarshal(der, &sig)
	if err != nil || len(rest) != 0 || sig.R == nil || sig.S == nil || sig.R.Sign() <= 0 || sig.S.Sign() <= 0 ||
		sig.R.BitLen() > 256 || sig.S.BitLen() > 256 {
		return nil, errors.New("shc: signer returned a malformed ECDSA signature")
	}
	out := make([]byte, 64)
	sig.R.FillBytes(out[:32])
	sig.S.FillBytes(out[32:])
	return out, nil
}
