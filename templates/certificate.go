// Package templates renders the documents a beneficiary downloads: the
// vaccination certificate PDF (bilingual, with the SMART Health Card QR
// drawn as vector squares and the .smart-health-card file attached) and
// the appointment slip. It renders what it is given: no store, no HTTP, no
// signing.
//
// Latin text is set in the PDF core font Helvetica (never embedded);
// Devanagari and other scripts are shaped with HarfBuzz (go-text) and drawn
// as glyph outlines from the Noto fonts shipped in fonts/. Labels come from
// the language table in lang/, one JSON file per language. (HTML, in
// web.go, holds the web pages' templates, which the api package serves.)
package templates

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Certificate is everything printed on a vaccination certificate.
type Certificate struct {
	ID          string    // certificate ID: letters, digits, '.', '_', '-' (it names the attached file)
	Status      string    // "provisional" | "final" | "precaution"
	IssuedAt    time.Time // also the PDF's creation date, so equal input gives equal bytes
	Name        string    // as on the photo ID
	Gender      string    // "male" | "female" | "other"
	BirthDate   time.Time // the age is computed at IssuedAt
	IDType      string    // one of IDTypes()
	IDMasked    string    // e.g. "XXXX XXXX 1234" (standard variant)
	Passport    string    // full passport number (travel variant, where it is required)
	ReferenceID string    // 14-digit beneficiary reference ID
	Doses       []Dose    // in order of Number
	TotalDoses  int       // doses in the full primary course; a dose beyond it is a precaution dose
	IssuerURL   string    // the SHC iss, printed under "how to verify"
	// QR holds the SMART Health Card QR modules (true = dark) without quiet
	// zone, as shc.QRCode returns them.
	QR [][]bool
	// SmartHealthCard is the .smart-health-card file (JSON) attached to the PDF.
	SmartHealthCard []byte
}

// Dose is one vaccination event.
type Dose struct {
	Number       int
	Vaccine      string
	Manufacturer string
	Date         time.Time
	Batch        string
	VaccinatedBy string
	Centre       string
	District     string
	State        string
}

// Options choose the variant and the second language.
type Options struct {
	// Variant is "standard" (the default) or "travel": the travel variant
	// prints the passport number and the full date of birth, in English only.
	Variant string
	// Lang is the second language printed next to English, one of
	// Languages(); "" means "hi", and "en" prints English only.
	Lang string
	// Location is the time zone dates are printed in; nil means Indian
	// Standard Time.
	Location *time.Location
}

// Variants of the certificate.
const (
	VariantStandard = "standard"
	VariantTravel   = "travel"
)

// DefaultLang is the second language when Options.Lang is empty.
const DefaultLang = "hi"

// ist is India Standard Time; a fixed zone needs no tzdata.
var ist = time.FixedZone("IST", 5*3600+1800)

// ErrInvalid wraps every rejection of a Certificate, AppointmentSlip or
// Options, so that callers can tell bad input from an internal failure.
var ErrInvalid = errors.New("templates: invalid input")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// maxDoses is what fits on the single page.
const maxDoses = 6

// IDTypes lists the photo ID types a certificate can name, sorted.
func IDTypes() []string {
	t, err := languages()
	if err != nil {
		return nil
	}
	return sortedKeys(t.byCode["en"].IDTypes)
}

// RenderPDF renders the certificate as a one-page A4 PDF. Equal input
// gives byte-identical output.
func RenderPDF(c Certificate, o Options) ([]byte, error) {
	langs, err := languages()
	if err != nil {
		return nil, err
	}
	variant := o.Variant
	if variant == "" {
		variant = VariantStandard
	}
	if variant != VariantStandard && variant != VariantTravel {
		return nil, invalid("unknown variant %q (want %q or %q)", o.Variant, VariantStandard, VariantTravel)
	}
	code := o.Lang
	if code == "" {
		code = DefaultLang
	}
	second := langs.byCode[code]
	if second == nil {
		return nil, invalid("unknown language %q (have %s)", o.Lang, strings.Join(langs.codes, ", "))
	}
	en := langs.byCode["en"]
	if second == en || variant == VariantTravel {
		second = nil
	}
	loc := o.Location
	if loc == nil {
		loc = ist
	}
	if err := c.check(en, variant); err != nil {
		return nil, err
	}
	fonts, err := loadedFonts()
	if err != nil {
		return nil, err
	}
	var d *doc
	for _, qr := range []float64{qrSizeRoomy, qrSizeCompact} {
		d = newDoc(fonts, en, second, loc)
		d.pdf.SetTitle(en.Labels.Title+" "+c.ID, false)
		d.pdf.SetSubject(en.Labels.Subtitle, false)
		end := d.certificate(&c, variant == VariantTravel, qr)
		if d.err != nil {
			return nil, d.err
		}
		if end <= bottomLimit {
			break
		}
		if qr == qrSizeCompact {
			return nil, invalid("the certificate does not fit on one page (content ends at %.0f mm); shorten the dose details", end)
		}
	}
	return d.finish(c.IssuedAt, &attachment{
		name: c.ID + ".smart-health-card",
		mime: SHCMediaType,
		desc: "SMART Health Card",
		data: c.SmartHealthCard,
	})
}

