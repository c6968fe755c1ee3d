package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	_ "image/png" // decode the downloaded QR
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vaxcert/vaxcert/api"
	"github.com/vaxcert/vaxcert/booking"
	"github.com/vaxcert/vaxcert/booking/demo"
	"github.com/vaxcert/vaxcert/issuer"
	"github.com/vaxcert/vaxcert/keys"
	"github.com/vaxcert/vaxcert/registration"
	"github.com/vaxcert/vaxcert/registration/sms"
	"github.com/vaxcert/vaxcert/shc"
	"github.com/vaxcert/vaxcert/store"
	"github.com/vaxcert/vaxcert/verifier/qrimage"
)

// service is vaxcert as `vaxcert serve --demo` runs it, built in-process on
// SQLite in a temporary data directory, behind a request log.
type service struct {
	data string
	st   store.Store
	reg  *registration.Service
	book *booking.Service
	iss  *issuer.Service
	log  *requestLog
	ts   *httptest.Server
}

// verifyTrustDir is the service's --verify-trust directory, below its data.
const verifyTrustDir = "verify-trust"

func startService(t *testing.T) *service {
	t.Helper()
	ctx := context.Background()
	data := t.TempDir()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := store.Open(ctx, "", data)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	openKeys := func(dir string) *keys.FileStore {
		ks, err := keys.OpenFileStore(filepath.Join(data, dir), nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := ks.EnsureActive(); err != nil {
			t.Fatal(err)
		}
		return ks
	}
	certKeys, authKeys := openKeys("keys"), openKeys(registration.AuthKeysDir)
	secrets, err := registration.LoadSecrets(registration.SecretsDir(data))
	if err != nil {
		t.Fatal(err)
	}
	sender, err := sms.FromConfig("outbox", "", data, quiet)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := registration.NewService(registration.Config{Store: st, SMS: sender,
		Tokens: registration.NewTokens(authKeys, testIssuer), Secrets: secrets, Log: quiet,
		Limits: registration.Limits{OTPCooldown: -1}})
	if err != nil {
		t.Fatal(err)
	}
	book, err := booking.NewService(booking.Config{Store: st, Beneficiaries: st, Doses: st, Audit: st})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Load(ctx, st, book.Today()); err != nil {
		t.Fatal(err)
	}
	ridSecret, err := keys.LoadOrCreateSecret(filepath.Join(data, "secrets"), "shc-rid")
	if err != nil {
		t.Fatal(err)
	}
	iss, err := issuer.New(issuer.Config{Store: st, Keys: certKeys, IssuerURL: testIssuer, RIDSecret: ridSecret, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(iss.Close)
	grants, err := keys.LoadOrCreateSecret(filepath.Join(data, "secrets"), "download-grant")
	if err != nil {
		t.Fatal(err)
	}
	srv := api.New(api.Config{Logger: quiet, Keys: iss, Store: st, Auth: reg, Registration: reg, Booking: book,
		Issuer: iss, Checkpoint: iss.Checkpoint(filepath.Join(data, verifyTrustDir)), DownloadSecret: grants, RateLimits: api.RateLimits{SearchPerMinute: 6000, SearchBurst: 1000, BookingPerMinute: 6000, BookingBurst: 1000}})
	s := &service{data: data, st: st, reg: reg, book: book, iss: iss, log: &requestLog{next: srv}}
	s.ts = httptest.NewServer(s.log)
	t.Cleanup(s.ts.Close)
	return s
}

// stop cuts the service off: the listener closes and every connection
// with it.
func (s *service) stop() {
	s.ts.CloseClientConnections()
	s.ts.Close()
}

// restart brings the service back at the same address (the same origin,
// so the browser's service worker and its cache still apply).
func (s *service) restart(t *testing.T) {
	t.Helper()
	addr := s.ts.Listener.Addr().String()
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ {
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("listen again on %s: %v", addr, err)
	}
	s.ts = &httptest.Server{Listener: ln, Config: &http.Server{Handler: s.log}}
	s.ts.Start()
	t.Cleanup(s.ts.Close)
}

// otp waits for the OTP the dev SMS outbox holds for mobile, newer than
// the ones already seen.
func (s *service) otp(t *testing.T, mobile string, seen int) (string, int) {
	t.Helper()
	digits := regexp.MustCompile(`\b(\d{6})\b`)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var found []string
		if f, err := os.Open(filepath.Join(s.data, "sms-outbox.jsonl")); err == nil {
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				var msg struct{ Time, To, Text string }
				if json.Unmarshal(sc.Bytes(), &msg) == nil && strings.HasSuffix(msg.To, mobile) {
					if m := digits.FindStringSubmatch(msg.Text); m != nil {
						found = append(found, m[1])
					}
				}
			}
			f.Close()
		}
		if len(found) > seen {
			return found[len(found)-1], len(found)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no OTP for %s in the SMS outbox", mobile)
	return "", 0
}

// openSession finds a session today (or in the next days) with first doses
// left for adults, from the demo data.
func (s *service) openSession(t *testing.T) booking.SessionAt {
	t.Helper()
	ctx := context.Background()
	today := s.book.Today()
	states, err := s.book.States(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for day := 0; day < 7; day++ {
		date := today.AddDate(0, 0, day)
		for _, st := range states {
			districts, err := s.book.Districts(ctx, st.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range districts {
				sessions, err := s.book.Search(ctx, booking.SessionQuery{DistrictID: d.ID, From: date, To: date, Vaccine: "COVISHIELD"})
				if err != nil {
					t.Fatal(err)
				}
				for _, se := range sessions {
					if se.Available.Dose1 > 0 && se.MinAge <= 40 && (se.MaxAge == 0 || se.MaxAge >= 45) && se.Fee == 0 && len(se.Slots) > 0 {
						return se
					}
				}
			}
		}
	}
	t.Fatal("the demo data has no open adult COVISHIELD session this week")
	return booking.SessionAt{}
}

// aadhaar makes a valid Aadhaar number (12 digits, Verhoeff check digit).
func aadhaar(prefix string) string {
	return prefix + string(registration.VerhoeffDigit(prefix))
}

// login drives the login page for mobile and returns the page it lands on.
func login(t *testing.T, b *browser, svc *service, mobile string, seen int, shots, shot string) int {
	t.Helper()
	b.run("open /login", chromedp.Navigate(svc.ts.URL+"/login"))
	b.assertAccessible("/login")
	// The keyboard alone: type, Enter.
	b.run("type the mobile", chromedp.SendKeys(chromedp.ID("mobile"), mobile+"\n"))
	b.waitJS("the OTP form", `!document.getElementById("otp-form").hidden`, 45*time.Second)
	code, n := svc.otp(t, mobile, seen)
	b.run("type the OTP", chromedp.SendKeys(chromedp.ID("otp"), code))
	if shot != "" {
		b.screenshot(shots, shot)
	}
	b.run("log in", chromedp.SendKeys(chromedp.ID("otp"), "\n"))
	return n
}

// TestCitizenJourney is the acceptance test of the web pages: a citizen logs
// in with the OTP from the SMS outbox, registers a person and books a slot;
// the vaccinator finds them at the desk and records the dose (a double
// click records one); the citizen downloads the certificate PDF and QR;
// the checkpoint page, with the service stopped and the browser offline,
// shows VALID for the QR and for the PDF, and INVALID for a forged QR.
func TestCitizenJourney(t *testing.T) {
	citizen := newBrowser(t, 412, 915)
	svc := startService(t)
	shots := screenshotDir(t)
	ctx := context.Background()

	session := svc.openSession(t)
	const vaccinatorMobile = "9000000002"
	if _, err := svc.reg.PutStaff(ctx, vaccinatorMobile, registration.Vaccinator, []string{session.CentreID}); err != nil {
		t.Fatal(err)
	}

	// 1. The citizen logs in with the OTP from the SMS outbox.
	const mobile = "9876543210"
	login(t, citizen, svc, mobile, 0, shots, "01-login-otp")
	citizen.waitJS("the portal", `location.pathname === "/portal" && document.getElementById("people-loading").hidden`, 45*time.Second)

	// 2. … registers a person.
	citizen.run("open the form", chromedp.Click(chromedp.ID("add-open")))
	citizen.run("fill the form",
		chromedp.SendKeys(chromedp.ID("b-name"), "Asha Sharma"),
		chromedp.Click(chromedp.CSS(`input[name=gender][value=female]`)),
		chromedp.SetValue(chromedp.ID("b-birth"), "1984-03-09"),
		chromedp.SetValue(chromedp.ID("b-idtype"), "aadhaar"),
		chromedp.SendKeys(chromedp.ID("b-idnum"), aadhaar("23456789012")))
	citizen.run("save", chromedp.Click(chromedp.CSS("#add-form button[type=submit]")))
	citizen.waitJS("the new person's card", `document.querySelectorAll("#people .person").length === 1`, 45*time.Second)
	ref := citizen.eval(`document.querySelector("#people .person").dataset.ref`)
	if !regexp.MustCompile(`^\d{14}$`).MatchString(ref) {
		t.Fatalf("reference ID %q", ref)
	}
	citizen.screenshot(shots, "02-portal-registered")
	citizen.run("open the form again", chromedp.Click(chromedp.ID("add-open")))
	citizen.assertAccessible("/portal, adding a person")
	citizen.run("close the form", chromedp.Click(chromedp.ID("add-cancel")))

	// 3. … searches sessions by PIN code and books a slot.
	citizen.run("open booking", chromedp.Click(chromedp.CSS(`#people .person button[data-action=book]`)))
	citizen.run("search by PIN",
		chromedp.SendKeys(chromedp.ID("pin"), session.Centre.Pincode),
		chromedp.SetValue(chromedp.ID("date"), session.Date.Format(time.DateOnly)),
		chromedp.Click(chromedp.CSS("#search-form button[type=submit]")))
	sessionSel := fmt.Sprintf(`#results li[data-session=%q]`, session.ID)
	citizen.waitJS("the search results", fmt.Sprintf(`document.querySelector(%s) !== null`, quote(sessionSel)), 45*time.Second)
	citizen.screenshot(shots, "03-book-search")
	citizen.assertAccessible("/portal, booking")
	citizen.run("book a slot", chromedp.Click(chromedp.CSS(sessionSel+" button[data-slot]")))
	citizen.waitJS("the appointment", `document.querySelector("#people .person [data-appointment]") !== null`, 45*time.Second)
	citizen.screenshot(shots, "04-portal-booked")

	// … moves it to another slot, and for a second person books, cancels
	// and removes the registration again.
	if len(session.Slots) > 1 {
		citizen.run("reschedule", chromedp.Click(chromedp.CSS(`#people .person button[data-action=reschedule]`)))
		citizen.run("search again", chromedp.Click(chromedp.CSS("#search-form button[type=submit]")))
		citizen.waitJS("the search results", fmt.Sprintf(`document.querySelector(%s) !== null`, quote(sessionSel)), 45*time.Second)
		citizen.run("choose the second slot", chromedp.Click(chromedp.CSS(sessionSel+fmt.Sprintf(` button[data-slot=%q]`, session.Slots[1]))))
		citizen.waitJS("the new slot", fmt.Sprintf(`(document.querySelector("#people .person [data-appointment]") || {}).textContent.includes(%s)`, quote(session.Slots[1])), 45*time.Second)
	}
	citizen.run("open the form", chromedp.Click(chromedp.ID("add-open")))
	citizen.run("fill the form",
		chromedp.SendKeys(chromedp.ID("b-name"), "Ravi Kumar"),
		chromedp.Click(chromedp.CSS(`input[name=gender][value=male]`)),
		chromedp.SetValue(chromedp.ID("b-birth"), "1990-01-26"),
		chromedp.SendKeys(chromedp.ID("b-idnum"), aadhaar("34567890123")))
	citizen.run("save", chromedp.Click(chromedp.CSS("#add-form button[type=submit]")))
	citizen.waitJS("the second card", `document.querySelectorAll("#people .person").length === 2`, 45*time.Second)
	second := `#people .person:nth-child(2)`
	citizen.run("book for the second person", chromedp.Click(chromedp.CSS(second+` button[data-action=book]`)))
	citizen.run("search", chromedp.Click(chromedp.CSS("#search-form button[type=submit]")))
	citizen.waitJS("the search results", fmt.Sprintf(`document.querySelector(%s) !== null`, quote(sessionSel)), 45*time.Second)
	citizen.run("book", chromedp.Click(chromedp.CSS(sessionSel+" button[data-slot]")))
	citizen.waitJS("the second appointment", fmt.Sprintf(`document.querySelector(%s) !== null`, quote(second+" [data-appointment]")), 45*time.Second)
	// Cancelling and deleting ask again on the button: two clicks each.
	citizen.run("cancel", chromedp.Click(chromedp.CSS(second+` button[data-action=cancel]`)), chromedp.Click(chromedp.CSS(second+` button[data-action=cancel]`)))
	citizen.waitJS("the cancellation", fmt.Sprintf(`document.querySelector(%s) === null && document.querySelector(%s) !== null`, quote(second+" [data-appointment]"), quote(second)), 45*time.Second)
	citizen.run("delete", chromedp.Click(chromedp.CSS(second+` button[data-action=delete]`)), chromedp.Click(chromedp.CSS(second+` button[data-action=delete]`)))
	citizen.waitJS("the removal", `document.querySelectorAll("#people .person").length === 1`, 45*time.Second)

	// 4. The vaccinator, on another device, finds the person and records
	// the dose with a double click.
	desk := citizen.newProfile(1280, 860)
	login(t, desk, svc, vaccinatorMobile, 0, shots, "")
	desk.waitJS("the desk", `location.pathname === "/desk"`, 45*time.Second)
	desk.run("find the person", chromedp.SendKeys(chromedp.ID("ref"), ref), chromedp.Click(chromedp.CSS("#find-form button[type=submit]")))
	desk.waitJS("the person", `!document.getElementById("person").hidden`, 45*time.Second)
	if got := desk.text("p-name"); got != "Asha Sharma" {
		t.Fatalf("desk shows %q", got)
	}
	if got := desk.text("p-appointment"); !strings.Contains(got, session.Centre.Name) {
		t.Errorf("desk does not show the appointment at %s: %q", session.Centre.Name, got)
	}
	desk.run("enter the lot", chromedp.SendKeys(chromedp.ID("lot"), "4121Z040"))
	desk.screenshot(shots, "05-desk-beneficiary")
	desk.assertAccessible("/desk")
	desk.run("record, double-clicked", chromedp.DoubleClick(chromedp.ID("record")))
	desk.waitJS("the recorded dose", `document.getElementById("flash").dataset.certificate !== undefined`, 60*time.Second)
	desk.screenshot(shots, "06-desk-recorded")
	history, err := svc.book.DoseHistory(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	certs, err := svc.iss.Certificates(ctx, issuer.CertificateFilter{BeneficiaryRef: ref})
	if err != nil {
		t.Fatal(err)
	}
	if len(history) != 1 || len(certs) != 1 {
		t.Fatalf("a double click recorded %d doses and %d certificates, want 1 and 1", len(history), len(certs))
	}

	// 5. The citizen sees the certificate and downloads the PDF and the QR.
	citizen.run("reload the portal", chromedp.Navigate(svc.ts.URL+"/portal"))
	citizen.waitJS("the certificate", `document.querySelector("#people [data-certificate]") !== null`, 45*time.Second)
	citizen.screenshot(shots, "07-portal-certificate")
	citizen.run("switch to Hindi", chromedp.Navigate(svc.ts.URL+"/portal?lang=hi"))
	citizen.waitJS("the Hindi portal", `document.documentElement.lang === "hi" && document.querySelector("#people [data-certificate]") !== null`, 45*time.Second)
	citizen.screenshot(shots, "12-portal-hindi")
	pdf := citizen.download(`#people a[data-download=pdf]`)
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("the PDF download is not a PDF (%d bytes)", len(pdf))
	}
	png := citizen.download(`#people a[data-download=png]`)
	shcFile := citizen.download(`#people a[data-download=shc]`)
	jws := decodeQR(t, png)
	files := t.TempDir()
	pdfPath := filepath.Join(files, "certificate.pdf")
	qrPath := filepath.Join(files, "certificate-qr.png")
	os.WriteFile(pdfPath, pdf, 0o644)
	os.WriteFile(qrPath, png, 0o644)
	if !bytes.Contains(shcFile, []byte(jws)) {
		t.Error("the .smart-health-card file holds another card than the QR")
	}
	forgedQR := writeQR(t, files, "forged-qr.png", forgeName(t, jws, "Sharma", "Verma"))

	// 6. The checkpoint opens /verify once, online …
	checkpoint := citizen.newProfile(412, 915)
	checkpoint.run("open /verify", chromedp.Navigate(svc.ts.URL+"/verify"))
	checkpoint.waitJS("the verifier ready for offline use", `document.getElementById("verifier").dataset.offline === "true"`, 90*time.Second)
	t.Logf("first visit: /verify ready %s ms after navigation", checkpoint.eval(`document.getElementById("verifier").dataset.readyMs`))
	checkpoint.screenshot(shots, "08-verify-ready")
	checkpoint.assertAccessible("/verify")
	mark := svc.log.mark()
	checkpoint.seen()
	checkVerdict(t, checkpoint, qrPath, "valid", "Asha Sharma")
	assertNothingSent(t, checkpoint, svc.log, mark, jws, "Sharma")
	checkpoint.clearResult()

	// … then the network goes: the service stops and the browser is
	// offline. The page still loads and verifies.
	svc.stop()
	checkpoint.reloadOffline(svc.ts.URL + "/verify")
	t.Logf("offline /verify ready (page, module compiled, trust loaded) %s ms after navigation", checkpoint.eval(`document.getElementById("verifier").dataset.readyMs`))
	checkVerdict(t, checkpoint, qrPath, "valid", "Asha Sharma")
	if doses := checkpoint.text("r-doses"); !strings.Contains(doses, "4121Z040") {
		t.Errorf("the verdict does not list the dose: %q", doses)
	}
	checkpoint.screenshot(shots, "09-verify-valid-offline")
	checkpoint.assertAccessible("/verify, a verdict")
	checkpoint.clearResult()

	checkVerdict(t, checkpoint, pdfPath, "valid", "Asha Sharma")
	checkpoint.clearResult()

	checkVerdict(t, checkpoint, forgedQR, "invalid", "")
	checkpoint.screenshot(shots, "10-verify-invalid-offline")
	checkpoint.clearResult()

	// 7. An admin revokes the certificate; when the network is back, the
	// page fetches the new trust bundle (with the CRL) and the same QR is
	// INVALID, as revoked.
	if _, err := svc.iss.Revoke(ctx, certs[0].ID, "issued in error (test)", "admin:test"); err != nil {
		t.Fatal(err)
	}
	svc.restart(t)
	checkpoint.setOffline(false)
	checkpoint.run("reload /verify online", chromedp.Navigate(svc.ts.URL+"/verify"))
	checkpoint.waitJS("the verifier", `document.getElementById("verifier").dataset.ready === "true"`, 60*time.Second)
	checkVerdict(t, checkpoint, qrPath, "invalid", "")
	if got := checkpoint.eval(`Array.from(document.querySelectorAll("#r-reasons li")).map(li => li.dataset.code).join(",")`); !strings.Contains(got, "revoked") {
		t.Errorf("a revoked card's reason codes are %q, want revoked", got)
	}
}

// decodeQR reads the SMART Health Card in a QR image and returns its JWS.
func decodeQR(t *testing.T, png []byte) string {
	t.Helper()
	img, _, err := image.Decode(bytes.NewReader(png))
	if err != nil {
		t.Fatalf("the QR download is not an image: %v", err)
	}
	// The verifier's own reader, as a checkpoint would use it: a single
	// plain ZXing pass misses the finder patterns of a few percent of
	// clean symbols.
	text, err := qrimage.Decode(img)
	if err != nil {
		t.Fatalf("no QR code in the download: %v", err)
	}
	jws, err := shc.ParseQRText(string(text))
	if err != nil {
		t.Fatal(err)
	}
	return jws
}
