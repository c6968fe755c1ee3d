package shc

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/asn1"
	"encoding/json"
	"errors"
	"image/png"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/vaxcert/vaxcert/internal/vectors"
)

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func samplePayload(t testing.TB, doses int) Payload {
	t.Helper()
	var ims []Immunization
	for i := 0; i < doses; i++ {
		ims = append(ims, Immunization{
			Status:             "completed",
			VaccineCode:        CodeableConcept{Coding: []Coding{{System: SystemCVX, Code: "208"}}},
			OccurrenceDateTime: time.Date(2021, 4, 1+21*i, 0, 0, 0, 0, time.UTC).Format("2006-01-02"),
			LotNumber:          "EW0182",
			Performer:          []Performer{{Actor: Actor{Display: "District Hospital"}}},
		})
	}
	b, err := NewImmunizationBundle(Patient{
		Name:      []HumanName{{Family: "Kumar", Given: []string{"Asha"}}},
		BirthDate: "1980-02-29",
	}, ims)
	if err != nil {
		t.Fatal(err)
	}
	return Payload{
		Iss: "https://vaxcert.example/issuer",
		NBF: NewNumericDate(time.Date(2021, 6, 1, 0, 0, 0, 0, time.UTC)),
		VC: VC{
			Type:              []string{HealthCardType},
			CredentialSubject: CredentialSubject{FHIRVersion: FHIRVersion, FHIRBundle: b},
			RID:               "MKyCxh7p6uQ",
		},
	}
}

func TestSignRoundTrip(t *testing.T) {
	key := newKey(t)
	p := samplePayload(t, 2)
	jws, err := Sign(key, "kid-1", p)
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(jws, " \n\r\t=") {
		t.Fatalf("JWS has whitespace or padding: %q", jws)
	}
	j, err := ParseJWS(jws)
	if err != nil {
		t.Fatal(err)
	}
	if j.Header != (Header{Alg: "ES256", Zip: "DEF", Kid: "kid-1"}) {
		t.Fatalf("header = %+v", j.Header)
	}
	if len(j.Signature) != 64 {
		t.Fatalf("signature is %d bytes", len(j.Signature))
	}
	if !j.VerifySignature(&key.PublicKey) {
		t.Fatal("signature does not verify")
	}
	if j.VerifySignature(&newKey(t).PublicKey) {
		t.Fatal("signature verifies under another key")
	}
	raw, err := Inflate(j.Deflated, MaxInflatedSize)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(p)
	if !bytes.Equal(raw, want) {
		t.Fatalf("inflated payload differs:\n%s\n%s", raw, want)
	}
	got, err := DecodePayload(raw)
	if err != nil {
		t.Fatal(err)
	}
	if got.NBF != "1622505600" || got.Iss != p.Iss || got.VC.RID != "MKyCxh7p6uQ" {
		t.Fatalf("decoded payload = %+v", got)
	}
	contents, probs := ReadBundle(got.VC.CredentialSubject.FHIRBundle)
	if len(probs) != 0 {
		t.Fatalf("problems in our own bundle: %+v", probs)
	}
	if contents.Patient == nil || contents.Patient.Name[0].Display() != "Asha Kumar" || len(contents.Doses) != 2 {
		t.Fatalf("contents = %+v", contents)
	}
	// Our bundle must not carry forbidden members.
	for _, bad := range []string{`"id"`, `"meta"`, `"text"`, `"display":"`, `"isSubpotent"`} {
		if bytes.Contains(raw, []byte(bad)) && bad != `"display":"` {
			t.Errorf("payload contains %s", bad)
		}
	}
	if !bytes.HasPrefix(raw, []byte(`{"iss":`)) || !bytes.Contains(raw, []byte(`{"resourceType":"Patient","name":`)) {
		t.Errorf("unexpected member order: %s", raw)
	}
}

func TestSignRefusesTooLong(t *testing.T) {
	key := newKey(t)
	p := samplePayload(t, 2)
	// Incompressible text in the lot numbers pushes the JWS past 1195.
	noise := make([]byte, 900)
	rand.Read(noise)
	p.VC.RID = ""
	var ims []Immunization
	ims = append(ims, Immunization{Status: "completed", LotNumber: b64.EncodeToString(noise), OccurrenceDateTime: "2021-05-01",
		VaccineCode: CodeableConcept{Coding: []Coding{{System: SystemCVX, Code: "208"}}}})
	var err error
	p.VC.CredentialSubject.FHIRBundle, err = NewImmunizationBundle(Patient{Name: []HumanName{{Text: "A"}}}, ims)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Sign(key, "kid", p)
	if !errors.Is(err, ErrTooLongForQR) {
		t.Fatalf("err = %v, want ErrTooLongForQR", err)
	}
}

