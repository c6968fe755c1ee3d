// Package cose is the small part of COSE (RFC 9052) that EU Digital COVID
// Certificates use: a COSE_Sign1 message, signed with ES256 or PS256.
//
// It exists instead of a general COSE library because the EU test vectors
// need behaviour those libraries lack: the message may be untagged, tagged 18
// or wrapped in the CWT tag 61; the signature covers the protected header
// bytes exactly as received (re-encoding them breaks real certificates); the
// algorithm may sit in the unprotected header when the protected one is
// empty; and a kid in the protected header must never be overridden by the
// unprotected one.
package cose

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"math/big"

	"github.com/fxamacker/cbor/v2"
)

// COSE algorithm identifiers (IANA COSE Algorithms registry).
const (
	AlgES256 int64 = -7
	AlgPS256 int64 = -37
)

// Header labels (RFC 9052 §3.1).
const (
	labelAlg  int64 = 1
	labelCrit int64 = 2
	labelKID  int64 = 4
)

// CBOR tags that may wrap a COSE_Sign1 message.
const (
	tagCWT   = 61
	tagSign1 = 18
)

// MaxMessageSize bounds the input Parse accepts. A DCC fits in a QR code, so
// a few kilobytes are normal; the cap keeps hostile input cheap.
const MaxMessageSize = 64 << 10

// Errors callers may want to tell apart. Parse wraps ErrMalformed; Verify
// returns ErrUnsupportedAlg, ErrKeyMismatch or ErrSignature.
var (
	ErrMalformed      = errors.New("cose: malformed COSE_Sign1")
	ErrUnsupportedAlg = errors.New("cose: unsupported algorithm")
	ErrKeyMismatch    = errors.New("cose: key does not fit the algorithm")
	ErrSignature      = errors.New("cose: signature does not verify")
)

// decMode is strict about everything an attacker could use to make two
// encodings of one message, or to make decoding expensive: duplicate map
// keys, deep nesting, huge counts, invalid UTF-8. Indefinite lengths stay
// allowed because real issuers use them.
var decMode = func() cbor.DecMode {
	dm, err := cbor.DecOptions{
		DupMapKey:        cbor.DupMapKeyEnforcedAPF,
		MaxNestedLevels:  16,
		MaxArrayElements: 1024,
		MaxMapPairs:      1024,
		IndefLength:      cbor.IndefLengthAllowed,
		TagsMd:           cbor.TagsAllowed,
		UTF8:             cbor.UTF8RejectInvalid,
	}.DecMode()
	if err != nil {
		panic(err)
	}
	return dm
}()

// Sign1 is a parsed COSE_Sign1 message.
type Sign1 struct {
	// Protected is the protected header bucket exactly as received: the
	// content of the first array element's byte string. The signature covers
	// these bytes, never a re-encoding of them.
	Protected []byte
	// Payload is the signed content; for a DCC, a CWT claims map.
	Payload []byte
	// Signature is the raw signature: r‖s for ES256, the PSS block for PS256.
	Signature []byte

	// Alg is the effective algorithm: from the protected header, else from
	// the unprotected one.
	Alg int64
	// KID is the effective key identifier: the protected kid if there is
	// one, else the unprotected kid, else nil. It is never a mix.
	KID []byte
	// KIDProtected says whether KID came from the protected header.
	KIDProtected bool
	// Tagged says which tags wrapped the message: 0, 18, or 61 (meaning
	// 61(18(…))).
	Tagged int
}

// header is a decoded header bucket: integer labels only, values kept raw.
type header map[int64]cbor.RawMessage

