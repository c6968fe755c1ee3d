package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vaxcert/vaxcert/internal/problem"
	"github.com/vaxcert/vaxcert/registration"
	"github.com/vaxcert/vaxcert/registration/sms"
)

// wantProblem fails unless err is a *problem.Error with the slug.
func wantProblem(t testing.TB, err error, kind problem.Kind, slug string) *problem.Error {
	t.Helper()
	p, ok := problem.As(err)
	if !ok || p.Kind != kind || p.Slug != slug {
		t.Fatalf("got error %v; want a problem of kind %d with slug %q", err, kind, slug)
	}
	return p
}

func testOTPLogin(t *testing.T, open Opener) {
	ctx := context.Background()
	c := NewCitizens(t, open(t), registration.Limits{OTPCooldown: -1})
	const mobile = "9876543210"

	// Happy path: any valid mobile may log in; the first login creates a
	// citizen account and the next one finds the same account.
	p1 := c.Login(t, "+91 98765 43210")
	if p1.Role != registration.Citizen || p1.AccountID == "" {
		t.Fatalf("first login: %+v", p1)
	}
	if p2 := c.Login(t, mobile); p2.AccountID != p1.AccountID {
		t.Fatalf("second login made another account: %s vs %s", p2.AccountID, p1.AccountID)
	}

	t.Run("invalid mobile", func(t *testing.T) {
		for _, m := range []string{"12345", "5876543210", "98765432101", "98765abcde", ""} {
			_, err := c.Reg.StartLogin(ctx, m)
			wantProblem(t, err, problem.Invalid, "mobile-invalid")
		}
	})
	t.Run("unknown transaction", func(t *testing.T) {
		_, _, err := c.Reg.ConfirmLogin(ctx, "3fa85f64-5717-4562-b3fc-2c963f66afa6", "123456")
		wantProblem(t, err, problem.Unauthorized, "otp-txn-unknown")
		_, _, err = c.Reg.ConfirmLogin(ctx, "not-a-uuid", "123456")
		wantProblem(t, err, problem.Unauthorized, "otp-txn-unknown")
	})
	t.Run("malformed OTP", func(t *testing.T) {
		txn, err := c.Reg.StartLogin(ctx, mobile)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = c.Reg.ConfirmLogin(ctx, txn, "12a456")
		wantProblem(t, err, problem.Invalid, "otp-invalid")
	})
	t.Run("reuse", func(t *testing.T) {
		txn, err := c.Reg.StartLogin(ctx, mobile)
		if err != nil {
			t.Fatal(err)
		}
		otp := c.LastOTP(t, mobile)
		if _, _, err := c.Reg.ConfirmLogin(ctx, txn, otp); err != nil {
			t.Fatal(err)
		}
		_, _, err = c.Reg.ConfirmLogin(ctx, txn, otp)
		wantProblem(t, err, problem.Unauthorized, "otp-used")
	})
	t.Run("expiry", func(t *testing.T) {
		txn, err := c.Reg.StartLogin(ctx, mobile)
		if err != nil {
			t.Fatal(err)
		}
		otp := c.LastOTP(t, mobile)
		c.Clock.Advance(3 * time.Minute)
		_, _, err = c.Reg.ConfirmLogin(ctx, txn, otp)
		wantProblem(t, err, problem.Unauthorized, "otp-expired")
	})
	t.Run("attempt cap", func(t *testing.T) {
		txn, err := c.Reg.StartLogin(ctx, mobile)
		if err != nil {
			t.Fatal(err)
		}
		otp := c.LastOTP(t, mobile)
		wrong := "000000"
		if otp == wrong {
			wrong = "111111"
		}
		for i := 1; i <= 3; i++ {
			_, _, err := c.Reg.ConfirmLogin(ctx, txn, wrong)
			if i < 3 {
				wantProblem(t, err, problem.Unauthorized, "otp-wrong")
			} else {
				wantProblem(t, err, problem.TooMany, "otp-attempts-exceeded")
			}
		}
		// Even the right OTP no longer opens this transaction.
		_, _, err = c.Reg.ConfirmLogin(ctx, txn, otp)
		wantProblem(t, err, problem.TooMany, "otp-attempts-exceeded")
	})
	t.Run("Co-WIN SHA-256 form", func(t *testing.T) {
		txn, err := c.Reg.StartLogin(ctx, mobile)
		if err != nil {
			t.Fatal(err)
		}
		digest := sha256Hex(c.LastOTP(t, mobile))
		token, exp, err := c.Reg.ConfirmLoginDigest(ctx, txn, digest)
		if err != nil {
			t.Fatal(err)
		}
		if got := exp.Sub(c.Clock.Now()); got < 14*time.Minute || got > 15*time.Minute {
			t.Errorf("token lifetime %v, want 15 minutes", got)
		}
		if _, err := c.Reg.VerifyToken(ctx, token); err != nil {
			t.Fatal(err)
		}
	})
}

