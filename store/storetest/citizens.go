package storetest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vaxcert/vaxcert/booking"
	"github.com/vaxcert/vaxcert/keys"
	"github.com/vaxcert/vaxcert/registration"
	"github.com/vaxcert/vaxcert/registration/sms"
	"github.com/vaxcert/vaxcert/store"
)

// DoseWriter lets the suite record doses directly, as the issuer would, to
// test what depends on the dose history. Each backend's test build provides
// it (in a _test.go file of the store package); the suite skips those checks
// for a store without it.
type DoseWriter interface {
	InsertDoseForTest(ctx context.Context, ref string, number int, vaccineCode string, day time.Time) error
}

// Clock is a settable clock for tests.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock starts at now.
func NewClock(now time.Time) *Clock { return &Clock{now: now} }

// Now reads the clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Citizens is a registration and a booking service over one store, with a
// fake clock and the dev SMS outbox in a temporary directory.
type Citizens struct {
	Store   store.Store
	Reg     *registration.Service
	Book    *booking.Service
	Tokens  *registration.Tokens
	Clock   *Clock
	Outbox  string
	AuthDir string
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// testNow is a fixed instant (10:00 in India) so that dates in tests are
// reproducible.
var testNow = time.Date(2026, 3, 2, 4, 30, 0, 0, time.UTC)

// NewCitizens builds the services over s. limits may be zero for defaults.
func NewCitizens(t testing.TB, s store.Store, limits registration.Limits) *Citizens {
	t.Helper()
	dir := t.TempDir()
	clock := NewClock(testNow)
	ks, err := keys.OpenFileStore(filepath.Join(dir, registration.AuthKeysDir), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ks.EnsureActive(); err != nil {
		t.Fatal(err)
	}
	tokens := registration.NewTokens(ks, "https://vaxcert.test")
	tokens.SetClock(clock.Now)
	secrets, err := registration.LoadSecrets(filepath.Join(dir, "secrets"))
	if err != nil {
		t.Fatal(err)
	}
	outbox := filepath.Join(dir, sms.OutboxFile)
	reg, err := registration.NewService(registration.Config{
		Store: s, SMS: sms.NewOutbox(outbox, quiet), Tokens: tokens, Secrets: secrets, Limits: limits, Now: clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	bk, err := booking.NewService(booking.Config{Store: s, Beneficiaries: s, Doses: s, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return &Citizens{Store: s, Reg: reg, Book: bk, Tokens: tokens, Clock: clock, Outbox: outbox, AuthDir: ks.Dir()}
}

// LastOTP reads the newest OTP sent to mobile from the outbox.
func (c *Citizens) LastOTP(t testing.TB, mobile string) string {
	t.Helper()
	msgs, err := sms.ReadOutbox(c.Outbox)
	if err != nil {
		t.Fatal(err)
	}
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].To == mobile {
			otp, _, _ := strings.Cut(msgs[i].Text, " ")
			return otp
		}
	}
	t.Fatalf("no SMS to %s in the outbox", mobile)
	return ""
}

// Login runs the OTP login for mobile and returns the principal.
func (c *Citizens) Login(t testing.TB, mobile string) registration.Principal {
	t.Helper()
	ctx := context.Background()
	txn, err := c.Reg.StartLogin(ctx, mobile)
	if err != nil {
		t.Fatalf("StartLogin(%s): %v", mobile, err)
	}
	normalized, err := registration.NormalizeMobile(mobile)
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := c.Reg.ConfirmLogin(ctx, txn, c.LastOTP(t, normalized))
	if err != nil {
		t.Fatalf("ConfirmLogin(%s): %v", mobile, err)
	}
	p, err := c.Reg.VerifyToken(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Account makes (without OTP) the citizen account of mobile.
func (c *Citizens) Account(t testing.TB, mobile string) registration.Principal {
	t.Helper()
	a, err := c.Store.EnsureAccount(context.Background(), mobile, "acct-"+mobile, c.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	return a.Principal()
}

// Aadhaar makes the i-th valid, distinct Aadhaar number.
func Aadhaar(i int) string {
	base := fmt.Sprintf("5%010d", i)
	return base + string(registration.VerhoeffDigit(base))
}

// Person returns registration input for a person born on birth (YYYY-MM-DD)
// with the i-th Aadhaar number.
func Person(name, birth string, i int) registration.BeneficiaryInput {
	return registration.BeneficiaryInput{Name: name, Gender: "female", BirthDate: birth, IDType: "aadhaar", IDNumber: Aadhaar(i)}
}

// Demo places: one state, one district, two centres.
var (
	TestState    = booking.State{ID: 21, Name: "Maharashtra"}
	TestDistrict = booking.District{ID: 363, StateID: 21, Name: "Pune"}
	TestCentre   = booking.Centre{ID: "600001", Name: "Kamla Nehru Hospital", Address: "Mangalwar Peth", Block: "Pune City",
		Pincode: "411011", DistrictID: 363, Lat: 18.5196, Long: 73.8656, FeeType: booking.Free, From: "09:00", To: "17:00"}
	TestCentre2 = booking.Centre{ID: "600002", Name: "Aundh District Hospital", Address: "Aundh", Block: "Haveli",
		Pincode: "411027", DistrictID: 363, Lat: 18.5590, Long: 73.8070, FeeType: booking.Paid, From: "10:00", To: "16:00"}
)

// Places loads the test state, district and centres.
func (c *Citizens) Places(t testing.TB) {
	t.Helper()
	if err := c.Store.Import(context.Background(), []booking.State{TestState}, []booking.District{TestDistrict},
		[]booking.Centre{TestCentre, TestCentre2}, nil); err != nil {
		t.Fatal(err)
	}
}

// Session plans a session days from today at a centre.
func (c *Citizens) Session(t testing.TB, centre, vaccineCode string, days int, capacity booking.Capacity) booking.SessionAt {
	t.Helper()
	s, err := c.Book.AddSession(context.Background(), "test", booking.NewSession{
		CentreID: centre, Date: c.Book.Today().AddDate(0, 0, days).Format(time.DateOnly), Vaccine: vaccineCode,
		MinAge: 18, Capacity: capacity, Slots: []string{"FORENOON", "AFTERNOON"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}
