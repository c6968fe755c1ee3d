package divoc

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// problem is a rejection with its stable reason code.
type problem struct {
	code    string
	message string
}

func (p *problem) Error() string { return p.message }

func malformed(format string, args ...any) *problem {
	return &problem{code: "certificate_malformed", message: fmt.Sprintf(format, args...)}
}

// Where a CoWIN certificate has JSON objects. Anywhere else an object would
// become an extra RDF node; refusing them keeps the document a small tree,
// which also bounds URDNA2015's work (it permutes blank nodes that look
// alike, factorial in their number).
var objectPaths = map[string]bool{
	"credentialSubject":           true,
	"credentialSubject.address":   true,
	"evidence[]":                  true,
	"evidence[].verifier":         true,
	"evidence[].facility":         true,
	"evidence[].facility.address": true,
	"proof":                       true,
}

const (
	maxEvidence  = 4    // CoWIN puts one vaccination in each certificate
	maxArrayLen  = 16   // e.g. "type" lists
	maxStringLen = 2048 // the longest real member is a JWS of ~470 characters
)

// checkShape bounds the document before any JSON-LD processing: objects
// only where CoWIN has them, no JSON-LD keywords but the top-level
// @context, bounded arrays and strings.
func checkShape(doc map[string]any) error {
	return walkShape("", doc)
}

func walkShape(path string, v any) error {
	switch t := v.(type) {
	case map[string]any:
		if path != "" && !objectPaths[path] {
			return malformed("unexpected object at %s", path)
		}
		for k, e := range t {
			if k == "" {
				return malformed("empty member name at %s", orRoot(path))
			}
			if k == "type" && !isTypeValue(e) {
				return malformed("%s is not a string or a list of strings", joinPath(path, k))
			}
			if _, isString := e.(string); k == "id" && !isString && path != "evidence[].verifier" {
				return malformed("%s is not a string", joinPath(path, k))
			}
			if strings.HasPrefix(k, "@") {
				if path == "" && k == "@context" {
					continue // checked by checkContext
				}
				return malformed("JSON-LD keyword %q at %s: CoWIN certificates do not use it", k, orRoot(path))
			}
			if strings.Contains(k, ":") {
				// Not a term: an absolute or compact IRI (or "_:x", which RDF
				// conversion drops). CoWIN certificates use only terms.
				return &problem{code: "jsonld_unknown_term",
					message: fmt.Sprintf("member %q at %s is not a term defined by the contexts", k, orRoot(path))}
			}
			if err := walkShape(joinPath(path, k), e); err != nil {
				return err
			}
		}
	case []any:
		if path == "evidence" {
			if len(t) == 0 || len(t) > maxEvidence {
				return malformed("evidence has %d entries; expected 1 to %d", len(t), maxEvidence)
			}
		} else if len(t) > maxArrayLen {
			return malformed("%s has %d entries; at most %d are accepted", path, len(t), maxArrayLen)
		}
		for _, e := range t {
			if _, nested := e.([]any); nested {
				return malformed("nested array at %s", path)
			}
			if err := walkShape(path+"[]", e); err != nil {
				return err
			}
		}
	case string:
		if len(t) > maxStringLen {
			return malformed("%s is %d bytes long; at most %d are accepted", path, len(t), maxStringLen)
		}
	}
	return nil
}

