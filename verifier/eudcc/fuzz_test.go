package eudcc

import (
	"bytes"
	"encoding/hex"
	"testing"
	"time"

	"github.com/vaxcert/vaxcert/verifier/verdict"
)

// vectorSeeds returns byte seeds from the upstream vectors: each file's
// field, or what the pipeline derives from its PREFIX.
func vectorSeeds(f *testing.F, field func(v *vector) ([]byte, error)) {
	for _, v := range loadVectors(f, testdataDir(f)) {
		if b, err := field(v); err == nil && len(b) > 0 {
			f.Add(b)
		}
	}
}

// FuzzInflate: Inflate never panics, never returns more than the cap, and
// returns exactly what was compressed.
func FuzzInflate(f *testing.F) {
	vectorSeeds(f, func(v *vector) ([]byte, error) { return v.compressed() })
	f.Add(deflate(f, []byte("hello")))
	f.Add([]byte{0x78, 0xda})
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := Inflate(data)
		if err != nil {
			if CodeOf(err) != CodeZlibInvalid {
				t.Fatalf("error without zlib_invalid: %v", err)
			}
			return
		}
		if len(out) > MaxCOSESize {
			t.Fatalf("inflated %d bytes past the cap", len(out))
		}
		if len(data) < 64 {
			if back, err := Inflate(deflate(t, data)); err != nil || !bytes.Equal(back, data) {
				t.Fatalf("round trip: %v", err)
			}
		}
	})
}

// FuzzParseCOSEAndClaims: the COSE layer, the CWT claims and the DCC decoder
// and schema check never panic on arbitrary bytes, and every failure carries
// a reason code.
func FuzzParseCOSEAndClaims(f *testing.F) {
	vectorSeeds(f, func(v *vector) ([]byte, error) { return v.cose() })
	vectorSeeds(f, func(v *vector) ([]byte, error) {
		if v.CBOR == "" {
			return nil, nil
		}
		return hex.DecodeString(v.CBOR)
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		payload := data
		if msg, err := ParseCOSE(data); err == nil {
			payload = msg.Payload
			store := NewTrustStore()
			if _, err := VerifySignature(msg, store); CodeOf(err) == "" {
				t.Fatalf("signature check without a code: %v", err)
			}
		} else if CodeOf(err) == "" {
			t.Fatalf("COSE error without a code: %v", err)
		}
		claims, err := ParseClaims(payload)
		if err != nil {
			if CodeOf(err) != CodeCWTInvalid {
				t.Fatalf("claims error %v", err)
			}
			return
		}
		_ = CheckValidity(claims, nil, time.Unix(1622548800, 0))
		doc, err := DecodeDCC(claims.DCC)
		if err != nil {
			if CodeOf(err) != CodeSchemaInvalid {
				t.Fatalf("DCC error %v", err)
			}
			return
		}
		d, err := ParseDCC(doc)
		if err != nil {
			if CodeOf(err) != CodeSchemaInvalid {
				t.Fatalf("schema error %v", err)
			}
			return
		}
		if n := btoi(d.Vaccination != nil) + btoi(d.Test != nil) + btoi(d.Recovery != nil); n != 1 {
			t.Fatalf("schema-valid DCC with %d groups", n)
		}
	})
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// FuzzVerify runs the whole pipeline on arbitrary text: no panic, and no
// VALID verdict without a trusted DSC (the store is empty).
func FuzzVerify(f *testing.F) {
	for _, v := range loadVectors(f, testdataDir(f)) {
		if v.PREFIX != "" {
			f.Add(v.PREFIX)
		}
	}
	f.Add("HC1:")
	f.Add("HC1:NCF")
	store := NewTrustStore()
	at := time.Date(2021, 6, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, text string) {
		r := VerifyWith([]byte(text), store, at)
		if r.Status == verdict.Valid || len(r.Reasons) == 0 || r.Format != Format {
			t.Fatalf("verdict %+v", r)
		}
		if r.Subject != nil {
			t.Fatalf("content reported without a verified signature")
		}
	})
}

// FuzzParseDSCs: import files are untrusted too.
func FuzzParseDSCs(f *testing.F) {
	a, _ := newDSC(f, dscOptions{})
	f.Add(a.Raw)
	f.Add(pemOf(a))
	f.Add([]byte(`{"certificates":[{"kid":"AAAAAAAAAAA=","rawData":"MA=="}]}`))
	f.Add([]byte(`[{"certificateType":"DSC","rawData":"MIIB"}]`))
	f.Add([]byte("c2lnbmF0dXJl\n{\"certificates\":[]}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		certs, err := ParseDSCs(data)
		if err == nil && len(certs) == 0 {
			t.Fatal("no error and no certificates")
		}
	})
}
