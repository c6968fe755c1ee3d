package eudcc

// A small test issuer: DSCs with chosen keys, validity and key usages, and
// HC1 texts with chosen headers, claims and payloads, for the cases the
// upstream vectors describe only in prose (CO4, CO24–CO27, DGC7, DGC8) and
// for everything else this package decides.

import (
	"bytes"
	"compress/zlib"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/vaxcert/vaxcert/verifier/eudcc/base45"
	"github.com/vaxcert/vaxcert/verifier/eudcc/cose"
)

var (
	testNow   = time.Date(2021, 6, 1, 12, 0, 0, 0, time.UTC)
	keyOnce   sync.Once
	testP256  *ecdsa.PrivateKey
	testP384  *ecdsa.PrivateKey
	testRSA   *rsa.PrivateKey
	testOther *ecdsa.PrivateKey
)

func testKeys() {
	keyOnce.Do(func() {
		var err error
		if testP256, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			panic(err)
		}
		if testOther, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			panic(err)
		}
		if testP384, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader); err != nil {
			panic(err)
		}
		if testRSA, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
	})
}

// dscOptions describes a DSC to create.
type dscOptions struct {
	key       crypto.Signer // default: the P-256 key
	notBefore time.Time     // default: testNow - 30 days
	notAfter  time.Time     // default: testNow + 365 days
	eku       []asn1.ObjectIdentifier
	tlsEKU    bool // add serverAuth
}