// isTypeValue reports whether v is a string or an array of strings, the
// only forms a "type" member takes.
func isTypeValue(v any) bool {
	switch t := v.(type) {
	case string:
		return true
	case []any:
		for _, e := range t {
			if _, ok := e.(string); !ok {
				return false
			}
		}
		return true
	}
	return false
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func orRoot(path string) string {
	if path == "" {
		return "the top level"
	}
	return path
}

// checkContext requires exactly the W3C credentials context followed by one
// CoWIN vaccination context: any other context, remote or inline, could
// define terms this verifier has not reviewed.
func checkContext(doc map[string]any) error {
	ctx, ok := doc["@context"].([]any)
	if !ok || len(ctx) != 2 {
		return &problem{code: "jsonld_context_unknown",
			message: fmt.Sprintf("@context must be [%q, a CoWIN vaccination context]", credentialsV1URL)}
	}
	first, _ := ctx[0].(string)
	second, _ := ctx[1].(string)
	if first != credentialsV1URL {
		return &problem{code: "jsonld_context_unknown", message: fmt.Sprintf("unexpected first context %v", ctx[0])}
	}
	if second != cowinV1URL && second != cowinV2URL {
		return &problem{code: "jsonld_context_unknown",
			message: fmt.Sprintf("context %v is not a bundled CoWIN vaccination context", ctx[1])}
	}
	return nil
}

// certificate is what a verified CoWIN credential says, read from the very
// map that was canonicalised and signature-checked.
type certificate struct {
	subjectID   string
	name        string
	age         string
	dob         string
	gender      string
	issuer      string
	issuance    string
	vaccination []vaccination
}

type vaccination struct {
	id            string // evidence @id
	certificateID string
	vaccine       string
	manufacturer  string
	batch         string
	date          string
	start, until  string
	dose, total   string
	centre        string
	country       string
}

// readCertificate extracts the fields shown to the person checking.
func readCertificate(doc map[string]any) (*certificate, error) {
	if !hasType(doc["type"], "VerifiableCredential") || !hasType(doc["type"], "ProofOfVaccinationCredential") {
		return nil, malformed("type must include VerifiableCredential and ProofOfVaccinationCredential")
	}
	subj, ok := doc["credentialSubject"].(map[string]any)
	if !ok {
		return nil, malformed("credentialSubject missing")
	}
	if !hasType(subj["type"], "Person") {
		return nil, malformed("credentialSubject type must be Person")
	}
	c := &certificate{
		subjectID: text(subj["id"]),
		name:      strings.TrimSpace(text(subj["name"])),
		age:       text(subj["age"]),
		dob:       text(subj["dob"]),
		gender:    text(subj["gender"]),
		issuer:    text(doc["issuer"]),
		issuance:  text(doc["issuanceDate"]),
	}
	if c.name == "" {
		return nil, malformed("credentialSubject.name missing")
	}
	if c.issuance == "" {
		return nil, malformed("issuanceDate missing")
	}
	evidence, _ := doc["evidence"].([]any)
	if len(evidence) == 0 {
		return nil, malformed("evidence missing: the certificate records no vaccination")
	}
	for i, e := range evidence {
		ev, ok := e.(map[string]any)
		if !ok || !hasType(ev["type"], "Vaccination") {
			return nil, malformed("evidence[%d] is not a Vaccination", i)
		}
		v := vaccination{
			id:            text(ev["id"]),
			certificateID: text(ev["certificateId"]),
			vaccine:       strings.TrimSpace(text(ev["vaccine"])),
			manufacturer:  strings.TrimSpace(text(ev["manufacturer"])),
			batch:         text(ev["batch"]),
			date:          text(ev["date"]),
			start:         text(ev["effectiveStart"]),
			until:         text(ev["effectiveUntil"]),
			dose:          text(ev["dose"]),
			total:         text(ev["totalDoses"]),
		}
		if fac, ok := ev["facility"].(map[string]any); ok {
			parts := []string{text(fac["name"])}
			if addr, ok := fac["address"].(map[string]any); ok {
				for _, k := range []string{"streetAddress", "streetAddress2", "city", "district", "addressRegion", "postalCode"} {
					parts = append(parts, text(addr[k]))
				}
				v.country = text(addr["addressCountry"])
			}
			v.centre = joinNonEmpty(parts)
		}
		c.vaccination = append(c.vaccination, v)
	}
	return c, nil
}

// text renders a JSON scalar as CoWIN means it: strings as they are,
// integral numbers without a decimal point (certificateId and postalCode
// come as either).
func text(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case float64:
		if t == math.Trunc(t) && math.Abs(t) < 1e15 {
			return strconv.FormatInt(int64(t), 10)
		}
		return strconv.FormatFloat(t, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(t)
	}
	return ""
}

func hasType(v any, want string) bool {
	switch t := v.(type) {
	case string:
		return t == want
	case []any:
		for _, e := range t {
			if e == want {
				return true
			}
		}
	}
	return false
}

func joinNonEmpty(parts []string) string {
	var kept []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, ", ")
}

// clockSkew tolerates a checkpoint clock or an issuing time zone up to a day
// ahead: a certificate issued at 01:00 IST is dated the day before in UTC.
const clockSkew = 24 * time.Hour

