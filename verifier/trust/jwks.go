package trust

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
)

// Key is one trusted ES256 public key of an issuer, parsed once so that a
// verification costs no key decoding.
type Key struct {
	Kid        string
	Public     *ecdsa.PublicKey
	CRLVersion int             // the JWK's crlVersion; 0 when it publishes no CRL
	JWK        json.RawMessage // the public JWK as published (x5c and all)
}

// Problem is a JWK that was left out, with a stable code:
// jwk_invalid, jwk_kty, jwk_alg, jwk_use, jwk_crv, jwk_kid, jwk_private.
type Problem struct {
	Index   int // position in the "keys" array
	Kid     string
	Code    string
	Message string
}

func (p Problem) Error() string { return fmt.Sprintf("key %d (%s): %s", p.Index, p.Kid, p.Message) }

// MaxJWKSSize bounds a key set read from a file or the network.
const MaxJWKSSize = 1 << 20

type jwk struct {
	Kty        string          `json:"kty"`
	Kid        string          `json:"kid"`
	Use        string          `json:"use"`
	Alg        string          `json:"alg"`
	Crv        string          `json:"crv"`
	X          string          `json:"x"`
	Y          string          `json:"y"`
	D          *string         `json:"d"`
	CRLVersion json.RawMessage `json:"crlVersion"`
}

// ParseJWKS reads {"keys":[…]} and returns the usable SHC signing keys
// (kty EC, crv P-256, alg ES256, use sig, kid equal to the RFC 7638
// thumbprint, no private part). Other keys are reported as problems and left
// out: a key set may legitimately hold keys for other purposes. Members this
// package does not know are ignored.
func ParseJWKS(b []byte) ([]*Key, []Problem, error) {
	if len(b) > MaxJWKSSize {
		return nil, nil, fmt.Errorf("key set larger than %d bytes", MaxJWKSSize)
	}
	var set struct {
		Keys *[]json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(b, &set); err != nil {
		return nil, nil, fmt.Errorf("key set is not valid JSON: %w", err)
	}
	if set.Keys == nil {
		return nil, nil, fmt.Errorf(`key set has no "keys" array`)
	}
	var keys []*Key
	var probs []Problem
	seen := map[string]bool{}
	for i, raw := range *set.Keys {
		k, p := parseJWK(raw)
		if p != nil {
			p.Index = i
			probs = append(probs, *p)
			continue
		}
		if seen[k.Kid] {
			continue
		}
		seen[k.Kid] = true
		keys = append(keys, k)
	}
	return keys, probs, nil
}

func parseJWK(raw json.RawMessage) (*Key, *Problem) {
	var j jwk
	if err := json.Unmarshal(raw, &j); err != nil {
		return nil, &Problem{Code: "jwk_invalid", Message: "not a JSON Web Key object: " + err.Error()}
	}
	bad := func(code, format string, args ...any) (*Key, *Problem) {
		return nil, &Problem{Kid: j.Kid, Code: code, Message: fmt.Sprintf(format, args...)}
	}
	switch {
	case j.D != nil:
		return bad("jwk_private", "the key includes its private part (d); a public key set must never carry one")
	case j.Kty != "EC":
		return bad("jwk_kty", "kty is %q, want EC", j.Kty)
	case j.Crv != "P-256":
		return bad("jwk_crv", "crv is %q, want P-256", j.Crv)
	case j.Alg != "ES256":
		return bad("jwk_alg", "alg is %q, want ES256", j.Alg)
	case j.Use != "sig":
		return bad("jwk_use", "use is %q, want sig", j.Use)
	}
	x, errX := base64.RawURLEncoding.DecodeString(j.X)
	y, errY := base64.RawURLEncoding.DecodeString(j.Y)
	if errX != nil || errY != nil || len(x) != 32 || len(y) != 32 {
		return bad("jwk_invalid", "x and y must be 32-byte unpadded base64url coordinates")
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
	if err != nil {
		return bad("jwk_invalid", "the point is not on P-256")
	}
	if want := Thumbprint(j.X, j.Y); j.Kid != want {
		return bad("jwk_kid", "kid is not the key's RFC 7638 thumbprint (%s)", want)
	}
	k := &Key{Kid: j.Kid, Public: pub, JWK: append(json.RawMessage(nil), raw...)}
	if len(j.CRLVersion) > 0 && string(j.CRLVersion) != "null" {
		v, err := strconv.Atoi(string(j.CRLVersion))
		if err != nil || v < 1 {
			return bad("jwk_invalid", "crlVersion must be an integer >= 1")
		}
		k.CRLVersion = v
	}
	return k, nil
}

// Thumbprint is the RFC 7638 SHA-256 thumbprint of a P-256 key given its
// base64url coordinates: the SHC kid.
func Thumbprint(x, y string) string {
	sum := sha256.Sum256([]byte(`{"crv":"P-256","kty":"EC","x":"` + x + `","y":"` + y + `"}`))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// NewKey makes a trusted Key from a P-256 public key, with its kid derived
// as the RFC 7638 thumbprint (the server uses it to trust its own keys).
func NewKey(pub *ecdsa.PublicKey, crlVersion int) (*Key, error) {
	if pub == nil || pub.Curve != elliptic.P256() {
		return nil, fmt.Errorf("trust: not a P-256 public key")
	}
	raw, err := pub.Bytes()
	if err != nil {
		return nil, fmt.Errorf("trust: %w", err)
	}
	x := base64.RawURLEncoding.EncodeToString(raw[1:33])
	y := base64.RawURLEncoding.EncodeToString(raw[33:65])
	m := map[string]any{"kty": "EC", "kid": Thumbprint(x, y), "use": "sig", "alg": "ES256", "crv": "P-256", "x": x, "y": y}
	if crlVersion > 0 {
		m["crlVersion"] = crlVersion
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	k, p := parseJWK(b)
	if p != nil {
		return nil, fmt.Errorf("trust: %s", p.Message)
	}
	return k, nil
}
