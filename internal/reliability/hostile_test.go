package reliability

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"compress/zlib"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/vaxcert/vaxcert/shc"
	"github.com/vaxcert/vaxcert/verifier"
	"github.com/vaxcert/vaxcert/verifier/eudcc/base45"
	"github.com/vaxcert/vaxcert/verifier/formats"
	"github.com/vaxcert/vaxcert/verifier/trust"
	"github.com/vaxcert/vaxcert/verifier/verdict"
)

// hostileIss is the issuer the hostile cards claim to come from; the test
// trust store trusts it with the key of a cardKey.
const hostileIss = "https://issuer.vaxcert.test"

var b64u = base64.RawURLEncoding

// cardKey is a P-256 key and its SHC kid (the JWK thumbprint).
type cardKey struct {
	priv *ecdsa.PrivateKey
	kid  string
}

func newCardKey(t testing.TB) cardKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tk, err := trust.NewKey(&k.PublicKey, 0)
	if err != nil {
		t.Fatal(err)
	}
	return cardKey{priv: k, kid: tk.Kid}
}

// publicJWK is the key's public JWK, as an attacker would embed it.
func (k cardKey) publicJWK() map[string]string {
	return map[string]string{"kty": "EC", "crv": "P-256", "kid": k.kid, "use": "sig", "alg": "ES256",
		"x": b64u.EncodeToString(k.priv.X.FillBytes(make([]byte, 32))),
		"y": b64u.EncodeToString(k.priv.Y.FillBytes(make([]byte, 32)))}
}

// sign makes a compact JWS over any header and already-compressed payload,
// with an ES256 signature by k: the attacker controls every byte.
func (k cardKey) sign(t testing.TB, header any, deflated []byte) string {
	t.Helper()
	h, ok := header.([]byte)
	if !ok {
		var err error
		if h, err = json.Marshal(header); err != nil {
			t.Fatal(err)
		}
	}
	input := b64u.EncodeToString(h) + "." + b64u.EncodeToString(deflated)
	digest := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, k.priv, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + b64u.EncodeToString(sig)
}

func (k cardKey) header() map[string]any {
	return map[string]any{"alg": "ES256", "zip": "DEF", "kid": k.kid}
}

