package issuer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vaxcert/vaxcert/internal/problem"
	"github.com/vaxcert/vaxcert/keys"
	"github.com/vaxcert/vaxcert/registration"
	"github.com/vaxcert/vaxcert/shc"
	"github.com/vaxcert/vaxcert/vaccine"
)

// TestRIDMatchesSpecGenerator checks the rid against the specification's
// example generator (shc.md §6 test vectors): HMAC keyed with the secret
// string followed by the kid.
func TestRIDMatchesSpecGenerator(t *testing.T) {
	const secret = "GWdbF5850vxNt3HhHFl0dRvvN--C6rD77obJgGjK_Zg"
	const kid = "3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s"
	for user, want := range map[string]string{"userid-00": "MKyCxh7p6uQ", "userid-02": "YjKhdFoxL_g", "userid-03": "vwAjHdarZuc"} {
		if got := rid([]byte(secret), kid, user); got != want {
			t.Errorf("rid(%s) = %s, want %s", user, got, want)
		}
	}
}

func TestTruncate(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{"Kamla Nehru Hospital", 30, "Kamla Nehru Hospital"},
		{"Kamla Nehru Hospital", 11, "Kamla Nehru"},
		{"Kamla Nehru Hospital", 12, "Kamla Nehru"}, // the space a cut leaves is trimmed
		{"Ćamla Ňehru", 4, "Ćaml"},
		{"anything", 0, ""},
		{"", 5, ""},
	} {
		if got := truncate(c.in, c.n); got != c.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}

