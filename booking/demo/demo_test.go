package demo

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vaxcert/vaxcert/booking"
	"github.com/vaxcert/vaxcert/store/sqlite"
	"github.com/vaxcert/vaxcert/vaccine"
)

var update = flag.Bool("update", false, "rewrite centres.csv from districts.csv")

// TestCentresCSVIsGenerated keeps centres.csv equal to what GenerateCentres
// makes of districts.csv.
func TestCentresCSVIsGenerated(t *testing.T) {
	ds, err := Districts()
	if err != nil {
		t.Fatal(err)
	}
	states, err := States()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteCentresCSV(&buf, GenerateCentres(ds), states); err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("centres.csv", buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(buf.Bytes(), CentresCSV()) {
		t.Fatal("centres.csv is not what GenerateCentres makes of districts.csv: run go test ./booking/demo -update")
	}
}

func TestDataSet(t *testing.T) {
	states, err := States()
	if err != nil {
		t.Fatal(err)
	}
	if len(states) != 36 {
		t.Fatalf("%d states and union territories, want all 36", len(states))
	}
	p, err := Places()
	if err != nil {
		t.Fatal(err)
	}
	perState := map[int]int{}
	for _, d := range p.Districts {
		perState[d.StateID]++
	}
	for _, s := range states {
		if perState[s.ID] == 0 {
			t.Errorf("%s has no district", s.Name)
		}
	}
	if len(p.Centres) < 300 {
		t.Errorf("only %d centres", len(p.Centres))
	}
	paid := 0
	for _, c := range p.Centres {
		if c.FeeType == booking.Paid {
			paid++
		}
		if _, err := booking.ValidateCentre(c); err != nil {
			t.Errorf("centre %s: %v", c.ID, err)
		}
	}
	if paid == 0 || paid == len(p.Centres) {
		t.Errorf("%d of %d centres are paid", paid, len(p.Centres))
	}
	monday := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	s1 := Sessions(p.Centres, monday, Days)
	s2 := Sessions(p.Centres, monday, Days)
	if len(s1) == 0 || len(s1) != len(s2) || s1[0].ID != s2[0].ID || s1[len(s1)-1].Capacity != s2[len(s2)-1].Capacity {
		t.Fatal("sessions are not deterministic")
	}
	ids := map[string]bool{}
	for _, s := range s1 {
		if ids[s.ID] {
			t.Fatalf("duplicate session ID %s", s.ID)
		}
		ids[s.ID] = true
		if _, ok := vaccine.Default.Lookup(s.Vaccine); !ok {
			t.Fatalf("session offers %s, not in the catalog", s.Vaccine)
		}
		if s.Capacity.Total() <= 0 || s.Available != s.Capacity {
			t.Fatalf("session capacity %+v", s)
		}
	}
}

func TestLoad(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "demo.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	today := booking.Today(time.Now())
	sum, err := Load(ctx, st, today)
	if err != nil {
		t.Fatal(err)
	}
	if sum.States != 36 || sum.Centres < 300 || sum.Sessions < sum.Centres*5 {
		t.Fatalf("loaded %v", sum)
	}
	found, err := st.FindSessions(ctx, booking.SessionQuery{Pincode: "411001", From: today, To: today.AddDate(0, 0, Days-1)})
	if err != nil || len(found) == 0 {
		t.Fatalf("Pune sessions: %d, %v", len(found), err)
	}
	if _, err := Load(ctx, st, today); err != ErrNotEmpty {
		t.Fatalf("second load: %v", err)
	}
}
