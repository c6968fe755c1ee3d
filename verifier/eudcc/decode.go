package eudcc

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"reflect"
	"strings"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/vaxcert/vaxcert/verifier/eudcc/base45"
	"github.com/vaxcert/vaxcert/verifier/eudcc/cose"
)

// Prefix starts the text of every version-1 EU DCC.
const Prefix = "HC1:"

// Size caps. A DCC QR code holds at most ~4 KiB of text, so these are
// generous for real certificates and cheap for hostile ones.
const (
	// MaxTextSize bounds the HC1 text.
	MaxTextSize = 16 << 10
	// MaxCOSESize bounds the inflated COSE message (the zlib bomb cap).
	MaxCOSESize = cose.MaxMessageSize
)

// trimText removes what scanners and files add around a QR text: surrounding
// whitespace in front, line breaks (and tabs) at the end. A trailing space is
// kept, because space is a Base45 digit.
func trimText(text string) string {
	text = strings.TrimLeft(text, " \t\r\n")
	return strings.TrimRight(text, "\t\r\n")
}

// Unprefix returns the Base45 body of an HC1 text. Only "HC1:" is accepted:
// other versions ("HC2:"), other schemes and bare Base45 are rejected with
// CodePrefixInvalid.
func Unprefix(text string) (string, error) {
	text = trimText(text)
	if body, ok := strings.CutPrefix(text, Prefix); ok {
		return body, nil
	}
	if len(text) >= 4 && text[:2] == "HC" && text[3] == ':' && strings.IndexByte("123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", text[2]) >= 0 {
		return "", fail(CodePrefixInvalid, nil, "unsupported EU DCC version %q (only HC1: is defined)", text[:4])
	}
	return "", fail(CodePrefixInvalid, nil, "the text does not start with %q", Prefix)
}

// Inflate decompresses the zlib stream data, refusing output beyond
// MaxCOSESize, truncated streams and trailing bytes. It never falls back to
// treating data as uncompressed: a certificate that skips compression is
// malformed.
func Inflate(data []byte) ([]byte, error) {
	src := bytes.NewReader(data)
	zr, err := zlib.NewReader(src)
	if err != nil {
		return nil, fail(CodeZlibInvalid, err, "not a zlib stream: %v", err)
	}
	defer zr.Close()
	out, err := io.ReadAll(io.LimitReader(zr, MaxCOSESize+1))
	if err != nil {
		return nil, fail(CodeZlibInvalid, err, "broken zlib stream: %v", err)
	}
	if len(out) > MaxCOSESize {
		return nil, fail(CodeZlibInvalid, nil, "inflates to more than %d bytes", MaxCOSESize)
	}
	// The flate reader reads byte by byte from a bytes.Reader, so whatever
	// is left after the checksum is trailing garbage.
	if src.Len() != 0 {
		return nil, fail(CodeZlibInvalid, nil, "%d bytes after the end of the zlib stream", src.Len())
	}
	return out, nil
}

// DecodeText runs the unsigned part of the pipeline: HC1 text → Base45 →
// zlib → COSE bytes.
func DecodeText(text string) ([]byte, error) {
	if len(text) > MaxTextSize {
		return nil, fail(CodePrefixInvalid, nil, "text of %d bytes is larger than any EU DCC (%d)", len(text), MaxTextSize)
	}
	body, err := Unprefix(text)
	if err != nil {
		return nil, err
	}
	compressed, err := base45.Decode(body)
	if err != nil {
		return nil, fail(CodeBase45Invalid, err, "%v", err)
	}
	return Inflate(compressed)
}

// ParseCOSE parses a COSE_Sign1 message, mapping failures to reason codes.
func ParseCOSE(data []byte) (*cose.Sign1, error) {
	msg, err := cose.Parse(data)
	if err != nil {
		if errors.Is(err, cose.ErrUnsupportedAlg) {
			return nil, fail(CodeAlgUnsupported, err, "%v", err)
		}
		return nil, fail(CodeCOSEInvalid, err, "%v", err)
	}
	return msg, nil
}

// claimsDecMode decodes CWT claims and the DCC: duplicate keys, deep nesting,
// huge counts, NaN and infinities are errors. Tag 0 and tag 1 dates become
// RFC 3339 strings, because validators must read tagged and untagged dates
// alike (eu-dcc-schema README, "CBOR Encoding").
var claimsDecMode = func() cbor.DecMode {
	dm, err := cbor.DecOptions{
		DupMapKey:        cbor.DupMapKeyEnforcedAPF,
		MaxNestedLevels:  16,
		MaxArrayElements: 1024,
		MaxMapPairs:      1024,
		IndefLength:      cbor.IndefLengthAllowed,
		TagsMd:           cbor.TagsAllowed,
		UTF8:             cbor.UTF8RejectInvalid,
		NaN:              cbor.NaNDecodeForbidden,
		Inf:              cbor.InfDecodeForbidden,
		TimeTagToAny:     cbor.TimeTagToRFC3339Nano,
		DefaultMapType:   reflect.TypeOf(map[string]any(nil)),
	}.DecMode()
	if err != nil {
		panic(err)
	}
	return dm
}()

// CWT claim keys (RFC 8392) and the hcert claim (hcert spec §3.3).
const (
	claimIss   = 1
	claimExp   = 4
	claimIat   = 6
	claimHCert = -260
	hcertDCCv1 = 1
)

// Claims are the CWT claims of a DCC.
type Claims struct {
	Issuer    string    // iss: ISO 3166-1 alpha-2 code of the issuing country; may be empty
	IssuedAt  time.Time // iat
	ExpiresAt time.Time // exp
	HasIat    bool
	HasExp    bool
	// DCC is the hcert claim's entry 1, still CBOR-encoded.
	DCC cbor.RawMessage
}

