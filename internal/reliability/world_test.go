package reliability

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vaxcert/vaxcert/registration"
)

// Two centres of our own, so tests need not load the demo data set.
const (
	centreA = "900001"
	centreB = "900002"
)

const centresCSV = `center_id,name,pincode,state_id,state_name,district_id,district_name
900001,Reliability Centre One,411001,21,Maharashtra,2101,Pune
900002,Reliability Centre Two,411002,21,Maharashtra,2101,Pune
`

// Staff mobiles: a vaccinator at each centre, and an admin.
const (
	vaccinatorAMobile = "9000000001"
	vaccinatorBMobile = "9000000002"
	adminMobile       = "9000000009"
)

// testIssuerURL is the iss of the certificates the tests issue: https, as
// SMART Health Card verifiers require, though the service listens on http.
const testIssuerURL = "https://vaxcert.reliability.test"

// generousLimits lift the per-client caps that one loopback address would
// otherwise hit in a load test (all clients come from 127.0.0.1).
var generousLimits = []string{"--otp-cooldown", "0s", "--otp-per-mobile", "1000", "--otp-per-ip", "1000000",
	"--booking-rate", "100000", "--booking-burst", "100000", "--search-rate", "100000", "--search-burst", "100000"}

// prepareData makes a data directory with the two centres and the staff
// accounts, through the CLI as an operator would.
func prepareData(t *testing.T, db string) string {
	t.Helper()
	data := filepath.Join(t.TempDir(), "data")
	bin := binary(t, "vaxcert")
	dbArgs := []string{"--data", data}
	if db != "" {
		dbArgs = append(dbArgs, "--db", db)
	}
	csv := filepath.Join(t.TempDir(), "centres.csv")
	if err := os.WriteFile(csv, []byte(centresCSV), 0o600); err != nil {
		t.Fatal(err)
	}
	steps := [][]string{
		append(append([]string{"centres", "import"}, dbArgs...), csv),
		append(append([]string{"users", "add"}, dbArgs...), "--role", "vaccinator", "--mobile", vaccinatorAMobile, "--centre", centreA),
		append(append([]string{"users", "add"}, dbArgs...), "--role", "vaccinator", "--mobile", vaccinatorBMobile, "--centre", centreB),
		append(append([]string{"users", "add"}, dbArgs...), "--role", "admin", "--mobile", adminMobile),
	}
	for _, args := range steps {
		if out, code := runVaxcert(t, bin, args...); code != 0 {
			t.Fatalf("vaxcert %v: exit %d\n%s", args, code, out)
		}
	}
	return data
}

// apiClient talks to a service as one caller.
type apiClient struct {
	base  string
	token string
	http  *http.Client
}

func (s *service) client(token string) *apiClient {
	return &apiClient{base: s.url, token: token, http: &http.Client{Timeout: 60 * time.Second}}
}

// response is an answer, read in full.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("status %d: %v: %.300s", r.status, err, r.body)
	}
}

// slug is the problem type's last part, for problem answers.
func (r response) slug() string {
	var p problemDoc
	json.Unmarshal(r.body, &p)
	return strings.TrimPrefix(p.Type, "urn:vaxcert:problem:")
}

