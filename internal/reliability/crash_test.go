package reliability

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vaxcert/vaxcert/internal/pgtest"
	"github.com/vaxcert/vaxcert/verifier"
	"github.com/vaxcert/vaxcert/verifier/trust"
	"github.com/vaxcert/vaxcert/verifier/verdict"
)

// waitExit waits for the process to end by itself (a fault-injected crash).
func (s *service) waitExit(d time.Duration) bool {
	select {
	case <-s.done:
		s.cmd = nil
		return true
	case <-time.After(d):
		return false
	}
}

// acked is a dose the service answered 2xx.
type acked struct {
	ref      string
	number   int
	doseID   string
	certID   string
	replayed bool
}

// TestCrashDuringIssuance SIGKILLs the service at random moments while
// vaccinators record doses (each recorded dose issues a certificate), 20
// times, restarting it each time, and also crashes it once at each step of
// issuing through its test-only fault hook. The clients do what a real desk
// does: a request without an answer is retried with the same
// Idempotency-Key once the service is back. Afterwards every dose answered
// 2xx has exactly one certificate, issued and valid against the published
// keys; no certificate lacks its dose; nothing is left pending; each
// beneficiary's newest certificate covers all its doses; and the audit
// chain is intact.
func TestCrashDuringIssuance(t *testing.T) {
	runCrashTest(t, "")
}

// TestCrashDuringIssuancePostgres is the same against PostgreSQL (the shared
// test server; the service is killed, never the database).
func TestCrashDuringIssuancePostgres(t *testing.T) {
	if !long() {
		t.Skip("PostgreSQL crash run is part of -long (VAXCERT_LONG=1)")
	}
	runCrashTest(t, pgtest.URL(t))
}