// Parse decodes a COSE_Sign1 message that may be untagged, tagged 18 or
// tagged 61(18(…)). Anything else, including trailing bytes, is rejected
// with an error wrapping ErrMalformed.
func Parse(data []byte) (*Sign1, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: empty input", ErrMalformed)
	}
	if len(data) > MaxMessageSize {
		return nil, fmt.Errorf("%w: %d bytes exceeds the %d byte limit", ErrMalformed, len(data), MaxMessageSize)
	}
	if err := decMode.Wellformed(data); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	body, tagged, err := untag(data)
	if err != nil {
		return nil, err
	}
	var items []cbor.RawMessage
	if majorType(body) != 4 {
		return nil, fmt.Errorf("%w: not a CBOR array", ErrMalformed)
	}
	if err := decMode.Unmarshal(body, &items); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if len(items) != 4 {
		return nil, fmt.Errorf("%w: array has %d elements, want 4", ErrMalformed, len(items))
	}
	msg := &Sign1{Tagged: tagged}
	for i, dst := range []*[]byte{&msg.Protected, nil, &msg.Payload, &msg.Signature} {
		if dst == nil {
			continue
		}
		if majorType(items[i]) != 2 {
			return nil, fmt.Errorf("%w: element %d is not a byte string", ErrMalformed, i)
		}
		if err := decMode.Unmarshal(items[i], dst); err != nil {
			return nil, fmt.Errorf("%w: element %d: %v", ErrMalformed, i, err)
		}
	}

	var protected header
	if len(msg.Protected) > 0 {
		// RFC 9052 §3: a zero-length byte string stands for an empty map;
		// anything else must be a map.
		if protected, err = decodeHeader(msg.Protected); err != nil {
			return nil, fmt.Errorf("%w: protected header: %v", ErrMalformed, err)
		}
	}
	if majorType(items[1]) != 5 {
		return nil, fmt.Errorf("%w: unprotected header is not a map", ErrMalformed)
	}
	unprotected, err := decodeHeader(items[1])
	if err != nil {
		return nil, fmt.Errorf("%w: unprotected header: %v", ErrMalformed, err)
	}
	if _, ok := protected[labelCrit]; ok {
		// We understand no extension headers, so any critical one fails.
		return nil, fmt.Errorf("%w: critical headers are not supported", ErrMalformed)
	}
	if _, ok := unprotected[labelCrit]; ok {
		return nil, fmt.Errorf("%w: crit must be protected", ErrMalformed)
	}

	algRaw, ok := protected[labelAlg]
	if !ok {
		algRaw, ok = unprotected[labelAlg]
	}
	if !ok {
		return nil, fmt.Errorf("%w: no algorithm", ErrMalformed)
	}
	if msg.Alg, err = decodeAlg(algRaw); err != nil {
		return nil, fmt.Errorf("%w: alg: %v", ErrMalformed, err)
	}

	kidRaw, ok := protected[labelKID]
	msg.KIDProtected = ok
	if !ok {
		kidRaw, ok = unprotected[labelKID]
	}
	if ok {
		if majorType(kidRaw) != 2 {
			return nil, fmt.Errorf("%w: kid is not a byte string", ErrMalformed)
		}
		if err := decMode.Unmarshal(kidRaw, &msg.KID); err != nil {
			return nil, fmt.Errorf("%w: kid: %v", ErrMalformed, err)
		}
	}
	return msg, nil
}

// untag strips the tags a DCC may carry: none, 18, or 61 around 18.
func untag(data []byte) (body []byte, tagged int, err error) {
	body = data
	if majorType(body) != 6 {
		return body, 0, nil
	}
	number, body, err := splitTag(body)
	if err != nil {
		return nil, 0, err
	}
	tagged = int(number)
	if number == tagCWT {
		if number, body, err = splitTag(body); err != nil {
			return nil, 0, err
		}
		if number != tagSign1 {
			return nil, 0, fmt.Errorf("%w: CWT tag 61 must wrap a COSE_Sign1 tag 18", ErrMalformed)
		}
	}
	if number != tagSign1 {
		return nil, 0, fmt.Errorf("%w: unexpected CBOR tag %d", ErrMalformed, number)
	}
	if majorType(body) == 6 {
		return nil, 0, fmt.Errorf("%w: unexpected nested CBOR tag", ErrMalformed)
	}
	return body, tagged, nil
}

