package registration

import (
	"context"
	"crypto/rand"
	"errors"
	"math/big"
	"regexp"
	"strings"
	"time"

	"github.com/vaxcert/vaxcert/internal/problem"
)

// BeneficiaryInput is what a citizen types to register someone.
type BeneficiaryInput struct {
	Name      string `json:"name"`
	Gender    string `json:"gender"`
	BirthDate string `json:"birth_date"` // YYYY-MM-DD
	IDType    string `json:"photo_id_type"`
	IDNumber  string `json:"photo_id_number"`
}

var refIDPattern = regexp.MustCompile(`^[0-9]{14}$`)

// ValidRefID reports whether s has the shape of a beneficiary reference ID.
func ValidRefID(s string) bool { return refIDPattern.MatchString(s) }

// MaskRef shows the last four digits of a beneficiary reference.
func MaskRef(ref string) string {
	if len(ref) < 4 {
		return ref
	}
	return strings.Repeat("X", len(ref)-4) + ref[len(ref)-4:]
}

// validated is a checked BeneficiaryInput.
type validated struct {
	name, gender string
	birth        time.Time
	idType       IDType
	idNumber     string // normalised; never stored, logged or returned
}

func (s *Service) validate(in BeneficiaryInput) (validated, error) {
	var v validated
	var err error
	if v.name, err = NormalizeName(in.Name); err != nil {
		return v, err
	}
	if v.gender, err = NormalizeGender(in.Gender); err != nil {
		return v, err
	}
	if v.birth, err = ParseBirthDate(in.BirthDate, s.now()); err != nil {
		return v, err
	}
	if v.idType, err = ParseIDType(in.IDType); err != nil {
		return v, err
	}
	if v.idNumber, err = NormalizeID(v.idType, in.IDNumber); err != nil {
		return v, err
	}
	return v, nil
}

// AddBeneficiary registers a person under the caller's account: at most four
// per mobile, each photo ID once in the whole system.
func (s *Service) AddBeneficiary(ctx context.Context, p Principal, in BeneficiaryInput) (Beneficiary, error) {
	v, err := s.validate(in)
	if err != nil {
		return Beneficiary{}, err
	}
	hash := s.vault.Hash(v.idType, v.idNumber)
	for attempt := 0; attempt < 5; attempt++ {
		ref, err := newRefID()
		if err != nil {
			return Beneficiary{}, err
		}
		b := Beneficiary{
			RefID: ref, AccountID: p.AccountID, Name: v.name, Gender: v.gender, BirthDate: v.birth,
			IDType: v.idType, IDMasked: MaskID(v.idType, v.idNumber), CreatedAt: s.now().UTC().Truncate(time.Microsecond),
		}
		if b.IDSealed, err = s.vault.Seal(ref, v.idType, v.idNumber); err != nil {
			return Beneficiary{}, err
		}
		err = s.store.AddBeneficiary(ctx, b, hash, s.limits.MaxBeneficiaries)
		if errors.Is(err, ErrRefIDTaken) {
			continue
		}
		if err != nil {
			return Beneficiary{}, err
		}
		return b, nil
	}
	return Beneficiary{}, errors.New("registration: could not draw a free beneficiary reference ID")
}

// Beneficiaries lists the caller's beneficiaries.
func (s *Service) Beneficiaries(ctx context.Context, p Principal) ([]Beneficiary, error) {
	return s.store.Beneficiaries(ctx, p.AccountID)
}

// Beneficiary returns one beneficiary if the caller may see it: its owner,
// or staff (vaccinators and admins). Anyone else gets ErrBeneficiaryNotFound,
// exactly as for a reference that does not exist.
func (s *Service) Beneficiary(ctx context.Context, p Principal, refID string) (Beneficiary, error) {
	if !ValidRefID(refID) {
		return Beneficiary{}, ErrBeneficiaryNotFound
	}
	b, err := s.store.Beneficiary(ctx, refID)
	if err != nil {
		return Beneficiary{}, err
	}
	if p.Role == Citizen && b.AccountID != p.AccountID {
		return Beneficiary{}, ErrBeneficiaryNotFound
	}
	return b, nil
}

// UpdateBeneficiary replaces a beneficiary's details; allowed only before
// the first dose (afterwards, corrections go through the issuer).
func (s *Service) UpdateBeneficiary(ctx context.Context, p Principal, refID string, in BeneficiaryInput) (Beneficiary, error) {
	old, err := s.Beneficiary(ctx, p, refID)
	if err != nil {
		return Beneficiary{}, err
	}
	if old.AccountID != p.AccountID {
		return Beneficiary{}, ErrBeneficiaryNotFound // staff do not edit citizens' registrations here
	}
	v, err := s.validate(in)
	if err != nil {
		return Beneficiary{}, err
	}
	b := old
	b.Name, b.Gender, b.BirthDate, b.IDType = v.name, v.gender, v.birth, v.idType
	b.IDMasked = MaskID(v.idType, v.idNumber)
	if b.IDSealed, err = s.vault.Seal(refID, v.idType, v.idNumber); err != nil {
		return Beneficiary{}, err
	}
	if err := s.store.UpdateBeneficiary(ctx, b, s.vault.Hash(v.idType, v.idNumber)); err != nil {
		return Beneficiary{}, err
	}
	return b, nil
}

// DeleteBeneficiary removes a beneficiary without doses; an open appointment
// is cancelled and its slot given back.
func (s *Service) DeleteBeneficiary(ctx context.Context, p Principal, refID string) error {
	if !ValidRefID(refID) {
		return ErrBeneficiaryNotFound
	}
	return s.store.DeleteBeneficiary(ctx, p.AccountID, refID)
}

// RevealID opens the sealed photo-ID number of b (sealed is b.IDSealed, or
// the beneficiaries.id_sealed column as read by another package). Only the
// beneficiary's owner, or the issuer printing a travel certificate, should
// ever see it; never log the result.
func (s *Service) RevealID(b Beneficiary, sealed []byte) (string, error) {
	if len(sealed) == 0 {
		return "", problem.New(problem.NotFound, "id-not-sealed", "No ID number is on record for this beneficiary.")
	}
	return s.vault.Open(b.RefID, b.IDType, sealed)
}

// newRefID draws a 14-digit reference that does not start with 0.
func newRefID() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(9e13))
	if err != nil {
		return "", err
	}
	return big.NewInt(0).Add(n, big.NewInt(1e13)).String(), nil
}
