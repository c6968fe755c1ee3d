package booking

import (
	"strings"
	"testing"
	"time"

	"github.com/vaxcert/vaxcert/internal/problem"
	"github.com/vaxcert/vaxcert/vaccine"
)

func day(s string) time.Time {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return d
}

func TestCheckEligibility(t *testing.T) {
	adult := day("1980-06-15")
	teen := day("2010-06-15")
	child := day("2013-05-01")
	cs := func(code string) vaccine.Dose { return vaccine.Dose{Number: 1, Vaccine: code, Date: day("2026-01-01")} }
	two := []vaccine.Dose{{Number: 1, Vaccine: "COVISHIELD", Date: day("2025-01-01")}, {Number: 2, Vaccine: "COVISHIELD", Date: day("2025-04-01")}}
	sess := func(code, date string, minAge, maxAge int) Session {
		return Session{ID: "s", Vaccine: code, Date: day(date), MinAge: minAge, MaxAge: maxAge}
	}
	tests := []struct {
		name    string
		birth   time.Time
		history []vaccine.Dose
		s       Session
		dose    int
		bucket  Bucket
		slug    string
	}{
		{"first dose", adult, nil, sess("COVISHIELD", "2026-03-02", 18, 0), 1, BucketDose1, ""},
		{"Covishield dose 2 on day 84", adult, []vaccine.Dose{cs("COVISHIELD")}, sess("COVISHIELD", "2026-03-26", 18, 0), 2, BucketDose2, ""},
		{"Covishield dose 2 on day 83", adult, []vaccine.Dose{cs("COVISHIELD")}, sess("COVISHIELD", "2026-03-25", 18, 0), 0, "", "dose-too-early"},
		{"Covaxin dose 2 on day 28", adult, []vaccine.Dose{cs("COVAXIN")}, sess("COVAXIN", "2026-01-29", 18, 0), 2, BucketDose2, ""},
		{"Covaxin dose 2 on day 27", adult, []vaccine.Dose{cs("COVAXIN")}, sess("COVAXIN", "2026-01-28", 18, 0), 0, "", "dose-too-early"},
		{"dose 2 with another vaccine", adult, []vaccine.Dose{cs("COVAXIN")}, sess("COVISHIELD", "2026-06-01", 18, 0), 0, "", "vaccine-mismatch"},
		{"precaution after 9 months", adult, two, sess("COVAXIN", "2026-01-01", 18, 0), 3, BucketPrecaution, ""},
		{"precaution too soon", adult, two, sess("COVISHIELD", "2025-12-31", 18, 0), 0, "", "dose-too-early"},
		{"under the vaccine's age", teen, nil, sess("COVISHIELD", "2026-03-02", 0, 0), 0, "", "age-below-limit"},
		{"Covaxin at 15", teen, nil, sess("COVAXIN", "2026-03-02", 15, 0), 1, BucketDose1, ""},
		{"under the session's age", adult, nil, sess("COVAXIN", "2026-03-02", 60, 0), 0, "", "age-below-limit"},
		{"children's session", child, nil, sess("CORBEVAX", "2026-03-02", 12, 14), 1, BucketDose1, ""},
		{"over the session's age", adult, nil, sess("CORBEVAX", "2026-03-02", 12, 14), 0, "", "age-above-limit"},
		{"turns 18 on the day", day("2008-03-02"), nil, sess("COVISHIELD", "2026-03-02", 18, 0), 1, BucketDose1, ""},
		{"turns 18 the day after", day("2008-03-03"), nil, sess("COVISHIELD", "2026-03-02", 18, 0), 0, "", "age-below-limit"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := CheckEligibility(vaccine.Default, tc.birth, tc.history, tc.s)
			if tc.slug != "" {
				p, ok := problem.As(err)
				if !ok || p.Slug != tc.slug || p.Kind != problem.Conflict || p.Detail == "" {
					t.Fatalf("got %+v, %v; want %s", e, err, tc.slug)
				}
				return
			}
			if err != nil || e.Dose != tc.dose || e.Bucket != tc.bucket {
				t.Fatalf("got %+v, %v; want dose %d %s", e, err, tc.dose, tc.bucket)
			}
		})
	}
	// The refusal says when the dose becomes possible.
	_, err := CheckEligibility(vaccine.Default, adult, []vaccine.Dose{cs("COVISHIELD")}, sess("COVISHIELD", "2026-02-01", 18, 0))
	if !strings.Contains(err.Error(), "26 March 2026") || !strings.Contains(err.Error(), "84 days") {
		t.Fatalf("message: %v", err)
	}
	if _, err := CheckEligibility(vaccine.Default, adult, nil, sess("NOVAX", "2026-02-01", 18, 0)); err == nil || problem.Is(err, problem.Conflict) {
		t.Fatalf("unknown vaccine: %v", err)
	}
}

func TestToday(t *testing.T) {
	// 20:00 UTC on 1 March is 01:30 on 2 March in India.
	if got := Today(time.Date(2026, 3, 1, 20, 0, 0, 0, time.UTC)); !got.Equal(day("2026-03-02")) {
		t.Fatalf("Today = %v", got)
	}
}
