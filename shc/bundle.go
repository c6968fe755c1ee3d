package shc

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Problem is one finding about a bundle. Warnings do not invalidate a card.
type Problem struct {
	Code    string
	Message string
	Warning bool
}

// Dose is an Immunization read from a bundle, with the entry it came from.
type Dose struct {
	Entry int
	Immunization
}

// BundleContents is what a verifier shows from a bundle.
type BundleContents struct {
	Patient *Patient // nil when the bundle has no Patient (lab-result bundles)
	// Doses are the completed, potent immunizations in bundle order; entries
	// marked isSubpotent or not "completed" are left out (and warned about).
	Doses []Dose
}

// ReadBundle checks a bundle against the rules a verifier enforces and
// extracts the patient and the doses. It is lenient where the specification
// asks verifiers to be: any resource type is accepted, and references that
// are not "resource:N" are tolerated when they are well-formed FHIR
// references (spec example 02 uses "Organization/…"). Every "resource:"
// reference must resolve to an entry's fullUrl.
func ReadBundle(b Bundle) (BundleContents, []Problem) {
	var out BundleContents
	var probs []Problem
	fail := func(code, format string, args ...any) {
		probs = append(probs, Problem{Code: code, Message: fmt.Sprintf(format, args...)})
	}
	warn := func(code, format string, args ...any) {
		probs = append(probs, Problem{Code: code, Message: fmt.Sprintf(format, args...), Warning: true})
	}
	if b.ResourceType != "Bundle" {
		fail("fhir_bundle_invalid", "fhirBundle.resourceType is %q, want \"Bundle\"", b.ResourceType)
	}
	if b.Type != "collection" {
		fail("fhir_bundle_invalid", "fhirBundle.type is %q, want \"collection\"", b.Type)
	}
	if len(b.Entry) == 0 {
		fail("fhir_bundle_invalid", "fhirBundle has no entries")
		return out, probs
	}

	fullURLs := make(map[string]int, len(b.Entry))
	for i, e := range b.Entry {
		switch {
		case e.FullURL == "":
			fail("fhir_reference", "entry %d has no fullUrl", i)
		case strings.HasPrefix(e.FullURL, "resource:"):
			if _, ok := resourceIndex(e.FullURL); !ok {
				fail("fhir_reference", "entry %d: fullUrl %q is not of the form resource:N", i, e.FullURL)
			}
		case !isAbsoluteURI(e.FullURL):
			fail("fhir_reference", "entry %d: fullUrl %q is neither resource:N nor an absolute URI", i, e.FullURL)
		}
		if prev, dup := fullURLs[e.FullURL]; dup && e.FullURL != "" {
			fail("fhir_reference", "entries %d and %d share fullUrl %q", prev, i, e.FullURL)
		}
		fullURLs[e.FullURL] = i
	}

	for i, e := range b.Entry {
		var facts resourceFacts
		var err error
		if e.facts != nil {
			facts = *e.facts
		} else {
			facts, err = readResource(e.Resource, nil)
		}
		if err != nil {
			if facts.resourceType != "" {
				fail("fhir_resource_invalid", "entry %d: %s: %v", i, facts.resourceType, err)
			} else {
				fail("fhir_resource_invalid", "entry %d: resource is not a valid JSON object: %v", i, err)
			}
			continue
		}
		refs := facts.refs
		rt := facts.resourceType
		if rt == "" {
			fail("fhir_resource_invalid", "entry %d: resource has no resourceType", i)
			continue
		}
		if facts.hasID {
			warn("fhir_resource_id", "entry %d: %s carries Resource.id, which health cards omit", i, rt)
		}
		if facts.metaOther {
			warn("fhir_meta", "entry %d: %s.meta holds more than meta.security", i, rt)
		}
		if facts.hasText {
			warn("fhir_text", "entry %d: %s carries narrative text, which health cards omit", i, rt)
		}
		for _, r := range refs {
			switch {
			case strings.HasPrefix(r, "resource:"):
				if _, ok := resourceIndex(r); !ok {
					fail("fhir_reference", "entry %d: reference %q is not of the form resource:N", i, r)
				} else if _, ok := fullURLs[r]; !ok {
					fail("fhir_reference", "entry %d: reference %q resolves to no entry", i, r)
				}
			case !isFHIRReference(r):
				fail("fhir_reference", "entry %d: reference %q is not a valid FHIR reference", i, r)
			}
		}

		switch {
		case facts.patient != nil:
			if out.Patient == nil {
				out.Patient = facts.patient
			}
		case facts.immunization != nil:
			im := *facts.immunization
			switch {
			case im.Status != "completed":
				warn("immunization_not_completed", "entry %d: immunization status is %q; not counted as a dose", i, im.Status)
				continue
			case im.IsSubpotent:
				warn("immunization_subpotent", "entry %d: dose marked subpotent; not counted", i)
				continue
			}
			if !hasKnownVaccineSystem(im.VaccineCode) {
				warn("vaccine_code_system", "entry %d: vaccineCode has no CVX, SNOMED CT or ICD-11 coding", i)
			}
			if im.OccurrenceDateTime == "" {
				warn("immunization_no_date", "entry %d: immunization has no occurrenceDateTime", i)
			}
			out.Doses = append(out.Doses, Dose{Entry: i, Immunization: im})
		}
	}
	if out.Patient == nil {
		warn("fhir_no_patient", "the bundle names no Patient")
	}
	return out, probs
}

func hasKnownVaccineSystem(cc CodeableConcept) bool {
	for _, c := range cc.Coding {
		switch c.System {
		case SystemCVX, SystemSNOMED, SystemICD11:
			return true
		}
	}
	return false
}

// resourceIndex parses "resource:N" (N a non-negative decimal without sign
// or leading zeros).
func resourceIndex(s string) (int, bool) {
	d, ok := strings.CutPrefix(s, "resource:")
	if !ok || d == "" || len(d) > 9 || (len(d) > 1 && d[0] == '0') {
		return 0, false
	}
	for _, c := range d {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(d)
	return n, err == nil
}

func isAbsoluteURI(s string) bool {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		return false
	}
	return u.Host != "" || u.Opaque != ""
}

// isFHIRReference accepts the reference forms a non-minimised bundle may use:
// "Type/id" (optionally with "/_history/vid"), an absolute URI, or "#local".
func isFHIRReference(s string) bool {
	if strings.HasPrefix(s, "#") {
		return len(s) > 1 && isFHIRID(s[1:])
	}
	if isAbsoluteURI(s) {
		return true
	}
	parts := strings.Split(s, "/")
	if len(parts) != 2 && !(len(parts) == 4 && parts[2] == "_history" && isFHIRID(parts[3])) {
		return false
	}
	return isResourceTypeName(parts[0]) && isFHIRID(parts[1])
}

func isResourceTypeName(s string) bool {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for _, c := range s {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			return false
		}
	}
	return true
}

// isFHIRID is FHIR's id type: [A-Za-z0-9\-\.]{1,64}.
func isFHIRID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}