// cardPayload is a well-formed one-dose card payload.
func cardPayload(t testing.TB, iss, name string) []byte {
	t.Helper()
	b, err := shc.NewImmunizationBundle(shc.Patient{
		Name: []shc.HumanName{{Family: name, Given: []string{"Test"}}}, BirthDate: "1980-01-01"},
		[]shc.Immunization{{Status: "completed",
			VaccineCode:        shc.CodeableConcept{Coding: []shc.Coding{{System: shc.SystemCVX, Code: "208"}}},
			OccurrenceDateTime: "2026-01-15", LotNumber: "LOT1",
			Performer: []shc.Performer{{Actor: shc.Actor{Display: "PHC Test"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	p := shc.Payload{Iss: iss, NBF: shc.NewNumericDate(time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)), VC: shc.VC{
		Type:              []string{shc.HealthCardType},
		CredentialSubject: shc.CredentialSubject{FHIRVersion: shc.FHIRVersion, FHIRBundle: b}}}
	out, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func deflate(t testing.TB, b []byte) []byte {
	t.Helper()
	d, err := shc.Deflate(b)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// deflateBomb is a raw DEFLATE stream of n zero bytes (about n/1000 bytes
// long), optionally behind a JSON prefix so it starts like a payload.
func deflateBomb(t testing.TB, prefix string, n int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := flate.NewWriter(&buf, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(prefix))
	zeros := make([]byte, 1<<20)
	for n > 0 {
		c := min(n, len(zeros))
		w.Write(zeros[:c])
		n -= c
	}
	w.Close()
	return buf.Bytes()
}

// hostileWorld is a trust store that trusts hostileIss with trusted's key,
// and a local server that counts every request, standing in for the URLs a
// hostile card points at: the verifier must never contact them.
type hostileWorld struct {
	trusted, attacker cardKey
	store             *trust.Store
	trustDir          string
	hits              atomic.Int64
	url               string
}

// The hostile world and its cases are built once per test process (the
// bombs take a while to compress) and shared by the tests that use them.
var (
	hostileOnce     sync.Once
	hostileW        *hostileWorld
	hostileCaseList []hostileCase
)

// sharedHostile returns the shared world and its hostile cases.
func sharedHostile(t *testing.T) (*hostileWorld, []hostileCase) {
	t.Helper()
	hostileOnce.Do(func() {
		w := newHostileWorld(t)
		hostileCaseList = w.hostileCases(t)
		hostileW = w
	})
	if hostileW == nil {
		t.Fatal("the hostile world could not be built (see the first test that tried)")
	}
	return hostileW, hostileCaseList
}

func newHostileWorld(t *testing.T) *hostileWorld {
	t.Helper()
	w := &hostileWorld{trusted: newCardKey(t), attacker: newCardKey(t)}
	tk, err := trust.NewKey(&w.trusted.priv.PublicKey, 0)
	if err != nil {
		t.Fatal(err)
	}
	is := &trust.Issuer{Iss: hostileIss, Name: "Reliability test issuer", Source: "import",
		Keys: map[string]*trust.Key{tk.Kid: tk}, CRLs: map[string]*trust.CRL{}}
	w.store = trust.NewStore(is)
	tmp, err := os.MkdirTemp("", "vaxcert-hostile-")
	if err != nil {
		t.Fatal(err)
	}
	atExit = append(atExit, func() { os.RemoveAll(tmp) })
	w.trustDir = filepath.Join(tmp, "world", "trust")
	if err := trust.SaveIssuer(w.trustDir, is); err != nil {
		t.Fatal(err)
	}
	// A planted issuer file outside shc/, trusting the attacker under the
	// same iss: reachable only by a path-traversing kid or file name.
	evil := &trust.Issuer{Iss: hostileIss, Name: "planted", Keys: map[string]*trust.Key{}, CRLs: map[string]*trust.CRL{}}
	ak, _ := trust.NewKey(&w.attacker.priv.PublicKey, 0)
	evil.Keys[ak.Kid] = ak
	evil.Keys["../evil"] = ak
	planted, err := trust.MarshalIssuerFile(evil)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(w.trustDir, "evil.json"), filepath.Join(w.trustDir, "..", "evil.json")} {
		if err := os.WriteFile(p, planted, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.hits.Add(1)
		json.NewEncoder(rw).Encode(map[string]any{"keys": []any{w.attacker.publicJWK()}})
	}))
	atExit = append(atExit, srv.Close)
	w.url = srv.URL
	return w
}

// hostileCase is one hostile input and the reason codes any one of which
// is an acceptable rejection.
type hostileCase struct {
	name  string
	input []byte
	codes []string
	// warn, when set, must appear among the warnings (the verifier saw the
	// dangerous header and says it ignored it).
	warn string
}

// hostileCases builds the catalogue of hostile certificates. Every one must
// be refused (not VALID), with one of its codes among the reasons.
func (w *hostileWorld) hostileCases(t *testing.T) []hostileCase {
	t.Helper()
	good := cardPayload(t, hostileIss, "Genuine")
	goodDef := deflate(t, good)
	forged := deflate(t, cardPayload(t, hostileIss, "Forged"))
	att := w.attacker

	var cases []hostileCase
	add := func(name string, input string, warn string, codes ...string) {
		cases = append(cases, hostileCase{name: name, input: []byte(input), codes: codes, warn: warn})
	}

	// A genuine card is the control: the same harness must call it VALID
	// (checked by the test), so every refusal below is about the attack.
	genuine := w.trusted.sign(t, w.trusted.header(), goodDef)

	// alg: none, with no signature and with a signature-sized blob.
	noneHdr := b64u.EncodeToString([]byte(`{"alg":"none","zip":"DEF","kid":"` + w.trusted.kid + `"}`))
	add("alg none, empty signature", noneHdr+"."+b64u.EncodeToString(forged)+".", "", "jws_malformed", "alg_not_allowed")
	add("alg none, 64-byte signature", noneHdr+"."+b64u.EncodeToString(forged)+"."+b64u.EncodeToString(make([]byte, 64)), "", "alg_not_allowed")
	for _, alg := range []string{"None", "NONE", "nOnE", ""} {
		h := b64u.EncodeToString([]byte(`{"alg":"` + alg + `","zip":"DEF","kid":"` + w.trusted.kid + `"}`))
		add("alg "+fmt.Sprintf("%q", alg), h+"."+b64u.EncodeToString(forged)+"."+b64u.EncodeToString(make([]byte, 64)), "", "alg_not_allowed", "alg_missing")
	}
	add("no alg at all", b64u.EncodeToString([]byte(`{"zip":"DEF","kid":"`+w.trusted.kid+`"}`))+"."+b64u.EncodeToString(forged)+"."+b64u.EncodeToString(make([]byte, 64)), "", "alg_missing")
	// A duplicate alg member: whichever one a parser keeps, the card is
	// either refused or checked as ES256 with the trusted key (and fails).
	add("duplicate alg members", w.attacker.sign(t, []byte(`{"alg":"none","alg":"ES256","zip":"DEF","kid":"`+w.trusted.kid+`"}`), forged), "", "alg_not_allowed", "signature_invalid")

	// HS256 keyed with the issuer's public key, in every form a confused
	// library might use as the HMAC secret.
	pub := w.trusted.priv.PublicKey
	der, _ := x509.MarshalPKIXPublicKey(&pub)
	jwkJSON, _ := json.Marshal(w.trusted.publicJWK())
	secrets := map[string][]byte{
		"JWK":              jwkJSON,
		"PEM":              pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}),
		"DER":              der,
		"uncompressed EC":  elliptic.Marshal(elliptic.P256(), pub.X, pub.Y), //nolint:staticcheck // the attacker's view of the key
		"x coordinate b64": []byte(w.trusted.publicJWK()["x"]),
	}
	for form, secret := range secrets {
		for _, sigLen := range []int{32, 64} {
			h := b64u.EncodeToString([]byte(`{"alg":"HS256","zip":"DEF","kid":"` + w.trusted.kid + `"}`))
			input := h + "." + b64u.EncodeToString(forged)
			m := hmac.New(sha256.New, secret)
			m.Write([]byte(input))
			sig := m.Sum(nil)
			if sigLen == 64 {
				sig = append(sig, sig...) // the length ES256 expects
			}
			add(fmt.Sprintf("HS256 with the public key (%s) as secret, %d-byte MAC", form, sigLen),
				input+"."+b64u.EncodeToString(sig), "", "alg_not_allowed")
		}
	}

	// Forged with the attacker's key under the trusted kid.
	add("attacker signature under the trusted kid", att.sign(t, map[string]any{"alg": "ES256", "zip": "DEF", "kid": w.trusted.kid}, forged), "", "signature_invalid")
	// A genuine card with its payload swapped.
	parts := strings.Split(genuine, ".")
	add("payload swapped under a genuine signature", parts[0]+"."+b64u.EncodeToString(forged)+"."+parts[2], "", "signature_invalid")

	// kid with path traversal: the key must come from the trust store's
	// map, never from a file named after the kid.
	for _, kid := range []string{"../evil", "../../evil.json", "../../../../../../etc/passwd", "/etc/passwd",
		`..\..\evil`, "%2e%2e%2fevil", "shc/../../evil", "evil\x00.json", strings.Repeat("../", 2000) + "evil"} {
		add("kid "+fmt.Sprintf("%.40q", kid), att.sign(t, map[string]any{"alg": "ES256", "zip": "DEF", "kid": kid}, forged), "", "kid_unknown")
	}

	// Key material in the header: jwk (the attacker's own key), jku and x5u
	// (URLs of the counting server), x5c (a certificate chain).
	jwkHdr := att.header()
	jwkHdr["jwk"] = att.publicJWK()
	add("jwk header with the attacker's key", att.sign(t, jwkHdr, forged), "header_ignored", "kid_unknown")
	jwkTrustedKid := map[string]any{"alg": "ES256", "zip": "DEF", "kid": w.trusted.kid, "jwk": att.publicJWK()}
	add("jwk header under the trusted kid", att.sign(t, jwkTrustedKid, forged), "header_ignored", "signature_invalid")
	for _, member := range []string{"jku", "x5u"} {
		h := att.header()
		h[member] = w.url + "/.well-known/jwks.json"
		add(member+" header pointing at the attacker", att.sign(t, h, forged), "header_ignored", "kid_unknown")
		h2 := map[string]any{"alg": "ES256", "zip": "DEF", "kid": w.trusted.kid, member: w.url + "/jwks"}
		add(member+" header under the trusted kid", att.sign(t, h2, forged), "header_ignored", "signature_invalid")
	}
	x5c := att.header()
	x5c["x5c"] = []string{base64.StdEncoding.EncodeToString(der)}
	add("x5c header", att.sign(t, x5c, forged), "header_ignored", "kid_unknown")
	// An iss pointing at the attacker's server: untrusted, and not fetched.
	add("iss at the attacker's server", att.sign(t, att.header(), deflate(t, cardPayload(t, strings.Replace(w.url, "http://", "https://", 1), "Forged"))), "", "issuer_untrusted")
	add("crit header", att.sign(t, map[string]any{"alg": "ES256", "zip": "DEF", "kid": w.trusted.kid, "crit": []string{"exp"}}, forged), "", "header_crit")

	// DEFLATE bombs: 64 MiB of zeros in about 64 KiB (so within the JWS
	// size limit), 64 times the inflate cap, as the payload of a
	// trusted-kid card and in a card file.
	bomb := deflateBomb(t, `{"iss":"`+hostileIss+`","x":"`, 64<<20)
	add("DEFLATE bomb (64 MiB of zeros)", w.trusted.sign(t, w.trusted.header(), bomb), "", "payload_too_large")
	smallBomb := deflateBomb(t, `{"iss":"`, 64<<20)
	add("DEFLATE bomb in a .smart-health-card file", `{"verifiableCredential":["`+att.sign(t, att.header(), smallBomb)+`"]}`, "", "payload_too_large")
	// Under a kid the trust store knows, a forged signature is refused
	// before the payload is inflated.
	add("DEFLATE bomb forged under the trusted kid", att.sign(t, w.trusted.header(), smallBomb), "", "signature_invalid")
	add("DEFLATE bomb followed by trailing garbage", w.trusted.sign(t, w.trusted.header(), append(deflate(t, good), 0, 0, 0, 0)), "", "deflate_invalid")
	zlibWrapped := append([]byte{0x78, 0xda}, goodDef...)
	add("zlib-wrapped payload", w.trusted.sign(t, w.trusted.header(), zlibWrapped), "", "deflate_zlib", "deflate_invalid")
	add("uncompressed JSON payload", w.trusted.sign(t, w.trusted.header(), good), "", "deflate_invalid")

	// 10 MB inputs of every shape the dispatcher recognises.
	const tenMB = 10 << 20
	add("10 MB of QR digits", "shc:/"+strings.Repeat("56", tenMB/2), "", "qr_too_large", "jws_malformed", "payload_too_large", "deflate_invalid")
	add("10 MB QR text of odd digits", "shc:/"+strings.Repeat("5", tenMB+1), "", "qr_digits")
	add("10 MB JWS", "eyJh."+strings.Repeat("A", tenMB)+".AAAA", "", "jws_malformed")
	add("10 MB .smart-health-card file", `{"verifiableCredential":["`+strings.Repeat("A", tenMB)+`"]}`, "", "file_invalid", "jws_malformed")
	add("10 MB PDF", "%PDF-1.7\n"+strings.Repeat("1 0 obj\n<< /Length 5 >>\nstream\nxxxxx\nendstream\nendobj\n", tenMB/56), "", "pdf_invalid", "pdf_no_card")
	add("10 MB of spaces", strings.Repeat(" ", tenMB), "", "input_unrecognized", "input_empty")
	add("10 MB PNG signature then garbage", "\x89PNG\r\n\x1a\n"+strings.Repeat("\x00", tenMB), "", "image_invalid")
	add("10 MB HC1 text", "HC1:"+strings.Repeat("6BF", tenMB/3), "", "prefix_invalid")

	// Malformed UTF-8: in the raw input, inside the header, inside a
	// trusted-signed payload.
	add("malformed UTF-8 input", "shc:/\xff\xfe5676", "", "input_unrecognized", "qr_digits")
	add("overlong UTF-8 encoding of '/'", "shc:\xc0\xaf567656", "", "input_unrecognized", "qr_prefix")
	add("malformed UTF-8 in the kid", att.sign(t, []byte("{\"alg\":\"ES256\",\"zip\":\"DEF\",\"kid\":\"\xff\xfe"+w.trusted.kid+"\"}"), forged), "", "kid_unknown", "jws_header_invalid")
	badName := bytes.Replace(cardPayload(t, hostileIss, "ZZZZ"), []byte("ZZZZ"), []byte("\xc3\x28\xa0\xa1"), 1)
	add("malformed UTF-8 in a signed payload", w.trusted.sign(t, w.trusted.header(), deflate(t, badName)), "", "payload_json", "payload_utf8")

	// Deeply nested JSON: in the header, in a (small, compressed) payload,
	// and as a 10 MB card file.
	deepHdr := []byte(`{"alg":"ES256","zip":"DEF","kid":"` + att.kid + `","x":` + strings.Repeat("[", 200000) + strings.Repeat("]", 200000) + `}`)
	add("header nested 200,000 deep", att.sign(t, deepHdr, forged), "", "jws_header_invalid", "jws_malformed")
	deepPayload := []byte(`{"iss":"` + hostileIss + `","nbf":1,"vc":{"type":` + strings.Repeat("[", 400000) + strings.Repeat("]", 400000) + `}}`)
	add("payload nested 400,000 deep", w.trusted.sign(t, w.trusted.header(), deflate(t, deepPayload)), "", "payload_json")
	deepEntry := bytes.Replace(good, []byte(`"resource":{`), []byte(`"resource":{"x":`+strings.Repeat(`{"a":`, 100000)+`1`+strings.Repeat(`}`, 100000)+`,`), 1)
	add("FHIR resource nested 100,000 deep", w.trusted.sign(t, w.trusted.header(), deflate(t, deepEntry)), "", "payload_json", "payload_too_large")
	add("10 MB nested .smart-health-card file", `{"verifiableCredential":`+strings.Repeat("[", tenMB/2)+strings.Repeat("]", tenMB/2)+`}`, "", "file_invalid")
	add("10 MB nested JSON object", strings.Repeat(`{"a":`, tenMB/5), "", "file_invalid", "input_unrecognized")

	cases = append(cases, w.hostileDCC(t)...)
	cases = append(cases, w.hostileDIVOC(t)...)
	return cases
}

// hc1 wraps a COSE message the EU DCC way: zlib, base45, "HC1:".
func hc1(t testing.TB, cose []byte) string {
	t.Helper()
	var buf bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&buf, zlib.BestCompression)
	zw.Write(cose)
	zw.Close()
	return "HC1:" + base45.Encode(buf.Bytes())
}

// coseSign1 builds a tagged COSE_Sign1 with any protected header, kid and
// payload; the signature is random bytes of sigLen.
func coseSign1(t testing.TB, protected map[int]any, kid []byte, payload []byte, sigLen int) []byte {
	t.Helper()
	ph, err := cbor.Marshal(protected)
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, sigLen)
	rand.Read(sig)
	msg, err := cbor.Marshal(cbor.Tag{Number: 18, Content: []any{ph, map[int]any{4: kid}, payload, sig}})
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

// hostileDCC are hostile EU DCCs (HC1): a zlib bomb, HMAC and missing
// algorithms, kid traversal, deep CBOR nesting, malformed UTF-8.
func (w *hostileWorld) hostileDCC(t *testing.T) []hostileCase {
	claims, _ := cbor.Marshal(map[int]any{1: "DE", 4: 1900000000, 6: 1600000000, -260: map[int]any{1: map[string]any{"ver": "1.3.0"}}})
	es256 := map[int]any{1: -7}
	var cases []hostileCase
	add := func(name, input string, codes ...string) {
		cases = append(cases, hostileCase{name: name, input: []byte(input), codes: codes})
	}
	// 8 MiB of zeros fits the HC1 text limit once compressed.
	var bomb bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&bomb, zlib.BestCompression)
	zw.Write(make([]byte, 8<<20))
	zw.Close()
	add("HC1 zlib bomb (8 MiB of zeros)", "HC1:"+base45.Encode(bomb.Bytes()), "zlib_invalid")
	add("HC1 HMAC-SHA256 (alg 5)", hc1(t, coseSign1(t, map[int]any{1: 5}, []byte("kid12345"), claims, 32)), "alg_unsupported")
	add("HC1 without alg", hc1(t, coseSign1(t, map[int]any{}, []byte("kid12345"), claims, 64)), "alg_unsupported", "cose_invalid")
	for _, kid := range []string{"../../../../etc/passwd", "../dsc/evil", "\x00"} {
		add(fmt.Sprintf("HC1 kid %q", kid), hc1(t, coseSign1(t, es256, []byte(kid), claims, 64)), "kid_unknown", "kid_invalid")
	}
	// [[[…1…]]]: deeper than any decoder should follow, and (the second)
	// inflating past the COSE size cap.
	for _, depth := range []int{60000, 100000} {
		deep := append(bytes.Repeat([]byte{0x81}, depth), 0x01)
		add(fmt.Sprintf("HC1 CBOR payload nested %d deep", depth), hc1(t, coseSign1(t, es256, []byte("kid12345"), deep, 64)),
			"kid_unknown", "cwt_invalid", "cose_invalid", "zlib_invalid")
	}
	add("HC1 malformed UTF-8", "HC1:\xff\xfe6BFOXN", "prefix_invalid", "base45_invalid")
	return cases
}

// hostileDIVOC are hostile CoWIN (DIVOC) certificates: a ZIP whose entry
// lies about its size, deep JSON nesting, malformed UTF-8.
func (w *hostileWorld) hostileDIVOC(t *testing.T) []hostileCase {
	var cases []hostileCase
	add := func(name string, input []byte, codes ...string) {
		cases = append(cases, hostileCase{name: name, input: input, codes: codes})
	}
	ctx := `{"@context":["https://www.w3.org/2018/credentials/v1","https://cowin.gov.in/credentials/vaccination/v1"],`
	// A certificate.json entry that claims 200 bytes and inflates to 16 MiB.
	var raw bytes.Buffer
	fw, _ := flate.NewWriter(&raw, flate.BestCompression)
	fw.Write([]byte(ctx + `"x":"`))
	fw.Write(bytes.Repeat([]byte(" "), 16<<20))
	fw.Close()
	var zbuf bytes.Buffer
	zwr := zip.NewWriter(&zbuf)
	hw, err := zwr.CreateRaw(&zip.FileHeader{Name: "certificate.json", Method: zip.Deflate,
		CompressedSize64: uint64(raw.Len()), UncompressedSize64: 200, CRC32: 0x12345678})
	if err != nil {
		t.Fatal(err)
	}
	hw.Write(raw.Bytes())
	zwr.Close()
	add("CoWIN ZIP whose entry lies about its size (16 MiB of spaces)", zbuf.Bytes(), "zip_invalid", "zip_too_large", "input_too_large")
	nested := []byte(ctx + `"x":` + strings.Repeat("[", 7000) + strings.Repeat("]", 7000) + `}`)
	add("CoWIN certificate nested 7,000 deep", nested, "json_invalid", "certificate_malformed", "proof_missing")
	add("CoWIN certificate with malformed UTF-8", []byte(ctx+"\"credentialSubject\":{\"name\":\"\xc3\x28\"}}"), "json_invalid", "certificate_malformed", "proof_missing")
	return cases
}

// verifiedBy returns the control card for a world (signed by the trusted
// key, otherwise ordinary).
func (w *hostileWorld) genuine(t *testing.T) []byte {
	return []byte(w.trusted.sign(t, w.trusted.header(), deflate(t, cardPayload(t, hostileIss, "Genuine"))))
}

func findingCodes(fs []verdict.Finding) []string {
	out := make([]string, 0, len(fs))
	for _, f := range fs {
		out = append(out, f.Code)
	}
	return out
}

// checkRefused fails unless every result of a hostile input is refused with
// one of the acceptable codes and a message a person can read.
func checkRefused(t *testing.T, c hostileCase, results []verdict.Result) {
	t.Helper()
	if len(results) == 0 {
		t.Fatalf("%s: no result", c.name)
	}
	for _, r := range results {
		if r.Status == verdict.Valid {
			t.Errorf("%s: accepted as VALID: %+v", c.name, r)
			continue
		}
		if len(r.Reasons) == 0 {
			t.Errorf("%s: refused (%s) without a reason", c.name, r.Status)
			continue
		}
		ok := false
		for _, f := range r.Reasons {
			if f.Message == "" {
				t.Errorf("%s: reason %s has no message", c.name, f.Code)
			}
			for _, want := range c.codes {
				ok = ok || f.Code == want
			}
		}
		if !ok {
			t.Errorf("%s: reasons %v, want one of %v", c.name, findingCodes(r.Reasons), c.codes)
		}
		if c.warn != "" {
			found := false
			for _, f := range r.Warnings {
				found = found || f.Code == c.warn
			}
			if !found {
				t.Errorf("%s: warnings %v, want %s", c.name, findingCodes(r.Warnings), c.warn)
			}
		}
		// A refused health card shows nothing of what it claims. (The
		// CoWIN reader shows a rejected certificate's contents under its
		// INVALID verdict, by its own design.)
		if r.Format == verifier.FormatSHC && (r.Subject != nil || len(r.Doses) > 0) {
			t.Errorf("%s: refused card still shows contents %+v %+v", c.name, r.Subject, r.Doses)
		}
	}
}

// Memory bounds for one hostile input: a fixed allowance plus a multiple of
// the input size. Generous on purpose: they catch an unbounded expansion
// (a bomb inflated, a nesting turned into a tree), not a few copies.
const (
	hostileFixedAlloc = 48 << 20
	hostilePerByte    = 12
)

// TestHostileCertificatesLibrary runs every hostile certificate through the
// verifier library, trust store in memory: each is refused with a reason,
// within a bounded allocation, and nothing is fetched from the network.
func TestHostileCertificatesLibrary(t *testing.T) {
	w, cases := sharedHostile(t)
	v := &verifier.Verifier{Trust: w.store, TrustDir: w.trustDir, Formats: formats.All(), Now: func() time.Time { return time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC) }}

	control := v.Verify(context.Background(), w.genuine(t), "genuine")
	if len(control) != 1 || control[0].Status != verdict.Valid {
		t.Fatalf("the genuine control card is not VALID: %+v", control)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if raceEnabled && len(c.input) > 1<<20 {
				// Minutes under the race detector; the vaxverify run
				// below checks these through a normal build.
				t.Skip("input over 1 MiB: checked through vaxverify when the race detector is on")
			}
			var results []verdict.Result
			alloc, took := allocated(func() {
				results = v.Verify(context.Background(), c.input, "hostile")
			})
			checkRefused(t, c, results)
			limit := uint64(hostileFixedAlloc + hostilePerByte*len(c.input))
			if alloc > limit {
				t.Errorf("allocated %s for a %s input; bound %s", mib(alloc), mib(uint64(len(c.input))), mib(limit))
			}
			t.Logf("%-8s %-10s %s", took.Round(time.Millisecond), mib(alloc), strings.Join(findingCodes(results[0].Reasons), ","))
		})
	}
	if n := w.hits.Load(); n != 0 {
		t.Errorf("the verifier made %d requests to URLs named by hostile cards", n)
	}
}