func TestNewImmunizationBundleChecks(t *testing.T) {
	good := Immunization{Status: "completed", OccurrenceDateTime: "2021-05-01",
		VaccineCode: CodeableConcept{Coding: []Coding{{System: SystemCVX, Code: "208"}}}}
	name := Patient{Name: []HumanName{{Family: "K"}}}
	if _, err := NewImmunizationBundle(name, []Immunization{good}); err != nil {
		t.Fatal(err)
	}
	bad := []func(*Immunization){
		func(im *Immunization) { im.Status = "" },
		func(im *Immunization) { im.OccurrenceDateTime = "2021-05-01T10:00:00Z" },
		func(im *Immunization) { im.VaccineCode.Coding[0].System = "urn:other" },
		func(im *Immunization) {
			im.VaccineCode.Coding = append(im.VaccineCode.Coding, Coding{System: SystemSNOMED})
		},
	}
	for i, mutate := range bad {
		im := good
		im.VaccineCode.Coding = append([]Coding(nil), good.VaccineCode.Coding...)
		mutate(&im)
		if _, err := NewImmunizationBundle(name, []Immunization{im}); err == nil {
			t.Errorf("case %d accepted", i)
		}
	}
	if _, err := NewImmunizationBundle(Patient{}, []Immunization{good}); err == nil {
		t.Error("nameless patient accepted")
	}
}

func TestSignRejectsBadSigner(t *testing.T) {
	k, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if _, err := Sign(k, "kid", samplePayload(t, 1)); err == nil {
		t.Fatal("P-384 signer accepted")
	}
}

func TestSpecVectors(t *testing.T) {
	for _, ex := range []string{"00", "01", "03"} {
		t.Run(ex, func(t *testing.T) {
			jws := string(vectors.Read(t, "shc", "spec", "example-"+ex+"-d-jws.txt"))
			qr := string(vectors.Read(t, "shc", "spec", "example-"+ex+"-f-qr-code-numeric-value-0.txt"))
			got, err := ParseQRText(qr)
			if err != nil {
				t.Fatal(err)
			}
			if got != jws {
				t.Fatal("QR text does not decode to the JWS")
			}
			if QRText(jws) != qr {
				t.Fatal("QRText does not reproduce the spec QR text")
			}
			j, err := ParseJWS(jws)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := Inflate(j.Deflated, MaxInflatedSize)
			if err != nil {
				t.Fatal(err)
			}
			minified := vectors.Read(t, "shc", "spec", "example-"+ex+"-c-jws-payload-minified.json")
			if !bytes.Equal(raw, minified) {
				t.Fatal("inflated payload differs from the minified example")
			}
			p, err := DecodePayload(raw)
			if err != nil {
				t.Fatal(err)
			}
			nbf, err := p.NBF.Time()
			if err != nil || nbf.Unix() != 1687450764 {
				t.Fatalf("nbf = %v, %v", nbf, err)
			}
			if _, probs := ReadBundle(p.VC.CredentialSubject.FHIRBundle); hasError(probs) {
				t.Fatalf("bundle problems: %+v", probs)
			}
			files, err := ParseFile(vectors.Read(t, "shc", "spec", "example-"+ex+"-e-file.smart-health-card"))
			if err != nil || len(files) != 1 || files[0] != jws {
				t.Fatalf("file: %v %v", files, err)
			}
		})
	}
}

func hasError(probs []Problem) bool {
	for _, p := range probs {
		if !p.Warning {
			return true
		}
	}
	return false
}

