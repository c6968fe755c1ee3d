package issuer

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vaxcert/vaxcert/audit"
	"github.com/vaxcert/vaxcert/internal/problem"
	"github.com/vaxcert/vaxcert/registration"
)

// Correction asks to correct a beneficiary's personal details. Empty fields
// are left as they are.
type Correction struct {
	BeneficiaryRef string
	Name           string
	BirthDate      string // YYYY-MM-DD
	Gender         string
	Reason         string // why, for the audit log (required)
	Actor          string
}

// Corrected is the outcome of a correction.
type Corrected struct {
	Beneficiary registration.Beneficiary
	// Certificate is the new, issued certificate; nil when the beneficiary
	// has no dose yet (and so no certificate).
	Certificate *Certificate
	Revoked     []string // the certificates the correction revoked
}

// Limits on the free-text reasons admins give.
const (
	minReasonLength = 5
	maxReasonLength = 500
)

func checkReason(reason string) (string, error) {
	reason = strings.Join(strings.Fields(reason), " ")
	if n := utf8.RuneCountInString(reason); n < minReasonLength || n > maxReasonLength {
		return "", problem.Invalidf("reason-invalid", "Give a reason of %d to %d characters; it goes to the audit log.", minReasonLength, maxReasonLength)
	}
	return reason, nil
}

var errCertificatePending = problem.New(problem.Conflict, "certificate-pending",
	"A certificate of this beneficiary is being issued right now; try again in a minute.")

// Correct changes a beneficiary's name, birth date or gender (at most
// MaxCorrections times), issues a new certificate with the corrected details
// and revokes every earlier one, all audited with the reason.
func (s *Service) Correct(ctx context.Context, c Correction) (Corrected, error) {
	reason, err := checkReason(c.Reason)
	if err != nil {
		return Corrected{}, err
	}
	now := s.now().UTC()
	var name, gender string
	var birth time.Time
	if strings.TrimSpace(c.Name) != "" {
		if name, err = registration.NormalizeName(c.Name); err != nil {
			return Corrected{}, err
		}
	}
	if strings.TrimSpace(c.Gender) != "" {
		if gender, err = registration.NormalizeGender(c.Gender); err != nil {
			return Corrected{}, err
		}
	}
	if strings.TrimSpace(c.BirthDate) != "" {
		if birth, err = registration.ParseBirthDate(c.BirthDate, civilDate(now.In(IST))); err != nil {
			return Corrected{}, err
		}
	}
	if name == "" && gender == "" && birth.IsZero() {
		return Corrected{}, problem.Invalidf("correction-empty", "Give the corrected name, birth date or gender.")
	}
	certID := newID()
	ctx, cancel := detach(ctx)
	defer cancel()
	change, err := s.store.ChangeBeneficiary(ctx, strings.TrimSpace(c.BeneficiaryRef), func(v *BeneficiaryView) (*Change, error) {
		b := v.Beneficiary
		for _, old := range v.Certificates {
			if old.Status == Pending {
				return nil, errCertificatePending
			}
		}
		if b.Corrections >= s.maxCorrections {
			return nil, problem.New(problem.Conflict, "correction-limit", "This beneficiary's details have already been corrected %d times, the most allowed.", b.Corrections)
		}
		var fields []string
		if name != "" && name != b.Name {
			b.Name = name
			fields = append(fields, "name")
		}
		if !birth.IsZero() && !birth.Equal(b.BirthDate) {
			b.BirthDate = birth
			fields = append(fields, "birth date")
		}
		if gender != "" && gender != b.Gender {
			b.Gender = gender
			fields = append(fields, "gender")
		}
		if len(fields) == 0 {
			return nil, problem.New(problem.Conflict, "correction-unchanged", "The details given are the ones already recorded.")
		}
		b.Corrections++
		ch := &Change{Beneficiary: &b, RevokedAt: now, RevokeReason: "superseded by a correction: " + reason}
		ch.Audit = append(ch.Audit, audit.Entry{At: now, Actor: c.Actor, Action: "beneficiary.corrected", Subject: b.RefID,
			Detail: fmt.Sprintf("%s corrected (correction %d of %d): %s", strings.Join(fields, ", "), b.Corrections, s.maxCorrections, reason)})
		if len(v.Doses) == 0 {
			return ch, nil
		}
		nbf := max(now.Unix(), v.LastNBF+1)
		cert, err := s.newCertificate(certID, b, v.Doses, nbf, now)
		if err != nil {
			return nil, err
		}
		cert.Reason = ReasonCorrection
		ch.Certificate = &cert
		// Every earlier card carries the old details: revoke them all, under
		// every key that signed one, with the new card's nbf as the cutoff.
		seen := map[Revocation]bool{}
		for _, old := range v.Certificates {
			if old.Status != Issued || old.Revoked() {
				continue
			}
			r := Revocation{KID: old.KID, RID: old.RID, Cutoff: nbf}
			if !seen[r] {
				seen[r] = true
				ch.Revocations = append(ch.Revocations, r)
			}
			ch.Revoked = append(ch.Revoked, old.ID)
			ch.Audit = append(ch.Audit, audit.Entry{At: now, Actor: c.Actor, Action: "certificate.revoked", Subject: old.ID,
				Detail: fmt.Sprintf("superseded by certificate %s after a correction: %s; CRL of %s: %s.%d", cert.ID, reason, old.KID, old.RID, nbf)})
		}
		ch.Audit = append(ch.Audit, audit.Entry{At: now, Actor: c.Actor, Action: "certificate.pending", Subject: cert.ID,
			Detail: fmt.Sprintf("%s certificate for beneficiary %s after a correction (%d doses)", cert.Course, b.RefID, cert.DoseCount)})
		return ch, nil
	})
	if err != nil {
		return Corrected{}, err
	}
	out := Corrected{Beneficiary: *change.Beneficiary, Revoked: change.Revoked}
	if len(change.Revocations) > 0 {
		s.forgetTrust()
	}
	if change.Certificate != nil {
		s.fault(FaultAfterPending)
		cert, err := s.finish(ctx, *change.Certificate, c.Actor)
		if err != nil {
			return Corrected{}, err
		}
		out.Certificate = &cert
	}
	return out, nil
}