// TestHostileCertificatesAllocsStable checks that verifying a hostile card
// allocates the same whatever the bomb's claimed size: the work is bounded
// by the caps, not by what the attacker asks for.
func TestHostileCertificatesAllocsStable(t *testing.T) {
	w, _ := sharedHostile(t)
	v := &verifier.Verifier{Trust: w.store}
	var prev float64
	for _, size := range []int{8 << 20, 64 << 20} {
		card := []byte(w.trusted.sign(t, w.trusted.header(), deflateBomb(t, `{"iss":"`, size)))
		allocs := testing.AllocsPerRun(3, func() { v.Verify(context.Background(), card, "bomb") })
		alloc, _ := allocated(func() { v.Verify(context.Background(), card, "bomb") })
		t.Logf("bomb of %s: %.0f allocations, %s", mib(uint64(size)), allocs, mib(alloc))
		if alloc > 16<<20 {
			t.Errorf("bomb of %s: allocated %s, want under 16 MiB (the inflate cap is %d bytes)", mib(uint64(size)), mib(alloc), shc.MaxInflatedSize)
		}
		if prev != 0 && allocs > 2*prev {
			t.Errorf("allocations grow with the bomb's size: %.0f then %.0f", prev, allocs)
		}
		prev = allocs
	}
}

