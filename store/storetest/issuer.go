package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vaxcert/vaxcert/audit"
	"github.com/vaxcert/vaxcert/booking"
	"github.com/vaxcert/vaxcert/internal/problem"
	"github.com/vaxcert/vaxcert/issuer"
	"github.com/vaxcert/vaxcert/keys"
	"github.com/vaxcert/vaxcert/registration"
	"github.com/vaxcert/vaxcert/shc"
	"github.com/vaxcert/vaxcert/store"
	"github.com/vaxcert/vaxcert/verifier"
	"github.com/vaxcert/vaxcert/verifier/trust"
	"github.com/vaxcert/vaxcert/verifier/verdict"
)

// TestIssuerURL is the iss of the cards issued in tests.
const TestIssuerURL = "https://vaxcert.test"

// Issuing is an issuer over a store, next to the registration and booking
// services of Citizens (sharing its clock), with places loaded and a signing
// key in a temporary key store.
type Issuing struct {
	*Citizens
	Issuer *issuer.Service
	Keys   *keys.FileStore
}

// NewIssuing builds an Issuing over s; tweak, if not nil, adjusts the
// issuer's configuration.
func NewIssuing(t testing.TB, s store.Store, tweak func(*issuer.Config)) *Issuing {
	t.Helper()
	c := NewCitizens(t, s, registration.Limits{OTPCooldown: -1})
	c.Places(t)
	ks, err := keys.OpenFileStore(filepath.Join(t.TempDir(), "keys"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ks.EnsureActive(); err != nil {
		t.Fatal(err)
	}
	cfg := issuer.Config{Store: s, Keys: ks, IssuerURL: TestIssuerURL, RIDSecret: []byte("0123456789abcdef0123456789abcdef"),
		Now: c.Clock.Now, Writers: 2}
	if tweak != nil {
		tweak(&cfg)
	}
	iss, err := issuer.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(iss.Close)
	return &Issuing{Citizens: c, Issuer: iss, Keys: ks}
}

// Beneficiary registers a beneficiary (born on birth, YYYY-MM-DD) under a
// fresh citizen account; i keeps ID numbers and mobiles distinct.
func (is *Issuing) Beneficiary(t testing.TB, name, birth string, i int) registration.Beneficiary {
	t.Helper()
	owner := is.Account(t, fmt.Sprintf("98%08d", i))
	b, err := is.Reg.AddBeneficiary(context.Background(), owner, Person(name, birth, i))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Dose is a dose request at TestCentre by a vaccinator, given days ago.
func (is *Issuing) Dose(ref string, number int, vaccineCode string, daysAgo int, key string) issuer.DoseRequest {
	return issuer.DoseRequest{
		BeneficiaryRef: ref, Vaccine: vaccineCode, Lot: "4121Z" + fmt.Sprint(number), Number: number,
		Date: is.Book.Today().AddDate(0, 0, -daysAgo), CentreID: TestCentre.ID, Actor: "user:vaccinator-1",
		Idempotency: issuer.IdempotencyID{Scope: "user:vaccinator-1", Key: key},
	}
}

// Verify checks a card with the offline verifier, trusting the issuer with
// its JWKS and CRLs exactly as published.
func (is *Issuing) Verify(t testing.TB, jws string) verdict.Result {
	t.Helper()
	ctx := context.Background()
	set, err := is.Issuer.PublishedKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	served, _ := json.Marshal(set)
	tkeys, probs, err := trust.ParseJWKS(served)
	if err != nil || len(probs) > 0 {
		t.Fatalf("published JWKS: %v %v", probs, err)
	}
	ti := &trust.Issuer{Iss: TestIssuerURL, Keys: map[string]*trust.Key{}, CRLs: map[string]*trust.CRL{}}
	for _, k := range tkeys {
		doc, err := is.Issuer.CRL(ctx, k.Kid)
		if err != nil {
			t.Fatal(err)
		}
		crl, err := trust.ParseCRL(doc)
		if err != nil {
			t.Fatal(err)
		}
		ti.Keys[k.Kid], ti.CRLs[k.Kid] = k, crl
	}
	v := verifier.Verifier{Trust: trust.NewStore(ti), Now: is.Clock.Now}
	return v.VerifyJWS(jws, "test")
}

func (is *Issuing) auditActions(t testing.TB) []string {
	t.Helper()
	entries, err := is.Store.ListAudit(context.Background(), 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := audit.Verify(context.Background(), is.Store); err != nil {
		t.Fatalf("audit chain: %v", err)
	}
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.Action + " " + e.Subject
	}
	return out
}

func countActions(actions []string, prefix string) int {
	n := 0
	for _, a := range actions {
		if strings.HasPrefix(a, prefix) {
			n++
		}
	}
	return n
}

// testIssueAfterEachDose: provisional after dose 1, final after dose 2,
// precaution after dose 3, each card valid and listing every dose; the
// appointment is completed with the dose; everything is audited.
func testIssueAfterEachDose(t *testing.T, open Opener) {
	ctx := context.Background()
	is := NewIssuing(t, open(t), nil)
	b := is.Beneficiary(t, "Asha Kumari", "1980-05-17", 1)

	owner, _ := is.Store.Account(ctx, b.AccountID)
	sess := is.Session(t, TestCentre.ID, "COVISHIELD", 0, booking.Capacity{Dose1: 3})
	appt, err := is.Book.Schedule(ctx, owner.Principal(), b.RefID, sess.ID, "FORENOON")
	if err != nil {
		t.Fatal(err)
	}
	// Dose 1 today (the booked appointment), dose 2 after the interval, a
	// precaution dose of another vaccine nine months later.
	steps := []struct {
		number  int
		vaccine string
		advance time.Duration
		course  string
	}{
		{1, "COVISHIELD", 0, "provisional"},
		{2, "COVISHIELD", 90 * 24 * time.Hour, "final"},
		{3, "COVAXIN", 280 * 24 * time.Hour, "precaution"},
	}
	var prev issuer.Certificate
	for _, st := range steps {
		is.Clock.Advance(st.advance)
		rec, err := is.Issuer.RecordDose(ctx, is.Dose(b.RefID, st.number, st.vaccine, 0, fmt.Sprint("k", st.number)))
		if err != nil {
			t.Fatalf("dose %d: %v", st.number, err)
		}
		c := rec.Certificate
		if c.Status != issuer.Issued || string(c.Course) != st.course || c.DoseCount != st.number || c.JWS == "" || rec.Replayed {
			t.Fatalf("dose %d: certificate %+v", st.number, c)
		}
		if c.NBF <= prev.NBF {
			t.Fatalf("nbf did not increase: %d after %d", c.NBF, prev.NBF)
		}
		res := is.Verify(t, c.JWS)
		if res.Status != verdict.Valid || len(res.Doses) != st.number {
			t.Fatalf("dose %d: verifier says %s %+v, %d doses", st.number, res.Status, res.Reasons, len(res.Doses))
		}
		if res.Subject == nil || res.Subject.Name != "Asha Kumari" || res.Subject.BirthDate != "1980-05-17" {
			t.Fatalf("card subject %+v", res.Subject)
		}
		stored, err := is.Issuer.Certificate(ctx, c.ID)
		if err != nil || stored.Status != issuer.Issued || stored.JWS != c.JWS || stored.AccountID != b.AccountID {
			t.Fatalf("stored certificate %+v, %v", stored, err)
		}
		cur, err := is.Issuer.Current(ctx, b.RefID)
		if err != nil || cur.ID != c.ID {
			t.Fatalf("current certificate %s, %v; want %s", cur.ID, err, c.ID)
		}
		prev = c
		if st.number == 1 {
			a, err := is.Book.Appointment(ctx, owner.Principal(), appt.ID)
			if err != nil || a.Status != booking.StatusCompleted {
				t.Fatalf("appointment after dose 1: %+v, %v", a, err)
			}
		}
	}
	history, err := is.Store.DoseHistory(ctx, b.RefID)
	if err != nil || len(history) != 3 {
		t.Fatalf("DoseHistory = %+v, %v", history, err)
	}
	actions := is.auditActions(t)
	for _, want := range []string{"dose.recorded", "certificate.pending", "certificate.issued"} {
		if n := countActions(actions, want); n != 3 {
			t.Errorf("%d %q audit entries, want 3: %v", n, want, actions)
		}
	}
	certs, err := is.Issuer.Certificates(ctx, issuer.CertificateFilter{BeneficiaryRef: b.RefID})
	if err != nil || len(certs) != 3 || certs[0].ID != prev.ID {
		t.Fatalf("Certificates: %d, %v", len(certs), err)
	}
}

// testDoseRules: bad input is refused with a clear problem, and nothing is
// stored.
func testDoseRules(t *testing.T, open Opener) {
	ctx := context.Background()
	is := NewIssuing(t, open(t), nil)
	b := is.Beneficiary(t, "Ravi Shankar", "1990-01-01", 2)
	young := is.Beneficiary(t, "Chotu Singh", "2015-06-01", 3)
	if _, err := is.Issuer.RecordDose(ctx, is.Dose(b.RefID, 1, "COVISHIELD", 30, "first")); err != nil {
		t.Fatal(err)
	}
	before := len(is.auditActions(t))
	lot := func(r issuer.DoseRequest, l string) issuer.DoseRequest { r.Lot = l; return r }
	centre := func(r issuer.DoseRequest, c string) issuer.DoseRequest { r.CentreID = c; return r }
	future := is.Dose(b.RefID, 2, "COVISHIELD", 0, "f")
	future.Date = is.Book.Today().AddDate(0, 0, 1)
	cases := []struct {
		name string
		req  issuer.DoseRequest
		kind problem.Kind
		slug string
	}{
		{"unknown beneficiary", is.Dose("99999999999999", 1, "COVISHIELD", 0, "a"), problem.NotFound, "beneficiary-not-found"},
		{"malformed beneficiary", is.Dose("12", 1, "COVISHIELD", 0, "b"), problem.Invalid, "beneficiary-ref-invalid"},
		{"wrong dose number", is.Dose(b.RefID, 3, "COVISHIELD", 0, "c"), problem.Conflict, "wrong-dose-number"},
		{"dose 1 again", is.Dose(b.RefID, 1, "COVISHIELD", 0, "d"), problem.Conflict, "wrong-dose-number"},
		{"same dose 1 again", is.Dose(b.RefID, 1, "COVISHIELD", 30, "d2"), problem.Conflict, "dose-already-recorded"},
		{"too early", is.Dose(b.RefID, 2, "COVISHIELD", 0, "e"), problem.Conflict, "dose-too-early"},
		{"future date", future, problem.Invalid, "date-in-future"},
		{"unknown vaccine", is.Dose(b.RefID, 2, "SNAKEOIL", 0, "g"), problem.Invalid, "vaccine-unknown"},
		{"other vaccine in the course", is.Dose(b.RefID, 2, "COVAXIN", 0, "h"), problem.Conflict, "vaccine-mismatch"},
		{"oversized lot", lot(is.Dose(b.RefID, 2, "COVISHIELD", 0, "i"), strings.Repeat("L", issuer.MaxLotLength+1)), problem.Invalid, "lot-too-long"},
		{"empty lot", lot(is.Dose(b.RefID, 2, "COVISHIELD", 0, "j"), " "), problem.Invalid, "lot-missing"},
		{"unknown centre", centre(is.Dose(b.RefID, 2, "COVISHIELD", 0, "k"), "123456789"), problem.NotFound, "centre-not-found"},
		{"too young", is.Dose(young.RefID, 1, "COVISHIELD", 0, "l"), problem.Conflict, "below-minimum-age"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := is.Issuer.RecordDose(ctx, c.req)
			if p := wantProblem(t, err, c.kind, c.slug); p.Detail == "" {
				t.Fatal("no detail")
			}
		})
	}
	history, _ := is.Store.DoseHistory(ctx, b.RefID)
	certs, _ := is.Issuer.Certificates(ctx, issuer.CertificateFilter{})
	if len(history) != 1 || len(certs) != 1 || len(is.auditActions(t)) != before {
		t.Fatalf("bad requests stored something: %d doses, %d certificates, %d audit entries (had %d)",
			len(history), len(certs), len(is.auditActions(t)), before)
	}
}

// testIdempotency: a retry returns the first answer; a concurrent storm of
// duplicates records one dose and one certificate; a key reused for another
// request is refused.
func testIdempotency(t *testing.T, open Opener) {
	ctx := context.Background()
	is := NewIssuing(t, open(t), nil)
	b := is.Beneficiary(t, "Meera Nair", "1985-02-02", 4)
	req := is.Dose(b.RefID, 1, "COVAXIN", 1, "retry-1")
	first, err := is.Issuer.RecordDose(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	again, err := is.Issuer.RecordDose(ctx, req)
	if err != nil || !again.Replayed || again.Dose.ID != first.Dose.ID || again.Certificate.ID != first.Certificate.ID ||
		again.Certificate.JWS != first.Certificate.JWS {
		t.Fatalf("retry: %+v, %v", again, err)
	}
	other := req
	other.Lot = "OTHER"
	_, err = is.Issuer.RecordDose(ctx, other)
	wantProblem(t, err, problem.Conflict, "idempotency-key-reused")
	// The same key from another vaccinator is another key.
	elsewhere := req
	elsewhere.Idempotency.Scope = "user:vaccinator-2"
	_, err = is.Issuer.RecordDose(ctx, elsewhere)
	wantProblem(t, err, problem.Conflict, "dose-already-recorded")

	// Concurrent duplicates of dose 2, on many beneficiaries at once.
	is.Clock.Advance(40 * 24 * time.Hour)
	const people, copies = 6, 8
	var bens []registration.Beneficiary
	for i := range people {
		nb := is.Beneficiary(t, "Storm Person", "1970-01-01", 100+i)
		if _, err := is.Issuer.RecordDose(ctx, is.Dose(nb.RefID, 1, "COVAXIN", 30, "one-"+nb.RefID)); err != nil {
			t.Fatal(err)
		}
		bens = append(bens, nb)
	}
	results := make([][]issuer.Recorded, people)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for p := range people {
		results[p] = make([]issuer.Recorded, copies)
		for c := range copies {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rec, err := is.Issuer.RecordDose(ctx, is.Dose(bens[p].RefID, 2, "COVAXIN", 0, "storm-"+bens[p].RefID))
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
				results[p][c] = rec
			}()
		}
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("concurrent duplicates failed: %v", errs)
	}
	for p := range people {
		replays := 0
		for _, r := range results[p] {
			if r.Dose.ID != results[p][0].Dose.ID || r.Certificate.ID != results[p][0].Certificate.ID || r.Certificate.Status != issuer.Issued {
				t.Fatalf("beneficiary %d: answers differ: %+v vs %+v", p, r, results[p][0])
			}
			if r.Replayed {
				replays++
			}
		}
		if replays != copies-1 {
			t.Fatalf("beneficiary %d: %d replays of %d", p, replays, copies)
		}
		history, _ := is.Store.DoseHistory(ctx, bens[p].RefID)
		certs, _ := is.Issuer.Certificates(ctx, issuer.CertificateFilter{BeneficiaryRef: bens[p].RefID})
		if len(history) != 2 || len(certs) != 2 {
			t.Fatalf("beneficiary %d: %d doses, %d certificates after the storm", p, len(history), len(certs))
		}
	}
	actions := is.auditActions(t)
	if n := countActions(actions, "certificate.issued"); n != 1+people*2 {
		t.Fatalf("%d certificates issued, want %d", n, 1+people*2)
	}
	if n, err := is.Store.DeleteIdempotencyKeys(ctx, is.Clock.Now().Add(time.Hour)); err != nil || n != int64(1+2*people) {
		t.Fatalf("DeleteIdempotencyKeys = %d, %v", n, err)
	}
}

// crash is the panic value of a simulated crash.
type crash string

// testCrashRecovery: a crash after any step of issuing leaves a pending
// certificate (or an issued one) that FinishPending completes exactly once.
func testCrashRecovery(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	var crashAt sync.Map // step -> true
	is := NewIssuing(t, s, func(c *issuer.Config) {
		c.Fault = func(step string) {
			if _, ok := crashAt.LoadAndDelete(step); ok {
				panic(crash(step))
			}
		}
	})
	for i, step := range []string{issuer.FaultAfterPending, issuer.FaultAfterSign, issuer.FaultAfterIssued} {
		b := is.Beneficiary(t, "Crash Test", "1960-12-12", 200+i)
		crashAt.Store(step, true)
		func() {
			defer func() {
				if v := recover(); v != crash(step) {
					t.Fatalf("%s: recovered %v", step, v)
				}
			}()
			_, err := is.Issuer.RecordDose(ctx, is.Dose(b.RefID, 1, "CORBEVAX", 0, "crash-"+step))
			t.Errorf("%s: no crash: %v", step, err)
		}()
		certs, err := is.Issuer.Certificates(ctx, issuer.CertificateFilter{BeneficiaryRef: b.RefID})
		if err != nil || len(certs) != 1 {
			t.Fatalf("%s: %d certificates, %v", step, len(certs), err)
		}
		wantStatus := issuer.Pending
		if step == issuer.FaultAfterIssued {
			wantStatus = issuer.Issued
		}
		if certs[0].Status != wantStatus {
			t.Fatalf("%s: certificate is %s, want %s", step, certs[0].Status, wantStatus)
		}
		n, err := is.Issuer.FinishPending(ctx, 0)
		if err != nil || (wantStatus == issuer.Pending) != (n == 1) {
			t.Fatalf("%s: FinishPending = %d, %v", step, n, err)
		}
		c, err := is.Issuer.Current(ctx, b.RefID)
		if err != nil || c.ID != certs[0].ID || is.Verify(t, c.JWS).Status != verdict.Valid {
			t.Fatalf("%s: after recovery: %+v, %v", step, c, err)
		}
		// The retry the client makes after the crash gets the same answer.
		rec, err := is.Issuer.RecordDose(ctx, is.Dose(b.RefID, 1, "CORBEVAX", 0, "crash-"+step))
		if err != nil || !rec.Replayed || rec.Certificate.ID != c.ID || rec.Certificate.JWS != c.JWS {
			t.Fatalf("%s: retry after recovery: %+v, %v", step, rec, err)
		}
	}
	actions := is.auditActions(t)
	if n := countActions(actions, "certificate.issued"); n != 3 {
		t.Fatalf("%d certificate.issued entries, want 3 (one per certificate): %v", n, actions)
	}
	if n, err := is.Issuer.FinishPending(ctx, 0); n != 0 || err != nil {
		t.Fatalf("second FinishPending = %d, %v", n, err)
	}
}

// testMarkIssuedOnce: of two signers racing to finish one pending
// certificate, exactly one wins the compare-and-set.
func testMarkIssuedOnce(t *testing.T, open Opener) {
	ctx := context.Background()
	is := NewIssuing(t, open(t), func(c *issuer.Config) {
		c.Fault = func(step string) {
			if step == issuer.FaultAfterPending {
				panic(crash(step))
			}
		}
	})
	b := is.Beneficiary(t, "Race Twin", "1999-09-09", 300)
	func() {
		defer func() { recover() }()
		is.Issuer.RecordDose(ctx, is.Dose(b.RefID, 1, "COVOVAX", 0, "race"))
	}()
	pending, err := is.Store.PendingCertificates(ctx, is.Clock.Now(), 10)
	if err != nil || len(pending) != 1 {
		t.Fatalf("pending: %d, %v", len(pending), err)
	}
	var wg sync.WaitGroup
	got := make([]issuer.Certificate, 8)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := is.Issuer.Finish(ctx, pending[0].ID, "system")
			if err != nil {
				t.Error(err)
			}
			got[i] = c
		}()
	}
	wg.Wait()
	for _, c := range got {
		if c.Status != issuer.Issued || c.JWS != got[0].JWS {
			t.Fatalf("finishers disagree: %q vs %q", c.JWS, got[0].JWS)
		}
	}
	if n := countActions(is.auditActions(t), "certificate.issued"); n != 1 {
		t.Fatalf("%d certificate.issued entries, want 1", n)
	}
	// A direct CAS on an issued certificate does nothing.
	job := &issuer.IssueJob{CertID: pending[0].ID, KID: "k", RID: "r", JWS: "x.y.z", IssuedAt: time.Now()}
	if err := is.Store.Write(ctx, &issuer.WriteBatch{Issued: []*issuer.IssueJob{job}}); err != nil || job.Won {
		t.Fatalf("marking an issued certificate issued: won=%v, %v", job.Won, err)
	}

	// Two finishers in one batch: exactly one wins, and its JWS is stored.
	b2 := is.Beneficiary(t, "Race Triplet", "1999-09-09", 301)
	func() {
		defer func() { recover() }()
		is.Issuer.RecordDose(ctx, is.Dose(b2.RefID, 1, "COVOVAX", 0, "race2"))
	}()
	pending, err = is.Store.PendingCertificates(ctx, is.Clock.Now(), 10)
	if err != nil || len(pending) != 1 {
		t.Fatalf("pending: %d, %v", len(pending), err)
	}
	first := &issuer.IssueJob{CertID: pending[0].ID, KID: "k", RID: "r", JWS: "a.b.first", IssuedAt: time.Now()}
	second := &issuer.IssueJob{CertID: pending[0].ID, KID: "k", RID: "r", JWS: "a.b.second", IssuedAt: time.Now()}
	if err := is.Store.Write(ctx, &issuer.WriteBatch{Issued: []*issuer.IssueJob{first, second}}); err != nil {
		t.Fatal(err)
	}
	if first.Won == second.Won {
		t.Fatalf("won: first %v, second %v", first.Won, second.Won)
	}
	winner := first
	if second.Won {
		winner = second
	}
	if c, err := is.Store.Certificate(ctx, pending[0].ID); err != nil || c.JWS != winner.JWS {
		t.Fatalf("stored %q, the winner signed %q (%v)", c.JWS, winner.JWS, err)
	}
}

