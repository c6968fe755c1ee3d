package issuer

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/vaxcert/vaxcert/audit"
	"github.com/vaxcert/vaxcert/internal/problem"
	"github.com/vaxcert/vaxcert/registration"
	"github.com/vaxcert/vaxcert/vaccine"
)

// IST is India Standard Time: a dose's date is a day in India, and "today"
// is today there (India has no daylight saving, so a fixed zone is exact).
var IST = time.FixedZone("IST", 5*3600+1800)

// firstVaccinationDay: no COVID-19 vaccine was given before this day, so an
// earlier date is a typing mistake.
var firstVaccinationDay = time.Date(2020, 7, 1, 0, 0, 0, 0, time.UTC)

// DoseRequest asks to record one dose.
type DoseRequest struct {
	BeneficiaryRef string
	Vaccine        string    // catalog code
	Lot            string    // batch/lot number, at most MaxLotLength characters
	Number         int       // the dose number, checked against the history
	Date           time.Time // the day (any time of day; only the date counts)
	CentreID       string
	Actor          string        // audit actor, e.g. "user:<account>"
	Idempotency    IdempotencyID // a zero Key means none
}

// Recorded is the outcome of a dose request: the dose and its issued
// certificate. Replayed is true when an earlier request with the same
// idempotency key had already recorded it.
type Recorded struct {
	Dose        Dose
	Certificate Certificate
	Replayed    bool
}

// MaxIdempotencyKeyLength bounds an Idempotency-Key.
const MaxIdempotencyKeyLength = 255

// normalize trims the request and checks everything that needs no database.
func (r *DoseRequest) normalize(catalog *vaccine.Catalog, now time.Time) error {
	r.BeneficiaryRef = strings.TrimSpace(r.BeneficiaryRef)
	r.Vaccine = strings.ToUpper(strings.TrimSpace(r.Vaccine))
	r.Lot = strings.TrimSpace(r.Lot)
	r.CentreID = strings.TrimSpace(r.CentreID)
	switch {
	case !registration.ValidRefID(r.BeneficiaryRef):
		return problem.Invalidf("beneficiary-ref-invalid", "A beneficiary reference ID has 14 digits.")
	case r.Vaccine == "":
		return problem.Invalidf("vaccine-missing", "Give the vaccine, one of %s.", strings.Join(catalog.Codes(), ", "))
	case r.CentreID == "" || len(r.CentreID) > 32:
		return problem.Invalidf("centre-invalid", "Give the centre ID where the dose was given.")
	case r.Number < 1 || r.Number > 20:
		return problem.Invalidf("dose-number-invalid", "The dose number must be 1 or more.")
	case r.Date.IsZero():
		return problem.Invalidf("date-missing", "Give the date the dose was given (YYYY-MM-DD).")
	}
	if _, ok := catalog.Lookup(r.Vaccine); !ok {
		return problem.Invalidf("vaccine-unknown", "Vaccine %q is not in the catalog; use one of %s.", r.Vaccine, strings.Join(catalog.Codes(), ", "))
	}
	if err := checkLot(r.Lot); err != nil {
		return err
	}
	r.Date = civilDate(r.Date)
	today := civilDate(now.In(IST))
	switch {
	case r.Date.After(today):
		return problem.Invalidf("date-in-future", "The date %s is in the future (today is %s in India).", r.Date.Format(time.DateOnly), today.Format(time.DateOnly))
	case r.Date.Before(firstVaccinationDay):
		return problem.Invalidf("date-invalid", "The date %s is before any COVID-19 vaccination.", r.Date.Format(time.DateOnly))
	}
	if k := r.Idempotency.Key; k != "" && (len(k) > MaxIdempotencyKeyLength || !isPrintableASCII(k)) {
		return problem.Invalidf("idempotency-key-invalid", "An Idempotency-Key is 1 to %d printable ASCII characters.", MaxIdempotencyKeyLength)
	}
	return nil
}

// checkLot accepts 1..MaxLotLength printable characters.
func checkLot(lot string) error {
	n := 0
	for _, c := range lot {
		if !unicode.IsPrint(c) {
			return problem.Invalidf("lot-invalid", "The lot number contains a control character.")
		}
		n++
	}
	switch {
	case n == 0:
		return problem.Invalidf("lot-missing", "Give the vaccine's batch/lot number.")
	case n > MaxLotLength:
		return problem.Invalidf("lot-too-long", "The lot number has %d characters; at most %d fit on the certificate.", n, MaxLotLength)
	}
	return nil
}