func TestSpecChunks(t *testing.T) {
	jws := string(vectors.Read(t, "shc", "spec", "example-02-d-jws.txt"))
	var chunks []Chunk
	for _, i := range []string{"2", "0", "1"} { // any order
		c, err := ParseQRChunk(string(vectors.Read(t, "shc", "spec", "example-02-f-qr-code-numeric-value-"+i+".txt")))
		if err != nil {
			t.Fatal(err)
		}
		if !c.Chunked || c.Total != 3 {
			t.Fatalf("chunk = %+v", c)
		}
		chunks = append(chunks, c)
	}
	got, err := Reassemble(chunks)
	if err != nil || got != jws {
		t.Fatalf("reassembled %d chars, err %v", len(got), err)
	}
	if _, err := Reassemble(chunks[:2]); CodeOf(err, "") != "qr_chunks_incomplete" {
		t.Fatalf("missing chunk: %v", err)
	}
	if _, err := ParseQRText(QRPrefix + "1/3/" + "5656"); CodeOf(err, "") != "qr_chunked" {
		t.Fatalf("ParseQRText on a chunk: %v", err)
	}
}

func TestParseQRTextErrors(t *testing.T) {
	tests := []struct {
		name, in, code string
	}{
		{"empty", "", "qr_prefix"},
		{"no slash", "shc:5676", "qr_prefix"},
		{"upper", "SHC:/5676", "qr_prefix"},
		{"other", "HC1:xyz", "qr_prefix"},
		{"no digits", "shc:/", "qr_digits"},
		{"odd", "shc:/567", "qr_digits"},
		{"78", "shc:/5678", "qr_digits"},
		{"99", "shc:/99", "qr_digits"},
		{"letter", "shc:/56a6", "qr_digits"},
		{"newline", "shc:/5656\n", "qr_digits"},
		{"bad chunk", "shc:/0/3/5656", "qr_prefix"},
		{"chunk beyond", "shc:/4/3/5656", "qr_prefix"},
		{"chunk leading zero", "shc:/01/3/5656", "qr_prefix"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseQRText(tt.in)
			if got := CodeOf(err, "none"); got != tt.code {
				t.Fatalf("code = %s (%v), want %s", got, err, tt.code)
			}
		})
	}
	for _, name := range []string{"number-too-big", "odd-count", "wrong_qr_header"} {
		b := vectors.Read(t, "shc", "negative", "test-example-00-f-qr-code-numeric-value-0-"+name+".txt")
		if _, err := ParseQRText(string(b)); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
	// The boundary vector: 2388 digits, a 1194-character JWS.
	b := vectors.Read(t, "shc", "negative", "test-example-1195-byte-qrnumeric.txt")
	jws, err := ParseQRText(string(bytes.TrimRight(b, "\n")))
	if err != nil || len(jws) > MaxQRJWSLength {
		t.Fatalf("boundary vector: %d chars, %v", len(jws), err)
	}
}

func TestParseJWSErrors(t *testing.T) {
	valid := string(vectors.Read(t, "shc", "spec", "example-00-d-jws.txt"))
	parts := strings.Split(valid, ".")
	hdr := func(s string) string { return b64.EncodeToString([]byte(s)) + "." + parts[1] + "." + parts[2] }
	tests := []struct {
		name, in, code string
	}{
		{"empty", "", "jws_malformed"},
		{"two parts", parts[0] + "." + parts[1], "jws_malformed"},
		{"four parts", valid + ".x", "jws_malformed"},
		{"padding", parts[0] + "=." + parts[1] + "." + parts[2], "jws_malformed"},
		{"space", " " + valid, "jws_whitespace"},
		{"alg none", hdr(`{"alg":"none","zip":"DEF","kid":"k"}`), "alg_not_allowed"},
		{"alg HS256", hdr(`{"alg":"HS256","zip":"DEF","kid":"k"}`), "alg_not_allowed"},
		{"alg RS256", hdr(`{"alg":"RS256","zip":"DEF","kid":"k"}`), "alg_not_allowed"},
		{"no alg", hdr(`{"zip":"DEF","kid":"k"}`), "alg_missing"},
		{"alg number", hdr(`{"alg":1,"zip":"DEF","kid":"k"}`), "jws_header_invalid"},
		{"no zip", hdr(`{"alg":"ES256","kid":"k"}`), "zip_missing"},
		{"zip GZ", hdr(`{"alg":"ES256","zip":"GZ","kid":"k"}`), "zip_not_allowed"},
		{"no kid", hdr(`{"alg":"ES256","zip":"DEF"}`), "kid_missing"},
		{"crit", hdr(`{"alg":"ES256","zip":"DEF","kid":"k","crit":["b64"]}`), "header_crit"},
		{"header array", hdr(`[]`), "jws_header_invalid"},
		{"short sig", parts[0] + "." + parts[1] + ".AAAA", "signature_format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseJWS(tt.in)
			if got := CodeOf(err, "none"); got != tt.code {
				t.Fatalf("code = %s (%v), want %s", got, err, tt.code)
			}
		})
	}
	j, err := ParseJWS(hdr(`{"alg":"ES256","zip":"DEF","kid":"k","jku":"https://evil.example/jwks","jwk":{}}`))
	if err != nil || len(j.Ignored) != 2 {
		t.Fatalf("jku/jwk: %v %+v", err, j)
	}
}