// ParseClaims decodes the CWT claims map of a COSE payload. iat and exp may be
// integers or floats (both occur in real certificates); iss must be text;
// -260 must be a map holding the DCC under key 1.
func ParseClaims(payload []byte) (*Claims, error) {
	raw, err := decodeIntMap(payload)
	if err != nil {
		return nil, fail(CodeCWTInvalid, err, "claims: %v", err)
	}
	c := &Claims{}
	if v, ok := raw[claimIss]; ok {
		if err := claimsDecMode.Unmarshal(v, &c.Issuer); err != nil {
			return nil, fail(CodeCWTInvalid, err, "iss is not a text string")
		}
		c.Issuer = strings.TrimSpace(c.Issuer)
	}
	for _, d := range []struct {
		key  int64
		name string
		t    *time.Time
		has  *bool
	}{{claimIat, "iat", &c.IssuedAt, &c.HasIat}, {claimExp, "exp", &c.ExpiresAt, &c.HasExp}} {
		v, ok := raw[d.key]
		if !ok {
			continue
		}
		if *d.t, err = numericDate(v); err != nil {
			return nil, fail(CodeCWTInvalid, err, "%s: %v", d.name, err)
		}
		*d.has = true
	}
	hraw, ok := raw[claimHCert]
	if !ok {
		return nil, fail(CodeCWTInvalid, nil, "no hcert claim (-260)")
	}
	hcert, err := decodeIntMap(hraw)
	if err != nil {
		return nil, fail(CodeCWTInvalid, err, "hcert claim (-260): %v", err)
	}
	if c.DCC, ok = hcert[hcertDCCv1]; !ok {
		return nil, fail(CodeCWTInvalid, nil, "hcert claim has no DCC under key 1")
	}
	return c, nil
}

// decodeIntMap decodes a CBOR map whose keys that matter are integers. Text
// keys are dropped; other key types are errors.
func decodeIntMap(data []byte) (map[int64]cbor.RawMessage, error) {
	if len(data) == 0 || data[0]>>5 != 5 {
		return nil, errors.New("not a CBOR map")
	}
	var raw map[any]cbor.RawMessage
	if err := claimsDecMode.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	out := make(map[int64]cbor.RawMessage, len(raw))
	for k, v := range raw {
		switch k := k.(type) {
		case uint64:
			if k <= math.MaxInt64 {
				out[int64(k)] = v
			}
		case int64:
			out[k] = v
		case string:
		default:
			return nil, fmt.Errorf("map key of type %T", k)
		}
	}
	return out, nil
}

// Seconds since the epoch for 9999-12-31T23:59:59Z: the bound on dates.
const maxNumericDate = 253402300799

// numericDate decodes a CWT NumericDate: an integer or a float, untagged.
func numericDate(data cbor.RawMessage) (time.Time, error) {
	var v any
	if err := claimsDecMode.Unmarshal(data, &v); err != nil {
		return time.Time{}, err
	}
	var secs float64
	switch n := v.(type) {
	case uint64:
		if n > maxNumericDate {
			return time.Time{}, fmt.Errorf("%d is out of range", n)
		}
		return time.Unix(int64(n), 0).UTC(), nil
	case int64:
		return time.Time{}, fmt.Errorf("negative date %d", n)
	case float64:
		secs = n
	case *big.Int, big.Int:
		return time.Time{}, errors.New("out of range")
	default:
		return time.Time{}, fmt.Errorf("not a number (%T)", v)
	}
	if secs < 0 || secs > maxNumericDate {
		return time.Time{}, fmt.Errorf("%v is out of range", secs)
	}
	whole, frac := math.Modf(secs)
	return time.Unix(int64(whole), int64(frac*1e9)).UTC(), nil
}

// DecodeDCC decodes the CBOR DCC into its JSON data model: objects with text
// keys, arrays, strings, numbers (float64), booleans and null. Byte strings,
// unknown tags and non-text keys have no JSON meaning and are errors, so
// "-260/1 is a byte string" (CBO1) fails here.
func DecodeDCC(data cbor.RawMessage) (map[string]any, error) {
	if len(data) == 0 || data[0]>>5 != 5 {
		return nil, fail(CodeSchemaInvalid, nil, "the DCC is not a CBOR map")
	}
	var v any
	if err := claimsDecMode.Unmarshal(data, &v); err != nil {
		return nil, fail(CodeSchemaInvalid, err, "the DCC is not valid CBOR: %v", err)
	}
	norm, err := jsonModel(v, "")
	if err != nil {
		return nil, fail(CodeSchemaInvalid, err, "%v", err)
	}
	m, ok := norm.(map[string]any)
	if !ok {
		return nil, fail(CodeSchemaInvalid, nil, "the DCC is not a map")
	}
	return m, nil
}

func jsonModel(v any, path string) (any, error) {
	switch v := v.(type) {
	case nil, bool, string, float64:
		return v, nil
	case uint64:
		return float64(v), nil
	case int64:
		return float64(v), nil
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			var err error
			if out[i], err = jsonModel(e, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return nil, err
			}
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			p := k
			if path != "" {
				p = path + "." + k
			}
			var err error
			if out[k], err = jsonModel(e, p); err != nil {
				return nil, err
			}
		}
		return out, nil
	default:
		if path == "" {
			path = "the DCC"
		}
		return nil, fmt.Errorf("%s: %s has no JSON equivalent", path, cborKind(v))
	}
}

func cborKind(v any) string {
	switch v := v.(type) {
	case []byte:
		return "a byte string"
	case cbor.Tag:
		return fmt.Sprintf("CBOR tag %d", v.Number)
	case map[any]any:
		return "a map with non-text keys"
	default:
		return fmt.Sprintf("a value of type %T", v)
	}
}