// do sends a request; body is JSON-encoded unless it is a string or []byte.
// A transport error is returned as is (the tests that kill the server
// expect them).
func (c *apiClient) do(method, path string, body any, header ...string) (response, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			return response{}, err
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return response{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, err
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// must sends a request and fails the test on a transport error or a status
// other than want.
func (c *apiClient) must(t testing.TB, want int, method, path string, body any, header ...string) response {
	t.Helper()
	r, err := c.do(method, path, body, header...)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	if r.status != want {
		t.Fatalf("%s %s: status %d, want %d: %.400s", method, path, r.status, want, r.body)
	}
	return r
}

var otpPattern = regexp.MustCompile(`\b[0-9]{6}\b`)

// outboxMu serialises logins: each reads the newest OTP sent to a mobile.
var outboxMu sync.Mutex

// requestOTP asks for a login OTP and returns the transaction and the OTP
// that arrived in the dev SMS outbox.
func (s *service) requestOTP(t testing.TB, mobile string) (txn, otp string) {
	t.Helper()
	outboxMu.Lock()
	defer outboxMu.Unlock()
	before := len(s.smsOutbox())
	r := s.client("").must(t, http.StatusOK, "POST", "/api/v1/auth/otp", map[string]string{"mobile": mobile})
	var out struct {
		TxnID string `json:"txn_id"`
	}
	r.decode(t, &out)
	var msg string
	waitFor(t, 30*time.Second, "the OTP SMS", func() bool {
		msgs := s.smsOutbox()
		for _, m := range msgs[min(before, len(msgs)):] {
			if m.To == mobile {
				msg = m.Text
			}
		}
		return msg != ""
	})
	otp = otpPattern.FindString(msg)
	if otp == "" {
		t.Fatalf("no OTP in the SMS %q", msg)
	}
	return out.TxnID, otp
}

// login logs mobile in with an OTP and returns its session token.
func (s *service) login(t testing.TB, mobile string) string {
	t.Helper()
	txn, otp := s.requestOTP(t, mobile)
	r := s.client("").must(t, http.StatusOK, "POST", "/api/v1/auth/otp/confirm", map[string]string{"txn_id": txn, "otp": otp})
	var tok struct {
		Token string `json:"token"`
	}
	r.decode(t, &tok)
	if tok.Token == "" {
		t.Fatalf("no token in %s", r.body)
	}
	return tok.Token
}

// randomDigits returns n random decimal digits, the first from first.
func randomDigits(n int, first string) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		set := "0123456789"
		if i == 0 && first != "" {
			set = first
		}
		k, _ := rand.Int(rand.Reader, big.NewInt(int64(len(set))))
		b.WriteByte(set[k.Int64()])
	}
	return b.String()
}

// newMobile is a random citizen mobile number.
func newMobile() string { return randomDigits(10, "6789") }

// newAadhaar is a random, valid (Verhoeff-checked) Aadhaar number.
func newAadhaar() string {
	d := randomDigits(11, "23456789")
	return d + string(registration.VerhoeffDigit(d))
}

// addBeneficiary registers a beneficiary (born 1980) under the caller and
// returns its reference ID.
func (c *apiClient) addBeneficiary(t testing.TB, name, aadhaar string) string {
	t.Helper()
	r := c.must(t, http.StatusCreated, "POST", "/api/v1/beneficiaries", map[string]string{
		"name": name, "gender": "female", "birth_date": "1980-05-17", "photo_id_type": "aadhaar", "photo_id_number": aadhaar})
	var b struct {
		Ref string `json:"beneficiary_reference_id"`
	}
	r.decode(t, &b)
	return b.Ref
}

// doseBody is a POST /api/v1/vaccinations request.
func doseBody(ref string, number int, date time.Time, centre string) map[string]any {
	return map[string]any{"beneficiary_reference_id": ref, "vaccine": "COVISHIELD", "lot": "4121Z040",
		"dose_number": number, "date": date.Format(time.DateOnly), "center_id": centre}
}

// recordedView is the answer to a recorded dose.
type recordedView struct {
	Dose struct {
		ID     string `json:"dose_id"`
		Ref    string `json:"beneficiary_reference_id"`
		Number int    `json:"dose_number"`
	} `json:"dose"`
	Certificate struct {
		ID     string `json:"certificate_id"`
		Status string `json:"status"`
		Doses  int    `json:"doses"`
	} `json:"certificate"`
}

// todayIST is today's date in India, the day doses are given.
func todayIST() time.Time {
	return time.Now().In(time.FixedZone("IST", 5*3600+1800))
}

func newKey() string { return fmt.Sprintf("rel-%s", randomDigits(20, "")) }

func jsonDecode(b []byte, v any) error { return json.Unmarshal(b, v) }