// TestHostileImageBomb: a tiny PNG that declares a huge canvas is refused
// before it is decoded.
func TestHostileImageBomb(t *testing.T) {
	w, _ := sharedHostile(t)
	v := &verifier.Verifier{Trust: w.store}
	for _, side := range []int{40000, 20000} {
		var buf bytes.Buffer
		img := image.NewGray(image.Rect(0, 0, 1, 1))
		img.Set(0, 0, color.Gray{255})
		if err := png.Encode(&buf, img); err != nil {
			t.Fatal(err)
		}
		b := patchPNGSize(t, buf.Bytes(), side, side)
		var res []verdict.Result
		alloc, _ := allocated(func() { res = v.Verify(context.Background(), b, "bomb.png") })
		c := hostileCase{name: fmt.Sprintf("PNG declaring %dx%d", side, side), codes: []string{"image_invalid"}}
		checkRefused(t, c, res)
		if alloc > 16<<20 {
			t.Errorf("%s: allocated %s", c.name, mib(alloc))
		}
	}
}

// patchPNGSize rewrites the IHDR width and height (and its CRC).
func patchPNGSize(t *testing.T, b []byte, w, h int) []byte {
	t.Helper()
	out := append([]byte(nil), b...)
	// 8-byte signature, 4-byte length, "IHDR", then width and height.
	if string(out[12:16]) != "IHDR" {
		t.Fatal("no IHDR")
	}
	put := func(off, v int) {
		out[off], out[off+1], out[off+2], out[off+3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
	}
	put(16, w)
	put(20, h)
	crc := crc32.ChecksumIEEE(out[12:29])
	put(29, int(crc))
	return out
}

// TestHostileCertificatesVaxverify runs the same hostile certificates
// through the vaxverify binary, trust store on disk: each exits 1 with a
// JSON report refusing it with a reason, within a bounded resident set, and
// the binary contacts no URL the card names.
func TestHostileCertificatesVaxverify(t *testing.T) {
	bin := binary(t, "vaxverify")
	w, cases := sharedHostile(t)
	dir := t.TempDir()
	run := func(t *testing.T, input []byte) (report cliReport, code int, maxRSS int64, stderr string) {
		t.Helper()
		path := filepath.Join(dir, "card")
		if err := os.WriteFile(path, input, 0o600); err != nil {
			t.Fatal(err)
		}
		var stdout, errb bytes.Buffer
		cmd, rss := measuredCommand(t, bin, "verify", "--trust", w.trustDir, "--json", "--at", "2026-03-01T00:00:00Z", path)
		cmd.Stdout, cmd.Stderr = &stdout, &errb
		err := cmd.Run()
		var exit *exec.ExitError
		switch {
		case errors.As(err, &exit):
			code = exit.ExitCode()
		case err != nil:
			t.Fatal(err)
		}
		maxRSS = rss()
		if err := json.Unmarshal(stdout.Bytes(), &report); err != nil {
			t.Fatalf("exit %d, not a JSON report: %v\n%s\n%s", code, err, stdout.String(), errb.String())
		}
		return report, code, maxRSS, errb.String()
	}

	if rep, code, _, stderr := run(t, w.genuine(t)); code != 0 || len(rep.Results) != 1 || rep.Results[0].Status != verdict.Valid {
		t.Fatalf("genuine control card: exit %d, %+v %s", code, rep, stderr)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rep, code, rss, stderr := run(t, c.input)
			if code != 1 {
				t.Errorf("exit %d, want 1 (invalid); stderr %s", code, stderr)
			}
			checkRefused(t, c, rep.Results)
			// The process as a whole: runtime, trust store, the input and
			// its working copies.
			t.Logf("peak RSS %s", mib(uint64(rss)))
			limit := int64(64<<20 + hostilePerByte*len(c.input))
			if rss > limit {
				t.Errorf("peak resident set %s; bound %s", mib(uint64(rss)), mib(uint64(limit)))
			}
		})
	}
	if n := w.hits.Load(); n != 0 {
		t.Errorf("vaxverify made %d requests to URLs named by hostile cards", n)
	}
}