// splitTag returns the number and content of the tag data starts with.
func splitTag(data []byte) (uint64, []byte, error) {
	if majorType(data) != 6 {
		return 0, nil, fmt.Errorf("%w: expected a CBOR tag", ErrMalformed)
	}
	var tag cbor.RawTag
	if err := decMode.Unmarshal(data, &tag); err != nil {
		return 0, nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return tag.Number, tag.Content, nil
}

// decodeHeader decodes a header map, keeping integer labels and dropping
// text labels (private use, which we do not interpret).
func decodeHeader(data []byte) (header, error) {
	if majorType(data) != 5 {
		return nil, errors.New("not a map")
	}
	var raw map[any]cbor.RawMessage
	if err := decMode.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	h := make(header, len(raw))
	for k, v := range raw {
		switch k := k.(type) {
		case uint64:
			if k > math.MaxInt64 {
				return nil, fmt.Errorf("label %d out of range", k)
			}
			h[int64(k)] = v
		case int64:
			h[k] = v
		case string:
		default:
			return nil, fmt.Errorf("label of type %T", k)
		}
	}
	return h, nil
}

func decodeAlg(raw cbor.RawMessage) (int64, error) {
	if t := majorType(raw); t != 0 && t != 1 {
		// Text algorithm names exist in COSE, but none we support.
		return 0, ErrUnsupportedAlg
	}
	var alg int64
	if err := decMode.Unmarshal(raw, &alg); err != nil {
		return 0, err
	}
	return alg, nil
}

// majorType returns the CBOR major type of the first item in data, or -1.
func majorType(data []byte) int {
	if len(data) == 0 {
		return -1
	}
	return int(data[0] >> 5)
}

// SigStructure returns the bytes a COSE_Sign1 signature covers (RFC 9052
// §4.4): ["Signature1", protected, external_aad = h”, payload].
func SigStructure(protected, payload []byte) []byte {
	out := make([]byte, 0, 16+len(protected)+len(payload)+18)
	out = append(out, 0x84)                // array(4)
	out = append(out, 0x6a)                // text(10)
	out = append(out, "Signature1"...)     //
	out = appendByteString(out, protected) // body_protected
	out = append(out, 0x40)                // external_aad: empty bstr
	out = appendByteString(out, payload)   // payload
	return out
}

func appendByteString(out, b []byte) []byte {
	n := uint64(len(b))
	switch {
	case n < 24:
		out = append(out, 0x40|byte(n))
	case n <= math.MaxUint8:
		out = append(out, 0x58, byte(n))
	case n <= math.MaxUint16:
		out = append(out, 0x59, byte(n>>8), byte(n))
	case n <= math.MaxUint32:
		out = append(out, 0x5a, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	default:
		out = append(out, 0x5b, byte(n>>56), byte(n>>48), byte(n>>40), byte(n>>32), byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(out, b...)
}

// Digest returns SHA-256 of the Sig_structure, the value both ES256 and
// PS256 sign.
func (m *Sign1) Digest() []byte {
	sum := sha256.Sum256(SigStructure(m.Protected, m.Payload))
	return sum[:]
}

// Verify checks the signature with pub. The algorithm is bound to the key
// type: ES256 needs a P-256 ECDSA key, PS256 an RSA key of at least 2048
// bits; anything else is ErrKeyMismatch, never a fallback.
func (m *Sign1) Verify(pub crypto.PublicKey) error {
	switch m.Alg {
	case AlgES256:
		key, ok := pub.(*ecdsa.PublicKey)
		if !ok || key.Curve != elliptic.P256() {
			return fmt.Errorf("%w: ES256 needs a P-256 key, have %s", ErrKeyMismatch, describeKey(pub))
		}
		// Raw r‖s, 32 bytes each. Checking the length first keeps longer
		// (e.g. DER-encoded) signatures from being misread.
		if len(m.Signature) != 64 {
			return fmt.Errorf("%w: ES256 signature is %d bytes, want 64", ErrSignature, len(m.Signature))
		}
		r := new(big.Int).SetBytes(m.Signature[:32])
		s := new(big.Int).SetBytes(m.Signature[32:])
		if !ecdsa.Verify(key, m.Digest(), r, s) {
			return ErrSignature
		}
		return nil
	case AlgPS256:
		key, ok := pub.(*rsa.PublicKey)
		if !ok || key.N.BitLen() < 2048 {
			return fmt.Errorf("%w: PS256 needs an RSA key of at least 2048 bits, have %s", ErrKeyMismatch, describeKey(pub))
		}
		if err := rsa.VerifyPSS(key, crypto.SHA256, m.Digest(), m.Signature, &rsa.PSSOptions{SaltLength: 32, Hash: crypto.SHA256}); err != nil {
			return ErrSignature
		}
		return nil
	default:
		return fmt.Errorf("%w: %d", ErrUnsupportedAlg, m.Alg)
	}
}

func describeKey(pub crypto.PublicKey) string {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		return "ECDSA " + k.Curve.Params().Name
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA-%d", k.N.BitLen())
	default:
		return fmt.Sprintf("%T", pub)
	}
}

// AlgName returns the COSE name of alg, for messages.
func AlgName(alg int64) string {
	switch alg {
	case AlgES256:
		return "ES256"
	case AlgPS256:
		return "PS256"
	default:
		return fmt.Sprintf("alg %d", alg)
	}
}
