// Package registration owns accounts, OTP login, session tokens and
// beneficiaries.
package registration

import "time"

// Role is what an account may do.
type Role string

const (
	Citizen    Role = "citizen"
	Vaccinator Role = "vaccinator"
	Admin      Role = "admin"
)

// Principal is the authenticated caller, as carried by a session token.
type Principal struct {
	AccountID string
	Role      Role
	Centres   []string // centre IDs a vaccinator may record doses at
}

// AtCentre reports whether the principal may act at centre.
func (p Principal) AtCentre(centre string) bool {
	for _, c := range p.Centres {
		if c == centre {
			return true
		}
	}
	return false
}

// IDType is a kind of photo ID.
type IDType string

const (
	Aadhaar        IDType = "aadhaar"
	Passport       IDType = "passport"
	PAN            IDType = "pan"
	VoterID        IDType = "voter_id"
	DrivingLicence IDType = "driving_licence"
)

// Beneficiary is a person registered under an account (at most four per
// mobile). The full ID number is never stored in clear: IDHash (keyed) finds
// duplicates and IDMasked is what pages and PDFs show.
type Beneficiary struct {
	RefID       string    `json:"beneficiary_reference_id"` // 14 digits, as on Co-WIN
	AccountID   string    `json:"-"`
	Name        string    `json:"name"`
	Gender      string    `json:"gender"`     // "male" | "female" | "other"
	BirthDate   time.Time `json:"birth_date"` // a date, UTC midnight
	IDType      IDType    `json:"photo_id_type"`
	IDMasked    string    `json:"photo_id_number"` // e.g. "XXXX XXXX 1234"
	Corrections int       `json:"-"`               // admin corrections of name, birth date or gender so far
	CreatedAt   time.Time `json:"created_at"`
}