func runCrashTest(t *testing.T, db string) {
	kills := sized(20, 50)
	beneficiaries := sized(600, 2000)
	workers := 4

	data := prepareData(t, db)
	svc := startService(t, serviceOptions{data: data, db: db, args: append([]string{"--issuer-url", testIssuerURL}, generousLimits...)})
	vaxToken := svc.login(t, vaccinatorAMobile)
	adminToken := svc.login(t, adminMobile)

	// Citizens and their beneficiaries, before the crashes.
	regStart := time.Now()
	var refs []string
	for len(refs) < beneficiaries {
		c := svc.client(svc.login(t, newMobile()))
		for i := 0; i < 4 && len(refs) < beneficiaries; i++ {
			refs = append(refs, c.addBeneficiary(t, fmt.Sprintf("Crash Test %c%c", 'A'+len(refs)%26, 'A'+len(refs)/26%26), newAadhaar()))
		}
	}

	t.Logf("%d beneficiaries registered in %s", len(refs), time.Since(regStart).Round(time.Millisecond))

	// The load: each beneficiary gets its two primary doses and four
	// precaution doses (each at least 9 months after the one before), each
	// retried with its key until answered.
	today := todayIST()
	var doseDates []time.Time
	for _, daysAgo := range []int{1500, 1400, 1100, 800, 500, 200} {
		doseDates = append(doseDates, today.AddDate(0, 0, -daysAgo))
	}
	work := make(chan string, len(refs))
	for _, r := range refs {
		work <- r
	}
	close(work)
	var (
		mu      sync.Mutex
		acks    []acked
		retries atomic.Int64
		stop    atomic.Bool
		wg      sync.WaitGroup
	)
	desk := svc.client(vaxToken)
	recordUntilAnswered := func(ref string, number int, date time.Time) error {
		key := newKey()
		deadline := time.Now().Add(3 * time.Minute)
		for {
			r, err := desk.do("POST", "/api/v1/vaccinations", doseBody(ref, number, date, centreA), "Idempotency-Key", key)
			switch {
			case err == nil && r.status == http.StatusCreated:
				var v recordedView
				if err := jsonUnmarshal(r.body, &v); err != nil {
					return err
				}
				if v.Dose.ID == "" || v.Certificate.ID == "" || v.Dose.Number != number || v.Dose.Ref != ref {
					return fmt.Errorf("dose %d of %s: odd answer %s", number, ref, r.body)
				}
				mu.Lock()
				acks = append(acks, acked{ref: ref, number: number, doseID: v.Dose.ID, certID: v.Certificate.ID,
					replayed: r.header.Get("Idempotent-Replayed") == "true"})
				mu.Unlock()
				return nil
			case err == nil && r.status != http.StatusServiceUnavailable && r.status != http.StatusBadGateway:
				return fmt.Errorf("dose %d of %s: status %d: %s", number, ref, r.status, r.body)
			}
			// No answer (the process died) or 503: retry with the same key.
			retries.Add(1)
			if time.Now().After(deadline) {
				return fmt.Errorf("dose %d of %s: no answer for 3 minutes (last: %v)", number, ref, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	errc := make(chan error, workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ref := range work {
				if stop.Load() {
					return
				}
				for n, date := range doseDates {
					if err := recordUntilAnswered(ref, n+1, date); err != nil {
						errc <- err
						return
					}
				}
			}
		}()
	}
	idle := make(chan struct{})
	go func() { wg.Wait(); close(idle) }()

	// The crashes: 20 SIGKILLs at random moments, then one crash at each
	// step of issuing, by the service's own fault hook.
	start := time.Now()
	for i := range kills {
		time.Sleep(time.Duration(50+rand.IntN(400)) * time.Millisecond)
		select {
		case <-idle:
			close(errc)
			for err := range errc {
				t.Error(err)
			}
			t.Fatalf("the load ended after %d of %d kills (%d doses answered)", i, kills, len(acks))
		default:
		}
		svc.kill()
		svc.start()
	}
	for _, step := range []string{"after-pending", "after-sign", "after-issued"} {
		svc.kill()
		svc.env = []string{"VAXCERT_FAULT=crash-" + step}
		svc.launch(true) // it may crash finishing what the last kill left pending
		if !svc.waitExit(2 * time.Minute) {
			t.Fatalf("the fault hook crash-%s never fired", step)
		}
		svc.env = nil
		svc.start()
	}
	stop.Store(true)
	<-idle
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	if t.Failed() {
		t.Fatalf("service log:\n%s", tail(svc.logs.String(), 8000))
	}
	t.Logf("%d kills + 3 fault-hook crashes in %s; %d doses answered 2xx (%d as replays of an unanswered request), %d requests retried",
		kills, time.Since(start).Round(time.Millisecond), len(acks), countReplayed(acks), retries.Load())

	// Pending work completes by itself after the last restart.
	admin := svc.client(adminToken)
	waitFor(t, 2*time.Minute, "no pending certificates", func() bool {
		r := admin.must(t, http.StatusOK, "GET", "/api/v1/admin/certificates?status=pending", nil)
		var out struct {
			Certificates []any `json:"certificates"`
		}
		r.decode(t, &out)
		return len(out.Certificates) == 0
	})
	trusted := publishedIssuer(t, svc)
	svc.stop()

	checkIssuanceInvariants(t, data, db, acks, trusted)
	if out, code := runVaxcert(t, svc.bin, append(append([]string{"audit", "--data", data}, dbFlag(db)...), "verify")...); code != 0 {
		t.Errorf("audit verify after the crashes: exit %d\n%s", code, out)
	}
}

func dbFlag(db string) []string {
	if db == "" {
		return nil
	}
	return []string{"--db", db}
}

func countReplayed(acks []acked) int {
	n := 0
	for _, a := range acks {
		if a.replayed {
			n++
		}
	}
	return n
}

// storedDose and storedCert are rows as the database holds them.
type storedDose struct {
	id, ref string
	number  int
}

type storedCert struct {
	id, ref, status, reason, doseID, jws string
	doseCount                            int
	nbf                                  int64
	revoked                              bool
}

// readIssuance reads every dose and certificate straight from the database
// (the service is stopped).
func readIssuance(t *testing.T, data, db string) ([]storedDose, []storedCert) {
	t.Helper()
	const qDoses = `SELECT id, beneficiary_ref, number FROM doses`
	const qCerts = `SELECT id, beneficiary_ref, status, reason, dose_id, jws, dose_count, nbf, revoked_at IS NOT NULL FROM certificates`
	var doses []storedDose
	var certs []storedCert
	if db == "" {
		conn, err := sql.Open("sqlite", "file:"+filepath.Join(data, "vaxcert.db")+"?_pragma=busy_timeout(10000)")
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		rows, err := conn.Query(qDoses)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var d storedDose
			if err := rows.Scan(&d.id, &d.ref, &d.number); err != nil {
				t.Fatal(err)
			}
			doses = append(doses, d)
		}
		rows.Close()
		rows, err = conn.Query(qCerts)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var c storedCert
			if err := rows.Scan(&c.id, &c.ref, &c.status, &c.reason, &c.doseID, &c.jws, &c.doseCount, &c.nbf, &c.revoked); err != nil {
				t.Fatal(err)
			}
			certs = append(certs, c)
		}
		rows.Close()
		return doses, certs
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, qDoses)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var d storedDose
		if err := rows.Scan(&d.id, &d.ref, &d.number); err != nil {
			t.Fatal(err)
		}
		doses = append(doses, d)
	}
	rows.Close()
	rows, err = conn.Query(ctx, qCerts)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var c storedCert
		if err := rows.Scan(&c.id, &c.ref, &c.status, &c.reason, &c.doseID, &c.jws, &c.doseCount, &c.nbf, &c.revoked); err != nil {
			t.Fatal(err)
		}
		certs = append(certs, c)
	}
	rows.Close()
	return doses, certs
}

