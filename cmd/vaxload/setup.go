package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vaxcert/vaxcert/registration"
)

// env is what a scenario works with.
type env struct {
	opts     options
	api      *api
	outbox   *outbox
	users    userAdder
	progress io.Writer // setup progress lines
	run      runID
}

// userAdder makes administrator and vaccinator accounts, which the public
// API cannot (by design).
type userAdder interface {
	AddUser(ctx context.Context, role, mobile string, centres []string) error
}

// execUsers runs 'vaxcert users add' against the server's data directory and
// database.
type execUsers struct {
	bin, data, db string
}

func (u *execUsers) AddUser(ctx context.Context, role, mobile string, centres []string) error {
	bin, err := u.binary()
	if err != nil {
		return err
	}
	args := []string{"users", "add", "--role", role, "--mobile", mobile, "--data", u.data}
	if u.db != "" {
		args = append(args, "--db", u.db)
	}
	for _, c := range centres {
		args = append(args, "--centre", c)
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s users add --role %s: %v: %s", bin, role, err, strings.TrimSpace(out.String()))
	}
	return nil
}

// binary finds vaxcert: the --vaxcert flag, else next to this program, else
// on PATH.
func (u *execUsers) binary() (string, error) {
	if u.bin != "" {
		return u.bin, nil
	}
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), "vaxcert")
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	p, err := exec.LookPath("vaxcert")
	if err != nil {
		return "", errors.New("cannot find the vaxcert binary for 'users add': build it (go build ./cmd/vaxcert) and pass --vaxcert PATH")
	}
	return p, nil
}

// runID makes this run's mobiles, ID numbers, centre IDs and pincodes
// distinct from earlier runs' against the same database (a collision is
// possible but unlikely, and shows as a setup error, never as a wrong
// figure).
type runID struct {
	mobileHead  string // 5 digits, the first 6-9
	aadhaarHead string // 5 digits, the first 2-9
	centreHead  string // 6 digits, the first 1-9
	pincodes    int64  // first pincode of the run
}

func randDigits(n int) string {
	var b strings.Builder
	for range n {
		d, _ := rand.Int(rand.Reader, big.NewInt(10))
		b.WriteByte(byte('0' + d.Int64()))
	}
	return b.String()
}

func randDigitIn(lo, hi int64) string {
	d, _ := rand.Int(rand.Reader, big.NewInt(hi-lo+1))
	return fmt.Sprint(lo + d.Int64())
}

func newRunID() runID {
	p, _ := rand.Int(rand.Reader, big.NewInt(700000))
	return runID{
		mobileHead:  randDigitIn(6, 9) + randDigits(4),
		aadhaarHead: randDigitIn(2, 9) + randDigits(4),
		centreHead:  randDigitIn(1, 9) + randDigits(5),
		pincodes:    110000 + p.Int64(),
	}
}

// mobile is the run's i-th mobile number (i < 100 000).
func (r runID) mobile(i int) string { return fmt.Sprintf("%s%05d", r.mobileHead, i) }

// aadhaar is the run's i-th Aadhaar number (i < 1 000 000), check digit
// included.
func (r runID) aadhaar(i int) string {
	base := fmt.Sprintf("%s%06d", r.aadhaarHead, i)
	return base + string(registration.VerhoeffDigit(base))
}

// centre is the run's i-th centre ID (i < 1 000 000).
func (r runID) centre(i int) string { return fmt.Sprintf("%s%06d", r.centreHead, i) }

// pincode is the run's i-th pincode.
func (r runID) pincode(i int) string { return fmt.Sprint(r.pincodes + int64(i)) }

// Reserved mobile indices: citizens count from 0, staff from the top.
const (
	adminIndex      = 99999
	vaccinatorIndex = 99000 // up to 999 vaccinators below adminIndex
)

// ist is India Standard Time: session dates and "today" are days there.
var ist = time.FixedZone("IST", 5*3600+1800)

func dayIST(offset int) time.Time {
	now := time.Now().In(ist)
	return time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, offset)
}