func newTestKeys(t testing.TB) *keys.FileStore {
	t.Helper()
	ks, err := keys.OpenFileStore(filepath.Join(t.TempDir(), "keys"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ks.EnsureActive(); err != nil {
		t.Fatal(err)
	}
	return ks
}

// noStore is a Store for tests that never reach the database.
type noStore struct{ Store }

var testNow = time.Date(2026, 3, 2, 4, 30, 0, 0, time.UTC)

func newTestService(t testing.TB) *Service {
	t.Helper()
	s, err := New(Config{Store: noStore{}, Keys: newTestKeys(t), IssuerURL: "https://vaxcert.test",
		RIDSecret: []byte("0123456789abcdef0123456789abcdef"), Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func randomName(rnd *rand.Rand, n int) string {
	r := make([]rune, n)
	for i := range r {
		r[i] = rune(0x100 + rnd.IntN(0x80))
		if i%7 == 6 {
			r[i] = ' '
		}
	}
	return strings.TrimSpace(string(r))
}

// TestJWSLengthIsExact: the length fit predicts is the length shc.Sign
// produces (or, for small cards, a bound above it).
func TestJWSLengthIsExact(t *testing.T) {
	ks := newTestKeys(t)
	signer, _ := ks.ActiveSigner()
	rnd := rand.New(rand.NewPCG(7, 7))
	for doses := 1; doses <= 4; doses++ {
		for _, nameLen := range []int{5, 40, 100} {
			c := cardContent{iss: "https://vaxcert.test", nbf: testNow.Unix(), name: randomName(rnd, nameLen), birthDate: "1970-01-01", catalog: vaccine.Default}
			for i := range doses {
				c.doses = append(c.doses, Dose{Number: i + 1, Vaccine: "COVAXIN", Date: testNow.AddDate(0, 0, -i), Lot: fmt.Sprintf("LOT%d-%d", i, rnd.IntN(1e6)), Performer: "Kamla Nehru Hospital"})
			}
			p, err := c.payload(MaxPerformerLength)
			if err != nil {
				t.Fatal(err)
			}
			p.VC.RID = rid([]byte("secret"), signer.KID(), "12345678901234")
			predicted, err := jwsLength(p)
			if err != nil {
				t.Fatal(err)
			}
			jws, err := shc.Sign(signer, signer.KID(), p)
			if errors.Is(err, shc.ErrTooLongForQR) {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			if predicted < len(jws) || (predicted != len(jws) && predicted < shc.MaxQRJWSLength-jwsMargin) {
				t.Errorf("%d doses, %d-letter name: predicted %d, signed %d", doses, nameLen, predicted, len(jws))
			}
		}
	}
}

// TestFitShortensOnlyThePerformer: a card too big for one QR loses the
// performer's name first and never a dose; one that cannot fit is refused.
func TestFitShortensOnlyThePerformer(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	long := "Sri Venkateswara Institute of Medical Sciences, Tirupati, Andhra Pradesh"
	card := func(doses, nameLen int) cardContent {
		c := cardContent{iss: "https://vaxcert.test", nbf: testNow.Unix(), name: randomName(rnd, nameLen), birthDate: "1950-01-01", catalog: vaccine.Default}
		for i := range doses {
			c.doses = append(c.doses, Dose{Number: i + 1, Vaccine: "CORBEVAX", Date: testNow.AddDate(0, -9*i, 0),
				Lot: fmt.Sprintf("%020d", rnd.Int64N(1e18)), Performer: long})
		}
		return c
	}
	rid := rid([]byte("secret"), strings.Repeat("k", 43), "12345678901234")
	c := card(4, 100)
	payload, err := c.fit(rid)
	if err != nil {
		t.Fatal(err)
	}
	var dec shc.Payload
	if err := json.Unmarshal(payload, &dec); err != nil {
		t.Fatal(err)
	}
	contents, probs := shc.ReadBundle(dec.VC.CredentialSubject.FHIRBundle)
	if len(probs) > 0 || len(contents.Doses) != 4 {
		t.Fatalf("fitted card: %d doses, problems %v", len(contents.Doses), probs)
	}
	for _, d := range contents.Doses {
		if len(d.Performer) > 0 && len([]rune(d.Performer[0].Actor.Display)) > MaxPerformerLength {
			t.Fatalf("performer %q", d.Performer[0].Actor.Display)
		}
		if len(d.LotNumber) != 20 {
			t.Fatalf("lot %q was changed", d.LotNumber)
		}
	}
	if dec.VC.RID != "" {
		t.Fatal("the stored payload must not carry a rid")
	}
	_, err = card(16, 100).fit(rid)
	if p, ok := problem.As(err); !ok || p.Slug != "certificate-too-large" {
		t.Fatalf("sixteen long doses: %v", err)
	}
}

func TestBatcherGroupsConcurrentRequests(t *testing.T) {
	var mu sync.Mutex
	var sizes []int
	b := newBatcher(2, 8, func(items []*int) {
		time.Sleep(2 * time.Millisecond) // a transaction
		mu.Lock()
		sizes = append(sizes, len(items))
		mu.Unlock()
		for _, it := range items {
			*it *= 2
		}
	})
	var wg sync.WaitGroup
	vals := make([]int, 100)
	for i := range vals {
		wg.Add(1)
		go func() {
			defer wg.Done()
			vals[i] = i
			if err := b.do(context.Background(), &vals[i]); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	total, biggest := 0, 0
	for _, n := range sizes {
		total += n
		biggest = max(biggest, n)
	}
	if total != 100 || biggest > 8 || len(sizes) >= 100 {
		t.Fatalf("batches %v", sizes)
	}
	for i, v := range vals {
		if v != 2*i {
			t.Fatalf("item %d = %d: its batch did not run before do returned", i, v)
		}
	}
	b.close()
	x := 1
	if err := b.do(context.Background(), &x); !errors.Is(err, errClosed) {
		t.Fatalf("do after close: %v", err)
	}
}

// TestDecideWithinOneBatch: duplicates and successive doses of one
// beneficiary inside a single batch are decided as if one after the other.
func TestDecideWithinOneBatch(t *testing.T) {
	s := newTestService(t)
	ben := registration.Beneficiary{RefID: "12345678901234", Name: "Lata Mangeshkar", Gender: "female", BirthDate: time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC)}
	req := func(n, daysAgo int, key, lot string) *DoseJob {
		r := DoseRequest{BeneficiaryRef: ben.RefID, Vaccine: "COVAXIN", Lot: lot, Number: n, Date: testNow.AddDate(0, 0, -daysAgo),
			CentreID: "1", Actor: "user:v", Idempotency: IdempotencyID{Scope: "user:v", Key: key}}
		if err := r.normalize(vaccine.Default, testNow); err != nil {
			t.Fatal(err)
		}
		return &DoseJob{Req: r, Hash: r.hash(), DoseID: newID(), CertID: newID(), Now: testNow}
	}
	jobs := []*DoseJob{
		req(1, 40, "a", "L1"),
		req(1, 40, "a", "L1"),    // concurrent duplicate: same answer
		req(1, 40, "a", "OTHER"), // same key, other content
		req(2, 0, "b", "L2"),     // dose 2, 40 days after dose 1 in the same batch
		req(2, 0, "c", "L3"),     // another dose 2: conflicts with the one before
	}
	b := &DoseBatch{Jobs: jobs, Subjects: map[string]*Subject{ben.RefID: {Beneficiary: ben}},
		Centres: map[string]Centre{"1": {ID: "1", Name: "PHC One"}}, Used: map[IdempotencyID]IdempotencyRecord{}}
	s.decide(b)
	if jobs[0].Plan == nil || jobs[0].Plan.Certificate.Course != vaccine.Provisional {
		t.Fatalf("job 0: %+v", jobs[0])
	}
	if r := jobs[1].Replay; r == nil || r.DoseID != jobs[0].DoseID || r.CertificateID != jobs[0].CertID {
		t.Fatalf("duplicate: %+v", jobs[1])
	}
	if p, _ := problem.As(jobs[2].Err); p == nil || p.Slug != "idempotency-key-reused" {
		t.Fatalf("reused key: %v", jobs[2].Err)
	}
	if p := jobs[3].Plan; p == nil || p.Certificate.Course != vaccine.Final || p.Certificate.DoseCount != 2 ||
		p.Certificate.NBF <= jobs[0].Plan.Certificate.NBF {
		t.Fatalf("dose 2: %+v, %v", jobs[3].Plan, jobs[3].Err)
	}
	if p, _ := problem.As(jobs[4].Err); p == nil || p.Slug != "wrong-dose-number" {
		t.Fatalf("second dose 2: %v", jobs[4].Err)
	}
	// Deciding again (a retried transaction) from a fresh view gives the
	// same decisions.
	b.Subjects = map[string]*Subject{ben.RefID: {Beneficiary: ben}}
	s.decide(b)
	if jobs[0].Plan == nil || jobs[1].Replay == nil || jobs[3].Plan == nil || jobs[4].Err == nil {
		t.Fatal("a second decide differs")
	}
}

func TestDoseRequestNormalize(t *testing.T) {
	ok := DoseRequest{BeneficiaryRef: " 12345678901234 ", Vaccine: "covaxin", Lot: " AB12 ", Number: 1, Date: testNow, CentreID: "1"}
	if err := ok.normalize(vaccine.Default, testNow); err != nil || ok.Vaccine != "COVAXIN" || ok.Lot != "AB12" || ok.BeneficiaryRef != "12345678901234" {
		t.Fatalf("%+v, %v", ok, err)
	}
	// A dose given at 01:00 in India is "today" there even though it is
	// still yesterday in UTC.
	lateUTC := time.Date(2026, 3, 1, 20, 0, 0, 0, time.UTC) // 01:30 on 2 March in India
	today := ok
	today.Date = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	if err := today.normalize(vaccine.Default, lateUTC); err != nil {
		t.Fatalf("today in India: %v", err)
	}
	for _, c := range []struct {
		edit func(*DoseRequest)
		slug string
	}{
		{func(r *DoseRequest) { r.BeneficiaryRef = "12" }, "beneficiary-ref-invalid"},
		{func(r *DoseRequest) { r.Vaccine = "" }, "vaccine-missing"},
		{func(r *DoseRequest) { r.Vaccine = "X" }, "vaccine-unknown"},
		{func(r *DoseRequest) { r.Lot = "" }, "lot-missing"},
		{func(r *DoseRequest) { r.Lot = strings.Repeat("x", 21) }, "lot-too-long"},
		{func(r *DoseRequest) { r.Lot = "a\x00b" }, "lot-invalid"},
		{func(r *DoseRequest) { r.Number = 0 }, "dose-number-invalid"},
		{func(r *DoseRequest) { r.Date = time.Time{} }, "date-missing"},
		{func(r *DoseRequest) { r.Date = testNow.AddDate(0, 0, 1) }, "date-in-future"},
		{func(r *DoseRequest) { r.Date = time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC) }, "date-invalid"},
		{func(r *DoseRequest) { r.CentreID = "" }, "centre-invalid"},
		{func(r *DoseRequest) { r.Idempotency = IdempotencyID{Scope: "s", Key: "has space"} }, "idempotency-key-invalid"},
	} {
		r := ok
		c.edit(&r)
		err := r.normalize(vaccine.Default, testNow)
		if p, _ := problem.As(err); p == nil || p.Slug != c.slug || p.Kind != problem.Invalid {
			t.Errorf("want %s, got %v", c.slug, err)
		}
	}
}