func testOTPLimits(t *testing.T, open Opener) {
	ctx := context.Background()
	c := NewCitizens(t, open(t), registration.Limits{OTPCooldown: time.Minute, OTPPerMobileHour: 3, OTPPerClientHour: 5})

	t.Run("cooldown", func(t *testing.T) {
		const m = "9000000001"
		if _, err := c.Reg.StartLogin(ctx, m); err != nil {
			t.Fatal(err)
		}
		c.Clock.Advance(20 * time.Second)
		_, err := c.Reg.StartLogin(ctx, m)
		p := wantProblem(t, err, problem.TooMany, "otp-cooldown")
		if p.RetryAfter < 39*time.Second || p.RetryAfter > 40*time.Second {
			t.Errorf("RetryAfter %v, want 40s", p.RetryAfter)
		}
		c.Clock.Advance(40 * time.Second)
		if _, err := c.Reg.StartLogin(ctx, m); err != nil {
			t.Fatalf("after the cooldown: %v", err)
		}
	})
	t.Run("per mobile per hour", func(t *testing.T) {
		const m = "9000000002"
		for i := range 3 {
			if _, err := c.Reg.StartLogin(ctx, m); err != nil {
				t.Fatalf("OTP %d: %v", i+1, err)
			}
			c.Clock.Advance(61 * time.Second)
		}
		_, err := c.Reg.StartLogin(ctx, m)
		p := wantProblem(t, err, problem.TooMany, "otp-mobile-limit")
		if p.RetryAfter <= 0 || p.RetryAfter > time.Hour {
			t.Errorf("RetryAfter %v", p.RetryAfter)
		}
		c.Clock.Advance(time.Hour)
		if _, err := c.Reg.StartLogin(ctx, m); err != nil {
			t.Fatalf("an hour later: %v", err)
		}
	})
	t.Run("per client per hour", func(t *testing.T) {
		c.Clock.Advance(2 * time.Hour)
		cctx := registration.WithClientIP(ctx, "203.0.113.7")
		for i := range 5 {
			if _, err := c.Reg.StartLogin(cctx, "90000001"+string(rune('0'+i))+"0"); err != nil {
				t.Fatalf("OTP %d: %v", i+1, err)
			}
		}
		_, err := c.Reg.StartLogin(cctx, "9000000190")
		wantProblem(t, err, problem.TooMany, "otp-client-limit")
		// Another client is not affected.
		if _, err := c.Reg.StartLogin(registration.WithClientIP(ctx, "198.51.100.1"), "9000000190"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("racing requests cannot exceed the cap", func(t *testing.T) {
		c.Clock.Advance(2 * time.Hour)
		c2 := NewCitizens(t, c.Store, registration.Limits{OTPCooldown: -1, OTPPerMobileHour: 4})
		c2.Clock.Advance(4 * time.Hour)
		var ok, limited atomic.Int32
		var wg sync.WaitGroup
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := c2.Reg.StartLogin(ctx, "9000000003")
				switch {
				case err == nil:
					ok.Add(1)
				case problem.Is(err, problem.TooMany):
					limited.Add(1)
				default:
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if ok.Load() != 4 || limited.Load() != 16 {
			t.Fatalf("%d sent, %d limited; want 4 and 16", ok.Load(), limited.Load())
		}
	})
}

func testTokens(t *testing.T, open Opener) {
	ctx := context.Background()
	c := NewCitizens(t, open(t), registration.Limits{})
	p := registration.Principal{AccountID: "acct-1", Role: registration.Vaccinator, Centres: []string{"600001"}}
	token, _, err := c.Tokens.Issue(p)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Reg.VerifyToken(ctx, token)
	if err != nil || got.AccountID != p.AccountID || got.Role != p.Role || len(got.Centres) != 1 || got.Centres[0] != "600001" {
		t.Fatalf("VerifyToken = %+v, %v", got, err)
	}
	t.Run("expired", func(t *testing.T) {
		other := NewCitizens(t, c.Store, registration.Limits{})
		tok, _, err := other.Tokens.Issue(p)
		if err != nil {
			t.Fatal(err)
		}
		other.Clock.Advance(15*time.Minute + 6*time.Second)
		_, err = other.Reg.VerifyToken(ctx, tok)
		wantProblem(t, err, problem.Unauthorized, "token-expired")
	})
	t.Run("signed by another key", func(t *testing.T) {
		other := NewCitizens(t, c.Store, registration.Limits{})
		tok, _, err := other.Tokens.Issue(p)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Reg.VerifyToken(ctx, tok)
		wantProblem(t, err, problem.Unauthorized, "token-invalid")
	})
	t.Run("tampered or garbage", func(t *testing.T) {
		for _, tok := range []string{"", "abc", token[:len(token)-4] + "AAAA", token + "x"} {
			_, err := c.Reg.VerifyToken(ctx, tok)
			wantProblem(t, err, problem.Unauthorized, "token-invalid")
		}
	})
}

func testBeneficiaryOTP(t *testing.T, open Opener) {
	ctx := context.Background()
	c := NewCitizens(t, open(t), registration.Limits{})
	owner := c.Account(t, "9111111111")
	b, err := c.Reg.AddBeneficiary(ctx, owner, Person("Asha Rao", "1980-05-17", 1))
	if err != nil {
		t.Fatal(err)
	}
	txn, err := c.Reg.StartBeneficiaryOTP(ctx, b.RefID)
	if err != nil {
		t.Fatal(err)
	}
	otp := c.LastOTP(t, "9111111111")
	ref, err := c.Reg.ConfirmBeneficiaryOTP(ctx, txn, otp)
	if err != nil || ref != b.RefID {
		t.Fatalf("ConfirmBeneficiaryOTP = %q, %v; want %s", ref, err, b.RefID)
	}
	// A login OTP does not open a beneficiary transaction, nor the reverse.
	c.Clock.Advance(2 * time.Minute)
	ltxn, err := c.Reg.StartLogin(ctx, "9111111111")
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Reg.ConfirmBeneficiaryOTP(ctx, ltxn, c.LastOTP(t, "9111111111"))
	wantProblem(t, err, problem.Unauthorized, "otp-txn-unknown")

	// An unknown reference gets a transaction ID just the same, and no SMS.
	msgsBefore := countLines(t, c.Outbox)
	utxn, err := c.Reg.StartBeneficiaryOTP(ctx, "12345678901234")
	if err != nil || utxn == "" {
		t.Fatalf("unknown ref: %q, %v", utxn, err)
	}
	if countLines(t, c.Outbox) != msgsBefore {
		t.Fatal("an SMS was sent for an unknown reference")
	}
	_, err = c.Reg.ConfirmBeneficiaryOTP(ctx, utxn, "123456")
	wantProblem(t, err, problem.Unauthorized, "otp-wrong")
	_, err = c.Reg.StartBeneficiaryOTP(ctx, "1234")
	wantProblem(t, err, problem.Invalid, "beneficiary-ref-invalid")
}

func testBeneficiaries(t *testing.T, open Opener) {
	ctx := context.Background()
	c := NewCitizens(t, open(t), registration.Limits{})
	owner := c.Account(t, "9222222222")
	stranger := c.Account(t, "9333333333")

	var refs []string
	for i := range 4 {
		b, err := c.Reg.AddBeneficiary(ctx, owner, Person("Person "+string(rune('A'+i)), "1990-01-0"+string(rune('1'+i)), 100+i))
		if err != nil {
			t.Fatalf("beneficiary %d: %v", i+1, err)
		}
		if !registration.ValidRefID(b.RefID) || b.IDMasked != "XXXX XXXX "+Aadhaar(100 + i)[8:] {
			t.Fatalf("beneficiary %d: ref %q masked %q", i+1, b.RefID, b.IDMasked)
		}
		refs = append(refs, b.RefID)
	}
	list := func(p registration.Principal) []registration.Beneficiary {
		t.Helper()
		bs, err := c.Reg.Beneficiaries(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		return bs
	}

	t.Run("fifth is refused, nothing written", func(t *testing.T) {
		_, err := c.Reg.AddBeneficiary(ctx, owner, Person("Fifth Person", "1991-01-01", 200))
		wantProblem(t, err, problem.Conflict, "beneficiary-limit")
		if n := len(list(owner)); n != 4 {
			t.Fatalf("%d beneficiaries after the refusal", n)
		}
		// The refused ID was not registered either: another account may use it.
		if _, err := c.Reg.AddBeneficiary(ctx, stranger, Person("Fifth Person", "1991-01-01", 200)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("same ID twice", func(t *testing.T) {
		in := Person("Someone Else", "1985-02-02", 100) // owner's first beneficiary's Aadhaar
		in.IDNumber = Aadhaar(100)[:4] + " " + Aadhaar(100)[4:8] + " " + Aadhaar(100)[8:]
		_, err := c.Reg.AddBeneficiary(ctx, stranger, in)
		wantProblem(t, err, problem.Conflict, "id-already-registered")
	})
	t.Run("bad input", func(t *testing.T) {
		bad := Person("Bad Check", "1980-01-01", 300)
		bad.IDNumber = bad.IDNumber[:11] + string('0'+(bad.IDNumber[11]-'0'+1)%10)
		cases := []struct {
			in   registration.BeneficiaryInput
			slug string
		}{
			{bad, "id-number-invalid"},
			{registration.BeneficiaryInput{Name: "", Gender: "male", BirthDate: "1980-01-01", IDType: "aadhaar", IDNumber: Aadhaar(301)}, "name-missing"},
			{registration.BeneficiaryInput{Name: "R2D2", Gender: "male", BirthDate: "1980-01-01", IDType: "aadhaar", IDNumber: Aadhaar(302)}, "name-invalid"},
			{registration.BeneficiaryInput{Name: "A B", Gender: "x", BirthDate: "1980-01-01", IDType: "aadhaar", IDNumber: Aadhaar(303)}, "gender-invalid"},
			{registration.BeneficiaryInput{Name: "A B", Gender: "male", BirthDate: "2099-01-01", IDType: "aadhaar", IDNumber: Aadhaar(304)}, "birth-date-invalid"},
			{registration.BeneficiaryInput{Name: "A B", Gender: "male", BirthDate: "01-01-1980", IDType: "aadhaar", IDNumber: Aadhaar(305)}, "birth-date-invalid"},
			{registration.BeneficiaryInput{Name: "A B", Gender: "male", BirthDate: "1980-01-01", IDType: "ration", IDNumber: "123"}, "id-type-invalid"},
			{registration.BeneficiaryInput{Name: "A B", Gender: "male", BirthDate: "1980-01-01", IDType: "passport", IDNumber: "Q1234567"}, "id-number-invalid"},
		}
		fresh := c.Account(t, "9444444444")
		for _, tc := range cases {
			_, err := c.Reg.AddBeneficiary(ctx, fresh, tc.in)
			wantProblem(t, err, problem.Invalid, tc.slug)
		}
		if n := len(list(fresh)); n != 0 {
			t.Fatalf("%d beneficiaries written from bad input", n)
		}
	})
	t.Run("owner only", func(t *testing.T) {
		if _, err := c.Reg.Beneficiary(ctx, stranger, refs[0]); !errors.Is(err, registration.ErrBeneficiaryNotFound) {
			t.Fatalf("stranger read: %v", err)
		}
		_, err := c.Reg.UpdateBeneficiary(ctx, stranger, refs[0], Person("Thief", "1990-01-01", 400))
		if !errors.Is(err, registration.ErrBeneficiaryNotFound) {
			t.Fatalf("stranger update: %v", err)
		}
		if err := c.Reg.DeleteBeneficiary(ctx, stranger, refs[0]); !errors.Is(err, registration.ErrBeneficiaryNotFound) {
			t.Fatalf("stranger delete: %v", err)
		}
		for _, b := range list(stranger) {
			if b.RefID == refs[0] {
				t.Fatal("stranger lists the owner's beneficiary")
			}
		}
		staff := registration.Principal{AccountID: "staff", Role: registration.Vaccinator}
		if _, err := c.Reg.Beneficiary(ctx, staff, refs[0]); err != nil {
			t.Fatalf("vaccinator read: %v", err)
		}
	})
	t.Run("update and reveal", func(t *testing.T) {
		in := registration.BeneficiaryInput{Name: "Meera  Iyer", Gender: "F", BirthDate: "1992-07-30", IDType: "passport", IDNumber: "j8369854"}
		if _, err := c.Reg.UpdateBeneficiary(ctx, owner, refs[1], in); err != nil {
			t.Fatal(err)
		}
		got, err := c.Reg.Beneficiary(ctx, owner, refs[1])
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != "Meera Iyer" || got.Gender != "female" || got.BirthDate.Format(time.DateOnly) != "1992-07-30" ||
			got.IDType != registration.Passport || got.IDMasked != "XXXX9854" {
			t.Fatalf("after update: %+v", got)
		}
		id, err := c.Reg.RevealID(got, got.IDSealed)
		if err != nil || id != "J8369854" {
			t.Fatalf("RevealID = %q, %v", id, err)
		}
		// A sealed number moved to another row does not open.
		other, _ := c.Reg.Beneficiary(ctx, owner, refs[2])
		if _, err := c.Reg.RevealID(other, got.IDSealed); err == nil {
			t.Fatal("a sealed ID opened under another beneficiary")
		}
		// The old Aadhaar is free again; the new passport is taken.
		if _, err := c.Reg.AddBeneficiary(ctx, stranger, Person("New Owner", "1990-01-01", 101)); err != nil {
			t.Fatalf("re-using the replaced ID: %v", err)
		}
		_, err = c.Reg.AddBeneficiary(ctx, stranger, registration.BeneficiaryInput{Name: "X Y", Gender: "m", BirthDate: "1990-01-01", IDType: "passport", IDNumber: "J8369854"})
		wantProblem(t, err, problem.Conflict, "id-already-registered")
	})
	t.Run("delete", func(t *testing.T) {
		if err := c.Reg.DeleteBeneficiary(ctx, owner, refs[3]); err != nil {
			t.Fatal(err)
		}
		if n := len(list(owner)); n != 3 {
			t.Fatalf("%d after delete", n)
		}
		if err := c.Reg.DeleteBeneficiary(ctx, owner, refs[3]); !errors.Is(err, registration.ErrBeneficiaryNotFound) {
			t.Fatalf("second delete: %v", err)
		}
	})
	t.Run("no changes after a dose", func(t *testing.T) {
		dw, ok := c.Store.(DoseWriter)
		if !ok {
			t.Skip("store has no DoseWriter in its test build")
		}
		if err := dw.InsertDoseForTest(ctx, refs[0], 1, "COVISHIELD", c.Book.Today().AddDate(0, 0, -10)); err != nil {
			t.Fatal(err)
		}
		_, err := c.Reg.UpdateBeneficiary(ctx, owner, refs[0], Person("New Name", "1990-01-01", 500))
		wantProblem(t, err, problem.Conflict, "beneficiary-vaccinated")
		wantProblem(t, c.Reg.DeleteBeneficiary(ctx, owner, refs[0]), problem.Conflict, "beneficiary-vaccinated")
		if _, err := c.Reg.Beneficiary(ctx, owner, refs[0]); err != nil {
			t.Fatal(err)
		}
	})
}

func testStaffAccounts(t *testing.T, open Opener) {
	ctx := context.Background()
	c := NewCitizens(t, open(t), registration.Limits{})
	a, err := c.Reg.PutStaff(ctx, "9555555555", registration.Vaccinator, []string{"600001", "600002"})
	if err != nil {
		t.Fatal(err)
	}
	// The same mobile logging in gets its staff role and centres.
	p := c.Login(t, "9555555555")
	if p.AccountID != a.ID || p.Role != registration.Vaccinator || len(p.Centres) != 2 || !p.AtCentre("600002") {
		t.Fatalf("staff login: %+v", p)
	}
	// Updating keeps the account.
	b, err := c.Reg.PutStaff(ctx, "9555555555", registration.Admin, nil)
	if err != nil || b.ID != a.ID || b.Role != registration.Admin || len(b.Centres) != 0 {
		t.Fatalf("update: %+v, %v", b, err)
	}
	got, err := c.Store.Account(ctx, a.ID)
	if err != nil || got.Role != registration.Admin {
		t.Fatalf("Account = %+v, %v", got, err)
	}
	_, err = c.Reg.PutStaff(ctx, "9555555556", registration.Vaccinator, nil)
	wantProblem(t, err, problem.Invalid, "centre-missing")
	if _, err := c.Store.Account(ctx, "nobody"); !errors.Is(err, registration.ErrAccountNotFound) {
		t.Fatalf("unknown account: %v", err)
	}
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func countLines(t testing.TB, path string) int {
	t.Helper()
	msgs, err := sms.ReadOutbox(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return len(msgs)
}
