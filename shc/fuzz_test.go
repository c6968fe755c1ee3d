package shc

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"

	"github.com/vaxcert/vaxcert/internal/vectors"
)

func addVectorSeeds(f *testing.F, names ...string) {
	for _, n := range names {
		f.Add(vectors.Read(f, "shc", n))
	}
}

func FuzzParseQRChunk(f *testing.F) {
	addVectorSeeds(f, "spec/example-00-f-qr-code-numeric-value-0.txt", "spec/example-02-f-qr-code-numeric-value-1.txt",
		"negative/test-example-00-f-qr-code-numeric-value-0-number-too-big.txt", "negative/test-example-00-f-qr-code-numeric-value-0-wrong_qr_header.txt")
	for _, s := range []string{"shc:/", "shc:/00", "shc:/77", "shc:/78", "shc:/1/2/5656", "shc:/0/0/", "shc:/9/9/00", "SHC:/00"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := ParseQRChunk(string(in))
		if err != nil {
			if CodeOf(err, "") == "" {
				t.Fatalf("error without a code: %v", err)
			}
			return
		}
		if !c.Chunked && QRText(c.JWS) != string(in) {
			t.Fatalf("round trip: %q -> %q -> %q", in, c.JWS, QRText(c.JWS))
		}
		for i := 0; i < len(c.JWS); i++ {
			if c.JWS[i] < '-' || c.JWS[i] > 'z' {
				t.Fatalf("decoded character %q out of range", c.JWS[i])
			}
		}
	})
}

func FuzzParseJWS(f *testing.F) {
	addVectorSeeds(f, "spec/example-00-d-jws.txt", "negative/test-example-00-d-jws-der-signature.txt",
		"negative/test-example-00-d-jws-no_jws_header_alg.txt", "negative/test-example-00-d-jws-trailing_chars.txt")
	f.Add([]byte("a.b.c"))
	f.Add([]byte("eyJhbGciOiJub25lIn0.e30."))
	f.Fuzz(func(t *testing.T, in []byte) {
		j, err := ParseJWS(string(in))
		if err != nil {
			if CodeOf(err, "") == "" {
				t.Fatalf("error without a code: %v", err)
			}
			return
		}
		if j.Header.Alg != "ES256" || j.Header.Zip != "DEF" || j.Header.Kid == "" || len(j.Signature) != 64 {
			t.Fatalf("accepted a JWS breaking the header rules: %+v", j.Header)
		}
		key := newKey(t)
		if j.VerifySignature(&key.PublicKey) {
			t.Fatal("random JWS verified under a fresh key")
		}
	})
}

func FuzzInflate(f *testing.F) {
	for _, name := range []string{"00", "02", "03"} {
		j, err := ParseJWS(string(vectors.Read(f, "shc", "spec", "example-"+name+"-d-jws.txt")))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(j.Deflated)
	}
	bomb, _ := Deflate(bytes.Repeat([]byte("0"), 3<<20))
	f.Add(bomb)
	f.Add([]byte{0x78, 0x9c, 0x03, 0x00})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := Inflate(in, 64<<10)
		if err == nil && len(out) > 64<<10 {
			t.Fatalf("output %d bytes exceeds the cap", len(out))
		}
		if err != nil && CodeOf(err, "") == "" {
			t.Fatalf("error without a code: %v", err)
		}
	})
}

func FuzzDecodePayload(f *testing.F) {
	addVectorSeeds(f, "spec/example-00-c-jws-payload-minified.json", "spec/example-03-c-jws-payload-minified.json")
	f.Add([]byte(`{"iss":"https://x","nbf":1e400,"exp":-0,"vc":{"type":null}}`))
	f.Add([]byte("\xef\xbb\xbf{}"))
	f.Fuzz(func(t *testing.T, in []byte) {
		p, err := DecodePayload(in)
		if err != nil {
			return
		}
		// Dates either parse or fail cleanly; the bundle reads without panic.
		p.NBF.Time()
		p.Exp.Time()
		CheckIss(p.Iss)
		ReadBundle(p.VC.CredentialSubject.FHIRBundle)
	})
}

func FuzzReadBundle(f *testing.F) {
	addVectorSeeds(f, "spec/example-00-a-fhirBundle.json", "spec/example-02-a-fhirBundle.json",
		"negative/test-example-00-a-short-refs.json", "negative/test-example-00-a-fhirBundle-bad_meta_non_security.json")
	f.Add([]byte(`{"resourceType":"Bundle","type":"collection","entry":[{"fullUrl":"resource:0","resource":{"resourceType":"Immunization","patient":{"reference":"resource:9"},"isSubpotent":true}}]}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		var b Bundle
		if json.Unmarshal(in, &b) != nil {
			return
		}
		c, probs := ReadBundle(b)
		for _, p := range probs {
			if p.Code == "" {
				t.Fatalf("problem without a code: %+v", p)
			}
		}
		for _, d := range c.Doses {
			if d.IsSubpotent || d.Status != "completed" {
				t.Fatalf("dose that does not count was kept: %+v", d)
			}
		}
	})
}

func FuzzParseFile(f *testing.F) {
	addVectorSeeds(f, "spec/example-00-e-file.smart-health-card", "negative/test-example-00-e-file-invalid_deflate.smart-health-card")
	f.Add([]byte(`{"verifiableCredential":[]}`))
	f.Add([]byte(`{"verifiableCredential":["a.b.c",1]}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		list, err := ParseFile(in)
		if err != nil {
			if CodeOf(err, "") != "file_invalid" {
				t.Fatalf("unexpected error code: %v", err)
			}
			return
		}
		if len(list) == 0 {
			t.Fatal("accepted a file without credentials")
		}
	})
}

// FuzzJSONReader checks the hand-written JSON reader against encoding/json:
// whatever it accepts is valid JSON, and it accepts all valid UTF-8 JSON
// that is not nested deeper than it allows.
func FuzzJSONReader(f *testing.F) {
	addVectorSeeds(f, "spec/example-00-c-jws-payload-minified.json", "spec/example-02-a-fhirBundle.json")
	for _, s := range []string{`{}`, `[]`, `"\u00e9\ud83d\ude00"`, `-0.5e+3`, `[1,]`, `{"a":1,}`, `01`, `"\x01"`, "\"\xff\"", `{"a" 1}`, `[[[[]]]]`, `tru`, `nul`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		r := &jreader{b: in}
		err := r.skip()
		if err == nil {
			err = r.end()
		}
		valid := json.Valid(in)
		if err == nil && !valid {
			t.Fatalf("jreader accepted invalid JSON %q", in)
		}
		if err != nil && valid && utf8.Valid(in) && bytes.Count(in, []byte("["))+bytes.Count(in, []byte("{")) < maxJSONDepth {
			t.Fatalf("jreader rejected valid JSON %q: %v", in, err)
		}
	})
}
