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
	// IDSealed is the full ID number encrypted under the server's seal key
	// (see IDVault and Service.RevealID); never sent to clients.
	IDSealed []byte `json:"-"`
}

// Account is one mobile number's login. Citizens get one at their first
// login; vaccinators and admins are created with `vaxcert users add`.
type Account struct {
	ID        string    `json:"account_id"`
	Mobile    string    `json:"mobile"` // 10 digits
	Role      Role      `json:"role"`
	Centres   []string  `json:"centres,omitempty"` // where a vaccinator works
	CreatedAt time.Time `json:"created_at"`
}

// Principal is the account as a session token carries it.
func (a Account) Principal() Principal {
	return Principal{AccountID: a.ID, Role: a.Role, Centres: a.Centres}
}

// ParseRole accepts citizen, vaccinator or admin.
func ParseRole(s string) (Role, bool) {
	switch r := Role(s); r {
	case Citizen, Vaccinator, Admin:
		return r, true
	}
	return "", false
}
