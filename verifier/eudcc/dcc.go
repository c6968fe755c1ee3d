package eudcc

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Kind is what a DCC certifies.
type Kind string

const (
	KindVaccination Kind = "vaccination" // "v"
	KindTest        Kind = "test"        // "t"
	KindRecovery    Kind = "recovery"    // "r"
)

// DCC is a schema-valid EU Digital COVID Certificate payload. Strings are
// trimmed (some issuers pad them). Exactly one of Vaccination, Test and
// Recovery is set.
type DCC struct {
	Version     string
	Name        PersonName
	DateOfBirth string // YYYY-MM-DD, YYYY-MM, YYYY or "" (unknown)
	Vaccination *Vaccination
	Test        *Test
	Recovery    *Recovery
}

// PersonName is nam: the name as written and its ICAO 9303 transliteration.
type PersonName struct {
	FamilyName, FamilyNameStd string // fn, fnt
	GivenName, GivenNameStd   string // gn, gnt
}

// Vaccination is v[0].
type Vaccination struct {
	Disease       string // tg
	VaccineType   string // vp
	Product       string // mp
	Manufacturer  string // ma
	DoseNumber    int    // dn
	TotalDoses    int    // sd
	Date          string // dt, YYYY-MM-DD
	Country       string // co
	Issuer        string // is
	CertificateID string // ci
}

// Test is t[0].
type Test struct {
	Disease         string    // tg
	Type            string    // tt
	Name            string    // nm (NAAT name), optional
	Device          string    // ma (rapid test device), optional
	SampleCollected time.Time // sc
	Result          string    // tr
	Centre          string    // tc, optional from schema 1.3.1
	Country         string    // co
	Issuer          string    // is
	CertificateID   string    // ci
}

// Recovery is r[0].
type Recovery struct {
	Disease       string // tg
	FirstPositive string // fr, YYYY-MM-DD
	Country       string // co
	Issuer        string // is
	ValidFrom     string // df, YYYY-MM-DD
	ValidUntil    string // du, YYYY-MM-DD
	CertificateID string // ci
}

// Kind says which of v, t and r the certificate holds.
func (d *DCC) Kind() Kind {
	switch {
	case d.Vaccination != nil:
		return KindVaccination
	case d.Test != nil:
		return KindTest
	default:
		return KindRecovery
	}
}

// CertificateID returns the UVCI (ci) of the entry.
func (d *DCC) CertificateID() string {
	switch {
	case d.Vaccination != nil:
		return d.Vaccination.CertificateID
	case d.Test != nil:
		return d.Test.CertificateID
	case d.Recovery != nil:
		return d.Recovery.CertificateID
	}
	return ""
}

// Country returns the country of vaccination, test or recovery (co).
func (d *DCC) Country() string {
	switch {
	case d.Vaccination != nil:
		return d.Vaccination.Country
	case d.Test != nil:
		return d.Test.Country
	case d.Recovery != nil:
		return d.Recovery.Country
	}
	return ""
}

// DisplayName is the name as a person reads it: given names, then family
// names, falling back to the transliterated forms.
func (n PersonName) DisplayName() string {
	given := firstNonEmpty(n.GivenName, strings.ReplaceAll(n.GivenNameStd, "<", " "))
	family := firstNonEmpty(n.FamilyName, strings.ReplaceAll(n.FamilyNameStd, "<", " "))
	return strings.TrimSpace(given + " " + family)
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return strings.TrimSpace(b)
}

// schemaRules are the differences between schema versions that matter to a
// verifier (eu-dcc-schema: 1.0.0 to 1.2.1 "DGC", 1.3.x "DCC").
type schemaRules struct {
	maxLen     int  // names, issuer, UVCI, testing centre: 50 before 1.3.0, then 80
	maxDose    int  // dn and sd: at most 9 before 1.3.0, unbounded (0) after
	emptyDOB   bool // dob may be "" from 1.3.0
	tcOptional bool // tc optional from 1.3.1
	fntOrGnt   bool // from 1.3.2 either fnt or gnt is required, before fnt is
}

var (
	// The schema's own version pattern (its unescaped dots included).
	verPattern = regexp.MustCompile(`^\d+.\d+.\d+$`)
	verParts   = regexp.MustCompile(`^(\d+)\.(\d+)\.(\d+)$`)
	// fnt and gnt: ICAO 9303 transliteration.
	icaoPattern = regexp.MustCompile(`^[A-Z<]*$`)
	dobPattern  = regexp.MustCompile(`^(19|20)\d\d(-\d\d){0,2}$`)
	// country_vt; the schema's pattern is unanchored, so any run of capitals passes.
	countryPattern = regexp.MustCompile(`[A-Z]{1,10}`)
)