// parallel runs f(0..n-1) with up to workers at once and returns the first
// error (the others stop taking work).
func parallel(ctx context.Context, n, workers int, f func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := f(ctx, i); err != nil {
					cancel(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	return context.Cause(ctx)
}

// setupWorkers is the concurrency of setup requests.
const setupWorkers = 16

// login runs the OTP login for mobile and returns the session token.
func (e *env) login(ctx context.Context, mobile string) (string, error) {
	var txn struct {
		TxnID string `json:"txn_id"`
	}
	a, err := e.api.call(ctx, http.MethodPost, "/api/v1/auth/otp", map[string]string{"mobile": mobile}, "", nil)
	if err != nil {
		return "", err
	}
	switch {
	case a.status == http.StatusTooManyRequests:
		return "", fmt.Errorf("login: %s: raise the server's OTP caps and rate limits for load runs (docs/PERFORMANCE.md)", a.describe())
	case a.status == http.StatusNotFound:
		return "", fmt.Errorf("login: %s: the server does not serve the citizen API (is registration wired in?)", a.describe())
	case a.status != http.StatusOK:
		return "", fmt.Errorf("login: POST /api/v1/auth/otp: %s", a.describe())
	}
	if err := json.Unmarshal(a.body, &txn); err != nil || txn.TxnID == "" {
		return "", fmt.Errorf("login: POST /api/v1/auth/otp: no txn_id in %q", a.body)
	}
	otp, err := e.outbox.otp(ctx, mobile)
	if err != nil {
		return "", err
	}
	var tok struct {
		Token string `json:"token"`
	}
	if err := e.api.callJSON(ctx, http.MethodPost, "/api/v1/auth/otp/confirm",
		map[string]string{"txn_id": txn.TxnID, "otp": otp}, "", http.StatusOK, &tok); err != nil {
		return "", fmt.Errorf("login: %w", err)
	}
	if tok.Token == "" {
		return "", errors.New("login: the confirmation carried no token")
	}
	return tok.Token, nil
}

// staff makes an account with a role (and centres) and logs it in.
func (e *env) staff(ctx context.Context, role string, index int, centres []string) (string, error) {
	mobile := e.run.mobile(index)
	if err := e.users.AddUser(ctx, role, mobile, centres); err != nil {
		return "", err
	}
	return e.login(ctx, mobile)
}

// beneficiary is a registered person and the token of the account that owns
// it.
type beneficiary struct {
	ref   string
	token string
}

// maxPerAccount is how many beneficiaries one mobile may register.
const maxPerAccount = 4

// citizens logs in ceil(n/perAccount) accounts and registers n beneficiaries,
// perAccount to an account (1 to 4), aged 18 to 77.
func (e *env) citizens(ctx context.Context, n, perAccount int) ([]beneficiary, error) {
	perAccount = max(1, min(perAccount, maxPerAccount))
	accounts := (n + perAccount - 1) / perAccount
	if accounts > vaccinatorIndex {
		return nil, fmt.Errorf("%d accounts needed: at most %d per run", accounts, vaccinatorIndex)
	}
	if err := e.freshMobiles(ctx); err != nil {
		return nil, err
	}
	out := make([]beneficiary, n)
	var done atomic.Int64
	stopProgress := e.progressEvery("registered %d of %d beneficiaries", &done, n)
	defer stopProgress()
	err := parallel(ctx, accounts, setupWorkers, func(ctx context.Context, acct int) error {
		token, err := e.login(ctx, e.run.mobile(acct))
		if err != nil {
			return err
		}
		for k := range perAccount {
			i := acct*perAccount + k
			if i >= n {
				break
			}
			in := map[string]string{
				"name":            personName(i),
				"gender":          []string{"female", "male", "other"}[i%3],
				"birth_date":      dayIST(0).AddDate(-20-i%60, 0, -1-i%300).Format(time.DateOnly),
				"photo_id_type":   "aadhaar",
				"photo_id_number": e.run.aadhaar(i),
			}
			var b struct {
				Ref string `json:"beneficiary_reference_id"`
			}
			if err := e.api.callJSON(ctx, http.MethodPost, "/api/v1/beneficiaries", in, token, http.StatusCreated, &b); err != nil {
				return fmt.Errorf("register a beneficiary: %w", err)
			}
			out[i] = beneficiary{ref: b.Ref, token: token}
			done.Add(1)
		}
		return nil
	})
	return out, err
}

// freshMobiles makes sure no earlier run against this database used this
// run's mobile numbers (their heads are random, 1 in 40,000 alike): the
// first citizen account must have no beneficiaries yet, else the run takes
// other numbers.
func (e *env) freshMobiles(ctx context.Context) error {
	for range 5 {
		token, err := e.login(ctx, e.run.mobile(0))
		if err != nil {
			return err
		}
		var list struct {
			Beneficiaries []json.RawMessage `json:"beneficiaries"`
		}
		if err := e.api.callJSON(ctx, http.MethodGet, "/api/v1/beneficiaries", nil, token, http.StatusOK, &list); err != nil {
			return err
		}
		if len(list.Beneficiaries) == 0 {
			return nil
		}
		fresh := newRunID()
		e.run.mobileHead, e.run.aadhaarHead = fresh.mobileHead, fresh.aadhaarHead
	}
	return errors.New("five sets of mobile numbers in a row were taken by earlier runs against this database")
}

// personName is a distinct name of letters only (names admit no digits).
func personName(i int) string {
	first := []string{"Asha", "Ravi", "Meera", "Arjun", "Lakshmi", "Vikram", "Priya", "Suresh", "Anita", "Kiran"}
	var tail []byte
	for n := i; ; n /= 26 {
		tail = append(tail, byte('a'+n%26))
		if n < 26 {
			break
		}
	}
	tail[0] -= 'a' - 'A'
	return first[i%len(first)] + " Load " + string(tail)
}

// progressEvery prints a progress line every two seconds until stopped.
func (e *env) progressEvery(format string, done *atomic.Int64, total int) (stop func()) {
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(2 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				fmt.Fprintf(e.progress, "vaxload: setup: "+format+"\n", done.Load(), total)
			}
		}
	}()
	return func() { close(quit); wg.Wait() }
}

