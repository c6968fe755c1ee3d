package shc

import (
	"bytes"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// HealthCardType is the vc.type every SMART Health Card carries.
const HealthCardType = "https://smarthealth.cards#health-card"

// FHIRVersion is the FHIR release the bundle follows.
const FHIRVersion = "4.0.1"

// Payload is the JWS payload (the JWT claims) of a health card.
type Payload struct {
	Iss string      `json:"iss"`
	NBF NumericDate `json:"nbf"`
	Exp NumericDate `json:"exp,omitempty"`
	VC  VC          `json:"vc"`
}

// VC is the verifiable credential inside the payload.
type VC struct {
	Type              []string          `json:"type"`
	CredentialSubject CredentialSubject `json:"credentialSubject"`
	// RID is the revocation identifier (base64url, at most 24 characters).
	RID string `json:"rid,omitempty"`
}

// CredentialSubject holds the FHIR bundle.
type CredentialSubject struct {
	FHIRVersion string `json:"fhirVersion"`
	FHIRBundle  Bundle `json:"fhirBundle"`
}

// HasType reports whether vc.type lists t (unknown types are ignored by
// design, so callers look for the one they need).
func (vc VC) HasType(t string) bool {
	for _, have := range vc.Type {
		if have == t {
			return true
		}
	}
	return false
}

// NumericDate is a JWT NumericDate: seconds since the Unix epoch, as the JSON
// number literal it was written with. Spec examples are fractional
// (1687450764.656), so it is kept as text rather than forced into an integer.
// The zero value means "absent".
type NumericDate string

// NewNumericDate returns t in whole seconds, the form issuers should emit.
func NewNumericDate(t time.Time) NumericDate {
	return NumericDate(strconv.FormatInt(t.Unix(), 10))
}

// IsZero reports whether the date is absent.
func (d NumericDate) IsZero() bool { return d == "" }

// Seconds returns the value as a float64 number of seconds.
func (d NumericDate) Seconds() (float64, error) {
	f, err := strconv.ParseFloat(string(d), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, fmt.Errorf("shc: %q is not a numeric date", string(d))
	}
	return f, nil
}

// Time returns the value as a time (sub-second precision kept to the
// millisecond, which is all the examples use).
func (d NumericDate) Time() (time.Time, error) {
	f, err := d.Seconds()
	if err != nil {
		return time.Time{}, err
	}
	if f < -1e15 || f > 1e15 {
		return time.Time{}, fmt.Errorf("shc: numeric date %s out of range", string(d))
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(math.Round(frac*1e3))*1e6).UTC(), nil
}

// MarshalJSON writes the literal number, refusing anything that is not one.
func (d NumericDate) MarshalJSON() ([]byte, error) {
	if !isJSONNumber([]byte(d)) {
		return nil, fmt.Errorf("shc: %q is not a JSON number", string(d))
	}
	return []byte(d), nil
}

// UnmarshalJSON accepts only a JSON number (not a string, not null).
func (d *NumericDate) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if !isJSONNumber(b) {
		return fmt.Errorf("shc: numeric date must be a JSON number, got %.40s", b)
	}
	*d = NumericDate(b)
	return nil
}

// isJSONNumber checks the RFC 8259 number grammar:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func isJSONNumber(b []byte) bool {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	digits := func() int {
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i - start
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(b)
}

// CheckIss enforces the iss syntax: an https URL with a host and no trailing
// slash (the JWKS URL is built by appending "/.well-known/jwks.json").
func CheckIss(iss string) error {
	if iss == "" {
		return formatErr("iss_invalid", "iss is missing")
	}
	u, err := url.Parse(iss)
	switch {
	case err != nil:
		return formatErr("iss_invalid", fmt.Sprintf("iss %q is not a URL", iss))
	case u.Scheme != "https":
		return formatErr("iss_invalid", fmt.Sprintf("iss %q must use https", iss))
	case u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(iss, " \t\r\n"):
		return formatErr("iss_invalid", fmt.Sprintf("iss %q must be a plain https URL with a host", iss))
	case strings.HasSuffix(iss, "/"):
		return formatErr("iss_invalid", fmt.Sprintf("iss %q must not end with a slash", iss))
	}
	return nil
}