func TestInflate(t *testing.T) {
	payload := []byte(`{"a":1}`)
	raw, _ := Deflate(payload)
	if got, err := Inflate(raw, 100); err != nil || !bytes.Equal(got, payload) {
		t.Fatalf("Inflate = %q, %v", got, err)
	}
	var z bytes.Buffer
	z.Write([]byte{0x78, 0xda})
	z.Write(raw)
	z.Write([]byte{0, 0, 0, 0})
	if _, err := Inflate(z.Bytes(), 100); CodeOf(err, "") != "deflate_zlib" {
		t.Fatalf("zlib: %v", err)
	}
	if _, err := Inflate(payload, 100); CodeOf(err, "") != "deflate_invalid" {
		t.Fatalf("plain JSON: %v", err)
	}
	bomb, _ := Deflate(bytes.Repeat([]byte{'a'}, 2<<20))
	if _, err := Inflate(bomb, MaxInflatedSize); CodeOf(err, "") != "payload_too_large" {
		t.Fatalf("bomb: %v", err)
	}
	if _, err := Inflate(append(raw, 0), 100); CodeOf(err, "") != "deflate_invalid" {
		t.Fatalf("trailing bytes: %v", err)
	}
	// A caller counting the work of many cards learns how much a refused
	// one inflated: the cap and one byte for a bomb, the stream for a card
	// refused after it.
	if out, err := InflateInto(nil, bomb, 1000); CodeOf(err, "") != "payload_too_large" || len(out) != 1001 {
		t.Fatalf("bomb: %d bytes, %v", len(out), err)
	}
	if out, err := InflateInto(nil, append(raw, 0), 100); err == nil || !bytes.Equal(out, payload) {
		t.Fatalf("trailing bytes: %q, %v", out, err)
	}
	if out, err := Inflate(bomb, 1000); err == nil || out != nil {
		t.Fatalf("Inflate returned %d bytes with %v", len(out), err)
	}
}

func TestDecodePayloadErrors(t *testing.T) {
	tests := []struct {
		name, in, code string
	}{
		{"bom", "\xef\xbb\xbf{}", "payload_bom"},
		{"space", " {}", "payload_whitespace"},
		{"newline", "{}\n", "payload_whitespace"},
		{"nbf string", `{"nbf":"1"}`, "payload_json"},
		{"array", `[]`, "payload_json"},
	}
	for _, tt := range tests {
		if _, err := DecodePayload([]byte(tt.in)); CodeOf(err, "none") != tt.code {
			t.Errorf("%s: %v, want %s", tt.name, err, tt.code)
		}
	}
}

func TestNumericDate(t *testing.T) {
	tests := []struct {
		in   string
		ok   bool
		unix int64
		ms   int
	}{
		{"1687450764.656", true, 1687450764, 656},
		{"1622505600", true, 1622505600, 0},
		{"1.6e9", true, 1600000000, 0},
		{"-0", true, 0, 0},
		{"01", false, 0, 0},
		{"1.", false, 0, 0},
		{".5", false, 0, 0},
		{"1e", false, 0, 0},
		{`"1"`, false, 0, 0},
		{"null", false, 0, 0},
		{"NaN", false, 0, 0},
	}
	for _, tt := range tests {
		var d NumericDate
		err := json.Unmarshal([]byte(tt.in), &d)
		if (err == nil) != tt.ok {
			t.Errorf("%s: err = %v", tt.in, err)
			continue
		}
		if !tt.ok {
			continue
		}
		tm, err := d.Time()
		if err != nil || tm.Unix() != tt.unix || tm.Nanosecond()/1e6 != tt.ms {
			t.Errorf("%s: %v %v", tt.in, tm, err)
		}
	}
	out, err := json.Marshal(struct {
		D NumericDate `json:"d,omitempty"`
	}{})
	if err != nil || string(out) != "{}" {
		t.Fatalf("omitempty: %s %v", out, err)
	}
}

