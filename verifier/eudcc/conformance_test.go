package eudcc

// The conformance test runs every upstream dgc-testdata vector under
// ../shared/testdata/dcc and checks every EXPECTED* flag a file sets, step by
// step, with the file's own VALIDATIONCLOCK and CERTIFICATE. The known quirks
// of the data are handled by rules, never by file name:
//
//   - a step's input that the file lacks is derived from PREFIX (CBO1 has no
//     COSE, DGC1–6 no COSE), except the picture, which cannot be derived:
//     PICTUREDECODE without a 2DCODE is reported as untestable (B1);
//   - the CBOR field is the DCC in common/ and AT/ but the whole claims map
//     in DE/: a CBOR map holding the hcert key -260 is compared with the
//     claims, any other with the DCC;
//   - values compare order-insensitively, numbers by value (1 == 1.0) and
//     dates by the date they name (2021-03-09 == 2021-03-09T00:00:00).

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	_ "image/png"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/vaxcert/vaxcert/internal/vectors"
	"github.com/vaxcert/vaxcert/verifier/eudcc/base45"
	"github.com/vaxcert/vaxcert/verifier/verdict"
)

// testdataDir is ../shared/testdata/dcc.
func testdataDir(t testing.TB) string { return vectors.Path(t, "dcc") }

// vector is one dgc-testdata file.
type vector struct {
	path       string
	JSON       json.RawMessage `json:"JSON"`
	CBOR       string          `json:"CBOR"`
	COSE       string          `json:"COSE"`
	COMPRESSED string          `json:"COMPRESSED"`
	BASE45     string          `json:"BASE45"`
	PREFIX     string          `json:"PREFIX"`
	Picture    string          `json:"2DCODE"`
	TESTCTX    struct {
		Certificate     string `json:"CERTIFICATE"`
		ValidationClock string `json:"VALIDATIONCLOCK"`
		Description     string `json:"DESCRIPTION"`
	} `json:"TESTCTX"`
	Expected map[string]bool `json:"EXPECTEDRESULTS"`
}

// loadVectors walks dir for */2DCode/raw/*.json, case-insensitively and at
// any depth, as upstream nests versions and spells "Raw" both ways.
func loadVectors(t testing.TB, dir string) []*vector {
	t.Helper()
	var out []*vector
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		lower := strings.ToLower(filepath.ToSlash(rel))
		if !strings.HasSuffix(lower, ".json") || !strings.Contains(lower, "2dcode/raw/") {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		v := &vector{path: filepath.ToSlash(rel)}
		if err := json.Unmarshal(data, v); err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		out = append(out, v)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].path < out[j].path })
	return out
}

func (v *vector) clock() (time.Time, error) {
	return parseDateTime(v.TESTCTX.ValidationClock)
}

