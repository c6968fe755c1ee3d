package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vaxcert/vaxcert/registration/sms"
)

func TestCitizenCommands(t *testing.T) {
	data := t.TempDir()
	code, out, errOut := run(t, "centres", "import", "--data", data, filepath.Join("..", "..", "booking", "demo", "centres.csv"))
	if code != 0 || !strings.Contains(out, "630 centres") {
		t.Fatalf("centres import: %d %s %s", code, out, errOut)
	}
	code, out, errOut = run(t, "users", "add", "--data", data, "--role", "vaccinator", "--mobile", "+91 90000 00001", "--centre", "210101", "--centre", "210102")
	if code != 0 || !strings.Contains(out, "9000000001 is vaccinator at centres 210101, 210102") {
		t.Fatalf("users add: %d %s %s", code, out, errOut)
	}
	code, out, errOut = run(t, "sessions", "add", "--data", data, "--centre", "210101", "--vaccine", "covaxin", "--min-age", "15", "--dose1", "40", "--dose2", "20", "--days", "3")
	if code != 0 || strings.Count(out, "\n") != 3 || !strings.Contains(out, "COVAXIN, places 40/20/0") {
		t.Fatalf("sessions add: %d %s %s", code, out, errOut)
	}
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"users", "add", "--data", data, "--role", "nurse", "--mobile", "9000000002"}, 2, "--role"},
		{[]string{"users", "add", "--data", data, "--role", "vaccinator", "--mobile", "9000000002"}, 1, "centre"},
		{[]string{"users", "add", "--data", data, "--role", "vaccinator", "--mobile", "9000000002", "--centre", "999"}, 1, "centre 999"},
		{[]string{"users", "add", "--data", data, "--role", "admin", "--mobile", "123"}, 1, "mobile"},
		{[]string{"users"}, 2, "usage"},
		{[]string{"centres", "import", "--data", data, filepath.Join(data, "missing.csv")}, 1, "missing.csv"},
		{[]string{"sessions", "add", "--data", data, "--centre", "210101", "--vaccine", "COVISHIELD"}, 1, "apacit"},
		{[]string{"sessions", "add", "--data", data, "--centre", "210101", "--vaccine", "COVISHIELD", "--dose1", "5", "--date", "2020-01-01"}, 1, "past"},
		{[]string{"sessions", "add", "--data", data, "--centre", "999", "--vaccine", "COVISHIELD", "--dose1", "5"}, 1, "centre"},
	} {
		code, out, errOut := run(t, tc.args...)
		if code != tc.code || !strings.Contains(out+errOut, tc.msg) {
			t.Errorf("%v: exit %d (%s%s), want %d mentioning %q", tc.args, code, out, errOut, tc.code, tc.msg)
		}
	}
	// Every change is in the audit log, whose chain holds.
	code, out, errOut = run(t, "audit", "--data", data, "verify")
	if code != 0 {
		t.Fatalf("audit verify: %d %s %s", code, out, errOut)
	}
}

// TestServeDemo runs the service with the demo data set and logs in through
// the dev SMS outbox, as a new user would.
func TestServeDemo(t *testing.T) {
	data := t.TempDir()
	base, _ := startServe(t, "--data", data, "--demo", "--otp-cooldown", "0s")
	get := func(path string, v any) {
		t.Helper()
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatal(err)
		}
	}
	var states struct{ States []struct{ StateID int } }
	get("/api/v2/admin/location/states", &states)
	if len(states.States) != 36 {
		t.Fatalf("%d states", len(states.States))
	}
	var cal struct{ Centers []struct{ Sessions []any } }
	get("/api/v2/appointment/sessions/public/calendarByDistrict?district_id=2101&date="+time.Now().In(time.FixedZone("IST", 19800)).Format("02-01-2006"), &cal)
	if len(cal.Centers) < 5 || len(cal.Centers[0].Sessions) < 5 {
		t.Fatalf("Pune calendar: %d centres", len(cal.Centers))
	}

	resp, err := http.Post(base+"/api/v1/auth/otp", "application/json", strings.NewReader(`{"mobile":"9123456789"}`))
	if err != nil {
		t.Fatal(err)
	}
	var txn struct {
		TxnID string `json:"txn_id"`
	}
	json.NewDecoder(resp.Body).Decode(&txn)
	resp.Body.Close()
	msgs, err := sms.ReadOutbox(filepath.Join(data, sms.OutboxFile))
	if err != nil || len(msgs) != 1 || msgs[0].To != "9123456789" {
		t.Fatalf("outbox: %+v, %v", msgs, err)
	}
	otp, _, _ := strings.Cut(msgs[0].Text, " ")
	resp, err = http.Post(base+"/api/v1/auth/otp/confirm", "application/json", strings.NewReader(fmt.Sprintf(`{"txn_id":%q,"otp":%q}`, txn.TxnID, otp)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("confirm: %d", resp.StatusCode)
	}
}
