package reliability

import (
	"net/http"
	"regexp"
	"testing"
)

// flow is a running service with a small world in it: two centres with
// sessions from tomorrow on, a vaccinator at each, an admin, and two
// citizens A and B, each with beneficiaries. B's first beneficiary has had
// dose 1 recorded (so it has a certificate); B's second and A's
// beneficiary have open appointments.
type flow struct {
	svc *service

	vaxA, vaxB, admin  string // tokens
	citizenA, citizenB string
	mobileA, mobileB   string

	sessionA string // a session at centre A, tomorrow
	slot     string

	refA, refB, refB2  string // A's beneficiary; B's two
	aadhaarA, aadhaarB string
	apptA, apptB2      string   // open appointments
	certB              string   // refB's certificate
	otps               []string // every OTP and token the flow handled,
	tokens             []string // for the privacy test to look for
}

var sessionLine = regexp.MustCompile(`session ([0-9a-f-]{36}):`)

// newFlow builds the world through the CLI and the API, as people would.
func newFlow(t *testing.T, extraArgs ...string) *flow {
	t.Helper()
	data := prepareData(t, "")
	bin := binary(t, "vaxcert")
	tomorrow := todayIST().AddDate(0, 0, 1).Format("2006-01-02")
	out, code := runVaxcert(t, bin, "sessions", "add", "--data", data, "--centre", centreA, "--date", tomorrow,
		"--days", "2", "--vaccine", "COVISHIELD", "--dose1", "50", "--dose2", "50", "--precaution", "50")
	m := sessionLine.FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Fatalf("sessions add: exit %d\n%s", code, out)
	}
	f := &flow{sessionA: m[1]}
	f.svc = startService(t, serviceOptions{data: data, args: append(append([]string{"--issuer-url", testIssuerURL}, generousLimits...), extraArgs...)})

	f.vaxA = f.loginAs(t, vaccinatorAMobile)
	f.vaxB = f.loginAs(t, vaccinatorBMobile)
	f.admin = f.loginAs(t, adminMobile)
	f.mobileA, f.mobileB = newMobile(), newMobile()
	f.citizenA = f.loginAs(t, f.mobileA)
	f.citizenB = f.loginAs(t, f.mobileB)
	a, b := f.svc.client(f.citizenA), f.svc.client(f.citizenB)
	f.aadhaarA, f.aadhaarB = newAadhaar(), newAadhaar()
	f.refA = a.addBeneficiary(t, "Asha Rao", f.aadhaarA)
	f.refB = b.addBeneficiary(t, "Bela Iyer", f.aadhaarB)
	f.refB2 = b.addBeneficiary(t, "Bhanu Iyer", newAadhaar())

	var sess struct {
		Slots []string `json:"slots"`
	}
	f.svc.client("").must(t, http.StatusOK, "GET", "/api/v1/sessions/"+f.sessionA, nil).decode(t, &sess)
	if len(sess.Slots) == 0 {
		t.Fatal("the session has no slots")
	}
	f.slot = sess.Slots[0]
	f.apptA = f.book(t, a, f.refA)
	f.apptB2 = f.book(t, b, f.refB2)

	var rec recordedView
	f.svc.client(f.vaxA).must(t, http.StatusCreated, "POST", "/api/v1/vaccinations",
		doseBody(f.refB, 1, todayIST(), centreA), "Idempotency-Key", newKey()).decode(t, &rec)
	f.certB = rec.Certificate.ID
	if f.certB == "" {
		t.Fatal("no certificate for the recorded dose")
	}
	return f
}

func (f *flow) loginAs(t *testing.T, mobile string) string {
	t.Helper()
	txn, otp := f.svc.requestOTP(t, mobile)
	f.otps = append(f.otps, otp)
	r := f.svc.client("").must(t, http.StatusOK, "POST", "/api/v1/auth/otp/confirm", map[string]string{"txn_id": txn, "otp": otp})
	var tok struct {
		Token string `json:"token"`
	}
	r.decode(t, &tok)
	f.tokens = append(f.tokens, tok.Token)
	return tok.Token
}

// book books the flow's session for ref and returns the appointment ID.
func (f *flow) book(t *testing.T, c *apiClient, ref string) string {
	t.Helper()
	var appt struct {
		ID string `json:"appointment_id"`
	}
	c.must(t, http.StatusCreated, "POST", "/api/v1/appointments",
		map[string]string{"beneficiary_reference_id": ref, "session_id": f.sessionA, "slot": f.slot}).decode(t, &appt)
	if appt.ID == "" {
		t.Fatal("no appointment ID")
	}
	return appt.ID
}