func (v *vector) cert() (*x509.Certificate, error) {
	if v.TESTCTX.Certificate == "" {
		return nil, errors.New("no TESTCTX.CERTIFICATE")
	}
	der, err := base64.StdEncoding.DecodeString(v.TESTCTX.Certificate)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

func (v *vector) base45Text() (string, error) {
	if v.BASE45 != "" {
		return v.BASE45, nil
	}
	return Unprefix(v.PREFIX)
}

func (v *vector) compressed() ([]byte, error) {
	if v.COMPRESSED != "" {
		return hex.DecodeString(v.COMPRESSED)
	}
	text, err := v.base45Text()
	if err != nil {
		return nil, err
	}
	return base45.Decode(text)
}

func (v *vector) cose() ([]byte, error) {
	if v.COSE != "" {
		return hex.DecodeString(v.COSE)
	}
	c, err := v.compressed()
	if err != nil {
		return nil, err
	}
	return Inflate(c)
}

func (v *vector) claims() (*Claims, error) {
	data, err := v.cose()
	if err != nil {
		return nil, err
	}
	msg, err := ParseCOSE(data)
	if err != nil {
		return nil, err
	}
	return ParseClaims(msg.Payload)
}

func (v *vector) dcc() (map[string]any, error) {
	c, err := v.claims()
	if err != nil {
		return nil, err
	}
	return DecodeDCC(c.DCC)
}

// step is the outcome of one step: ok, or why not.
type step struct {
	ok     bool
	detail string
}

func pass() step                      { return step{ok: true} }
func failed(err error) step           { return step{detail: err.Error()} }
func failedf(f string, a ...any) step { return step{detail: fmt.Sprintf(f, a...)} }

// steps maps each flag to the check it names (reference: eu-dcc.md, "Flag
// semantics").
var steps = map[string]func(v *vector) (step, bool){
	"EXPECTEDPICTUREDECODE": func(v *vector) (step, bool) {
		if v.Picture == "" {
			return step{}, false // a picture cannot be derived from PREFIX
		}
		png, err := base64.StdEncoding.DecodeString(v.Picture)
		if err != nil {
			return failed(err), true
		}
		text, err := decodeQR(png)
		if err != nil {
			return failed(err), true
		}
		if text != v.PREFIX {
			return failedf("QR text differs from PREFIX"), true
		}
		return pass(), true
	},
	"EXPECTEDUNPREFIX": func(v *vector) (step, bool) {
		body, err := Unprefix(v.PREFIX)
		if err != nil {
			return failed(err), true
		}
		if v.BASE45 != "" && body != v.BASE45 {
			return failedf("unprefixed text differs from BASE45"), true
		}
		return pass(), true
	},
	"EXPECTEDB45DECODE": func(v *vector) (step, bool) {
		text, err := v.base45Text()
		if err != nil {
			return failed(err), true
		}
		got, err := base45.Decode(text)
		if err != nil {
			return failed(err), true
		}
		if v.COMPRESSED != "" && hex.EncodeToString(got) != strings.ToLower(v.COMPRESSED) {
			return failedf("decoded bytes differ from COMPRESSED"), true
		}
		return pass(), true
	},
	"EXPECTEDCOMPRESSION": func(v *vector) (step, bool) {
		c, err := v.compressed()
		if err != nil {
			return failed(err), true
		}
		got, err := Inflate(c)
		if err != nil {
			return failed(err), true
		}
		if v.COSE != "" && hex.EncodeToString(got) != strings.ToLower(v.COSE) {
			return failedf("inflated bytes differ from COSE"), true
		}
		return pass(), true
	},
	"EXPECTEDVERIFY": func(v *vector) (step, bool) {
		cert, err := v.cert()
		if err != nil {
			return failed(err), true
		}
		data, err := v.cose()
		if err != nil {
			return failed(err), true
		}
		msg, err := ParseCOSE(data)
		if err != nil {
			return failed(err), true
		}
		// A one-certificate trust store: the kid must be this DSC's kid
		// and its key must verify the signature.
		if _, err := VerifySignature(msg, NewTrustStore(cert)); err != nil {
			return failed(err), true
		}
		return pass(), true
	},
	"EXPECTEDDECODE": func(v *vector) (step, bool) {
		c, err := v.claims()
		if err != nil {
			return failed(err), true
		}
		doc, err := DecodeDCC(c.DCC)
		if err != nil {
			return failed(err), true
		}
		if len(v.JSON) > 0 {
			if s := compareJSON(doc, v.JSON); !s.ok {
				return s, true
			}
		}
		if v.CBOR != "" {
			return compareCBORField(v, c), true
		}
		return pass(), true
	},
	"EXPECTEDVALIDJSON": func(v *vector) (step, bool) {
		var doc map[string]any
		var err error
		if v.PREFIX != "" {
			doc, err = decodeWholeChain(v.PREFIX)
		} else {
			doc, err = v.dcc()
		}
		if err != nil {
			return failed(err), true
		}
		if len(v.JSON) == 0 {
			return pass(), true
		}
		return compareJSON(doc, v.JSON), true
	},
	"EXPECTEDSCHEMAVALIDATION": func(v *vector) (step, bool) {
		doc, err := v.dcc()
		if err != nil {
			return failed(err), true
		}
		if _, err := ParseDCC(doc); err != nil {
			return failed(err), true
		}
		return pass(), true
	},
	"EXPECTEDEXPIRATIONCHECK": func(v *vector) (step, bool) {
		c, err := v.claims()
		if err != nil {
			return failed(err), true
		}
		clock, err := v.clock()
		if err != nil {
			return failed(err), true
		}
		cert, err := v.cert()
		if err != nil {
			return failed(err), true
		}
		if errs := CheckValidity(c, cert, clock); len(errs) > 0 {
			return failed(errors.Join(errs...)), true
		}
		return pass(), true
	},
	"EXPECTEDKEYUSAGE": func(v *vector) (step, bool) {
		cert, err := v.cert()
		if err != nil {
			return failed(err), true
		}
		doc, err := v.dcc()
		if err != nil {
			return failed(err), true
		}
		d, err := ParseDCC(doc)
		if err != nil {
			return failed(err), true
		}
		if !KeyUsageAllows(cert, d.Kind()) {
			return failedf("the DSC may not sign %s certificates", d.Kind()), true
		}
		return pass(), true
	},
}

// Generation-side flags: they test an issuer, not a verifier.
var generationFlags = map[string]bool{"EXPECTEDVALIDOBJECT": true, "EXPECTEDENCODE": true}

func decodeWholeChain(text string) (map[string]any, error) {
	data, err := DecodeText(text)
	if err != nil {
		return nil, err
	}
	msg, err := ParseCOSE(data)
	if err != nil {
		return nil, err
	}
	c, err := ParseClaims(msg.Payload)
	if err != nil {
		return nil, err
	}
	return DecodeDCC(c.DCC)
}

func decodeQR(png []byte) (string, error) {
	img, _, err := image.Decode(bytes.NewReader(png))
	if err != nil {
		return "", err
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return "", err
	}
	var firstErr error
	for _, hint := range []gozxing.DecodeHintType{gozxing.DecodeHintType_TRY_HARDER, gozxing.DecodeHintType_PURE_BARCODE} {
		res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{hint: true})
		if err == nil {
			return res.GetText(), nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return "", firstErr
}

func compareJSON(doc map[string]any, raw json.RawMessage) step {
	var want any
	if err := json.Unmarshal(raw, &want); err != nil {
		return failed(err)
	}
	if path, ok := sameValue(doc, want, ""); !ok {
		return failedf("decoded DCC differs from JSON at %s", path)
	}
	return pass()
}

// genericDec decodes CBOR for comparison only: any map shape, no limits
// beyond the defaults.
var genericDec = func() cbor.DecMode {
	dm, err := cbor.DecOptions{TimeTagToAny: cbor.TimeTagToRFC3339Nano}.DecMode()
	if err != nil {
		panic(err)
	}
	return dm
}()

// compareCBORField compares the file's CBOR with what the COSE payload
// holds: the whole claims map when the CBOR holds the hcert claim -260,
// otherwise the DCC.
func compareCBORField(v *vector, c *Claims) step {
	raw, err := hex.DecodeString(v.CBOR)
	if err != nil {
		return failed(err)
	}
	var field any
	if err := genericDec.Unmarshal(raw, &field); err != nil {
		return failedf("CBOR field: %v", err)
	}
	var target []byte = c.DCC
	if m, ok := field.(map[any]any); ok {
		if _, whole := m[int64(claimHCert)]; whole {
			data, _ := v.cose()
			msg, err := ParseCOSE(data)
			if err != nil {
				return failed(err)
			}
			target = msg.Payload
		}
	}
	var got any
	if err := genericDec.Unmarshal(target, &got); err != nil {
		return failed(err)
	}
	if path, ok := sameValue(got, field, ""); !ok {
		return failedf("COSE payload differs from the CBOR field at %s", path)
	}
	return pass()
}

// sameValue compares decoded CBOR or JSON values: maps regardless of order
// and key type spelling, numbers by value, dates by the date they name.
func sameValue(a, b any, path string) (string, bool) {
	if path == "" {
		path = "$"
	}
	if x, ok := number(a); ok {
		y, ok := number(b)
		return path, ok && x == y
	}
	switch a := a.(type) {
	case string:
		b, ok := b.(string)
		return path, ok && (a == b || sameDate(a, b))
	case []byte:
		b, ok := b.([]byte)
		return path, ok && bytes.Equal(a, b)
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return path, false
		}
		for i := range a {
			if p, ok := sameValue(a[i], b[i], fmt.Sprintf("%s[%d]", path, i)); !ok {
				return p, false
			}
		}
		return path, true
	case nil:
		return path, b == nil
	case bool:
		return path, a == b
	}
	am, aok := asMap(a)
	bm, bok := asMap(b)
	if !aok || !bok || len(am) != len(bm) {
		return path, false
	}
	for k, av := range am {
		bv, ok := bm[k]
		if !ok {
			return path + "." + k, false
		}
		if p, ok := sameValue(av, bv, path+"."+k); !ok {
			return p, false
		}
	}
	return path, true
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case uint64:
		return float64(n), true
	case int64:
		return float64(n), true
	}
	return 0, false
}

