package api

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/vaxcert/vaxcert/shc"
)

// The browser verifier (/verify) checks certificates on the device with the
// Go verifier compiled to WebAssembly. It trusts what this service publishes
// — its JWKS and CRLs under its issuer URL, and the EU DCC document signers
// of its --verify-trust directory — which it receives as one trust bundle
// and keeps, with the page and the module, in a service worker's cache so
// that it keeps working offline.

// verifyPrecache lists the assets the service worker caches besides the page
// and the trust bundle: everything /verify loads.
var verifyPrecache = []string{
	"css/site.css", "img/icon.svg", "js/common.js", "js/verify.js",
	"vendor/wasm_exec.js", "vendor/jsQR.js", wasmAssetName,
}

// buildServiceWorker fills the precache list (versioned URLs) and a version
// derived from it into the worker script.
func (ui *webUI) buildServiceWorker() ([]byte, error) {
	src, ok := ui.assets["js/sw.js"]
	if !ok {
		return nil, fmt.Errorf("web assets: js/sw.js is missing")
	}
	// And the fonts the stylesheet names, so that Hindi renders offline on a
	// device without Devanagari fonts (~200 kB gzipped beside a 4.2 MB module).
	names := append(slices.Clone(verifyPrecache), ui.assets.fontsOf()...)
	urls := make([]string, 0, len(names))
	for _, name := range names {
		u, err := ui.assets.url(name)
		if err != nil {
			return nil, err
		}
		urls = append(urls, u)
	}
	list, err := json.Marshal(urls)
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	h.Write(list)
	h.Write(src.body)
	version := hex.EncodeToString(h.Sum(nil)[:6])
	out := string(src.body)
	for placeholder, value := range map[string]string{`"__VERSION__"`: `"` + version + `"`, "__PRECACHE__": string(list)} {
		if strings.Count(out, placeholder) != 1 {
			return nil, fmt.Errorf("web assets: js/sw.js must hold %s exactly once", placeholder)
		}
		out = strings.Replace(out, placeholder, value, 1)
	}
	return []byte(out), nil
}

// serviceWorker serves the worker at /verify/sw.js. Its scope is /verify
// (the page itself), which the Service-Worker-Allowed header permits.
func (ui *webUI) serviceWorker(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Service-Worker-Allowed", "/verify")
	serveCacheable(w, r, "text/javascript; charset=utf-8", ui.sw, "no-cache")
}

// trustBundle is one issuer entry in the verifier's issuer-file form
// (verifier/trust), so the module parses it with the same code vaxverify
// uses for its trust directory.
type trustBundleIssuer struct {
	Iss  string            `json:"iss"`
	Name string            `json:"name"`
	JWKS json.RawMessage   `json:"jwks"`
	CRLs []json.RawMessage `json:"crls,omitempty"`
}

type trustBundleDoc struct {
	Issuers []trustBundleIssuer `json:"issuers"`
	// DSCs are the EU DCC document signers the service's checkpoint trusts
	// (its --verify-trust directory), DER, so the page checks EU DCCs too.
	DSCs [][]byte `json:"dscs,omitempty"`
	// DSCsError says why there are none when they could not be read: the
	// page then refuses EU DCCs with trust_store_invalid, and the service's
	// own keys and revocations still reach it.
	DSCsError string `json:"dscs_error,omitempty"`
	// Notice explains an empty bundle to the people at the checkpoint.
	Notice string `json:"notice,omitempty"`
}

// trustBundle serves GET /verify/trust.json: this service as the one trusted
// SMART Health Card issuer, with its key set and each key's CRL exactly as
// published at /.well-known/ (fetched through those very handlers, so the
// bundle can never say something the public endpoints do not), and the EU
// DCC document signers its checkpoint trusts. It carries no time, so its
// ETag changes only when a key, a revocation or a signer does.
func (ui *webUI) trustBundle(w http.ResponseWriter, r *http.Request) {
	doc, err := ui.buildTrustBundle(r)
	if err != nil {
		ui.s.writeError(w, r, err)
		return
	}
	body, err := json.Marshal(doc)
	if err == nil && len(body) > maxTrustBundle {
		ui.s.log.Error("trust bundle: too many EU DCC document signers for the /verify page", "signers", len(doc.DSCs), "bytes", len(body))
		doc.DSCs, doc.DSCsError = nil, "This service trusts more EU document signers than this page can hold."
		body, err = json.Marshal(doc)
	}
	if err != nil {
		ui.s.writeError(w, r, err)
		return
	}
	w.Header().Set("Access-Control-Allow-Origin", "*")
	serveCacheable(w, r, "application/json", body, "no-cache")
}