// cliReport is the part of vaxverify's --json report these tests read.
type cliReport struct {
	Results []verdict.Result `json:"results"`
}

// TestHostileCertificatesHTTP posts the same hostile certificates to
// POST /api/v1/verify: each is refused with a reason (or the body is refused
// as too large, 413 problem+json), the service stays up, and its peak
// resident set stays bounded.
func TestHostileCertificatesHTTP(t *testing.T) {
	svc := startService(t, serviceOptions{args: generousLimits})
	w, cases := sharedHostile(t)
	probe, err := svc.client("").do("POST", "/api/v1/verify", "shc:/00")
	if err != nil {
		t.Fatal(err)
	}
	if probe.status == http.StatusNotFound || probe.status == http.StatusMethodNotAllowed {
		t.Skipf("POST /api/v1/verify is not served (status %d); the library and vaxverify runs cover the verifier", probe.status)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := svc.client("").do("POST", "/api/v1/verify", c.input, "Content-Type", "application/octet-stream")
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			switch {
			case r.status == http.StatusRequestEntityTooLarge:
				if _, err := readProblemBytes(r); err != nil {
					t.Error(err)
				}
			case r.status == http.StatusOK:
				var rep struct {
					Results []verdict.Result `json:"results"`
				}
				if err := json.Unmarshal(r.body, &rep); err != nil || len(rep.Results) == 0 {
					var one verdict.Result
					if err := json.Unmarshal(r.body, &one); err != nil {
						t.Fatalf("not a verdict: %v: %.300s", err, r.body)
					}
					rep.Results = []verdict.Result{one}
				}
				// The service trusts only itself, so the claimed issuer is
				// untrusted: any refusal with a reason will do.
				for i := range rep.Results {
					if rep.Results[i].Status == verdict.Valid || len(rep.Results[i].Reasons) == 0 {
						t.Errorf("result %d: %s with reasons %v", i, rep.Results[i].Status, findingCodes(rep.Results[i].Reasons))
					}
				}
			default:
				if r.status < 400 || r.status >= 500 {
					t.Errorf("status %d: %.300s", r.status, r.body)
				} else if _, err := readProblemBytes(r); err != nil {
					t.Error(err)
				}
			}
		})
	}
	svc.client("").must(t, http.StatusOK, "GET", "/healthz", nil)
	if n := w.hits.Load(); n != 0 {
		t.Errorf("%d requests reached URLs named by hostile cards", n)
	}
	if hwm := procHWM(t, svc.cmd.Process.Pid); hwm > 512<<20 {
		t.Errorf("the service's peak resident set reached %s", mib(uint64(hwm)))
	} else {
		t.Logf("service peak resident set: %s", mib(uint64(hwm)))
	}
}

// readProblemBytes checks a buffered answer is problem+json.
func readProblemBytes(r response) (problemDoc, error) {
	var p problemDoc
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		return p, fmt.Errorf("status %d with Content-Type %q", r.status, ct)
	}
	err := json.Unmarshal(r.body, &p)
	return p, err
}

// procHWM is a process's peak resident set (VmHWM), in bytes.
func procHWM(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmHWM")
	return 0
}