// check validates c before anything is drawn, so bad input never yields a
// half-rendered document.
func (c *Certificate) check(en *lang, variant string) error {
	if err := checkID(c.ID); err != nil {
		return err
	}
	if _, ok := en.Statuses[c.Status]; !ok {
		return invalid("status %q is not one of %v", c.Status, sortedKeys(en.Statuses))
	}
	if c.IssuedAt.IsZero() {
		return invalid("IssuedAt is required")
	}
	if _, ok := en.Genders[c.Gender]; !ok {
		return invalid("gender %q is not one of %v", c.Gender, sortedKeys(en.Genders))
	}
	if c.BirthDate.IsZero() || c.BirthDate.After(c.IssuedAt) {
		return invalid("BirthDate must be set and not after IssuedAt")
	}
	fields := []struct {
		name, v  string
		required bool
		max      int
	}{
		{"Name", c.Name, true, 120},
		{"ReferenceID", c.ReferenceID, true, 32},
		{"IssuerURL", c.IssuerURL, true, 200},
		{"IDMasked", c.IDMasked, variant == VariantStandard, 40},
		{"Passport", c.Passport, variant == VariantTravel, 20},
	}
	for _, f := range fields {
		if err := checkText(f.name, f.v, f.required, f.max); err != nil {
			return err
		}
	}
	if variant == VariantStandard {
		if _, ok := en.IDTypes[c.IDType]; !ok {
			return invalid("ID type %q is not one of %v", c.IDType, sortedKeys(en.IDTypes))
		}
	}
	if c.TotalDoses < 1 || c.TotalDoses > 9 {
		return invalid("TotalDoses %d is out of range 1..9", c.TotalDoses)
	}
	if len(c.Doses) == 0 || len(c.Doses) > maxDoses {
		return invalid("a certificate lists 1 to %d doses, got %d", maxDoses, len(c.Doses))
	}
	for i, d := range c.Doses {
		if d.Number < 1 || (i > 0 && d.Number <= c.Doses[i-1].Number) {
			return invalid("dose %d: numbers must start at 1 or more and increase", i+1)
		}
		if d.Date.IsZero() {
			return invalid("dose %d: date is required", d.Number)
		}
		for _, f := range []struct {
			name, v  string
			required bool
		}{
			{"Vaccine", d.Vaccine, true}, {"Manufacturer", d.Manufacturer, false}, {"Batch", d.Batch, true},
			{"VaccinatedBy", d.VaccinatedBy, false}, {"Centre", d.Centre, true},
			{"District", d.District, false}, {"State", d.State, false},
		} {
			if err := checkText(fmt.Sprintf("dose %d %s", d.Number, f.name), f.v, f.required, 100); err != nil {
				return err
			}
		}
	}
	if err := checkQR(c.QR); err != nil {
		return invalid("%v", err)
	}
	if len(c.SmartHealthCard) == 0 || !json.Valid(c.SmartHealthCard) {
		return invalid("SmartHealthCard must be the JSON of a .smart-health-card file")
	}
	return nil
}

// checkID keeps certificate IDs safe as a file name and inside PDF strings.
func checkID(id string) error {
	if id == "" || len(id) > 64 || id[0] == '.' {
		return invalid("certificate ID %q must be 1 to 64 characters and not start with '.'", id)
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return invalid("certificate ID %q: only letters, digits, '.', '_' and '-' are allowed", id)
		}
	}
	return nil
}

// checkText rejects what would break the layout: invalid UTF-8, control
// characters (a newline would escape its table cell) and absurd lengths.
func checkText(name, v string, required bool, max int) error {
	if strings.TrimSpace(v) == "" {
		if required {
			return invalid("%s is required", name)
		}
		return nil
	}
	if !utf8.ValidString(v) {
		return invalid("%s is not valid UTF-8", name)
	}
	if n := utf8.RuneCountInString(v); n > max {
		return invalid("%s is %d characters long, at most %d fit", name, n, max)
	}
	for _, r := range v {
		if unicode.IsControl(r) {
			return invalid("%s contains the control character %U", name, r)
		}
	}
	return nil
}

// ageAt is the age in completed years on the day of at.
func ageAt(birth, at time.Time) int {
	years := at.Year() - birth.Year()
	if at.Month() < birth.Month() || at.Month() == birth.Month() && at.Day() < birth.Day() {
		years--
	}
	return years
}

func formatDate(t time.Time) string { return t.Format("02 Jan 2006") }

// fill substitutes {name} placeholders of a label.
func fill(s string, kv ...string) string {
	for i := 0; i+1 < len(kv); i += 2 {
		s = strings.ReplaceAll(s, "{"+kv[i]+"}", kv[i+1])
	}
	return s
}

func itoa(n int) string { return strconv.Itoa(n) }
