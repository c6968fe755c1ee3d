package registration

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vaxcert/vaxcert/internal/problem"
)

func TestVerhoeff(t *testing.T) {
	// The textbook example: 236 takes the check digit 3.
	if d := VerhoeffDigit("236"); d != '3' {
		t.Fatalf("VerhoeffDigit(236) = %c, want 3", d)
	}
	for _, tc := range []struct {
		digits string
		valid  bool
	}{
		{"2363", true}, {"2364", false}, {"", false}, {"12a4", false},
		{"0", true}, {"5", false},
	} {
		if got := VerhoeffValid(tc.digits); got != tc.valid {
			t.Errorf("VerhoeffValid(%q) = %v, want %v", tc.digits, got, tc.valid)
		}
	}
	// Every single-digit error and every adjacent swap is caught.
	for i := range 200 {
		base := fmt.Sprintf("%011d", (i*7919+12345)*104729%99999999999)
		n := base + string(VerhoeffDigit(base))
		if !VerhoeffValid(n) {
			t.Fatalf("%s: generated number is not valid", n)
		}
		for pos := range n {
			for d := byte('0'); d <= '9'; d++ {
				if d == n[pos] {
					continue
				}
				m := n[:pos] + string(d) + n[pos+1:]
				if VerhoeffValid(m) {
					t.Fatalf("single-digit error %s -> %s not caught", n, m)
				}
			}
			if pos+1 < len(n) && n[pos] != n[pos+1] {
				m := n[:pos] + string(n[pos+1]) + string(n[pos]) + n[pos+2:]
				if VerhoeffValid(m) {
					t.Fatalf("swap %s -> %s not caught", n, m)
				}
			}
		}
	}
}

func aadhaar(base string) string { return base + string(VerhoeffDigit(base)) }