// plausibility returns every rejection the signed data cannot rule out by
// itself: in the CoWIN contexts dose and totalDoses share schema:doseValue;
// date, effectiveStart and effectiveUntil share schema:date; vaccine,
// manufacturer, batch and certificateId share schema:id. Their values can be
// swapped without breaking the signature, so each must make sense in its
// place. Warnings are returned separately.
func (c *certificate) plausibility(at time.Time, proofCreated string) (problems, warnings []problem) {
	reject := func(code, format string, args ...any) {
		problems = append(problems, problem{code: code, message: fmt.Sprintf(format, args...)})
	}
	latest := at.Add(clockSkew)

	issued, err := parseDate(c.issuance)
	if err != nil {
		reject("implausible_date", "issuanceDate %q: %v", c.issuance, err)
	} else if issued.After(latest) {
		reject("implausible_date", "issued in the future (%s)", c.issuance)
	}
	if proofCreated != "" {
		if created, err := parseDate(proofCreated); err != nil {
			reject("implausible_date", "proof created %q: %v", proofCreated, err)
		} else if created.After(latest) {
			reject("implausible_date", "signed in the future (%s)", proofCreated)
		}
	}
	if c.dob != "" {
		if born, err := parseBirthDate(c.dob); err != nil {
			reject("implausible_date", "date of birth %q: %v", c.dob, err)
		} else if born.After(latest) {
			reject("implausible_date", "date of birth %s is in the future", c.dob)
		}
	}

	for i, v := range c.vaccination {
		where := ""
		if len(c.vaccination) > 1 {
			where = fmt.Sprintf("evidence[%d]: ", i)
		}
		// Dose n of total.
		dose, doseErr := parseDose(v.dose)
		total, totalErr := parseDose(v.total)
		switch {
		case doseErr != nil:
			reject("implausible_dose", "%sdose %q: %v", where, v.dose, doseErr)
		case totalErr != nil:
			reject("implausible_dose", "%stotalDoses %q: %v", where, v.total, totalErr)
		case dose > 0 && total > 0 && dose > total:
			// CoWIN marks a booster as dose > totalDoses, but the signature
			// cannot tell that from a swapped "dose 1 of 2", so it is refused.
			reject("implausible_dose", "%sdose %d of %d: dose exceeds totalDoses, which the signature cannot tell apart from the two being swapped", where, dose, total)
		case dose > 0 && total > 0 && dose < total:
			warnings = append(warnings, problem{code: "partial_vaccination", message: fmt.Sprintf("%sdose %d of %d", where, dose, total)})
		}

		// Vaccine and maker.
		switch {
		case !isKnownVaccine(v.vaccine):
			reject("implausible_vaccine", "%svaccine %q is not a known vaccine name", where, v.vaccine)
		case v.manufacturer == "":
			warnings = append(warnings, problem{code: "manufacturer_missing", message: where + "the certificate names no manufacturer"})
		case !isKnownManufacturer(v.manufacturer):
			reject("implausible_manufacturer", "%smanufacturer %q is not a known vaccine maker", where, v.manufacturer)
		case !vaccineMatchesManufacturer(v.vaccine, v.manufacturer):
			warnings = append(warnings, problem{code: "vaccine_manufacturer_mismatch",
				message: fmt.Sprintf("%s%s is not usually made by %s", where, v.vaccine, v.manufacturer)})
		}

		// The certificate number must be the one in the evidence IRI, which
		// is signed as an IRI of its own and cannot be swapped.
		if v.certificateID != "" {
			if !isDigits(v.certificateID) {
				reject("implausible_certificate_id", "%scertificateId %q is not a number", where, v.certificateID)
			} else if suffix, ok := strings.CutPrefix(v.id, "https://cowin.gov.in/vaccine/"); ok && suffix != v.certificateID {
				reject("implausible_certificate_id", "%scertificateId %s differs from the evidence id %s", where, v.certificateID, v.id)
			}
		}

		// Dates.
		if v.date == "" {
			warnings = append(warnings, problem{code: "date_missing", message: where + "the certificate gives no vaccination date"})
		} else if d, err := parseDate(v.date); err != nil {
			reject("implausible_date", "%svaccination date %q: %v", where, v.date, err)
		} else {
			if d.After(latest) {
				reject("implausible_date", "%svaccination date %s is in the future", where, v.date)
			} else if !issued.IsZero() && d.After(issued.Add(clockSkew)) {
				reject("implausible_date", "%svaccinated on %s, after the certificate was issued (%s)", where, v.date, c.issuance)
			}
		}
		start, errStart := parseOptionalDate(v.start)
		until, errUntil := parseOptionalDate(v.until)
		switch {
		case errStart != nil:
			reject("implausible_date", "%seffectiveStart %q: %v", where, v.start, errStart)
		case errUntil != nil:
			reject("implausible_date", "%seffectiveUntil %q: %v", where, v.until, errUntil)
		case !start.IsZero() && !until.IsZero() && dateOnly(start).After(dateOnly(until)):
			reject("implausible_date", "%seffectiveStart %s is after effectiveUntil %s", where, v.start, v.until)
		}
	}
	return problems, warnings
}

// parseDose reads a dose count, given as a JSON number or a numeric string;
// "" (as DIVOC sends absent values) is 0.
func parseDose(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("not a whole number")
	}
	if n < 1 || n > 20 {
		return 0, fmt.Errorf("out of range 1 to 20")
	}
	return n, nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// parseDate reads the date forms found in CoWIN certificates: RFC 3339
// date-times ("2021-03-03T04:28:43.134Z"), dates ("2021-03-03") and compact
// dates ("20210415", in DIVOC test certificates).
func parseDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, time.DateOnly, "20060102"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("not a date")
}

func parseOptionalDate(s string) (time.Time, error) {
	if strings.TrimSpace(s) == "" {
		return time.Time{}, nil
	}
	return parseDate(s)
}

// day renders a date as YYYY-MM-DD, or "" when it does not parse.
func day(s string) string {
	t, err := parseDate(s)
	if err != nil {
		return ""
	}
	return t.Format(time.DateOnly)
}

// parseBirthDate also accepts a bare year or year-month.
func parseBirthDate(s string) (time.Time, error) {
	if t, err := parseDate(s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01", "2006"} {
		if t, err := time.Parse(layout, strings.TrimSpace(s)); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("not a date")
}

// dateOnly drops the time of day: effective dates are whole days, and a
// date-time in one of them is still that day.
func dateOnly(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}