// Revoke revokes an issued certificate. The CRL entry (rid.<nbf+1>) also
// revokes the beneficiary's earlier cards signed by the same key, which are
// marked revoked too; later cards stay valid. It returns the certificate as
// revoked.
func (s *Service) Revoke(ctx context.Context, id, reason, actor string) (Certificate, error) {
	reason, err := checkReason(reason)
	if err != nil {
		return Certificate{}, err
	}
	target, err := s.store.Certificate(ctx, id)
	if err != nil {
		return Certificate{}, err
	}
	now := s.now().UTC()
	_, err = s.store.ChangeBeneficiary(ctx, target.BeneficiaryRef, func(v *BeneficiaryView) (*Change, error) {
		var c *Certificate
		for i := range v.Certificates {
			if v.Certificates[i].ID == id {
				c = &v.Certificates[i]
			}
		}
		switch {
		case c == nil:
			return nil, ErrCertificateNotFound
		case c.Status != Issued:
			return nil, errCertificatePending
		case c.Revoked():
			return nil, problem.New(problem.Conflict, "certificate-revoked", "Certificate %s was already revoked on %s.", c.ID, c.RevokedAt.Format(time.DateOnly))
		}
		r := Revocation{KID: c.KID, RID: c.RID, Cutoff: c.NBF + 1}
		ch := &Change{Revocations: []Revocation{r}, RevokedAt: now, RevokeReason: reason}
		for _, o := range v.Certificates {
			if o.Status == Issued && !o.Revoked() && o.KID == c.KID && o.RID == c.RID && o.NBF < r.Cutoff {
				ch.Revoked = append(ch.Revoked, o.ID)
				detail := fmt.Sprintf("%s; CRL of %s: %s.%d", reason, r.KID, r.RID, r.Cutoff)
				if o.ID != c.ID {
					detail = fmt.Sprintf("earlier card of the same beneficiary and key, revoked with %s: %s", c.ID, detail)
				}
				ch.Audit = append(ch.Audit, audit.Entry{At: now, Actor: actor, Action: "certificate.revoked", Subject: o.ID, Detail: detail})
			}
		}
		return ch, nil
	})
	if err != nil {
		return Certificate{}, err
	}
	s.forgetTrust()
	return s.store.Certificate(ctx, id)
}

// Reissue issues a new certificate for a beneficiary's doses as they stand,
// for instance after an admin revoked the current one by mistake.
func (s *Service) Reissue(ctx context.Context, ref, reason, actor string) (Certificate, error) {
	reason, err := checkReason(reason)
	if err != nil {
		return Certificate{}, err
	}
	now := s.now().UTC()
	certID := newID()
	ctx, cancel := detach(ctx)
	defer cancel()
	change, err := s.store.ChangeBeneficiary(ctx, strings.TrimSpace(ref), func(v *BeneficiaryView) (*Change, error) {
		for _, old := range v.Certificates {
			if old.Status == Pending {
				return nil, errCertificatePending
			}
		}
		if len(v.Doses) == 0 {
			return nil, problem.New(problem.Conflict, "no-doses", "This beneficiary has no dose recorded, so there is no certificate to issue.")
		}
		cert, err := s.newCertificate(certID, v.Beneficiary, v.Doses, max(now.Unix(), v.LastNBF+1), now)
		if err != nil {
			return nil, err
		}
		cert.Reason = ReasonReissue
		return &Change{Certificate: &cert, Audit: []audit.Entry{{At: now, Actor: actor, Action: "certificate.pending", Subject: cert.ID,
			Detail: fmt.Sprintf("%s certificate for beneficiary %s re-issued (%d doses): %s", cert.Course, v.Beneficiary.RefID, cert.DoseCount, reason)}}}, nil
	})
	if err != nil {
		return Certificate{}, err
	}
	s.fault(FaultAfterPending)
	return s.finish(ctx, *change.Certificate, actor)
}
