package e2e

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vaxcert/vaxcert/api"
	"github.com/vaxcert/vaxcert/keys"
	"github.com/vaxcert/vaxcert/shc"
	"github.com/vaxcert/vaxcert/store/sqlite"
)

// testIssuer is the iss of the test services' certificates. It must be
// https (SMART Health Card verifiers refuse anything else); nothing ever
// connects to it: the browser gets the keys from the trust bundle.
const testIssuer = "https://vaxcert.test"

// issuerKeys publishes a key store's keys under an issuer URL, as the
// issuer service does.
type issuerKeys struct {
	fs  *keys.FileStore
	iss string
}

func (k issuerKeys) PublishedKeys(context.Context) (keys.JWKS, error) {
	if err := k.fs.Reload(); err != nil {
		return keys.JWKS{}, err
	}
	return k.fs.JWKS(func(string) int { return 0 }), nil
}

func (k issuerKeys) IssuerURL() string { return k.iss }

// signCard signs a two-dose card for name with signer.
func signCard(t *testing.T, sign func(shc.Payload) (string, error), name string) string {
	t.Helper()
	given, family, _ := strings.Cut(name, " ")
	bundle, err := shc.NewImmunizationBundle(
		shc.Patient{Name: []shc.HumanName{{Family: family, Given: []string{given}}}, BirthDate: "1984-03-09"},
		[]shc.Immunization{
			{Status: "completed", VaccineCode: shc.CodeableConcept{Coding: []shc.Coding{{System: shc.SystemCVX, Code: "210"}}},
				OccurrenceDateTime: "2021-05-03", LotNumber: "4121Z040", Performer: []shc.Performer{{Actor: shc.Actor{Display: "PHC Sector 22"}}}},
			{Status: "completed", VaccineCode: shc.CodeableConcept{Coding: []shc.Coding{{System: shc.SystemCVX, Code: "210"}}},
				OccurrenceDateTime: "2021-08-02", LotNumber: "4121Z117", Performer: []shc.Performer{{Actor: shc.Actor{Display: "PHC Sector 22"}}}},
		})
	if err != nil {
		t.Fatal(err)
	}
	p := shc.Payload{Iss: testIssuer, NBF: shc.NewNumericDate(time.Now().Add(-time.Hour))}
	p.VC.Type = []string{shc.HealthCardType, "https://smarthealth.cards#immunization", "https://smarthealth.cards#covid19"}
	p.VC.CredentialSubject.FHIRVersion = shc.FHIRVersion
	p.VC.CredentialSubject.FHIRBundle = bundle
	jws, err := sign(p)
	if err != nil {
		t.Fatal(err)
	}
	return jws
}

// forgeName rewrites the name inside a signed card and keeps the old
// signature: what a forger who edits a real certificate produces.
func forgeName(t *testing.T, jws, from, to string) string {
	t.Helper()
	parts := strings.Split(jws, ".")
	deflated, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	raw, err := shc.Inflate(deflated, shc.MaxInflatedSize)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(raw, []byte(from)) {
		t.Fatalf("card does not contain %q", from)
	}
	again, err := shc.Deflate(bytes.ReplaceAll(raw, []byte(from), []byte(to)))
	if err != nil {
		t.Fatal(err)
	}
	return parts[0] + "." + base64.RawURLEncoding.EncodeToString(again) + "." + parts[2]
}