// maxTrustBundle is the largest bundle the page accepts (MaxBundleSize in
// cmd/vaxverify-wasm).
const maxTrustBundle = 16 << 20

// documentSigners is offered by a checkpoint that trusts EU DCC document
// signers (issuer.Checkpoint, from --verify-trust).
type documentSigners interface {
	DocumentSigners() ([]*x509.Certificate, error)
}

func (ui *webUI) buildTrustBundle(r *http.Request) (trustBundleDoc, error) {
	doc, err := ui.selfInBundle(r)
	if err != nil || ui.signers == nil {
		return doc, err
	}
	certs, err := ui.signers.DocumentSigners()
	if err != nil {
		// The detail (paths of the server's disk) goes to the log only.
		ui.s.log.Error("trust bundle: the EU DCC document signers could not be read", "err", err)
		doc.DSCsError = "This service's EU document signers could not be read; EU certificates cannot be checked here."
		return doc, nil
	}
	for _, c := range certs {
		doc.DSCs = append(doc.DSCs, c.Raw)
	}
	return doc, nil
}

// selfInBundle is the bundle's part about this service.
func (ui *webUI) selfInBundle(r *http.Request) (trustBundleDoc, error) {
	iss := ui.iss
	if iss == "" {
		return trustBundleDoc{Issuers: []trustBundleIssuer{}, Notice: "This service issues no certificates."}, nil
	}
	if err := shc.CheckIss(iss); err != nil {
		// A development server (http://): SMART Health Card verifiers,
		// this one included, reject its certificates, so trust nothing.
		return trustBundleDoc{Issuers: []trustBundleIssuer{},
			Notice: "This service's issuer URL " + iss + " is not https: no verifier accepts its certificates."}, nil
	}
	status, _, jwks := ui.s.internalCall(r, http.MethodGet, "/.well-known/jwks.json", nil)
	if status != http.StatusOK {
		return trustBundleDoc{}, fmt.Errorf("trust bundle: jwks answered %d", status)
	}
	var set struct {
		Keys []struct {
			Kid        string `json:"kid"`
			CRLVersion int    `json:"crlVersion"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(jwks, &set); err != nil {
		return trustBundleDoc{}, fmt.Errorf("trust bundle: jwks: %w", err)
	}
	entry := trustBundleIssuer{Iss: iss, Name: ui.issuerName(iss), JWKS: jwks}
	for _, k := range set.Keys {
		if k.CRLVersion == 0 {
			continue // the key publishes no CRL
		}
		status, _, crl := ui.s.internalCall(r, http.MethodGet, "/.well-known/crl/"+url.PathEscape(k.Kid)+".json", nil)
		if status != http.StatusOK {
			return trustBundleDoc{}, fmt.Errorf("trust bundle: CRL of %s answered %d", k.Kid, status)
		}
		entry.CRLs = append(entry.CRLs, crl)
	}
	return trustBundleDoc{Issuers: []trustBundleIssuer{entry}}, nil
}

// issuerName is the name the checkpoint sees for this service: its host.
func (ui *webUI) issuerName(iss string) string {
	if u, err := url.Parse(iss); err == nil && u.Host != "" {
		return u.Host
	}
	return iss
}

// issuerURLOf is the iss of the certificates this service issues, or ""
// when it issues none.
func issuerURLOf(cfg Config) string {
	if cfg.Issuer != nil {
		return cfg.Issuer.IssuerURL()
	}
	if src, ok := cfg.Keys.(interface{ IssuerURL() string }); ok {
		return src.IssuerURL()
	}
	return ""
}
