package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	qrcode "github.com/skip2/go-qrcode"

	"github.com/vaxcert/vaxcert/internal/vectors"
	"github.com/vaxcert/vaxcert/verifier/eudcc"
)

// divocSample reads ../shared/testdata/divoc/samples/name.
func divocSample(t *testing.T, name string) []byte { return vectors.Read(t, "divoc", "samples", name) }

// writeBinaryQR renders payload, byte for byte, as a QR image, as CoWIN
// prints the ZIP of its certificate.
func writeBinaryQR(t *testing.T, dir, name string, payload []byte) string {
	t.Helper()
	q, err := qrcode.New(string(payload), qrcode.Low)
	if err != nil {
		t.Fatal(err)
	}
	png, err := q.PNG(-5)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestVerifierPageCoWINOffline: the checkpoint page checks CoWIN (DIVOC)
// certificates too, with the network cut off and nothing but the page's
// own files: VALID for a production-signed CoWIN QR (its raw ZIP bytes
// read from the picture by jsQR), INVALID for one whose name was changed
// after signing, NOT TRUSTED for one signed with DIVOC's published
// development key. And an EU DCC is checked against the document signers
// the service publishes: the upstream German test certificate, long
// expired, is INVALID for its expiry rather than NOT TRUSTED.
func TestVerifierPageCoWINOffline(t *testing.T) {
	b := newBrowser(t, 412, 915)
	shots := screenshotDir(t)

	svc := startService(t)
	log, ts := svc.log, svc.ts
	if _, err := eudcc.ImportDSC(filepath.Join(svc.data, verifyTrustDir), []string{germanTestDSC(t)}); err != nil {
		t.Fatal(err)
	}

	const name = "Third March User One"
	cert := divocSample(t, "third-march-user-one.certificate.json")
	forged := bytes.Replace(cert, []byte(name), []byte("Third March User Two"), 1)
	files := t.TempDir()
	genuineQR := writeBinaryQR(t, files, "cowin-qr.png", divocSample(t, "third-march-user-one.qr.zip"))
	forgedQR := writeBinaryQR(t, files, "cowin-forged-qr.png", vectors.CoWINQR(t, forged))
	devKeyQR := writeBinaryQR(t, files, "cowin-devkey-qr.png",
		vectors.CoWINQR(t, divocSample(t, "divoc-signer-test-devkey-2021-01-15.certificate.json")))
	dccQR := vectors.Path(t, "dcc", "DE", "2DCode", "png", "1.png")

	b.run("open /verify", chromedp.Navigate(ts.URL+"/verify"))
	b.waitJS("the verifier to be ready for offline use", `document.getElementById("verifier").dataset.offline === "true"`, 90*time.Second)
	if trust := b.text("trust"); !strings.Contains(trust, "Government of India (CoWIN)") || !strings.Contains(trust, "EU DCC document signers: 1.") {
		t.Errorf("the trust line does not name the built-in CoWIN key and the EU signer: %q", trust)
	}

	// Online: VALID, and no request carries any of the certificate.
	mark := log.mark()
	b.seen()
	checkVerdict(t, b, genuineQR, "valid", name)
	assertNoneSent(t, b, log, mark, name, "92047670169", "nE-3iYDcKok-CmTm3pbpyZQh")

	ts.CloseClientConnections()
	ts.Close()
	b.reloadOffline(ts.URL + "/verify")

	checkVerdict(t, b, genuineQR, "valid", name)
	if got := b.text("r-birth-label") + ": " + b.text("r-birth"); got != "Age: 65" {
		t.Errorf("a CoWIN certificate states an age: %q", got)
	}
	if doses := b.text("r-doses"); !strings.Contains(doses, "Dose 1 of 2") || !strings.Contains(doses, "COVISHIELD") {
		t.Errorf("doses %q", doses)
	}
	if issuer := b.text("r-issuer"); issuer != "Government of India (CoWIN)" {
		t.Errorf("issuer %q", issuer)
	}
	b.screenshot(shots, "13-verify-cowin-valid-offline")
	b.clearResult()

	checkVerdict(t, b, forgedQR, "invalid", "")
	if reasons := b.text("r-reasons"); !strings.Contains(strings.ToLower(reasons), "signature") {
		t.Errorf("a forged certificate's reasons should name the signature: %q", reasons)
	}
	b.clearResult()

	checkVerdict(t, b, devKeyQR, "not_trusted", "")
	b.clearResult()

	checkVerdict(t, b, dccQR, "invalid", "Erika Mustermann")
	b.screenshot(shots, "14-verify-eu-dcc-offline")
	if reasons := b.text("r-reasons"); !strings.Contains(reasons, "expired") || strings.Contains(reasons, "signature") {
		t.Errorf("the EU DCC's reasons should be its expiry alone: %q", reasons)
	}
}

// germanTestDSC writes the document signer of the upstream DE test
// vector 1 to a file, for `vaxverify trust import --dsc`.
func germanTestDSC(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "de-dsc.der")
	if err := os.WriteFile(path, vectors.DCCSigner(t, "DE", "2DCode", "raw", "1.json"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