func rulesFor(ver string) (schemaRules, error) {
	if !verPattern.MatchString(ver) {
		return schemaRules{}, fmt.Errorf("ver %q is not a semantic version", ver)
	}
	m := verParts.FindStringSubmatch(ver)
	if m == nil {
		return schemaRules{}, fmt.Errorf("ver %q is not a semantic version", ver)
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	patch, _ := strconv.Atoi(m[3])
	if major != 1 {
		return schemaRules{}, fmt.Errorf("schema version %s is not supported (only 1.x)", ver)
	}
	r := schemaRules{maxLen: 50, maxDose: 9}
	if minor >= 3 {
		r = schemaRules{maxLen: 80, emptyDOB: true}
		r.tcOptional = minor > 3 || patch >= 1
		r.fntOrGnt = minor > 3 || patch >= 2
	}
	return r, nil
}

// ParseDCC checks doc (the DCC in its JSON data model, as DecodeDCC returns
// it) against the schema of its own "ver" and returns it typed. The first
// violation is returned with CodeSchemaInvalid and a JSON path.
//
// Beyond the JSON schema it requires exactly one of v, t and r, each with
// exactly one entry (hcert spec: one certificate, one event). Explicit nulls
// for the absent groups ("r": null, seen from Bulgaria) count as absent.
// Date fields must hold a full date, optionally followed by a time (seen in
// real data as "2021-03-09T00:00:00"), of which only the date is kept.
func ParseDCC(doc map[string]any) (*DCC, error) {
	c := &schemaCheck{}
	d := c.parse(doc)
	if c.err != nil {
		return nil, c.err
	}
	return d, nil
}

type schemaCheck struct {
	rules schemaRules
	err   *Error
}

func (c *schemaCheck) failf(path, format string, args ...any) {
	if c.err == nil {
		c.err = fail(CodeSchemaInvalid, nil, "%s: %s", path, fmt.Sprintf(format, args...))
	}
}

func (c *schemaCheck) parse(doc map[string]any) *DCC {
	d := &DCC{}
	ver, ok := doc["ver"].(string)
	if !ok {
		c.failf("ver", "required string")
		return nil
	}
	rules, err := rulesFor(strings.TrimSpace(ver))
	if err != nil {
		c.failf("ver", "%v", err)
		return nil
	}
	c.rules = rules
	d.Version = strings.TrimSpace(ver)

	nam, ok := doc["nam"].(map[string]any)
	if !ok {
		c.failf("nam", "required object")
		return nil
	}
	d.Name.FamilyName = c.str(nam, "fn", "nam", false, c.rules.maxLen, nil)
	d.Name.FamilyNameStd = c.str(nam, "fnt", "nam", !c.rules.fntOrGnt, c.rules.maxLen, icaoPattern)
	d.Name.GivenName = c.str(nam, "gn", "nam", false, c.rules.maxLen, nil)
	d.Name.GivenNameStd = c.str(nam, "gnt", "nam", false, c.rules.maxLen, icaoPattern)
	if c.rules.fntOrGnt && !has(nam, "fnt") && !has(nam, "gnt") {
		c.failf("nam", "fnt or gnt is required")
	}

	dob, ok := doc["dob"].(string)
	switch {
	case !ok:
		c.failf("dob", "required string")
	case dob == "" && c.rules.emptyDOB:
	case !dobPattern.MatchString(dob):
		c.failf("dob", "%q is not YYYY, YYYY-MM or YYYY-MM-DD in 1900-2099", dob)
	}
	d.DateOfBirth = dob

	groups := 0
	for _, g := range []string{"v", "t", "r"} {
		v, present := doc[g]
		if !present || v == nil {
			continue
		}
		groups++
		entries, ok := v.([]any)
		if !ok {
			c.failf(g, "must be an array")
			continue
		}
		if len(entries) != 1 {
			c.failf(g, "must hold exactly one entry, has %d", len(entries))
			continue
		}
		entry, ok := entries[0].(map[string]any)
		if !ok {
			c.failf(g+"[0]", "must be an object")
			continue
		}
		path := g + "[0]"
		switch g {
		case "v":
			d.Vaccination = c.vaccination(entry, path)
		case "t":
			d.Test = c.test(entry, path)
		case "r":
			d.Recovery = c.recovery(entry, path)
		}
	}
	if groups != 1 {
		c.failf("the DCC", "must hold exactly one of v, t and r, holds %d", groups)
	}
	return d
}

func (c *schemaCheck) vaccination(e map[string]any, path string) *Vaccination {
	return &Vaccination{
		Disease:       c.str(e, "tg", path, true, 0, nil),
		VaccineType:   c.str(e, "vp", path, true, 0, nil),
		Product:       c.str(e, "mp", path, true, 0, nil),
		Manufacturer:  c.str(e, "ma", path, true, 0, nil),
		DoseNumber:    c.dose(e, "dn", path),
		TotalDoses:    c.dose(e, "sd", path),
		Date:          c.date(e, "dt", path),
		Country:       c.str(e, "co", path, true, 0, countryPattern),
		Issuer:        c.str(e, "is", path, true, c.rules.maxLen, nil),
		CertificateID: c.str(e, "ci", path, true, c.rules.maxLen, nil),
	}
}

func (c *schemaCheck) test(e map[string]any, path string) *Test {
	return &Test{
		Disease:         c.str(e, "tg", path, true, 0, nil),
		Type:            c.str(e, "tt", path, true, 0, nil),
		Name:            c.str(e, "nm", path, false, c.rules.maxLen, nil),
		Device:          c.str(e, "ma", path, false, 0, nil),
		SampleCollected: c.dateTime(e, "sc", path),
		Result:          c.str(e, "tr", path, true, 0, nil),
		Centre:          c.str(e, "tc", path, !c.rules.tcOptional, c.rules.maxLen, nil),
		Country:         c.str(e, "co", path, true, 0, countryPattern),
		Issuer:          c.str(e, "is", path, true, c.rules.maxLen, nil),
		CertificateID:   c.str(e, "ci", path, true, c.rules.maxLen, nil),
	}
}

func (c *schemaCheck) recovery(e map[string]any, path string) *Recovery {
	return &Recovery{
		Disease:       c.str(e, "tg", path, true, 0, nil),
		FirstPositive: c.date(e, "fr", path),
		Country:       c.str(e, "co", path, true, 0, countryPattern),
		Issuer:        c.str(e, "is", path, true, c.rules.maxLen, nil),
		ValidFrom:     c.date(e, "df", path),
		ValidUntil:    c.date(e, "du", path),
		CertificateID: c.str(e, "ci", path, true, c.rules.maxLen, nil),
	}
}

func has(m map[string]any, key string) bool {
	_, ok := m[key]
	return ok
}

// str reads a string field. maxLen counts characters (0: unbounded); pattern
// applies to the value as sent. The result is trimmed.
func (c *schemaCheck) str(m map[string]any, key, path string, required bool, maxLen int, pattern *regexp.Regexp) string {
	p := path + "." + key
	v, present := m[key]
	if !present {
		if required {
			c.failf(p, "required")
		}
		return ""
	}
	s, ok := v.(string)
	if !ok {
		c.failf(p, "must be a string")
		return ""
	}
	if maxLen > 0 && utf8.RuneCountInString(s) > maxLen {
		c.failf(p, "longer than %d characters", maxLen)
	}
	if pattern != nil && !pattern.MatchString(s) {
		c.failf(p, "%q does not match %s", s, pattern)
	}
	return strings.TrimSpace(s)
}

// dose reads dn or sd: a positive integer. A float with an integral value is
// an integer in JSON Schema, and some issuers send 1.0.
func (c *schemaCheck) dose(m map[string]any, key, path string) int {
	p := path + "." + key
	v, present := m[key]
	if !present {
		c.failf(p, "required")
		return 0
	}
	f, ok := v.(float64)
	if !ok || f != math.Trunc(f) {
		c.failf(p, "must be an integer")
		return 0
	}
	if f < 1 || (c.rules.maxDose > 0 && f > float64(c.rules.maxDose)) || f > 1000 {
		c.failf(p, "%v is out of range", f)
		return 0
	}
	return int(f)
}

// date reads a full date, keeping only the date of a date-time.
func (c *schemaCheck) date(m map[string]any, key, path string) string {
	s := c.str(m, key, path, true, 0, nil)
	if s == "" {
		if c.err == nil {
			c.failf(path+"."+key, "empty date")
		}
		return ""
	}
	day, rest, _ := strings.Cut(s, "T")
	if _, err := time.Parse(time.DateOnly, day); err != nil {
		c.failf(path+"."+key, "%q is not a date", s)
		return ""
	}
	if rest != "" {
		if _, err := parseDateTime(s); err != nil {
			c.failf(path+"."+key, "%q is not a date", s)
			return ""
		}
	}
	return day
}

func (c *schemaCheck) dateTime(m map[string]any, key, path string) time.Time {
	s := c.str(m, key, path, true, 0, nil)
	if c.err != nil {
		return time.Time{}
	}
	t, err := parseDateTime(s)
	if err != nil {
		c.failf(path+"."+key, "%q is not a date-time", s)
	}
	return t
}

// parseDateTime reads RFC 3339 and the near misses issuers send: "+HHMM"
// offsets and no offset at all (read as UTC).
func parseDateTime(s string) (time.Time, error) {
	var err error
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700", "2006-01-02T15:04:05.999999999"} {
		var t time.Time
		if t, err = time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, err
}
