package shc

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// Code systems a verifier must accept for vaccineCode.
const (
	SystemCVX    = "http://hl7.org/fhir/sid/cvx"
	SystemSNOMED = "http://snomed.info/sct"
	SystemICD11  = "http://id.who.int/icd/release/11/mms"
)

// Bundle is a FHIR R4 Bundle of type "collection". Each entry keeps its
// resource as raw JSON: the verifier must cope with any resource type (spec
// example 02 is an IPS bundle of Observations), while the issuer fills the
// two types it needs through NewImmunizationBundle.
type Bundle struct {
	ResourceType string  `json:"resourceType"`
	Type         string  `json:"type"`
	Entry        []Entry `json:"entry"`
}

// Entry is one bundle entry; FullURL is "resource:N" in a minimised card.
type Entry struct {
	FullURL  string          `json:"fullUrl"`
	Resource json.RawMessage `json:"resource"`

	facts *resourceFacts // decoded by DecodePayload; nil when built otherwise
}

// Patient is the subject of the card, as the SHC vaccination profile allows
// it: a name and a (possibly partial) birth date, nothing else.
type Patient struct {
	Name      []HumanName `json:"name,omitempty"`
	BirthDate string      `json:"birthDate,omitempty"` // YYYY, YYYY-MM or YYYY-MM-DD
}

// HumanName is either Family plus Given, or Text.
type HumanName struct {
	Family string   `json:"family,omitempty"`
	Given  []string `json:"given,omitempty"`
	Text   string   `json:"text,omitempty"`
}

// Display renders the name the way a person reads it.
func (n HumanName) Display() string {
	if n.Text != "" {
		return n.Text
	}
	s := ""
	for _, g := range n.Given {
		if g == "" {
			continue
		}
		if s != "" {
			s += " "
		}
		s += g
	}
	if n.Family != "" {
		if s != "" {
			s += " "
		}
		s += n.Family
	}
	return s
}

// Immunization is one dose.
type Immunization struct {
	Status             string          `json:"status"` // "completed"
	VaccineCode        CodeableConcept `json:"vaccineCode"`
	Patient            Reference       `json:"patient"`
	OccurrenceDateTime string          `json:"occurrenceDateTime,omitempty"` // YYYY-MM-DD
	LotNumber          string          `json:"lotNumber,omitempty"`          // under 20 characters
	Performer          []Performer     `json:"performer,omitempty"`
	// IsSubpotent is written only when true; absent means a potent dose.
	IsSubpotent bool `json:"isSubpotent,omitempty"`
}

// CodeableConcept carries codings only (text is forbidden in QR cards).
type CodeableConcept struct {
	Coding []Coding `json:"coding"`
}

// Coding is a code from a system (display is forbidden in QR cards).
type Coding struct {
	System string `json:"system"`
	Code   string `json:"code"`
}

// Reference points at another resource, "resource:N" in a minimised card.
type Reference struct {
	Reference string `json:"reference"`
}

// Performer names who gave the dose (actor.display only, under 30 characters).
type Performer struct {
	Actor Actor `json:"actor"`
}

// Actor is the performer's display text.
type Actor struct {
	Display string `json:"display"`
}

// MarshalJSON writes resourceType first, then the fields.
func (p Patient) MarshalJSON() ([]byte, error) {
	type plain Patient
	return json.Marshal(struct {
		ResourceType string `json:"resourceType"`
		plain
	}{"Patient", plain(p)})
}

// MarshalJSON writes resourceType first, then the fields.
func (im Immunization) MarshalJSON() ([]byte, error) {
	type plain Immunization
	return json.Marshal(struct {
		ResourceType string `json:"resourceType"`
		plain
	}{"Immunization", plain(im)})
}

// ResourceRef is the minimised reference to entry n.
func ResourceRef(n int) string { return "resource:" + strconv.Itoa(n) }

// NewImmunizationBundle builds the minimised vaccination bundle the issuer
// signs: the patient as resource:0 and one Immunization per dose, each
// pointing at resource:0 (their Patient reference is overwritten).
func NewImmunizationBundle(p Patient, doses []Immunization) (Bundle, error) {
	b := Bundle{ResourceType: "Bundle", Type: "collection"}
	raw, err := json.Marshal(p)
	if err != nil {
		return Bundle{}, fmt.Errorf("shc: patient: %w", err)
	}
	b.Entry = append(b.Entry, Entry{FullURL: ResourceRef(0), Resource: raw})
	if len(p.Name) == 0 || p.Name[0].Display() == "" {
		return Bundle{}, fmt.Errorf("shc: patient has no name")
	}
	for i, d := range doses {
		if err := checkDose(d); err != nil {
			return Bundle{}, fmt.Errorf("shc: dose %d: %w", i+1, err)
		}
		d.Patient = Reference{Reference: ResourceRef(0)}
		raw, err := json.Marshal(d)
		if err != nil {
			return Bundle{}, fmt.Errorf("shc: dose %d: %w", i+1, err)
		}
		b.Entry = append(b.Entry, Entry{FullURL: ResourceRef(i + 1), Resource: raw})
	}
	return b, nil
}

// ResourceType returns the entry's resourceType ("" if unreadable).
func (e Entry) ResourceType() string {
	var head struct {
		ResourceType string `json:"resourceType"`
	}
	if json.Unmarshal(e.Resource, &head) != nil {
		return ""
	}
	return head.ResourceType
}

// checkDose enforces what a verifier needs from each dose the issuer writes.
func checkDose(d Immunization) error {
	if d.Status != "completed" {
		return fmt.Errorf("status %q, want \"completed\"", d.Status)
	}
	if !hasKnownVaccineSystem(d.VaccineCode) {
		return fmt.Errorf("vaccineCode needs a CVX, SNOMED CT or ICD-11 coding")
	}
	for _, c := range d.VaccineCode.Coding {
		if c.Code == "" {
			return fmt.Errorf("vaccineCode has a coding without a code")
		}
	}
	if len(d.OccurrenceDateTime) != 10 || d.OccurrenceDateTime[4] != '-' || d.OccurrenceDateTime[7] != '-' {
		return fmt.Errorf("occurrenceDateTime %q, want YYYY-MM-DD", d.OccurrenceDateTime)
	}
	return nil
}
