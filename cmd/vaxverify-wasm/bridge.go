// Command vaxverify-wasm is the verifier package compiled to WebAssembly
// (GOOS=js GOARCH=wasm) for the /verify web page: the page hands it the
// bytes it scanned or was given, and the verdict is computed in the browser,
// so nothing about a certificate ever leaves the device.
//
// It checks SMART Health Cards and EU DCCs against the trust bundle the
// page fetches, and CoWIN (DIVOC) certificates against the Government of
// India key that verifier/divoc bundles, through the same dispatch as
// vaxverify, so the page and the command give the same verdict for the same
// bytes.
//
// The built module is committed as web/wasm/verify.wasm.gz; rebuild it with
// `go generate ./web` after changing this command, verifier/ or shc/ (a test
// in web/ fails while it is stale).
//
// This file holds the parts that do not need a browser, so they are tested
// with the ordinary toolchain; main_js.go is the thin syscall/js glue.
package main

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/vaxcert/vaxcert/verifier"
	"github.com/vaxcert/vaxcert/verifier/divoc"
	"github.com/vaxcert/vaxcert/verifier/eudcc"
	"github.com/vaxcert/vaxcert/verifier/formats"
	"github.com/vaxcert/vaxcert/verifier/trust"
	"github.com/vaxcert/vaxcert/verifier/verdict"
)

// MaxBundleSize bounds the trust bundle the page hands over.
const MaxBundleSize = 16 << 20

// Bundle is the trust bundle the service publishes at /verify/trust.json:
// its own issuer entry (iss, JWKS and CRLs) in the verifier's issuer-file
// form, so one parser (trust.ParseIssuerFile) reads it here and on disk, and
// the EU DCC document signers it trusts (DER).
type Bundle struct {
	GeneratedAt time.Time         `json:"generated_at"`
	Issuers     []json.RawMessage `json:"issuers"`
	DSCs        [][]byte          `json:"dscs"`
	DSCsError   string            `json:"dscs_error"` // why the service sent no DSCs
}

// Trust is what the page trusts: a parsed bundle.
type Trust struct {
	Issuers     *trust.Store
	Signers     *eudcc.TrustStore
	SignersErr  error // the service could not send its signers
	GeneratedAt time.Time
}

// ParseBundle reads a trust bundle. An entry that does not parse fails the
// whole bundle: a half-loaded trust list would turn valid certificates into
// NOT TRUSTED without saying why.
func ParseBundle(b []byte) (Trust, error) {
	if len(b) > MaxBundleSize {
		return Trust{}, fmt.Errorf("trust bundle larger than %d bytes", MaxBundleSize)
	}
	var bundle Bundle
	if err := json.Unmarshal(b, &bundle); err != nil {
		return Trust{}, fmt.Errorf("trust bundle is not valid JSON: %w", err)
	}
	if bundle.Issuers == nil {
		return Trust{}, fmt.Errorf(`trust bundle has no "issuers" array`)
	}
	store := trust.NewStore()
	for i, raw := range bundle.Issuers {
		is, err := trust.ParseIssuerFile(raw)
		if err != nil {
			return Trust{}, fmt.Errorf("trust bundle issuer %d: %w", i, err)
		}
		store.Put(is)
	}
	signers := make([]*x509.Certificate, len(bundle.DSCs))
	for i, der := range bundle.DSCs {
		var err error
		if signers[i], err = eudcc.ParseDSC(der); err != nil { // as vaxverify's trust import
			return Trust{}, fmt.Errorf("trust bundle document signer %d: %w", i, err)
		}
	}
	t := Trust{Issuers: store, Signers: eudcc.NewTrustStore(signers...), GeneratedAt: bundle.GeneratedAt}
	if bundle.DSCsError != "" {
		t.SignersErr = errors.New(bundle.DSCsError)
	}
	return t, nil
}

// euDCCWith checks EU DCCs against the bundle's document signers, as
// vaxverify checks them against its trust directory's.
func euDCCWith(t Trust) verifier.Format {
	return verifier.Format{
		Name:   formats.EUDCC.Name,
		Detect: formats.EUDCC.Detect,
		Verify: func(v *verifier.Verifier, in []byte, _ string) verdict.Result {
			return eudcc.VerifyFrom(in, v.Time(), func([]byte) (*eudcc.TrustStore, error) { return t.Signers, t.SignersErr })
		},
	}
}

// newVerifier is the page's verifier for what it trusts (the zero Trust
// before a bundle arrives: no SMART Health Card issuer and no EU signer;
// CoWIN certificates are checked all the same). CoWIN is vaxverify's own
// formats.DIVOC: with no trust directory (there is no disk in a browser) it
// trusts exactly the built-in did:india key.
func newVerifier(t Trust) *verifier.Verifier {
	return &verifier.Verifier{Trust: t.Issuers, Formats: []verifier.Format{euDCCWith(t), formats.DIVOC}}
}

// builtinIssuers names the signers trusted without any bundle, for the
// page's trust line.
func builtinIssuers() []string {
	keys, err := divoc.TrustedKeys("")
	if err != nil {
		return nil // the same error makes every CoWIN verdict name it
	}
	names := make([]string, 0, len(keys))
	for _, k := range keys {
		names = append(names, k.Name)
	}
	return names
}

// verifyJSON verifies one input and returns the results as the JSON array
// the page renders (the stable verdict schema of vaxverify --json).
func verifyJSON(v *verifier.Verifier, input []byte, source string) string {
	results := v.Verify(context.Background(), input, source)
	b, err := json.Marshal(results)
	if err != nil {
		// verdict.Result holds only strings, numbers and times; a failure
		// here is a bug, reported as a result the page can still show.
		r := verdict.Result{Source: source, Format: verifier.FormatUnknown}
		r.Reject("internal", err.Error())
		b, _ = json.Marshal([]verdict.Result{r})
	}
	return string(b)
}
