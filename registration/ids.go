package registration

import (
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/vaxcert/vaxcert/internal/problem"
)

// IDTypes lists the accepted photo-ID types, in the order forms show them.
var IDTypes = []IDType{Aadhaar, Passport, PAN, VoterID, DrivingLicence}

// Label is the ID type's name for people.
func (t IDType) Label() string {
	switch t {
	case Aadhaar:
		return "Aadhaar"
	case Passport:
		return "Passport"
	case PAN:
		return "PAN card"
	case VoterID:
		return "Voter ID (EPIC)"
	case DrivingLicence:
		return "Driving licence"
	}
	return string(t)
}

// NormalizeID checks number against the format of its ID type and returns its
// canonical form: upper case, without the spaces and hyphens people type.
// The error is a *problem.Error (Invalid) that says what is wrong without
// echoing the number.
func NormalizeID(t IDType, number string) (string, error) {
	n := strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\t' {
			return -1
		}
		return unicode.ToUpper(r)
	}, number)
	if n == "" {
		return "", problem.Invalidf("id-number-missing", "Enter the number of the photo ID.")
	}
	if len(n) > 32 {
		return "", problem.Invalidf("id-number-invalid", "That %s number is too long.", t.Label())
	}
	switch t {
	case Aadhaar:
		if !allDigits(n) || len(n) != 12 {
			return "", problem.Invalidf("id-number-invalid", "An Aadhaar number has 12 digits.")
		}
		if n[0] == '0' || n[0] == '1' {
			return "", problem.Invalidf("id-number-invalid", "An Aadhaar number does not start with 0 or 1.")
		}
		if !VerhoeffValid(n) {
			return "", problem.Invalidf("id-number-invalid", "That Aadhaar number's check digit is wrong: please check for a typing mistake.")
		}
	case Passport:
		// Indian passports: one letter (never Q, X or Z), then seven digits of
		// which the first and the last are not zero.
		if len(n) != 8 || !strings.ContainsRune("ABCDEFGHIJKLMNOPRSTUVWY", rune(n[0])) ||
			!allDigits(n[1:]) || n[1] == '0' || n[7] == '0' {
			return "", problem.Invalidf("id-number-invalid", "An Indian passport number is a letter followed by seven digits, e.g. A1234567.")
		}
	case PAN:
		// AAAAA9999A; the fourth letter is the holder type, P for a person.
		if len(n) != 10 || !allLetters(n[:5]) || !allDigits(n[5:9]) || !allLetters(n[9:]) {
			return "", problem.Invalidf("id-number-invalid", "A PAN is five letters, four digits and a letter, e.g. ABCPE1234F.")
		}
		if n[3] != 'P' {
			return "", problem.Invalidf("id-number-invalid", "That PAN belongs to a company or firm (its fourth letter is not P); use a personal ID.")
		}
	case VoterID:
		if len(n) != 10 || !allLetters(n[:3]) || !allDigits(n[3:]) {
			return "", problem.Invalidf("id-number-invalid", "A voter ID (EPIC) number is three letters followed by seven digits, e.g. ABC1234567.")
		}
	case DrivingLicence:
		// SS RR YYYY NNNNNNN: state code, RTO code, year of issue, serial.
		if len(n) != 15 || !allLetters(n[:2]) || !allDigits(n[2:]) {
			return "", problem.Invalidf("id-number-invalid", "A driving licence number is a two-letter state code followed by 13 digits, e.g. MH14 20110062821.")
		}
		year, _ := strconv.Atoi(n[4:8])
		if year < 1950 || year > time.Now().Year() {
			return "", problem.Invalidf("id-number-invalid", "That driving licence number does not hold a plausible year of issue.")
		}
	default:
		return "", problem.Invalidf("id-type-invalid", "Unknown photo-ID type %q; use one of: %s.", string(t), idTypeList())
	}
	return n, nil
}

// ParseIDType accepts the API names ("aadhaar", "passport", …) case-insensitively.
func ParseIDType(s string) (IDType, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	for _, t := range IDTypes {
		if s == string(t) {
			return t, nil
		}
	}
	return "", problem.Invalidf("id-type-invalid", "Unknown photo-ID type %q; use one of: %s.", s, idTypeList())
}

func idTypeList() string {
	names := make([]string, len(IDTypes))
	for i, t := range IDTypes {
		names[i] = string(t)
	}
	return strings.Join(names, ", ")
}

// MaskID is the form of a normalised ID number that pages and PDFs show:
// only the last four characters, as Co-WIN prints "XXXX XXXX 1234".
func MaskID(t IDType, normalized string) string {
	if t == Aadhaar && len(normalized) == 12 {
		return "XXXX XXXX " + normalized[8:]
	}
	if len(normalized) <= 4 {
		return strings.Repeat("X", len(normalized))
	}
	return strings.Repeat("X", len(normalized)-4) + normalized[len(normalized)-4:]
}

