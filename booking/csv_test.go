package booking

import (
	"strings"
	"testing"

	"github.com/vaxcert/vaxcert/internal/problem"
)

const header = "center_id,name,address,block_name,pincode,state_id,state_name,district_id,district_name,lat,long,fee_type,from,to\n"

func TestParseCentresCSV(t *testing.T) {
	good := header +
		"600001,Kamla Nehru Hospital,Mangalwar Peth,Pune City,411011,21,Maharashtra,363,Pune,18.5196,73.8656,Free,09:00,17:00\n" +
		"600002,\"Aundh Hospital, West\",Aundh,Haveli,411027,21,Maharashtra,363,Pune,,,paid,,\n" +
		"700001,PHC Mulshi,,Mulshi,412108,21,Maharashtra,364,Mulshi,,,,,\n"
	p, err := ParseCentresCSV(strings.NewReader(good))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.States) != 1 || len(p.Districts) != 2 || len(p.Centres) != 3 {
		t.Fatalf("parsed %d states, %d districts, %d centres", len(p.States), len(p.Districts), len(p.Centres))
	}
	c := p.Centres[1]
	if c.Name != "Aundh Hospital, West" || c.FeeType != Paid || c.From != "09:00" || c.To != "17:00" || c.Lat != 0 {
		t.Fatalf("centre %+v", c)
	}
	// Columns in another order, a BOM, and only the required ones.
	p, err = ParseCentresCSV(strings.NewReader("\ufeffpincode,name,center_id,district_name,district_id,state_name,state_id\n411011,X Hospital,5,Pune,363,Maharashtra,21\n"))
	if err != nil || p.Centres[0].ID != "5" || p.Centres[0].Pincode != "411011" {
		t.Fatalf("reordered: %+v, %v", p, err)
	}

	bad := []struct{ name, csv, want string }{
		{"empty", "", "empty"},
		{"no centres", header, "no centres"},
		{"missing column", "center_id,name\n1,x\n", "pincode"},
		{"duplicate column", "name,name\n", "twice"},
		{"bad pincode", header + "1,X,,,41101,21,Maharashtra,363,Pune,,,,,\n", "Line 2"},
		{"bad centre id", header + "C1,X,,,411011,21,Maharashtra,363,Pune,,,,,\n", "Line 2"},
		{"bad state id", header + "1,X,,,411011,x,Maharashtra,363,Pune,,,,,\n", "state_id"},
		{"bad latitude", header + "1,X,,,411011,21,Maharashtra,363,Pune,north,,,,\n", "lat"},
		{"outside India", header + "1,X,,,411011,21,Maharashtra,363,Pune,51.5,-0.1,,,\n", "India"},
		{"fee type", header + "1,X,,,411011,21,Maharashtra,363,Pune,,,Cheap,,\n", "Free or Paid"},
		{"hours", header + "1,X,,,411011,21,Maharashtra,363,Pune,,,,18:00,09:00\n", "HH:MM"},
		{"state renamed", header + "1,X,,,411011,21,Maharashtra,363,Pune,,,,,\n2,Y,,,411011,21,Bombay State,363,Pune,,,,,\n", "Line 3"},
		{"district moved", header + "1,X,,,411011,21,Maharashtra,363,Pune,,,,,\n2,Y,,,411011,22,Manipur,363,Pune,,,,,\n", "district 363"},
		{"duplicate centre", header + "1,X,,,411011,21,Maharashtra,363,Pune,,,,,\n1,Y,,,411011,21,Maharashtra,363,Pune,,,,,\n", "also on line 2"},
		{"bad quoting", header + "1,\"X,,,411011\n", "Line"},
	}
	for _, tc := range bad {
		_, err := ParseCentresCSV(strings.NewReader(tc.csv))
		p, ok := problem.As(err)
		if !ok || p.Kind != problem.Invalid || !strings.Contains(p.Detail, tc.want) {
			t.Errorf("%s: %v; want an Invalid problem mentioning %q", tc.name, err, tc.want)
		}
	}
}

// FuzzParseCentresCSV: any file is either refused with an Invalid problem
// or gives centres that all pass ValidateCentre.
func FuzzParseCentresCSV(f *testing.F) {
	f.Add(header + "600001,Kamla Nehru Hospital,Mangalwar Peth,Pune City,411011,21,Maharashtra,363,Pune,18.5196,73.8656,Free,09:00,17:00\n")
	f.Add("pincode,name,center_id,district_name,district_id,state_name,state_id\n411011,X,5,Pune,363,Maharashtra,21\n")
	f.Add(header + "1,\"a\"\"b\",,,411011,21,M,363,P,,,,,\n")
	f.Add("\ufeff\n\n")
	f.Fuzz(func(t *testing.T, data string) {
		p, err := ParseCentresCSV(strings.NewReader(data))
		if err != nil {
			if !problem.Is(err, problem.Invalid) {
				t.Fatalf("error is not Invalid: %v", err)
			}
			return
		}
		for _, c := range p.Centres {
			if _, err := ValidateCentre(c); err != nil {
				t.Fatalf("accepted an invalid centre %+v: %v", c, err)
			}
		}
	})
}