// civilDate is t's calendar date as UTC midnight.
func civilDate(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// hash identifies the request's content, so that a reused idempotency key
// with different content is told apart from a retry.
func (r DoseRequest) hash() string {
	h := sha256.New()
	for _, f := range []string{r.BeneficiaryRef, r.Vaccine, r.Lot, strconv.Itoa(r.Number), r.Date.Format(time.DateOnly), r.CentreID} {
		h.Write([]byte(f))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

var (
	errKeyReused = problem.New(problem.Conflict, "idempotency-key-reused",
		"This Idempotency-Key was already used for a different request; use a new key for a new dose.")
	errCentreUnknown = problem.New(problem.NotFound, "centre-not-found", "No vaccination centre has this ID.")
)

// decide is Store.Write's decision for one batch: idempotency first, then the
// dose rules, in job order, each accepted dose becoming part of the history
// the next job for the same beneficiary is checked against.
func (s *Service) decide(b *DoseBatch) {
	first := map[IdempotencyID]*DoseJob{}
	for _, j := range b.Jobs {
		j.Plan, j.Replay, j.Err, j.Loaded = nil, nil, nil, nil
		if id := j.Req.Idempotency; id.Key != "" {
			if rec, ok := b.Used[id]; ok {
				if rec.RequestHash != j.Hash {
					j.Err = errKeyReused
				} else {
					j.Replay = &rec
				}
				continue
			}
			if f, ok := first[id]; ok { // a concurrent duplicate in the same batch
				switch {
				case f.Hash != j.Hash:
					j.Err = errKeyReused
				case f.Err != nil:
					j.Err = f.Err
				default:
					j.Replay = &IdempotencyRecord{RequestHash: f.Hash, DoseID: f.DoseID, CertificateID: f.CertID}
				}
				continue
			}
			first[id] = j
		}
		subj, ok := b.Subjects[j.Req.BeneficiaryRef]
		if !ok {
			j.Err = ErrBeneficiaryNotFound
			continue
		}
		centre, ok := b.Centres[j.Req.CentreID]
		if !ok {
			j.Err = errCentreUnknown
			continue
		}
		plan, err := s.planDose(j, subj, centre)
		if err != nil {
			j.Err = err
			continue
		}
		j.Plan = plan
		subj.Doses = append(subj.Doses, plan.Dose)
		subj.LastNBF = plan.Certificate.NBF
	}
}

// planDose checks one dose against the beneficiary's history and the
// catalog, and decides the certificate it yields.
func (s *Service) planDose(j *DoseJob, subj *Subject, centre Centre) (*DosePlan, error) {
	r := j.Req
	v, _ := s.catalog.Lookup(r.Vaccine) // normalize checked it
	history := vaccineHistory(subj.Doses)
	next, courseVaccine, earliest, err := s.catalog.NextDose(history)
	if err != nil {
		return nil, fmt.Errorf("issuer: beneficiary %s: %w", r.BeneficiaryRef, err)
	}
	switch {
	case r.Number < next:
		i := slices.IndexFunc(subj.Doses, func(d Dose) bool { return d.Number == r.Number })
		if i < 0 {
			return nil, problem.New(problem.Conflict, "wrong-dose-number", "The next dose of this beneficiary is dose %d, not dose %d.", next, r.Number)
		}
		prev := subj.Doses[i]
		if prev.Vaccine == r.Vaccine && prev.Date.Equal(r.Date) && prev.Lot == r.Lot {
			return nil, problem.New(problem.Conflict, "dose-already-recorded", "Dose %d of this beneficiary is already recorded, with the same vaccine, date and lot.", r.Number)
		}
		return nil, problem.New(problem.Conflict, "wrong-dose-number", "Dose %d of this beneficiary is already recorded (%s on %s); the next dose is dose %d.",
			r.Number, prev.Vaccine, prev.Date.Format(time.DateOnly), next)
	case r.Number > next:
		return nil, problem.New(problem.Conflict, "wrong-dose-number", "This beneficiary has %d dose(s) recorded, so the next dose is dose %d, not dose %d.", next-1, next, r.Number)
	case courseVaccine != "" && courseVaccine != r.Vaccine:
		return nil, problem.New(problem.Conflict, "vaccine-mismatch", "The primary course was started with %s: dose %d must be %s too.", courseVaccine, r.Number, courseVaccine)
	case r.Date.Before(earliest):
		last := subj.Doses[len(subj.Doses)-1]
		return nil, problem.New(problem.Conflict, "dose-too-early", "Dose %d may be given from %s on (dose %d was given on %s).",
			r.Number, earliest.Format(time.DateOnly), last.Number, last.Date.Format(time.DateOnly))
	}
	birth := subj.Beneficiary.BirthDate
	if age := vaccine.AgeOn(birth, r.Date); age < v.MinAge {
		return nil, problem.New(problem.Conflict, "below-minimum-age", "%s is given from age %d; the beneficiary was %d on %s.", v.Name, v.MinAge, max(age, 0), r.Date.Format(time.DateOnly))
	}

	dose := Dose{
		ID:             j.DoseID,
		BeneficiaryRef: r.BeneficiaryRef,
		Number:         r.Number,
		Vaccine:        r.Vaccine,
		Date:           r.Date,
		Lot:            r.Lot,
		CentreID:       centre.ID,
		Performer:      centre.Name,
		District:       centre.District,
		State:          centre.State,
		RecordedBy:     r.Actor,
		RecordedAt:     j.Now,
	}
	doses := append(slices.Clip(subj.Doses), dose)
	cert, err := s.newCertificate(j.CertID, subj.Beneficiary, doses, max(j.Now.Unix(), subj.LastNBF+1), j.Now)
	if err != nil {
		return nil, err
	}
	cert.Reason, cert.DoseID = ReasonDose, dose.ID
	entries := []audit.Entry{
		{At: j.Now, Actor: r.Actor, Action: "dose.recorded", Subject: dose.ID,
			Detail: fmt.Sprintf("beneficiary %s dose %d: %s lot %s on %s at centre %s", r.BeneficiaryRef, r.Number, r.Vaccine, r.Lot, r.Date.Format(time.DateOnly), centre.ID)},
		{At: j.Now, Actor: r.Actor, Action: "certificate.pending", Subject: cert.ID,
			Detail: fmt.Sprintf("%s certificate for beneficiary %s after dose %s (%d doses)", cert.Course, r.BeneficiaryRef, dose.ID, cert.DoseCount)},
	}
	return &DosePlan{Dose: dose, Certificate: cert, Audit: entries}, nil
}

// newCertificate decides a pending certificate for a beneficiary's doses.
func (s *Service) newCertificate(id string, b registration.Beneficiary, doses []Dose, nbf int64, now time.Time) (Certificate, error) {
	signer, err := s.keys.ActiveSigner()
	if err != nil {
		return Certificate{}, fmt.Errorf("issuer: %w", err)
	}
	content := cardContent{iss: s.iss, nbf: nbf, name: b.Name, birthDate: b.BirthDate.Format(time.DateOnly), doses: doses, catalog: s.catalog}
	payload, err := content.fit(rid(s.secret, signer.KID(), b.RefID))
	if err != nil {
		return Certificate{}, err
	}
	history := vaccineHistory(doses)
	details := Details{
		Name:      b.Name,
		Gender:    b.Gender,
		BirthDate: b.BirthDate.Format(time.DateOnly),
		IDType:    string(b.IDType),
		IDMasked:  b.IDMasked,
	}
	if first, ok := s.catalog.Lookup(doses[0].Vaccine); ok {
		details.PrimaryDoses = first.PrimaryDoses
	}
	for _, d := range doses {
		v, _ := s.catalog.Lookup(d.Vaccine)
		details.Doses = append(details.Doses, DoseFacts{
			Number: d.Number, Vaccine: d.Vaccine, VaccineName: v.Name, Manufacturer: v.Manufacturer,
			Date: d.Date.Format(time.DateOnly), Lot: d.Lot, Centre: d.Performer, District: d.District, State: d.State,
		})
	}
	return Certificate{
		ID:             id,
		BeneficiaryRef: b.RefID,
		AccountID:      b.AccountID,
		Status:         Pending,
		Course:         s.catalog.CourseStatus(history),
		DoseCount:      len(doses),
		Payload:        payload,
		Details:        details,
		NBF:            nbf,
		CreatedAt:      now,
	}, nil
}

func vaccineHistory(doses []Dose) []vaccine.Dose {
	h := make([]vaccine.Dose, len(doses))
	for i, d := range doses {
		h[i] = vaccine.Dose{Number: d.Number, Vaccine: d.Vaccine, Date: d.Date}
	}
	return h
}