// Verhoeff tables: the dihedral group D5's multiplication, the position
// permutation and the inverse.
var (
	verhoeffD = [10][10]byte{
		{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 2, 3, 4, 0, 6, 7, 8, 9, 5},
		{2, 3, 4, 0, 1, 7, 8, 9, 5, 6}, {3, 4, 0, 1, 2, 8, 9, 5, 6, 7},
		{4, 0, 1, 2, 3, 9, 5, 6, 7, 8}, {5, 9, 8, 7, 6, 0, 4, 3, 2, 1},
		{6, 5, 9, 8, 7, 1, 0, 4, 3, 2}, {7, 6, 5, 9, 8, 2, 1, 0, 4, 3},
		{8, 7, 6, 5, 9, 3, 2, 1, 0, 4}, {9, 8, 7, 6, 5, 4, 3, 2, 1, 0},
	}
	verhoeffP = [8][10]byte{
		{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 5, 7, 6, 2, 8, 3, 0, 9, 4},
		{5, 8, 0, 3, 7, 9, 6, 1, 4, 2}, {8, 9, 1, 6, 0, 4, 3, 5, 2, 7},
		{9, 4, 5, 3, 1, 2, 6, 8, 7, 0}, {4, 2, 8, 6, 5, 7, 3, 9, 0, 1},
		{2, 7, 9, 3, 8, 0, 6, 4, 1, 5}, {7, 0, 4, 6, 9, 1, 3, 2, 5, 8},
	}
	verhoeffInv = [10]byte{0, 4, 3, 2, 1, 5, 6, 7, 8, 9}
)

// VerhoeffValid reports whether the digit string ends in a correct Verhoeff
// check digit (the scheme Aadhaar numbers use). It catches every single-digit
// error and every swap of adjacent digits.
func VerhoeffValid(digits string) bool {
	if digits == "" || !allDigits(digits) {
		return false
	}
	var c byte
	for i := 0; i < len(digits); i++ {
		c = verhoeffD[c][verhoeffP[i%8][digits[len(digits)-1-i]-'0']]
	}
	return c == 0
}

// VerhoeffDigit is the check digit to append to digits.
func VerhoeffDigit(digits string) byte {
	var c byte
	for i := 0; i < len(digits); i++ {
		c = verhoeffD[c][verhoeffP[(i+1)%8][digits[len(digits)-1-i]-'0']]
	}
	return '0' + verhoeffInv[c]
}

// NormalizeMobile accepts an Indian mobile number as people write it
// ("98765 43210", "+91-9876543210", "09876543210") and returns its 10 digits.
func NormalizeMobile(s string) (string, error) {
	n := strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '(' || r == ')' {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
	switch {
	case strings.HasPrefix(n, "+91"):
		n = n[3:]
	case len(n) == 12 && strings.HasPrefix(n, "91"):
		n = n[2:]
	case len(n) == 11 && strings.HasPrefix(n, "0"):
		n = n[1:]
	}
	if len(n) != 10 || !allDigits(n) || n[0] < '6' {
		return "", problem.Invalidf("mobile-invalid", "Enter a 10-digit Indian mobile number starting with 6, 7, 8 or 9.")
	}
	return n, nil
}

// MaskMobile shows only the last three digits, for logs and screens.
func MaskMobile(m string) string {
	if len(m) < 3 {
		return "***"
	}
	return strings.Repeat("*", len(m)-3) + m[len(m)-3:]
}

// Genders accepted, as stored.
const (
	Male   = "male"
	Female = "female"
	Other  = "other"
)

// NormalizeGender accepts "male", "M", "Female", … and returns the stored form.
func NormalizeGender(s string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "m", "male":
		return Male, nil
	case "f", "female":
		return Female, nil
	case "o", "other", "others":
		return Other, nil
	}
	return "", problem.Invalidf("gender-invalid", "Gender must be male, female or other.")
}

// NormalizeName trims and collapses spaces and checks that a name is made of
// Latin letters, combining marks, spaces and . ' - only: names are written
// as on the photo ID and printed on certificates that must be read abroad.
func NormalizeName(s string) (string, error) {
	name := strings.Join(strings.Fields(s), " ")
	if name == "" {
		return "", problem.Invalidf("name-missing", "Enter the name as written on the photo ID.")
	}
	if len([]rune(name)) > 100 {
		return "", problem.Invalidf("name-invalid", "The name is longer than 100 characters.")
	}
	letters := 0
	for _, r := range name {
		switch {
		case unicode.Is(unicode.Latin, r):
			letters++
		case unicode.Is(unicode.M, r), r == ' ', r == '.', r == '\'', r == '-':
		default:
			return "", problem.Invalidf("name-invalid", "Write the name in English letters as on the photo ID; it may contain letters, spaces and . ' - only.")
		}
	}
	if letters == 0 {
		return "", problem.Invalidf("name-invalid", "A name must contain letters.")
	}
	return name, nil
}

// ParseBirthDate reads YYYY-MM-DD and checks it is a plausible birth date on
// the day today (not in the future, at most 120 years ago).
func ParseBirthDate(s string, today time.Time) (time.Time, error) {
	d, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, problem.Invalidf("birth-date-invalid", "The birth date must be a date written YYYY-MM-DD.")
	}
	if d.After(today) {
		return time.Time{}, problem.Invalidf("birth-date-invalid", "The birth date is in the future.")
	}
	if d.Before(today.AddDate(-120, 0, 0)) {
		return time.Time{}, problem.Invalidf("birth-date-invalid", "The birth date is more than 120 years ago.")
	}
	return d, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func allLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return s != ""
}