func TestParseFile(t *testing.T) {
	good, err := MarshalFile("a.b.c", "d.e.f")
	if err != nil || string(good) != `{"verifiableCredential":["a.b.c","d.e.f"]}` {
		t.Fatalf("MarshalFile = %s %v", good, err)
	}
	if got, err := ParseFile(good); err != nil || len(got) != 2 {
		t.Fatalf("ParseFile = %v %v", got, err)
	}
	for _, bad := range []string{``, `{}`, `[]`, `{"verifiableCredential":[]}`, `{"verifiableCredential":[1]}`, `{"verifiableCredential":"a.b.c"}`} {
		if _, err := ParseFile([]byte(bad)); CodeOf(err, "") != "file_invalid" {
			t.Errorf("%s: %v", bad, err)
		}
	}
	if _, err := MarshalFile("a.b"); err == nil {
		t.Error("MarshalFile accepted a non-JWS")
	}
}

func TestQRCodeRoundTrip(t *testing.T) {
	jws := string(vectors.Read(t, "shc", "spec", "example-00-d-jws.txt"))
	q, err := QRCode(jws)
	if err != nil {
		t.Fatal(err)
	}
	if q.Version != 18 || len(q.Modules) != 17+4*18 {
		t.Fatalf("version %d, %d modules; want 18 (spec example 00)", q.Version, len(q.Modules))
	}
	pngBytes, err := QRPNG(jws, 3)
	if err != nil {
		t.Fatal(err)
	}
	text, segs := decodePNG(t, pngBytes)
	if text != QRText(jws) {
		t.Fatal("decoded QR text differs")
	}
	if len(segs) != 1 || string(segs[0]) != QRPrefix {
		t.Fatalf("byte segments = %q; want exactly one, %q", segs, QRPrefix)
	}
}

func decodePNG(t testing.TB, b []byte) (string, [][]byte) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true})
	if err != nil {
		t.Fatal(err)
	}
	segs, _ := res.GetResultMetadata()[gozxing.ResultMetadataType_BYTE_SEGMENTS].([][]byte)
	if ec := res.GetResultMetadata()[gozxing.ResultMetadataType_ERROR_CORRECTION_LEVEL]; ec != "L" {
		t.Errorf("error correction = %v, want L", ec)
	}
	return res.GetText(), segs
}

func TestQRVersionBoundary(t *testing.T) {
	if v := MinQRVersion(MaxQRJWSLength); v != MaxQRVersion {
		t.Fatalf("MinQRVersion(1195) = %d, want 22", v)
	}
	if v := MinQRVersion(MaxQRJWSLength + 1); v != 0 {
		t.Fatalf("MinQRVersion(1196) = %d, want 0", v)
	}
	for _, n := range []int{300, 450, 644, 804, 1000, 1100, 1194, 1195} {
		jws := fakeJWS(n)
		q, err := QRCode(jws)
		if err != nil {
			t.Fatalf("%d: %v", n, err)
		}
		if q.Version != MinQRVersion(n) || q.Version > MaxQRVersion {
			t.Fatalf("%d chars: version %d, want %d", n, q.Version, MinQRVersion(n))
		}
		if n == 1195 || n == 644 {
			b, _ := QRPNG(jws, 2)
			text, segs := decodePNG(t, b)
			if text != QRText(jws) || len(segs) != 1 || string(segs[0]) != QRPrefix {
				t.Fatalf("%d chars: decode mismatch (segments %q)", n, segs)
			}
		}
	}
	if _, err := QRCode(fakeJWS(MaxQRJWSLength + 1)); !errors.Is(err, ErrTooLongForQR) {
		t.Fatalf("1196: %v", err)
	}
}

// fakeJWS returns an n-character string with the JWS alphabet's full range.
func fakeJWS(n int) string {
	const alphabet = "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[(i*7)%len(alphabet)]
	}
	b[n/3], b[2*n/3] = '.', '.'
	return string(b)
}

