package divoc

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vaxcert/vaxcert/verifier/verdict"
)

// checkResultInvariants holds for every input, however hostile.
func checkResultInvariants(t *testing.T, res verdict.Result) {
	t.Helper()
	if res.Format != Format {
		t.Fatalf("format %q", res.Format)
	}
	switch res.Status {
	case verdict.Valid:
		if len(res.Reasons) != 0 {
			t.Fatalf("valid with reasons %v", res.Reasons)
		}
		if res.Subject == nil || res.Subject.Name == "" || res.Issuer.KID == "" {
			t.Fatalf("valid without a subject or a key: %+v", res)
		}
	case verdict.Invalid, verdict.NotTrusted:
		if len(res.Reasons) == 0 {
			t.Fatalf("%s without a reason", res.Status)
		}
	default:
		t.Fatalf("status %q", res.Status)
	}
}

func addSampleSeeds(f *testing.F, suffix string) {
	paths, _ := filepath.Glob(filepath.Join(testdataDir(f), "samples", "*"+suffix))
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

func FuzzExtractCertificate(f *testing.F) {
	addSampleSeeds(f, ".zip")
	f.Add(qrText(f, "jamaica-ed25519.qr.txt"))
	f.Add(qrText(f, "indonesia-ed25519.qr.txt"))
	f.Add([]byte("PK\x03\x04"))
	f.Add([]byte("PK\x05\x06\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"))
	ring, err := LoadKeyRing("")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, archive []byte) {
		data, err := ExtractCertificate(archive)
		if err == nil {
			if len(archive) > MaxZIPSize || len(data) > MaxCertificateSize {
				t.Fatalf("caps exceeded: archive %d, certificate %d", len(archive), len(data))
			}
			if name, _, ok := localHeader(archive); !ok || name != certificateEntry {
				t.Fatalf("accepted an archive whose first entry is %q", name)
			}
		}
		checkResultInvariants(t, VerifyWithKeys(archive, ring, checkAt))
	})
}

func FuzzVerifyJSON(f *testing.F) {
	addSampleSeeds(f, ".certificate.json")
	f.Add(unzipped(f, readSample(f, "kde-partial-vaccination-zeroed-sig.qr.zip")))
	raw := string(readSample(f, "third-march-user-one.certificate.json"))
	f.Add([]byte(strings.Replace(raw, `"id":"did:Passport:Dummy256"`, `"id":"Dummy256"`, 1)))
	f.Add([]byte(strings.Replace(raw, `"dose":1,"totalDoses":2`, `"dose":2,"totalDoses":1`, 1)))
	f.Add([]byte(strings.Replace(raw, `"nonTransferable":"true"`, `"nonTransferable":"true","extra":1`, 1)))
	f.Add([]byte(`{"@context":["https://www.w3.org/2018/credentials/v1","https://cowin.gov.in/credentials/vaccination/v2"],"proof":{}}`))
	ring, err := LoadKeyRing("")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 2*MaxCertificateSize {
			return // the cap is tested; bigger inputs only slow the fuzzer
		}
		checkResultInvariants(t, VerifyWithKeys(data, ring, checkAt))
	})
}

func FuzzDecodeStrictJSON(f *testing.F) {
	addSampleSeeds(f, ".certificate.json")
	f.Add([]byte(`{"a":{"b":1},"a":2}`))
	f.Add([]byte(`{"a":[{"x":1},{"x":2}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := decodeStrictJSON(data)
		if err != nil {
			return
		}
		if !json.Valid(data) || doc == nil {
			t.Fatalf("accepted invalid JSON %q", data)
		}
	})
}