func asMap(v any) (map[string]any, bool) {
	switch m := v.(type) {
	case map[string]any:
		return m, true
	case map[any]any:
		out := make(map[string]any, len(m))
		for k, e := range m {
			out[fmt.Sprint(k)] = e
		}
		return out, true
	}
	return nil, false
}

func sameDate(a, b string) bool {
	ta, erra := parseDateOrTime(a)
	tb, errb := parseDateOrTime(b)
	return erra == nil && errb == nil && ta.Equal(tb)
}

func parseDateOrTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return parseDateTime(s)
}

func TestConformanceVectors(t *testing.T) {
	vectors := loadVectors(t, testdataDir(t))
	folders := map[string]int{}
	for _, v := range vectors {
		folders[strings.SplitN(v.path, "/", 2)[0]]++
	}
	for _, want := range []string{"common", "AT", "DE"} {
		if folders[want] == 0 {
			t.Fatalf("no vectors under %s/ (found %v)", want, folders)
		}
	}

	type row struct {
		file, flag, detail string
		want, got          bool
		tested             bool
	}
	var rows []row
	mismatches, checked := 0, 0
	for _, v := range vectors {
		flags := make([]string, 0, len(v.Expected))
		for f := range v.Expected {
			flags = append(flags, f)
		}
		sort.Strings(flags)
		if len(flags) == 0 {
			t.Errorf("%s sets no EXPECTED flag", v.path)
		}
		for _, flag := range flags {
			want := v.Expected[flag]
			if generationFlags[flag] {
				continue
			}
			run, ok := steps[flag]
			if !ok {
				t.Errorf("%s: unknown flag %s", v.path, flag)
				continue
			}
			s, tested := run(v)
			r := row{file: v.path, flag: strings.TrimPrefix(flag, "EXPECTED"), want: want, got: s.ok, detail: s.detail, tested: tested}
			if !tested {
				r.detail = "untestable: the input this step needs is absent"
			} else {
				checked++
				if s.ok != want {
					mismatches++
				}
			}
			rows = append(rows, r)
		}
	}
	t.Logf("%d vector files (%v), %d flags checked", len(vectors), folders, checked)
	if mismatches > 0 || testing.Verbose() {
		var b strings.Builder
		w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(w, "FILE\tFLAG\tWANT\tGOT\tMATCH\tDETAIL")
		for _, r := range rows {
			match := "ok"
			switch {
			case !r.tested:
				match = "skip"
			case r.want != r.got:
				match = "MISMATCH"
			}
			got := fmt.Sprint(r.got)
			if !r.tested {
				got = "-"
			}
			fmt.Fprintf(w, "%s\t%s\t%v\t%s\t%s\t%s\n", r.file, r.flag, r.want, got, match, truncate(strings.ReplaceAll(r.detail, "\n", "; "), 110))
		}
		w.Flush()
		t.Log("\n" + b.String())
	}
	if mismatches > 0 {
		t.Fatalf("%d of %d flags do not match", mismatches, checked)
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// TestVectorsWholeVerification runs the public entry point on the PREFIX of
// every vector whose flags are all true and include VERIFY, SCHEMAVALIDATION
// and, when set, EXPIRATIONCHECK: such a certificate must be VALID at its
// clock. And a vector with VERIFY false must never be VALID.
func TestVectorsWholeVerification(t *testing.T) {
	for _, v := range loadVectors(t, testdataDir(t)) {
		if v.PREFIX == "" || v.TESTCTX.Certificate == "" {
			continue
		}
		allTrue := true
		for _, ok := range v.Expected {
			allTrue = allTrue && ok
		}
		verify, hasVerify := v.Expected["EXPECTEDVERIFY"]
		_, hasSchema := v.Expected["EXPECTEDSCHEMAVALIDATION"]
		mustBeValid := allTrue && hasVerify && hasSchema
		mustNotBeValid := hasVerify && !verify
		if !mustBeValid && !mustNotBeValid {
			continue
		}
		t.Run(v.path, func(t *testing.T) {
			cert, err := v.cert()
			if err != nil {
				t.Fatal(err)
			}
			clock, err := v.clock()
			if err != nil {
				t.Fatal(err)
			}
			r := VerifyWith([]byte(v.PREFIX), NewTrustStore(cert), clock)
			if mustBeValid && r.Status != verdict.Valid {
				t.Fatalf("status %s, reasons %+v", r.Status, r.Reasons)
			}
			if mustNotBeValid && r.Status == verdict.Valid {
				t.Fatalf("a vector whose signature must not verify is VALID")
			}
			if r.Format != Format {
				t.Fatalf("format %q", r.Format)
			}
		})
	}
}

// TestPNGImages decodes every PNG under the test data and compares it with the
// PREFIX of the vector of the same number in the same country's raw folder.
func TestPNGImages(t *testing.T) {
	dir := testdataDir(t)
	prefixes := map[string]string{} // "<country>/<number>" → PREFIX
	for _, v := range loadVectors(t, dir) {
		country := strings.SplitN(v.path, "/", 2)[0]
		prefixes[country+"/"+strings.TrimSuffix(filepath.Base(v.path), ".json")] = v.PREFIX
	}
	n := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.EqualFold(filepath.Ext(path), ".png") {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		rel = filepath.ToSlash(rel)
		key := strings.SplitN(rel, "/", 2)[0] + "/" + strings.TrimSuffix(filepath.Base(rel), filepath.Ext(rel))
		want, ok := prefixes[key]
		if !ok {
			t.Errorf("%s: no vector %s.json to compare with", rel, key)
			return nil
		}
		n++
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		got, err := decodeQR(data)
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			return nil
		}
		if got != want {
			t.Errorf("%s decodes to\n%q\nwant\n%q", rel, got, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("no PNG images found")
	}
	t.Logf("%d PNG images decode to their vector's HC1 text", n)
}
