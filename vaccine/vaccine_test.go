package vaccine

import (
	"testing"
	"time"
)

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestNextDose(t *testing.T) {
	tests := []struct {
		name     string
		history  []Dose
		number   int
		vaccine  string
		earliest string
	}{
		{"first", nil, 1, "", ""},
		{"covishield second after 84 days", []Dose{{1, "COVISHIELD", day("2021-05-01")}}, 2, "COVISHIELD", "2021-07-24"},
		{"covaxin second after 28 days", []Dose{{1, "COVAXIN", day("2021-05-01")}}, 2, "COVAXIN", "2021-05-29"},
		{"precaution after 9 months", []Dose{{1, "COVAXIN", day("2021-05-01")}, {2, "COVAXIN", day("2021-06-01")}}, 3, "", "2022-03-01"},
		{"second precaution after the first", []Dose{{1, "COVAXIN", day("2021-05-01")}, {2, "COVAXIN", day("2021-06-01")}, {3, "CORBEVAX", day("2022-03-05")}}, 4, "", "2022-12-05"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, v, e, err := Default.NextDose(tt.history)
			if err != nil {
				t.Fatal(err)
			}
			want := time.Time{}
			if tt.earliest != "" {
				want = day(tt.earliest)
			}
			if n != tt.number || v != tt.vaccine || !e.Equal(want) {
				t.Fatalf("got %d %q %s, want %d %q %s", n, v, e.Format(time.DateOnly), tt.number, tt.vaccine, tt.earliest)
			}
		})
	}
	if _, _, _, err := Default.NextDose([]Dose{{1, "NOPE", day("2021-01-01")}}); err == nil {
		t.Fatal("unknown vaccine accepted")
	}
}

func TestCourseStatus(t *testing.T) {
	h := []Dose{{1, "COVISHIELD", day("2021-05-01")}}
	if s := Default.CourseStatus(h); s != Provisional {
		t.Fatal(s)
	}
	h = append(h, Dose{2, "COVISHIELD", day("2021-08-01")})
	if s := Default.CourseStatus(h); s != Final {
		t.Fatal(s)
	}
	h = append(h, Dose{3, "CORBEVAX", day("2022-05-01")})
	if s := Default.CourseStatus(h); s != Precaution {
		t.Fatal(s)
	}
	if s := Default.CourseStatus(nil); s != None {
		t.Fatal(s)
	}
}

func TestParseRejects(t *testing.T) {
	for _, bad := range []string{
		`{`,
		`{"precaution_after_months":9,"vaccines":[{"code":"A","name":"A","cvx":"1","primary_doses":2,"interval_days":[]}]}`,
		`{"precaution_after_months":9,"vaccines":[{"code":"A","name":"A","cvx":"1","primary_doses":1,"interval_days":[]},{"code":"A","name":"A","cvx":"1","primary_doses":1,"interval_days":[]}]}`,
		`{"precaution_after_months":0,"vaccines":[]}`,
	} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

func TestAgeOn(t *testing.T) {
	if a := AgeOn(day("2000-06-15"), day("2018-06-14")); a != 17 {
		t.Fatal(a)
	}
	if a := AgeOn(day("2000-06-15"), day("2018-06-15")); a != 18 {
		t.Fatal(a)
	}
}
