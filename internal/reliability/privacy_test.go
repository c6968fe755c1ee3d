package reliability

import (
	"database/sql"
	"encoding/json"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestSecretsStayOutOfLogs runs a full flow — OTP logins, beneficiaries
// with Aadhaar numbers (including a duplicate and a mistyped one), bookings,
// a dose and its certificate, downloads by token and by the public OTP
// grant, an admin correction, wrong OTPs and a forged token — and then
// searches the service's log and the audit log for the ID numbers, OTPs,
// session tokens, download grants and mobile numbers it handled. None may
// appear. Key and secret files, and the database, must be 0600 in 0700
// directories.
func TestSecretsStayOutOfLogs(t *testing.T) {
	f := newFlow(t)
	svc := f.svc
	b := svc.client(f.citizenB)
	ids := []string{f.aadhaarA, f.aadhaarB}

	// Errors that carry the ID in the request.
	dup := b.must(t, http.StatusConflict, "POST", "/api/v1/beneficiaries", map[string]string{
		"name": "Dup Licate", "gender": "male", "birth_date": "1980-01-01", "photo_id_type": "aadhaar", "photo_id_number": f.aadhaarA})
	bad := newAadhaar()
	bad = bad[:11] + string('0'+(bad[11]-'0'+1)%10) // wrong check digit
	ids = append(ids, bad)
	b.must(t, http.StatusBadRequest, "POST", "/api/v1/beneficiaries", map[string]string{
		"name": "Bad Check", "gender": "male", "birth_date": "1980-01-01", "photo_id_type": "aadhaar", "photo_id_number": bad})
	for _, resp := range [][]byte{dup.body} {
		for _, id := range ids {
			if strings.Contains(string(resp), id) {
				t.Errorf("an answer echoes the ID number %s: %s", id, resp)
			}
		}
	}

	// Downloads as the owner, and by the public OTP flow.
	for _, ext := range []string{".smart-health-card", ".pdf", ".png", ".fhir.json"} {
		b.must(t, http.StatusOK, "GET", "/api/v1/certificates/"+f.certB+ext, nil)
	}
	txn, otp := svc.requestOTPForRef(t, f.refB, f.mobileB)
	f.otps = append(f.otps, otp)
	var grant struct {
		Access string `json:"access"`
	}
	svc.client("").must(t, http.StatusOK, "POST", "/api/v1/certificates/public/confirm", map[string]string{"txn_id": txn, "otp": otp}).decode(t, &grant)
	svc.client("").must(t, http.StatusOK, "GET", "/api/v1/certificates/"+f.certB+".pdf?access="+grant.Access, nil)

	// An admin correction (a new certificate, the old one revoked).
	svc.client(f.admin).must(t, http.StatusOK, "POST", "/api/v1/admin/beneficiaries/"+f.refB+"/corrections",
		map[string]string{"name": "Bela R Iyer", "reason": "spelling on the ID card"})

	// Wrong OTPs, a forged token.
	txn2, otp2 := svc.requestOTP(t, f.mobileA)
	f.otps = append(f.otps, otp2)
	svc.client("").do("POST", "/api/v1/auth/otp/confirm", map[string]string{"txn_id": txn2, "otp": wrongOTP(otp2, 0)})
	forged := f.citizenA[:len(f.citizenA)-4] + "AAAA"
	svc.client(forged).do("GET", "/api/v1/beneficiaries", nil)
	f.tokens = append(f.tokens, forged)

	logs := svc.logs.String()
	svc.stop()
	audit := readAuditText(t, filepath.Join(svc.data, "vaxcert.db"))

	secrets := map[string][]string{"ID number": nil, "token": nil, "download grant": {grant.Access}, "mobile number": {f.mobileA, f.mobileB}}
	for _, id := range ids {
		secrets["ID number"] = append(secrets["ID number"], id, id[:4]+" "+id[4:8]+" "+id[8:])
	}
	for _, tok := range f.tokens {
		p := strings.Split(tok, ".")
		secrets["token"] = append(secrets["token"], tok, p[len(p)-1])
	}
	for where, text := range map[string]string{"service log": logs, "audit log": audit} {
		for kind, values := range secrets {
			for _, v := range values {
				if v != "" && strings.Contains(text, v) {
					t.Errorf("%s contains a %s (%s…): %s", where, kind, v[:min(6, len(v))], lineWith(text, v))
				}
			}
		}
		for _, otp := range f.otps {
			if line := otpIn(text, otp); line != "" {
				t.Errorf("%s contains an OTP: %s", where, line)
			}
		}
	}
	if len(f.otps) < 6 || len(f.tokens) < 6 || !strings.Contains(logs, `"msg":"request"`) {
		t.Fatalf("the flow did not run as planned: %d OTPs, %d tokens", len(f.otps), len(f.tokens))
	}

	checkFileModes(t, svc.data)
}

// otpIn finds the OTP as a standalone number inside a string of a JSON log
// line (numbers such as durations and byte counts are not searched: an OTP
// is only ever text).
func otpIn(text, otp string) string {
	re := regexp.MustCompile(`(^|[^0-9])` + otp + `([^0-9]|$)`)
	for _, line := range strings.Split(text, "\n") {
		if !strings.Contains(line, otp) {
			continue
		}
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) != nil {
			if re.MatchString(line) { // not JSON (audit text): search it all
				return line
			}
			continue
		}
		for _, v := range rec {
			if s, ok := v.(string); ok && re.MatchString(s) {
				return line
			}
		}
	}
	return ""
}

func lineWith(text, v string) string {
	for _, line := range strings.Split(text, "\n") {
		if strings.Contains(line, v) {
			return tail(line, 300)
		}
	}
	return ""
}

// readAuditText is the audit log, one entry a line.
func readAuditText(t *testing.T, path string) string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT actor, action, subject, detail FROM audit_log ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var sb strings.Builder
	for rows.Next() {
		var a, b, c, d string
		if err := rows.Scan(&a, &b, &c, &d); err != nil {
			t.Fatal(err)
		}
		sb.WriteString(a + " " + b + " " + c + " " + d + "\n")
	}
	return sb.String()
}

// checkFileModes: everything in the data directory is its owner's alone.
func checkFileModes(t *testing.T, data string) {
	t.Helper()
	keyFiles := 0
	err := filepath.WalkDir(data, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(data, path)
		mode := info.Mode().Perm()
		switch {
		case d.IsDir() && mode != 0o700:
			t.Errorf("directory %s has mode %o, want 700", rel, mode)
		case !d.IsDir() && mode != 0o600:
			t.Errorf("file %s has mode %o, want 600", rel, mode)
		}
		if !d.IsDir() && (strings.HasPrefix(rel, "keys"+string(os.PathSeparator)) || strings.HasPrefix(rel, "auth-keys"+string(os.PathSeparator)) ||
			strings.HasPrefix(rel, "secrets"+string(os.PathSeparator))) {
			keyFiles++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if keyFiles < 4 {
		t.Errorf("only %d key and secret files found under %s", keyFiles, data)
	}
}