func TestReadBundleNegative(t *testing.T) {
	tests := []struct {
		file, code string
		warning    bool
	}{
		{"test-example-00-a-short-refs.json", "fhir_reference", false},
		{"test-example-00-a-fhirBundle-bad_meta_non_security.json", "fhir_meta", true},
	}
	for _, tt := range tests {
		var b Bundle
		if err := json.Unmarshal(vectors.Read(t, "shc", "negative", tt.file), &b); err != nil {
			t.Fatal(err)
		}
		_, probs := ReadBundle(b)
		found := false
		for _, p := range probs {
			if p.Code == tt.code && p.Warning == tt.warning {
				found = true
			}
		}
		if !found || hasError(probs) == tt.warning {
			t.Errorf("%s: problems %+v", tt.file, probs)
		}
	}
	var b Bundle
	json.Unmarshal(vectors.Read(t, "shc", "spec", "example-02-a-fhirBundle.json"), &b)
	if _, probs := ReadBundle(b); hasError(probs) {
		t.Errorf("example 02 (IPS references) rejected: %+v", probs)
	}
}

func TestReadBundleRules(t *testing.T) {
	pat := `{"fullUrl":"resource:0","resource":{"resourceType":"Patient","name":[{"text":"A B"}]}}`
	imm := func(ref, extra string) string {
		return `{"fullUrl":"resource:1","resource":{"resourceType":"Immunization","status":"completed","vaccineCode":{"coding":[{"system":"http://hl7.org/fhir/sid/cvx","code":"207"}]},"patient":{"reference":"` + ref + `"},"occurrenceDateTime":"2021-01-01"` + extra + `}}`
	}
	tests := []struct {
		name, entries string
		code          string // "" = no error
		doses         int
	}{
		{"ok", pat + "," + imm("resource:0", ""), "", 1},
		{"dangling", pat + "," + imm("resource:7", ""), "fhir_reference", 1},
		{"leading zero", pat + "," + imm("resource:00", ""), "fhir_reference", 1},
		{"relative ok", pat + "," + imm("Patient/abc-1", ""), "", 1},
		{"urn ok", pat + "," + imm("urn:uuid:6a0a3e1e-8f7c-4e36-a2e4-5b2a58f4a0d1", ""), "", 1},
		{"garbage ref", pat + "," + imm("resource0", ""), "fhir_reference", 1},
		{"subpotent", pat + "," + imm("resource:0", `,"isSubpotent":true`), "", 0},
		{"subpotent not bool", pat + "," + imm("resource:0", `,"isSubpotent":"yes"`), "fhir_resource_invalid", 0},
		{"not object", `{"fullUrl":"resource:0","resource":[]}`, "fhir_resource_invalid", 0},
		{"dup fullUrl", pat + "," + strings.Replace(imm("resource:0", ""), "resource:1", "resource:0", 1), "fhir_reference", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b Bundle
			if err := json.Unmarshal([]byte(`{"resourceType":"Bundle","type":"collection","entry":[`+tt.entries+`]}`), &b); err != nil {
				t.Fatal(err)
			}
			c, probs := ReadBundle(b)
			var codes []string
			for _, p := range probs {
				if !p.Warning {
					codes = append(codes, p.Code)
				}
			}
			if tt.code == "" && len(codes) > 0 || tt.code != "" && (len(codes) == 0 || codes[0] != tt.code) {
				t.Fatalf("errors %v, want %q", codes, tt.code)
			}
			if len(c.Doses) != tt.doses {
				t.Fatalf("%d doses, want %d", len(c.Doses), tt.doses)
			}
		})
	}
}

func TestRSToDER(t *testing.T) {
	cases := [][]byte{
		append(bytes.Repeat([]byte{0}, 31), 1),
		append([]byte{0x80}, bytes.Repeat([]byte{1}, 31)...),
		append([]byte{0, 0x80}, bytes.Repeat([]byte{2}, 30)...),
		append([]byte{0, 0x7f}, bytes.Repeat([]byte{3}, 30)...),
		bytes.Repeat([]byte{0xff}, 32),
	}
	for _, r := range cases {
		for _, s := range cases {
			var want struct{ R, S *big.Int }
			want.R, want.S = new(big.Int).SetBytes(r), new(big.Int).SetBytes(s)
			der, _ := asn1.Marshal(want)
			if got := rsToDER(nil, append(append([]byte{}, r...), s...)); !bytes.Equal(got, der) {
				t.Fatalf("rsToDER(%x, %x) = %x, want %x", r, s, got, der)
			}
		}
	}
}