func TestNormalizeID(t *testing.T) {
	good := aadhaar("23456789012")
	bad := good[:11] + string('0'+(good[11]-'0'+1)%10)
	tests := []struct {
		typ     IDType
		in      string
		want    string // "" for an error
		wantErr string // slug
	}{
		{Aadhaar, good, good, ""},
		{Aadhaar, good[:4] + " " + good[4:8] + "-" + good[8:], good, ""},
		{Aadhaar, bad, "", "id-number-invalid"},
		{Aadhaar, aadhaar("13456789012"), "", "id-number-invalid"}, // starts with 1
		{Aadhaar, "12345", "", "id-number-invalid"},
		{Aadhaar, "", "", "id-number-missing"},
		{Passport, "j8369854", "J8369854", ""},
		{Passport, "Q8369854", "", "id-number-invalid"},
		{Passport, "J0369854", "", "id-number-invalid"},
		{Passport, "J836985", "", "id-number-invalid"},
		{PAN, "abcpe1234f", "ABCPE1234F", ""},
		{PAN, "ABCCE1234F", "", "id-number-invalid"}, // a company's PAN
		{PAN, "ABCP1234FF", "", "id-number-invalid"},
		{VoterID, "abc1234567", "ABC1234567", ""},
		{VoterID, "AB12345678", "", "id-number-invalid"},
		{DrivingLicence, "MH14 20110062821", "MH1420110062821", ""},
		{DrivingLicence, "MH14-18990062821", "", "id-number-invalid"}, // year 1899
		{DrivingLicence, "MH142011006282", "", "id-number-invalid"},
		{IDType("ration_card"), "123", "", "id-type-invalid"},
		{Aadhaar, strings.Repeat("2", 40), "", "id-number-invalid"},
	}
	for _, tc := range tests {
		got, err := NormalizeID(tc.typ, tc.in)
		if tc.wantErr != "" {
			p, ok := problem.As(err)
			if !ok || p.Slug != tc.wantErr || p.Kind != problem.Invalid {
				t.Errorf("NormalizeID(%s, %q) = %q, %v; want %s", tc.typ, tc.in, got, err, tc.wantErr)
			}
			if err != nil && tc.in != "" && len(tc.in) > 4 && strings.Contains(err.Error(), tc.in) {
				t.Errorf("the error echoes the ID number: %v", err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("NormalizeID(%s, %q) = %q, %v; want %q", tc.typ, tc.in, got, err, tc.want)
		}
	}
}

func TestMask(t *testing.T) {
	for _, tc := range []struct {
		t        IDType
		in, want string
	}{
		{Aadhaar, "234567890124", "XXXX XXXX 0124"},
		{Passport, "J8369854", "XXXX9854"},
		{PAN, "ABCPE1234F", "XXXXXX234F"},
		{VoterID, "ABC", "XXX"},
	} {
		if got := MaskID(tc.t, tc.in); got != tc.want {
			t.Errorf("MaskID(%s, %s) = %s, want %s", tc.t, tc.in, got, tc.want)
		}
	}
	if got := MaskMobile("9876543210"); got != "*******210" {
		t.Errorf("MaskMobile = %s", got)
	}
	if got := MaskRef("12345678901234"); got != "XXXXXXXXXX1234" {
		t.Errorf("MaskRef = %s", got)
	}
}

func TestNormalizeMobile(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"9876543210", "9876543210"},
		{"+91 98765 43210", "9876543210"},
		{"+91-9876543210", "9876543210"},
		{"919876543210", "9876543210"},
		{"09876543210", "9876543210"},
		{"(987) 654-3210", "9876543210"},
		{"5876543210", ""},
		{"987654321", ""},
		{"98765432100", ""},
		{"98765x3210", ""},
		{"+1 9876543210", ""},
		{"", ""},
	} {
		got, err := NormalizeMobile(tc.in)
		if (tc.want == "") != (err != nil) || got != tc.want {
			t.Errorf("NormalizeMobile(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestPersonFields(t *testing.T) {
	today := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	names := []struct{ in, want string }{
		{"  Asha   Rao ", "Asha Rao"},
		{"D'Souza-Pereira J.", "D'Souza-Pereira J."},
		{"José Müller", "José Müller"},
		{"R2D2", ""},
		{"आशा राव", ""}, // names are registered in Latin script, as on travel documents
		{"...", ""},
		{"", ""},
		{strings.Repeat("a", 101), ""},
	}
	for _, tc := range names {
		got, err := NormalizeName(tc.in)
		if (tc.want == "") != (err != nil) || got != tc.want {
			t.Errorf("NormalizeName(%q) = %q, %v", tc.in, got, err)
		}
	}
	for in, want := range map[string]string{"M": Male, "female": Female, "Other": Other, "x": ""} {
		got, err := NormalizeGender(in)
		if (want == "") != (err != nil) || got != want {
			t.Errorf("NormalizeGender(%q) = %q, %v", in, got, err)
		}
	}
	for in, ok := range map[string]bool{"1984-02-29": true, "1985-02-29": false, "2026-03-03": false, "1900-01-01": false, "02-03-1990": false, "2026-03-02": true} {
		_, err := ParseBirthDate(in, today)
		if (err == nil) != ok {
			t.Errorf("ParseBirthDate(%q) = %v, want ok=%v", in, err, ok)
		}
	}
	for in, want := range map[string]IDType{"Aadhaar": Aadhaar, " passport ": Passport, "driving_licence": DrivingLicence} {
		if got, err := ParseIDType(in); err != nil || got != want {
			t.Errorf("ParseIDType(%q) = %q, %v", in, got, err)
		}
	}
}

// FuzzNormalizeID: any input either fails with an Invalid problem or gives a
// canonical number that normalises to itself and masks without panicking.
func FuzzNormalizeID(f *testing.F) {
	f.Add("aadhaar", "2345 6789 0124")
	f.Add("passport", "j8369854")
	f.Add("pan", "ABCPE1234F")
	f.Add("voter_id", "ABC1234567")
	f.Add("driving_licence", "MH14 20110062821")
	f.Add("aadhaar", "\xff\xfe")
	f.Fuzz(func(t *testing.T, typ, number string) {
		n, err := NormalizeID(IDType(typ), number)
		if err != nil {
			if !problem.Is(err, problem.Invalid) {
				t.Fatalf("error is not an Invalid problem: %v", err)
			}
			return
		}
		again, err := NormalizeID(IDType(typ), n)
		if err != nil || again != n {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", number, n, again, err)
		}
		if m := MaskID(IDType(typ), n); len(m) < 4 {
			t.Fatalf("mask %q", m)
		}
	})
}

func FuzzNormalizeMobile(f *testing.F) {
	for _, s := range []string{"9876543210", "+91 98765 43210", "09876543210", "", "+91+91"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := NormalizeMobile(s)
		if err != nil {
			return
		}
		if len(m) != 10 || m[0] < '6' || !allDigits(m) {
			t.Fatalf("NormalizeMobile(%q) = %q", s, m)
		}
		if again, err := NormalizeMobile(m); err != nil || again != m {
			t.Fatalf("not idempotent: %q -> %q", m, again)
		}
	})
}
