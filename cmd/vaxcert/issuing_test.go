package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vaxcert/vaxcert/registration"
	"github.com/vaxcert/vaxcert/registration/sms"
	"github.com/vaxcert/vaxcert/shc"
	"github.com/vaxcert/vaxcert/store/sqlite"
	"github.com/vaxcert/vaxcert/store/storetest"
	"github.com/vaxcert/vaxcert/verifier"
	"github.com/vaxcert/vaxcert/verifier/trust"
	"github.com/vaxcert/vaxcert/verifier/verdict"
)

const demoCentres = "../../booking/demo/centres.csv"

// registerPeople adds n beneficiaries (through the store, as the citizen
// API would) to the SQLite database of a data directory and returns their
// reference IDs.
func registerPeople(t *testing.T, data string, n int) []string {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(data, "vaxcert.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c := storetest.NewCitizens(t, st, registration.Limits{})
	var refs []string
	for i := range n {
		owner := c.Account(t, fmt.Sprintf("97%08d", i/4))
		b, err := c.Reg.AddBeneficiary(context.Background(), owner, storetest.Person(fmt.Sprintf("Import Person %c", 'A'+i%26), "1970-01-01", 1000+i))
		if err != nil {
			t.Fatal(err)
		}
		refs = append(refs, b.RefID)
	}
	return refs
}

func TestDosesImport(t *testing.T) {
	data := t.TempDir()
	if code, out, errOut := run(t, "centres", "import", "--data", data, demoCentres); code != 0 {
		t.Fatalf("centres import: %s %s", out, errOut)
	}
	refs := registerPeople(t, data, 5)
	today := time.Now().In(time.FixedZone("IST", 19800)).Format(time.DateOnly)
	past := time.Now().AddDate(0, 0, -40).Format(time.DateOnly)
	csvText := "beneficiary_reference_id,dose_number,vaccine,lot,date,centre_id\n"
	for i, ref := range refs[:4] {
		csvText += fmt.Sprintf("%s,1,COVAXIN,LOT-A%d,%s,10101\n", ref, i, past)
		csvText += fmt.Sprintf("%s,2,COVAXIN,LOT-B%d,%s,10101\n", ref, i, today) // after dose 1, same file
	}
	csvText += refs[4] + ",1,COVAXIN,LOT-C,not-a-date,10101\n"
	csvText += "99999999999999,1,COVAXIN,LOT-D," + today + ",10101\n"
	csvText += refs[4] + ",1,COVAXIN,LOT-THAT-IS-FAR-TOO-LONG-TO-PRINT," + today + ",10101\n"
	file := filepath.Join(data, "camp.csv")
	if err := os.WriteFile(file, []byte(csvText), 0o600); err != nil {
		t.Fatal(err)
	}
	errorsFile := filepath.Join(data, "errors.csv")
	code, out, errOut := run(t, "doses", "--data", data, "--issuer-url", "https://vaxcert.test", "import", "--errors", errorsFile, file)
	if code != 1 || !strings.Contains(out, "8 dose(s) recorded and certified, 0 already recorded, 3 failed") {
		t.Fatalf("import: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"line 10: date is not YYYY-MM-DD", "line 11: No beneficiary has this reference ID", "line 12: The lot number has 33 characters"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("error report lacks %q:\n%s", want, errOut)
		}
	}
	report, _ := os.ReadFile(errorsFile)
	if lines := strings.Split(strings.TrimSpace(string(report)), "\n"); len(lines) != 4 || !strings.HasSuffix(lines[0], ",error") {
		t.Fatalf("errors file:\n%s", report)
	}
	// Running it again records nothing twice.
	code, out, errOut = run(t, "doses", "--data", data, "--issuer-url", "https://vaxcert.test", "import", file)
	if code != 1 || !strings.Contains(out, "0 dose(s) recorded and certified, 8 already recorded, 3 failed") {
		t.Fatalf("re-import: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, _ = run(t, "certs", "--data", data, "list", "--beneficiary", refs[0])
	if code != 0 || strings.Count(out, "\n") != 3 || !strings.Contains(out, "final") || !strings.Contains(out, "provisional") {
		t.Fatalf("certs list:\n%s", out)
	}
	id := strings.Fields(strings.Split(out, "\n")[1])[0]
	code, out, _ = run(t, "certs", "--data", data, "show", id)
	var shown map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &shown) != nil || shown["status"] != "issued" || len(shown["jws"].(string)) > shc.MaxQRJWSLength {
		t.Fatalf("certs show:\n%s", out)
	}
	if code, out, errOut = run(t, "certs", "--data", data, "revoke", id, "--reason", "entered for the wrong person"); code != 0 || !strings.Contains(out, "revoked") {
		t.Fatalf("certs revoke: %s %s", out, errOut)
	}
	if code, out, errOut = run(t, "certs", "--data", data, "reissue", refs[0], "--reason", "checked the camp register"); code != 0 || !strings.Contains(out, "final, 2 doses") {
		t.Fatalf("certs reissue: %s %s", out, errOut)
	}
	if code, out, _ = run(t, "certs", "--data", data, "finish-pending"); code != 0 || !strings.Contains(out, "0 pending") {
		t.Fatalf("finish-pending: %s", out)
	}
	for _, args := range [][]string{{"doses"}, {"doses", "import"}, {"certs"}, {"certs", "show"}, {"certs", "frobnicate"}} {
		if code, _, _ := run(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
	if code, out, errOut := run(t, "audit", "--data", data, "verify"); code != 0 {
		t.Fatalf("audit verify: %s %s", out, errOut)
	}
}

func TestReadDoseRowsRejectsBadFiles(t *testing.T) {
	for _, c := range []struct{ name, text, want string }{
		{"empty", "", "header"},
		{"missing column", "beneficiary_reference_id,dose_number,vaccine,lot,date\n", "center_id"},
		{"extra column", "beneficiary_reference_id,dose_number,vaccine,lot,date,center_id,x\n", "unexpected"},
		{"duplicate column", "beneficiary_reference_id,dose_number,vaccine,lot,date,center_id,lot\n", "twice"},
		{"ragged row", "beneficiary_reference_id,dose_number,vaccine,lot,date,center_id\n1,2\n", "record on line 2"},
	} {
		err := readDoseRows(strings.NewReader(c.text), func(doseRow) error { return nil })
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error mentioning %q", c.name, err, c.want)
		}
	}
}

func FuzzReadDoseRows(f *testing.F) {
	f.Add([]byte("beneficiary_reference_id,dose_number,vaccine,lot,date,center_id\n12345678901234,1,COVAXIN,L1,2026-01-01,10101\n"))
	f.Add([]byte("\ufeffcentre_id,date,lot,vaccine,dose_number,beneficiary_reference_id\n1,2026-13-01,\"a,b\",X,-1,x\n"))
	f.Add([]byte("beneficiary_reference_id,dose_number,vaccine,lot,date,center_id\n\"unterminated\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rows := 0
		readDoseRows(bytes.NewReader(data), func(r doseRow) error {
			rows++
			if r.err == nil && (r.req.Number == 0 && r.req.BeneficiaryRef == "" && r.req.Date.IsZero()) {
				t.Fatalf("a row without content parsed as valid: %+v", r)
			}
			if r.line < 1 {
				t.Fatalf("row without a line number: %+v", r)
			}
			return nil
		})
		if rows > len(data) {
			t.Fatalf("%d rows from %d bytes", rows, len(data))
		}
	})
}

// server is a vaxcert serve process started from the built binary.
type server struct {
	cmd  *exec.Cmd
	base string
	logs *lockedBuffer
	done chan error
}

func startBinary(t *testing.T, bin, data string, env ...string) *server {
	t.Helper()
	addr := freeAddr(t)
	s := &server{base: "http://" + addr, logs: &lockedBuffer{}, done: make(chan error, 1)}
	s.cmd = exec.Command(bin, "serve", "--data", data, "--addr", addr, "--issuer-url", "https://vaxcert.test",
		"--otp-cooldown", "0s", "--log-format", "text")
	s.cmd.Env = append(os.Environ(), env...)
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			s.cmd.Process.Kill()
			<-s.done
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(s.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			return s
		}
		select {
		case err := <-s.done:
			t.Fatalf("serve exited: %v\n%s", err, s.logs)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not answer:\n%s", s.logs)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func (s *server) stop(t *testing.T) {
	t.Helper()
	s.cmd.Process.Signal(syscall.SIGTERM)
	if err := <-s.done; err != nil {
		t.Fatalf("serve stopped with %v:\n%s", err, s.logs)
	}
}

func (s *server) call(t *testing.T, method, path, token, body string, header ...string) (int, []byte, error) {
	t.Helper()
	req, _ := http.NewRequest(method, s.base+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

func (s *server) must(t *testing.T, want int, method, path, token, body string, header ...string) []byte {
	t.Helper()
	code, b, err := s.call(t, method, path, token, body, header...)
	if err != nil || code != want {
		t.Fatalf("%s %s: %d %s %v\n%s", method, path, code, b, err, s.logs)
	}
	return b
}

func (s *server) login(t *testing.T, data, mobile string) string {
	t.Helper()
	var txn struct {
		TxnID string `json:"txn_id"`
	}
	json.Unmarshal(s.must(t, 200, "POST", "/api/v1/auth/otp", "", `{"mobile":"`+mobile+`"}`), &txn)
	msgs, err := sms.ReadOutbox(filepath.Join(data, sms.OutboxFile))
	if err != nil {
		t.Fatal(err)
	}
	var otp string
	for _, m := range msgs {
		if m.To == mobile {
			otp, _, _ = strings.Cut(m.Text, " ")
		}
	}
	var tok struct {
		Token string `json:"token"`
	}
	json.Unmarshal(s.must(t, 200, "POST", "/api/v1/auth/otp/confirm", "", fmt.Sprintf(`{"txn_id":%q,"otp":%q}`, txn.TxnID, otp)), &tok)
	return tok.Token
}

// TestCrashWhileIssuing kills a real server process between the steps of
// issuing (VAXCERT_FAULT, test-only), restarts it, and checks that the
// certificate is completed, exactly once, and that the client's retry gets
// it.
func TestCrashWhileIssuing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "vaxcert")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	data := filepath.Join(dir, "data")
	for _, args := range [][]string{
		{"centres", "import", "--data", data, demoCentres},
		{"users", "add", "--data", data, "--role", "vaccinator", "--mobile", "9000000001", "--centre", "10101"},
	} {
		if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	s := startBinary(t, bin, data)
	citizen := s.login(t, data, "9123456789")
	vaccinator := s.login(t, data, "9000000001")
	var refs []string
	for i := range 3 {
		body := fmt.Sprintf(`{"name":"Crash Test %c","gender":"female","birth_date":"1980-01-01","photo_id_type":"aadhaar","photo_id_number":%q}`, 'A'+i, storetest.Aadhaar(50+i))
		var b struct {
			Ref string `json:"beneficiary_reference_id"`
		}
		json.Unmarshal(s.must(t, 201, "POST", "/api/v1/beneficiaries", citizen, body), &b)
		refs = append(refs, b.Ref)
	}
	s.stop(t)

	today := time.Now().In(time.FixedZone("IST", 19800)).Format(time.DateOnly)
	for i, step := range []string{"after-pending", "after-sign", "after-issued"} {
		t.Run(step, func(t *testing.T) {
			s := startBinary(t, bin, data, FaultEnv+"=crash-"+step)
			dose := fmt.Sprintf(`{"beneficiary_reference_id":%q,"vaccine":"COVISHIELD","lot":"CRASH%d","dose_number":1,"date":%q,"center_id":"10101"}`, refs[i], i, today)
			key := "crash-" + step
			if code, body, err := s.call(t, "POST", "/api/v1/vaccinations", vaccinator, dose, "Idempotency-Key", key); err == nil {
				t.Fatalf("the server answered %d %s instead of dying", code, body)
			}
			err := <-s.done
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("the server ended with %v, not killed:\n%s", err, s.logs)
			}
			s.cmd.ProcessState = exit.ProcessState

			// Restart: the certificate is finished at start.
			s = startBinary(t, bin, data)
			defer s.stop(t)
			var list struct {
				Certificates []struct {
					ID     string `json:"certificate_id"`
					Ref    string `json:"beneficiary_reference_id"`
					Status string `json:"status"`
				} `json:"certificates"`
			}
			deadline := time.Now().Add(10 * time.Second)
			for {
				list.Certificates = nil
				json.Unmarshal(s.must(t, 200, "GET", "/api/v1/certificates?beneficiary_reference_id="+refs[i], citizen, ""), &list)
				if len(list.Certificates) == 1 && list.Certificates[0].Status == "issued" {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("certificate not finished after restart: %+v\n%s", list, s.logs)
				}
				time.Sleep(50 * time.Millisecond)
			}
			id := list.Certificates[0].ID
			// The vaccinator's retry gets the same certificate, recorded once.
			var again struct {
				Certificate struct {
					ID     string `json:"certificate_id"`
					Status string `json:"status"`
				} `json:"certificate"`
			}
			json.Unmarshal(s.must(t, 201, "POST", "/api/v1/vaccinations", vaccinator, dose, "Idempotency-Key", key), &again)
			if again.Certificate.ID != id || again.Certificate.Status != "issued" {
				t.Fatalf("retry got %+v, want certificate %s", again, id)
			}
			// The card verifies against the key set and CRL as served.
			var file shc.File
			json.Unmarshal(s.must(t, 200, "GET", "/api/v1/certificates/"+id+".smart-health-card", citizen, ""), &file)
			jwks := s.must(t, 200, "GET", "/.well-known/jwks.json", "", "")
			tkeys, _, err := trust.ParseJWKS(jwks)
			if err != nil || len(tkeys) != 1 {
				t.Fatal(err)
			}
			crl, err := trust.ParseCRL(s.must(t, 200, "GET", "/.well-known/crl/"+tkeys[0].Kid+".json", "", ""))
			if err != nil {
				t.Fatal(err)
			}
			v := verifier.Verifier{Trust: trust.NewStore(&trust.Issuer{Iss: "https://vaxcert.test",
				Keys: map[string]*trust.Key{tkeys[0].Kid: tkeys[0]}, CRLs: map[string]*trust.CRL{tkeys[0].Kid: crl}})}
			if res := v.VerifyJWS(file.VerifiableCredential[0], "card"); res.Status != verdict.Valid {
				t.Fatalf("card: %s %+v", res.Status, res.Reasons)
			}
		})
	}
	// One dose, one certificate and one "issued" audit entry per crash.
	st, err := sqlite.Open(context.Background(), filepath.Join(data, "vaxcert.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	entries, err := st.ListAudit(context.Background(), 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	issued := 0
	for _, e := range entries {
		if e.Action == "certificate.issued" {
			issued++
		}
	}
	if issued != 3 {
		t.Fatalf("%d certificate.issued audit entries, want 3", issued)
	}
	for _, ref := range refs {
		if h, _ := st.DoseHistory(context.Background(), ref); len(h) != 1 {
			t.Fatalf("%s: %d doses", ref, len(h))
		}
	}
}
