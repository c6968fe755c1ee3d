package divoc

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
)

// RDF predicates of the shown fields, as the bundled contexts map them.
// ("vac:…" stays a literal IRI: the CoWIN "vac" term does not end in a
// delimiter, so JSON-LD 1.1 does not use it as a prefix.)
const (
	predCredentialSubject = "https://www.w3.org/2018/credentials#credentialSubject"
	predEvidence          = "https://www.w3.org/2018/credentials#evidence"
	predIssuer            = "https://www.w3.org/2018/credentials#issuer"
	predIssuanceDate      = "https://www.w3.org/2018/credentials#issuanceDate"
	xsdDateTime           = "http://www.w3.org/2001/XMLSchema#dateTime"
	xsdInteger            = "http://www.w3.org/2001/XMLSchema#integer"
	xsdBoolean            = "http://www.w3.org/2001/XMLSchema#boolean"
)

var (
	subjectPredicates = map[string]string{
		"name":   "https://schema.org/name",
		"age":    "https://schema.org/Number",
		"dob":    "https://schema.org/date",
		"gender": "https://schema.org/gender",
	}
	vaccinationPredicates = map[string]string{
		"vaccine":        "https://schema.org/id",
		"manufacturer":   "https://schema.org/id",
		"batch":          "https://schema.org/id",
		"certificateId":  "https://schema.org/id",
		"date":           "https://schema.org/date",
		"effectiveStart": "https://schema.org/date",
		"effectiveUntil": "https://schema.org/date",
		"dose":           "https://schema.org/doseValue",
		"totalDoses":     "https://schema.org/doseValue",
	}
	addressPredicates = map[string]string{
		"streetAddress":  "https://schema.org/streetAddress",
		"streetAddress2": "vac:addressLine2",
		"city":           "vac:city",
		"district":       "vac:district",
		"addressRegion":  "https://schema.org/addressRegion",
		"postalCode":     "https://schema.org/postalCode",
		"addressCountry": "https://schema.org/addressCountry",
	}
)

// checkSigned confirms that every value the result shows is a statement in
// the signed canonical form, with the predicate its member maps to. The
// checks before it (safe mode, absolute ids, terms only, shape) are meant
// to make this always hold; this is the backstop should any JSON-LD corner
// still drop a member silently: then it is reported, never shown as signed.
func checkSigned(nquads string, doc map[string]any) error {
	var missing []string
	expect := func(path, subject, predicate string, value any) {
		lit, ok := nquadsLiteral(value)
		if !ok {
			return // absent, or a form no shown field takes (checked elsewhere)
		}
		if !hasStatement(nquads, subject, predicate, lit) {
			missing = append(missing, path)
		}
	}
	expectIRI := func(path, subject, predicate string, iri any) {
		s, ok := iri.(string)
		if ok && !hasStatement(nquads, subject, predicate, "<"+escapeNQuads(s)+">") {
			missing = append(missing, path)
		}
	}

	expectIRI("issuer", "", predIssuer, doc["issuer"])
	if s, ok := doc["issuanceDate"].(string); ok {
		if !hasStatement(nquads, "", predIssuanceDate, `"`+escapeNQuads(s)+`"^^<`+xsdDateTime+`>`) {
			missing = append(missing, "issuanceDate")
		}
	}
	if subj, ok := doc["credentialSubject"].(map[string]any); ok {
		id := nodeIRI(subj)
		expectIRI("credentialSubject.id", "", predCredentialSubject, subj["id"])
		for _, k := range sortedKeys(subjectPredicates) {
			expect("credentialSubject."+k, id, subjectPredicates[k], subj[k])
		}
		if addr, ok := subj["address"].(map[string]any); ok {
			for _, k := range sortedKeys(addressPredicates) {
				expect("credentialSubject.address."+k, "", addressPredicates[k], addr[k])
			}
		}
	}
	evidence, _ := doc["evidence"].([]any)
	for i, e := range evidence {
		ev, ok := e.(map[string]any)
		if !ok {
			continue
		}
		at := fmt.Sprintf("evidence[%d].", i)
		id := nodeIRI(ev)
		expectIRI(at+"id", "", predEvidence, ev["id"])
		for _, k := range sortedKeys(vaccinationPredicates) {
			expect(at+k, id, vaccinationPredicates[k], ev[k])
		}
		if fac, ok := ev["facility"].(map[string]any); ok {
			expect(at+"facility.name", "", "https://schema.org/name", fac["name"])
			if addr, ok := fac["address"].(map[string]any); ok {
				for _, k := range sortedKeys(addressPredicates) {
					expect(at+"facility.address."+k, "", addressPredicates[k], addr[k])
				}
			}
		}
	}
	if len(missing) > 0 {
		return &problem{code: "unsigned_data",
			message: "not covered by the signature: " + strings.Join(missing, ", ")}
	}
	return nil
}

// nodeIRI is a node's id when it has one ("" for a blank node, whose
// canonical label is not known here).
func nodeIRI(node map[string]any) string {
	s, _ := node["id"].(string)
	return s
}

// hasStatement looks for "<subject> <predicate> object ." in canonical
// N-Quads; with an empty subject, any subject will do.
func hasStatement(nquads, subject, predicate, object string) bool {
	tail := " <" + escapeNQuads(predicate) + "> " + object + " .\n"
	if subject != "" {
		return strings.Contains(nquads, "<"+escapeNQuads(subject)+">"+tail)
	}
	return strings.Contains(nquads, tail)
}

// nquadsLiteral renders a JSON scalar as json-gold writes it in N-Quads.
func nquadsLiteral(v any) (string, bool) {
	switch t := v.(type) {
	case string:
		return `"` + escapeNQuads(t) + `"`, true
	case bool:
		return `"` + strconv.FormatBool(t) + `"^^<` + xsdBoolean + `>`, true
	case float64:
		if t == math.Trunc(t) && math.Abs(t) < 1e15 {
			return `"` + strconv.FormatInt(int64(t), 10) + `"^^<` + xsdInteger + `>`, true
		}
	}
	return "", false
}

// escapeNQuads escapes as json-gold's N-Quads writer does.
func escapeNQuads(s string) string { return nquadsEscaper.Replace(s) }

var nquadsEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`, "\t", `\t`)

func sortedKeys(m map[string]string) []string {
	return slices.Sorted(maps.Keys(m))
}