func writeQR(t *testing.T, dir, name, jws string) string {
	t.Helper()
	png, err := shc.QRPNG(jws, 6)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// startVerifierServer runs the service on a fresh SQLite store and
// keystore in dir, behind a log of the requests it gets.
func startVerifierServer(t *testing.T, dir string) (*keys.FileStore, *requestLog, *httptest.Server) {
	t.Helper()
	ks, err := keys.OpenFileStore(filepath.Join(dir, "keys"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ks.EnsureActive(); err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "vaxcert.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	log := &requestLog{next: api.New(api.Config{Keys: issuerKeys{ks, testIssuer}, Store: st})}
	ts := httptest.NewServer(log)
	t.Cleanup(ts.Close)
	return ks, log, ts
}

// TestVerifierPageOffline: the checkpoint page loads once, the network goes
// away (the server is stopped and the browser set offline), and the page
// still verifies: VALID for a genuine QR, INVALID for a forged one, NOT
// TRUSTED for one signed by a stranger. Nothing about a certificate is ever
// sent to the server.
func TestVerifierPageOffline(t *testing.T) {
	dir := t.TempDir()
	// The fake camera shows the genuine card's QR (written below, before
	// the first scan opens the camera).
	camera := filepath.Join(dir, "camera.y4m")
	b := newBrowser(t, 412, 915, chromedp.Flag("use-file-for-fake-video-capture", camera))
	shots := screenshotDir(t)

	ks, log, ts := startVerifierServer(t, dir)

	signer, err := ks.ActiveSigner()
	if err != nil {
		t.Fatal(err)
	}
	genuine := signCard(t, func(p shc.Payload) (string, error) { return shc.Sign(signer, signer.KID(), p) }, "Asha Sharma")
	stranger, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	untrusted := signCard(t, func(p shc.Payload) (string, error) {
		return shc.Sign(stranger, keys.Thumbprint(&stranger.PublicKey), p)
	}, "Asha Sharma")
	files := t.TempDir()
	writeY4M(t, camera, genuine)
	genuineQR := writeQR(t, files, "certificate-qr.png", genuine)
	forgedQR := writeQR(t, files, "forged-qr.png", forgeName(t, genuine, "Sharma", "Verma"))
	strangerQR := writeQR(t, files, "stranger-qr.png", untrusted)

	// First visit, online: the service worker caches the page, the
	// module and the trust bundle.
	b.run("open /verify", chromedp.Navigate(ts.URL+"/verify"))
	b.waitJS("the verifier to be ready for offline use", `document.getElementById("verifier").dataset.offline === "true"`, 90*time.Second)

	// Online, a genuine card: VALID, and no request carries the card.
	mark := log.mark()
	b.seen()
	checkVerdict(t, b, genuineQR, "valid", "Asha Sharma")
	assertNothingSent(t, b, log, mark, genuine, "Sharma")

	// Cut the network: stop the server and take the browser offline.
	ts.CloseClientConnections()
	ts.Close()
	b.reloadOffline(ts.URL + "/verify")
	if got := b.eval(`navigator.onLine ? "online" : "offline"`); got != "offline" {
		t.Errorf("the browser still thinks it is %s", got)
	}

	checkVerdict(t, b, genuineQR, "valid", "Asha Sharma")
	b.clearResult()

	checkVerdict(t, b, forgedQR, "invalid", "")
	if reasons := b.text("r-reasons"); !strings.Contains(strings.ToLower(reasons), "signature") {
		t.Errorf("a forged card's reasons should name the signature: %q", reasons)
	}
	b.clearResult()

	checkVerdict(t, b, strangerQR, "not_trusted", "")
	b.screenshot(shots, "11-verify-not-trusted-offline")
	b.clearResult()

	// The camera, on a page that clears results after 5 s (?clear=5,
	// loaded from the service worker's cache): the fake device films the
	// genuine QR; the page reads it from the video (jsQR here: headless
	// Linux Chromium has no BarcodeDetector) and verifies it. An observer
	// notes every verdict shown, so the check does not race the clearing.
	b.run("reload /verify offline, quick to clear", chromedp.Navigate(ts.URL+"/verify?clear=5"))
	b.waitJS("the offline verifier", `document.getElementById("verifier").dataset.ready === "true"`, 60*time.Second)
	b.run("watch the verdicts", chromedp.Evaluate[chromedp.Void](`window.seenVerdicts = [];
		new MutationObserver(() => {
			const r = document.getElementById("result");
			if (!r.hidden && r.dataset.status) window.seenVerdicts.push(r.dataset.status + ":" + document.getElementById("r-name").textContent);
		}).observe(document.getElementById("result"), { attributes: true });`))
	b.run("scan with the camera", chromedp.Click(chromedp.ID("scan")))
	b.waitJS("a verdict from the camera", `window.seenVerdicts.length > 0`, 60*time.Second)
	if got := b.eval(`window.seenVerdicts[0]`); got != "valid:Asha Sharma" {
		t.Fatalf("camera scan: %q, want valid:Asha Sharma", got)
	}
	if got := b.eval(`document.getElementById("camera").hidden ? "stopped" : "running"`); got != "stopped" {
		t.Error("the camera keeps running after a card was read")
	}
	// … and the result clears itself.
	b.waitJS("the result to clear itself", `document.getElementById("result").hidden && document.getElementById("r-name").textContent === "" && !document.getElementById("intro").hidden`, 45*time.Second)
}

// checkVerdict uploads a QR image and checks the verdict shown.
func checkVerdict(t *testing.T, b *browser, qr, status, name string) {
	t.Helper()
	b.upload("file", qr)
	b.waitJS("a verdict for "+filepath.Base(qr), `!document.getElementById("result").hidden`, 60*time.Second)
	if got := b.eval(`document.getElementById("result").dataset.status`); got != status {
		t.Fatalf("%s: verdict %q, want %q (reasons: %s)", filepath.Base(qr), got, status, b.text("r-reasons"))
	}
	t.Logf("%s: %s in %s ms (of which the wasm verifier %s ms), QR read by %s", filepath.Base(qr), status,
		b.eval(`document.getElementById("result").dataset.ms`), b.eval(`document.getElementById("result").dataset.verifyMs`),
		b.eval(`document.getElementById("result").dataset.via`))
	want := map[string]string{"valid": "VALID", "invalid": "INVALID", "not_trusted": "NOT TRUSTED"}[status]
	if got := b.text("verdict"); got != want {
		t.Errorf("verdict text %q, want %q", got, want)
	}
	if name != "" {
		if got := b.text("r-name"); got != name {
			t.Errorf("name %q, want %q", got, name)
		}
	}
}

// reloadOffline takes the browser offline and reloads the verifier page at
// url, which must now come from its service worker.
func (b *browser) reloadOffline(url string) {
	b.t.Helper()
	b.setOffline(true)
	b.run("reload /verify offline", chromedp.Navigate(url))
	b.waitJS("the offline verifier", `document.getElementById("verifier").dataset.ready === "true"`, 60*time.Second)
}

// clearResult dismisses the verdict on screen.
func (b *browser) clearResult() {
	b.t.Helper()
	b.run("clear", chromedp.Click(chromedp.ID("clear")))
}

// assertNothingSent checks every request since mark, as the server saw it
// and as the page sent it: none may carry any part of the card.
func assertNothingSent(t *testing.T, b *browser, log *requestLog, mark int, jws string, name string) {
	t.Helper()
	parts := strings.Split(jws, ".")
	assertNoneSent(t, b, log, mark, parts[1][:24], parts[2][:24], shc.QRText(jws)[5:45], name)
}

// assertNoneSent checks that no request since mark carries any of the
// markers, and that all of them are GETs.
func assertNoneSent(t *testing.T, b *browser, log *requestLog, mark int, markers ...string) {
	t.Helper()
	reqs, _ := log.since(mark)
	for _, r := range reqs {
		for _, m := range markers {
			if strings.Contains(r.URL, m) || strings.Contains(r.Header, m) || bytes.Contains(r.Body, []byte(m)) {
				t.Errorf("the server received part of the certificate: %s %s", r.Method, r.URL)
			}
		}
		if r.Method != "GET" {
			t.Errorf("verifying made a %s request to %s", r.Method, r.URL)
		}
	}
	for _, r := range b.seen() {
		for _, m := range markers {
			if strings.Contains(r.URL, m) || strings.Contains(r.PostData, m) {
				t.Errorf("the page sent part of the certificate to %s", r.URL)
			}
		}
	}
}

// writeY4M writes a short raw video (YUV4MPEG2, 4:2:0) of the card's QR
// code on white, for Chromium's fake camera.
func writeY4M(t *testing.T, path, jws string) {
	t.Helper()
	qr, err := shc.QRCode(jws)
	if err != nil {
		t.Fatal(err)
	}
	const w, h = 640, 480
	img := qr.Image(4)
	side := img.Bounds().Dx()
	if side > h {
		t.Fatalf("QR of %d pixels does not fit the %dx%d frame", side, w, h)
	}
	luma := bytes.Repeat([]byte{235}, w*h)
	x0, y0 := (w-side)/2, (h-side)/2
	for y := 0; y < side; y++ {
		for x := 0; x < side; x++ {
			if r, _, _, _ := img.At(x, y).RGBA(); r < 0x8000 {
				luma[(y0+y)*w+x0+x] = 16
			}
		}
	}
	chroma := bytes.Repeat([]byte{128}, w*h/4)
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "YUV4MPEG2 W%d H%d F10:1 Ip A1:1 C420jpeg\n", w, h)
	for i := 0; i < 3; i++ {
		buf.WriteString("FRAME\n")
		buf.Write(luma)
		buf.Write(chroma)
		buf.Write(chroma)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