// checkIssuanceInvariants holds the database to what the clients were told.
func checkIssuanceInvariants(t *testing.T, data, db string, acks []acked, trusted *trust.Issuer) {
	t.Helper()
	doses, certs := readIssuance(t, data, db)
	v := &verifier.Verifier{Trust: trust.NewStore(trusted)}

	doseByID := map[string]storedDose{}
	dosesOf := map[string]int{}
	for _, d := range doses {
		doseByID[d.id] = d
		dosesOf[d.ref]++
	}
	certsOfDose := map[string][]storedCert{}
	newest := map[string]storedCert{}
	pending := 0
	for _, c := range certs {
		if c.status != "issued" {
			pending++
			t.Errorf("certificate %s is %s after recovery", c.id, c.status)
		}
		if c.reason == "dose" {
			if _, ok := doseByID[c.doseID]; !ok {
				t.Errorf("certificate %s names dose %q, which does not exist", c.id, c.doseID)
			}
			certsOfDose[c.doseID] = append(certsOfDose[c.doseID], c)
		}
		if n, ok := newest[c.ref]; !c.revoked && (!ok || c.nbf > n.nbf) {
			newest[c.ref] = c
		}
	}
	// Every stored dose, answered or not, has exactly one certificate.
	for _, d := range doses {
		if n := len(certsOfDose[d.id]); n != 1 {
			t.Errorf("dose %s (%s #%d) has %d certificates, want 1", d.id, d.ref, d.number, n)
		}
	}
	// Every dose answered 2xx is stored, with the certificate the answer
	// named, issued and valid against the published keys.
	seen := map[string]bool{}
	for _, a := range acks {
		d, ok := doseByID[a.doseID]
		if !ok {
			t.Errorf("dose %s (%s #%d) was answered 201 but is not stored", a.doseID, a.ref, a.number)
			continue
		}
		if d.ref != a.ref || d.number != a.number {
			t.Errorf("dose %s: stored as %s #%d, answered as %s #%d", a.doseID, d.ref, d.number, a.ref, a.number)
		}
		if seen[a.ref+"#"+fmt.Sprint(a.number)] {
			t.Errorf("%s dose %d answered twice", a.ref, a.number)
		}
		seen[a.ref+"#"+fmt.Sprint(a.number)] = true
		cs := certsOfDose[a.doseID]
		if len(cs) != 1 || cs[0].id != a.certID {
			t.Errorf("dose %s: answered with certificate %s, stored %+v", a.doseID, a.certID, cs)
			continue
		}
		c := cs[0]
		if c.doseCount != a.number {
			t.Errorf("certificate %s after dose %d counts %d doses", c.id, a.number, c.doseCount)
		}
		if res := v.VerifyJWS(c.jws, c.id); res.Status != verdict.Valid {
			t.Errorf("certificate %s is not VALID against the published keys: %s %+v", c.id, res.Status, res.Reasons)
		} else if len(res.Doses) != a.number {
			t.Errorf("certificate %s shows %d doses, want %d", c.id, len(res.Doses), a.number)
		}
	}
	// Each beneficiary's current (newest) certificate covers all its doses.
	for ref, n := range dosesOf {
		c, ok := newest[ref]
		if !ok {
			t.Errorf("beneficiary %s has %d doses and no certificate", ref, n)
			continue
		}
		if c.doseCount != n {
			t.Errorf("beneficiary %s: current certificate %s counts %d doses of %d", ref, c.id, c.doseCount, n)
		}
	}
	t.Logf("stored: %d doses, %d certificates (%d pending); %d answered doses checked", len(doses), len(certs), pending, len(acks))
	if len(acks) == 0 {
		t.Error("no dose was answered at all")
	}
}

func jsonUnmarshal(b []byte, v any) error {
	if err := jsonDecode(b, v); err != nil {
		return errors.New("answer is not JSON: " + err.Error())
	}
	return nil
}

// publishedIssuer is the service as a verifier would trust it: the key set
// and revocation lists it publishes, under the test issuer URL.
func publishedIssuer(t *testing.T, svc *service) *trust.Issuer {
	t.Helper()
	anon := svc.client("")
	keys, problems, err := trust.ParseJWKS(anon.must(t, http.StatusOK, "GET", "/.well-known/jwks.json", nil).body)
	if err != nil || len(problems) > 0 || len(keys) == 0 {
		t.Fatalf("published JWKS: %v %v", err, problems)
	}
	is := &trust.Issuer{Iss: testIssuerURL, Keys: map[string]*trust.Key{}, CRLs: map[string]*trust.CRL{}}
	for _, k := range keys {
		is.Keys[k.Kid] = k
		if k.CRLVersion > 0 {
			crl, err := trust.ParseCRL(anon.must(t, http.StatusOK, "GET", "/.well-known/crl/"+k.Kid+".json", nil).body)
			if err != nil {
				t.Fatalf("CRL of %s: %v", k.Kid, err)
			}
			is.CRLs[k.Kid] = crl
		}
	}
	return is
}