// testCorrections: an admin's correction issues a new card with the new
// details and revokes the earlier ones through the CRL; the number of
// corrections is limited.
func testCorrections(t *testing.T, open Opener) {
	ctx := context.Background()
	is := NewIssuing(t, open(t), func(c *issuer.Config) { c.MaxCorrections = 2 })
	b := is.Beneficiary(t, "Sunita Devi", "1975-07-07", 400)
	d1, err := is.Issuer.RecordDose(ctx, is.Dose(b.RefID, 1, "COVAXIN", 40, "c1"))
	if err != nil {
		t.Fatal(err)
	}
	d2, err := is.Issuer.RecordDose(ctx, is.Dose(b.RefID, 2, "COVAXIN", 0, "c2"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = is.Issuer.Correct(ctx, issuer.Correction{BeneficiaryRef: b.RefID, Name: "Sunita Devi Rao", Actor: "user:admin"})
	wantProblem(t, err, problem.Invalid, "reason-invalid")
	_, err = is.Issuer.Correct(ctx, issuer.Correction{BeneficiaryRef: b.RefID, Name: "Sunita Devi", Reason: "typo in the name", Actor: "user:admin"})
	wantProblem(t, err, problem.Conflict, "correction-unchanged")
	_, err = is.Issuer.Correct(ctx, issuer.Correction{BeneficiaryRef: "12345678901234", Name: "X Y", Reason: "typo in the name", Actor: "user:admin"})
	wantProblem(t, err, problem.NotFound, "beneficiary-not-found")

	out, err := is.Issuer.Correct(ctx, issuer.Correction{BeneficiaryRef: b.RefID, Name: "Sunita Devi Rao", BirthDate: "1975-07-08",
		Reason: "name and birth date as on the Aadhaar card", Actor: "user:admin"})
	if err != nil {
		t.Fatal(err)
	}
	if out.Beneficiary.Name != "Sunita Devi Rao" || out.Beneficiary.Corrections != 1 || out.Certificate == nil || len(out.Revoked) != 2 {
		t.Fatalf("correction: %+v", out)
	}
	stored, err := is.Store.Beneficiary(ctx, b.RefID)
	if err != nil || stored.Name != "Sunita Devi Rao" || stored.BirthDate.Format(time.DateOnly) != "1975-07-08" || stored.Corrections != 1 {
		t.Fatalf("stored beneficiary %+v, %v", stored, err)
	}
	res := is.Verify(t, out.Certificate.JWS)
	if res.Status != verdict.Valid || res.Subject.Name != "Sunita Devi Rao" || len(res.Doses) != 2 {
		t.Fatalf("new card: %s %+v", res.Status, res.Reasons)
	}
	for _, old := range []issuer.Certificate{d1.Certificate, d2.Certificate} {
		if r := is.Verify(t, old.JWS); r.Status != verdict.Invalid || r.Reasons[0].Code != "revoked" {
			t.Fatalf("old card %s after correction: %s %+v", old.ID, r.Status, r.Reasons)
		}
		c, _ := is.Issuer.Certificate(ctx, old.ID)
		if !c.Revoked() || !strings.Contains(c.RevokeReason, "Aadhaar") {
			t.Fatalf("old certificate not marked revoked: %+v", c)
		}
	}
	// The JWKS announces the CRL's new counter.
	set, _ := is.Issuer.PublishedKeys(ctx)
	if set.Keys[0].CRLVersion != 2 {
		t.Fatalf("crlVersion = %d after one CRL change, want 2", set.Keys[0].CRLVersion)
	}
	if _, err := is.Issuer.Correct(ctx, issuer.Correction{BeneficiaryRef: b.RefID, Gender: "other", Reason: "gender as declared", Actor: "user:admin"}); err != nil {
		t.Fatal(err)
	}
	_, err = is.Issuer.Correct(ctx, issuer.Correction{BeneficiaryRef: b.RefID, Gender: "female", Reason: "back again", Actor: "user:admin"})
	wantProblem(t, err, problem.Conflict, "correction-limit")
	actions := is.auditActions(t)
	if countActions(actions, "beneficiary.corrected") != 2 || countActions(actions, "certificate.revoked") != 3 {
		t.Fatalf("audit: %v", actions)
	}

	// A correction before any dose changes the details and issues nothing.
	nb := is.Beneficiary(t, "Ramesh Lal", "1966-06-06", 401)
	out, err = is.Issuer.Correct(ctx, issuer.Correction{BeneficiaryRef: nb.RefID, Name: "Ramesh Lall", Reason: "spelling", Actor: "user:admin"})
	if err != nil || out.Certificate != nil {
		t.Fatalf("correction without doses: %+v, %v", out, err)
	}
}

// testRevocation: revoking a card publishes rid.<nbf+1>: that card and the
// person's earlier cards fail, a later card stays valid, and the CRL counter
// follows.
func testRevocation(t *testing.T, open Opener) {
	ctx := context.Background()
	is := NewIssuing(t, open(t), nil)
	b := is.Beneficiary(t, "Vikram Seth", "1970-10-10", 500)
	d1, err := is.Issuer.RecordDose(ctx, is.Dose(b.RefID, 1, "SPUTNIK_V", 30, "r1"))
	if err != nil {
		t.Fatal(err)
	}
	d2, err := is.Issuer.RecordDose(ctx, is.Dose(b.RefID, 2, "SPUTNIK_V", 0, "r2"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = is.Issuer.Revoke(ctx, d2.Certificate.ID, "", "user:admin")
	wantProblem(t, err, problem.Invalid, "reason-invalid")
	_, err = is.Issuer.Revoke(ctx, "NOSUCHCERT", "issued in error", "user:admin")
	wantProblem(t, err, problem.NotFound, "certificate-not-found")

	c, err := is.Issuer.Revoke(ctx, d1.Certificate.ID, "dose 1 card reported stolen", "user:admin")
	if err != nil || !c.Revoked() {
		t.Fatalf("revoke: %+v, %v", c, err)
	}
	_, err = is.Issuer.Revoke(ctx, d1.Certificate.ID, "dose 1 card reported stolen", "user:admin")
	wantProblem(t, err, problem.Conflict, "certificate-revoked")
	if r := is.Verify(t, d1.Certificate.JWS); r.Status != verdict.Invalid {
		t.Fatalf("revoked card verifies: %s", r.Status)
	}
	if r := is.Verify(t, d2.Certificate.JWS); r.Status != verdict.Valid {
		t.Fatalf("later card was revoked too: %s %+v", r.Status, r.Reasons)
	}
	kid := d1.Certificate.KID
	doc, err := is.Issuer.CRL(ctx, kid)
	if err != nil {
		t.Fatal(err)
	}
	var crl struct {
		Kid    string   `json:"kid"`
		Method string   `json:"method"`
		Ctr    int      `json:"ctr"`
		RIDs   []string `json:"rids"`
	}
	if err := json.Unmarshal(doc, &crl); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("%s.%d", d1.Certificate.RID, d1.Certificate.NBF+1)
	if crl.Kid != kid || crl.Method != "rid" || crl.Ctr != 2 || len(crl.RIDs) != 1 || crl.RIDs[0] != want {
		t.Fatalf("CRL %s; want ctr 2 and rids [%s]", doc, want)
	}

	// Revoking the newest card too; then a re-issue gives a valid card.
	if _, err := is.Issuer.Revoke(ctx, d2.Certificate.ID, "issued to the wrong person", "user:admin"); err != nil {
		t.Fatal(err)
	}
	if _, err := is.Issuer.Current(ctx, b.RefID); !problem.Is(err, problem.NotFound) {
		t.Fatalf("current certificate after revoking all: %v", err)
	}
	again, err := is.Issuer.Reissue(ctx, b.RefID, "checked the records again", "user:admin")
	if err != nil {
		t.Fatal(err)
	}
	if r := is.Verify(t, again.JWS); r.Status != verdict.Valid {
		t.Fatalf("re-issued card: %s %+v", r.Status, r.Reasons)
	}
	set, _ := is.Issuer.PublishedKeys(ctx)
	if set.Keys[0].CRLVersion != 3 {
		t.Fatalf("crlVersion = %d, want 3", set.Keys[0].CRLVersion)
	}
	if _, err := is.Issuer.CRL(ctx, strings.Repeat("A", 43)); !problem.Is(err, problem.NotFound) {
		t.Fatalf("CRL of an unknown kid: %v", err)
	}
	if n := countActions(is.auditActions(t), "certificate.revoked"); n != 2 {
		t.Fatalf("%d revocations audited, want 2", n)
	}
}

// testQRBoundary: four doses, the longest name registration allows (of
// letters that take two bytes each and do not compress), the longest lot
// numbers and a long centre name still fit one QR code, with every dose on
// the card.
func testQRBoundary(t *testing.T, open Opener) {
	ctx := context.Background()
	is := NewIssuing(t, open(t), nil)
	rnd := rand.New(rand.NewPCG(1, 2))
	var name []rune
	for len(name) < 100 {
		if len(name)%9 == 8 && len(name) < 99 {
			name = append(name, ' ')
			continue
		}
		name = append(name, rune(0x100+rnd.IntN(0x80))) // Latin Extended-A
	}
	lot := func() string {
		const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
		b := make([]byte, issuer.MaxLotLength)
		for i := range b {
			b[i] = alphabet[rnd.IntN(len(alphabet))]
		}
		return string(b)
	}
	centre := TestCentre
	centre.ID, centre.Name = "600099", "Sri Venkateswara Institute of Medical Sciences Tirupati"
	if err := is.Store.PutCentre(ctx, centre); err != nil {
		t.Fatal(err)
	}
	b := is.Beneficiary(t, string(name), "1950-01-01", 600)
	var last issuer.Certificate
	for n := 1; n <= 4; n++ {
		vax := "COVISHIELD"
		if n > 2 {
			vax = "CORBEVAX"
		}
		req := is.Dose(b.RefID, n, vax, 0, fmt.Sprint("qr", n))
		req.Lot, req.CentreID = lot(), centre.ID
		rec, err := is.Issuer.RecordDose(ctx, req)
		if err != nil {
			t.Fatalf("dose %d: %v", n, err)
		}
		last = rec.Certificate
		is.Clock.Advance(300 * 24 * time.Hour)
	}
	if len(last.JWS) > shc.MaxQRJWSLength {
		t.Fatalf("JWS is %d characters", len(last.JWS))
	}
	res := is.Verify(t, last.JWS)
	if res.Status != verdict.Valid || len(res.Doses) != 4 || res.Subject.Name != string(name) {
		t.Fatalf("card with four doses: %s %+v, %d doses", res.Status, res.Reasons, len(res.Doses))
	}
	for i, d := range res.Doses {
		if d.Lot != last.Details.Doses[i].Lot {
			t.Fatalf("dose %d: lot %q on the card, %q recorded", i+1, d.Lot, last.Details.Doses[i].Lot)
		}
		if len([]rune(d.Performer)) > issuer.MaxPerformerLength {
			t.Fatalf("dose %d: performer %q is too long", i+1, d.Performer)
		}
	}
	if _, err := shc.QRCode(last.JWS); err != nil {
		t.Fatal(err)
	}
	t.Logf("four doses, a 100-letter name, 20-character lots: JWS of %d characters, performer %q", len(last.JWS), res.Doses[0].Performer)
}
