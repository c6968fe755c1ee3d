package keys

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
)

// JWK is a public EC key as published in a JWKS (SMART Health Cards §1). It never has a "d".
type JWK struct {
	Kty        string `json:"kty"`
	Use        string `json:"use"`
	Alg        string `json:"alg"`
	Crv        string `json:"crv"`
	X          string `json:"x"`
	Y          string `json:"y"`
	KID        string `json:"kid"`
	CRLVersion int    `json:"crlVersion,omitempty"`
}

// JWKS is a JSON Web Key Set.
type JWKS struct {
	Keys []JWK `json:"keys"`
}

// curveNames maps the curves the standard library implements in constant time to their JOSE names
// and the JWS algorithm that uses each.
var curveNames = map[elliptic.Curve]struct{ crv, alg string }{
	elliptic.P256(): {"P-256", "ES256"},
	elliptic.P384(): {"P-384", "ES384"},
	elliptic.P521(): {"P-521", "ES512"},
}

// coordinates returns the JOSE curve name, algorithm and the base64url fixed-length x and y of pub,
// or ok=false for a nil, invalid or unsupported key.
func coordinates(pub *ecdsa.PublicKey) (crv, alg, x, y string, ok bool) {
	if pub == nil || pub.Curve == nil {
		return "", "", "", "", false
	}
	names, known := curveNames[pub.Curve]
	if !known {
		return "", "", "", "", false
	}
	point, err := pub.Bytes() // 0x04 || X || Y, each coordinate padded to the field size
	if err != nil || len(point) < 3 || (len(point)-1)%2 != 0 {
		return "", "", "", "", false
	}
	n := (len(point) - 1) / 2
	enc := base64.RawURLEncoding
	return names.crv, names.alg, enc.EncodeToString(point[1 : 1+n]), enc.EncodeToString(point[1+n:]), true
}

// Thumbprint returns the RFC 7638 SHA-256 JWK thumbprint of pub, base64url without padding (43
// characters): the kid of the key. It returns "" for a nil or invalid key or a curve other than
// P-256, P-384 or P-521.
func Thumbprint(pub *ecdsa.PublicKey) string {
	crv, _, x, y, ok := coordinates(pub)
	if !ok {
		return ""
	}
	// RFC 7638 §3.2: the required members only, in lexicographic order, no whitespace. All the
	// values are from fixed alphabets (curve names, base64url), so no JSON escaping can arise.
	canonical := `{"crv":"` + crv + `","kty":"EC","x":"` + x + `","y":"` + y + `"}`
	sum := sha256.Sum256([]byte(canonical))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// PublicJWK returns the public JWK of pub with use "sig", the algorithm of its curve (ES256 for
// P-256) and kid = Thumbprint(pub). For a key Thumbprint rejects it returns the zero JWK.
func PublicJWK(pub *ecdsa.PublicKey) JWK {
	crv, alg, x, y, ok := coordinates(pub)
	if !ok {
		return JWK{}
	}
	return JWK{Kty: "EC", Use: "sig", Alg: alg, Crv: crv, X: x, Y: y, KID: Thumbprint(pub)}
}