// places imports centres spread over pincodes in one load-test district,
// through the admin CSV import, and returns the centre IDs.
func (e *env) places(ctx context.Context, admin string, centres, pincodes int) ([]string, error) {
	var csv bytes.Buffer
	csv.WriteString("center_id,name,address,pincode,state_id,state_name,district_id,district_name,fee_type\n")
	ids := make([]string, centres)
	for i := range centres {
		ids[i] = e.run.centre(i)
		fmt.Fprintf(&csv, "%s,Load Test Centre %d,%d Test Road,%s,%d,%s,%d,%s,Free\n",
			ids[i], i, i+1, e.run.pincode(i%pincodes), loadStateID, loadStateName, loadDistrictID, loadDistrictName)
	}
	err := e.api.callJSON(ctx, http.MethodPost, "/api/v1/admin/centres/import",
		rawBody{data: csv.Bytes(), contentType: "text/csv"}, admin, http.StatusOK, nil)
	if err != nil {
		return nil, fmt.Errorf("import centres: %w", err)
	}
	return ids, nil
}

// The place every load-test centre is in; re-imported by every run.
const (
	loadStateID      = 99
	loadStateName    = "Vaxload Test State"
	loadDistrictID   = 9999
	loadDistrictName = "Vaxload Test District"
)

// session plans a session at centre on day with dose1 first-dose places.
func (e *env) session(ctx context.Context, admin, centre string, day time.Time, dose1 int) (string, error) {
	in := map[string]any{
		"center_id":     centre,
		"date":          day.Format(time.DateOnly),
		"vaccine":       "COVISHIELD",
		"min_age_limit": 18,
		"slots":         []string{"FORENOON", "AFTERNOON"},
		"capacity":      map[string]int{"dose1": dose1},
	}
	var s struct {
		ID string `json:"session_id"`
	}
	if err := e.api.callJSON(ctx, http.MethodPost, "/api/v1/admin/sessions", in, admin, http.StatusCreated, &s); err != nil {
		return "", fmt.Errorf("plan a session: %w", err)
	}
	return s.ID, nil
}

func (e *env) logf(format string, args ...any) {
	fmt.Fprintf(e.progress, "vaxload: "+format+"\n", args...)
}