func newDSC(t testing.TB, o dscOptions) (*x509.Certificate, crypto.Signer) {
	t.Helper()
	testKeys()
	if o.key == nil {
		o.key = testP256
	}
	if o.notBefore.IsZero() {
		o.notBefore = testNow.AddDate(0, 0, -30)
	}
	if o.notAfter.IsZero() {
		o.notAfter = testNow.AddDate(1, 0, 0)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber:       serial,
		Subject:            pkix.Name{Country: []string{"XX"}, Organization: []string{"Test Health Agency"}, CommonName: "Test DSC"},
		NotBefore:          o.notBefore,
		NotAfter:           o.notAfter,
		UnknownExtKeyUsage: o.eku,
	}
	if o.tlsEKU {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, o.key.Public(), o.key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, o.key
}

// hc1 describes an HC1 text to create. Zero values give a valid vaccination
// certificate signed with ES256 by the given key, kid protected.
type hc1 struct {
	signer      crypto.Signer
	kid         []byte // default: KID(dsc)
	alg         int64  // default: ES256 for ECDSA, PS256 for RSA
	signAs      int64  // how to sign, when it must differ from alg
	protected   map[any]any
	unprotected map[any]any
	claims      map[any]any // replaces the default claims entirely
	dcc         map[string]any
	sig         []byte // replaces the signature
	tags        []uint64
	noCompress  bool
}

func vaccinationDCC() map[string]any {
	return map[string]any{
		"ver": "1.3.0",
		"nam": map[string]any{"fn": "Musterfrau-Gößinger", "fnt": "MUSTERFRAU<GOESSINGER", "gn": "Gabriele", "gnt": "GABRIELE"},
		"dob": "1998-02-26",
		"v": []any{map[string]any{
			"tg": "840539006", "vp": "1119349007", "mp": "EU/1/20/1528", "ma": "ORG-100030215",
			"dn": 2, "sd": 2, "dt": "2021-05-18", "co": "AT", "is": "Ministry of Health, Austria",
			"ci": "URN:UVCI:01:AT:10807843F94AEE0EE5093FBC254BD813#B",
		}},
	}
}

func testDCC(result, sampled string) map[string]any {
	d := vaccinationDCC()
	delete(d, "v")
	d["t"] = []any{map[string]any{
		"tg": "840539006", "tt": "LP6464-4", "nm": "Roche LightCycler qPCR", "sc": sampled,
		"tr": result, "tc": "Testing center Vienna 1", "co": "AT", "is": "Ministry of Health, Austria",
		"ci": "URN:UVCI:01:AT:B5921A35D6A0D696421B3E2462178297#I",
	}}
	return d
}

func recoveryDCC() map[string]any {
	d := vaccinationDCC()
	delete(d, "v")
	d["r"] = []any{map[string]any{
		"tg": "840539006", "fr": "2021-02-20", "co": "AT", "is": "Ministry of Health, Austria",
		"df": "2021-04-04", "du": "2021-10-04", "ci": "URN:UVCI:01:AT:858CC18CFCF5965EF82F60E493349AA5#K",
	}}
	return d
}

func defaultClaims(dcc map[string]any) map[any]any {
	return map[any]any{
		1:    "AT",
		6:    testNow.AddDate(0, 0, -7).Unix(),
		4:    testNow.AddDate(0, 6, 0).Unix(),
		-260: map[any]any{1: dcc},
	}
}

// text returns the HC1 text of c, issued by dsc.
func (c hc1) text(t testing.TB, dsc *x509.Certificate) string {
	t.Helper()
	testKeys()
	if c.signer == nil {
		c.signer = testP256
	}
	if c.kid == nil {
		c.kid = KID(dsc)
	}
	if c.alg == 0 {
		c.alg = cose.AlgES256
		if _, ok := c.signer.(*rsa.PrivateKey); ok {
			c.alg = cose.AlgPS256
		}
	}
	if c.signAs == 0 {
		c.signAs = c.alg
	}
	if c.dcc == nil {
		c.dcc = vaccinationDCC()
	}
	if c.claims == nil {
		c.claims = defaultClaims(c.dcc)
	}
	if c.protected == nil {
		c.protected = map[any]any{1: c.alg, 4: c.kid}
	}
	if c.unprotected == nil {
		c.unprotected = map[any]any{}
	}
	prot := []byte{}
	if len(c.protected) > 0 {
		prot = mustCBOR(t, c.protected)
	}
	payload := mustCBOR(t, c.claims)
	sig := c.sig
	if sig == nil {
		sig = signDigest(t, c.signer, c.signAs, sha256.Sum256(cose.SigStructure(prot, payload)))
	}
	var item any = []any{prot, c.unprotected, payload, sig}
	tags := c.tags
	if tags == nil {
		tags = []uint64{18}
	}
	for i := len(tags) - 1; i >= 0; i-- {
		item = cbor.Tag{Number: tags[i], Content: item}
	}
	coseBytes := mustCBOR(t, item)
	data := coseBytes
	if !c.noCompress {
		data = deflate(t, coseBytes)
	}
	return Prefix + base45.Encode(data)
}

func signDigest(t testing.TB, signer crypto.Signer, alg int64, digest [32]byte) []byte {
	t.Helper()
	switch alg {
	case cose.AlgPS256:
		k, ok := signer.(*rsa.PrivateKey)
		if !ok {
			t.Fatal("PS256 needs an RSA key")
		}
		sig, err := rsa.SignPSS(rand.Reader, k, crypto.SHA256, digest[:], &rsa.PSSOptions{SaltLength: 32})
		if err != nil {
			t.Fatal(err)
		}
		return sig
	default: // ES256 and anything unsupported: a raw r‖s ECDSA signature
		k, ok := signer.(*ecdsa.PrivateKey)
		if !ok {
			t.Fatal("ES256 needs an ECDSA key")
		}
		r, s, err := ecdsa.Sign(rand.Reader, k, digest[:])
		if err != nil {
			t.Fatal(err)
		}
		size := (k.Curve.Params().BitSize + 7) / 8
		out := make([]byte, 2*size)
		r.FillBytes(out[:size])
		s.FillBytes(out[size:])
		return out
	}
}

func mustCBOR(t testing.TB, v any) []byte {
	t.Helper()
	b, err := cbor.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func deflate(t testing.TB, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&buf, zlib.BestCompression)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
