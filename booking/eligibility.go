package booking

import (
	"fmt"
	"time"

	"github.com/vaxcert/vaxcert/internal/problem"
	"github.com/vaxcert/vaxcert/vaccine"
)

// Eligibility is which dose a beneficiary would receive in a session.
type Eligibility struct {
	Dose   int
	Bucket Bucket
}

// CheckEligibility decides whether a person born on birth, with the dose
// history given (ordered by number), may take a dose in sess. The rules come
// from the catalog: minimum age of the vaccine and of the session, the same
// vaccine throughout the primary course, the interval after the previous
// primary dose, and the precaution dose only PrecautionAfterMonths after the
// last dose. Refusals are *problem.Error of kind Conflict with a sentence
// that names the rule and, where there is one, the first allowed day.
func CheckEligibility(c *vaccine.Catalog, birth time.Time, history []vaccine.Dose, sess Session) (Eligibility, error) {
	v, ok := c.Lookup(sess.Vaccine)
	if !ok {
		return Eligibility{}, fmt.Errorf("booking: session %s offers %q, which is not in the vaccine catalog", sess.ID, sess.Vaccine)
	}
	next, course, earliest, err := c.NextDose(history)
	if err != nil {
		return Eligibility{}, fmt.Errorf("booking: dose history: %w", err)
	}
	e := Eligibility{Dose: next, Bucket: BucketDose1}
	switch {
	case next == 1:
	case course != "": // the primary course continues
		e.Bucket = BucketDose2
		if course != sess.Vaccine {
			first, _ := c.Lookup(course)
			return Eligibility{}, problem.New(problem.Conflict, "vaccine-mismatch",
				"Dose %d must be %s, the vaccine of dose 1; this session offers %s.", next, first.Name, v.Name)
		}
	default:
		e.Bucket = BucketPrecaution
	}
	if !earliest.IsZero() && sess.Date.Before(dayOf(earliest)) {
		why := fmt.Sprintf("the interval after dose %d is %d days", next-1, daysBetween(history[len(history)-1].Date, earliest))
		if e.Bucket == BucketPrecaution {
			why = fmt.Sprintf("a precaution dose comes %d months after the last dose", c.PrecautionAfterMonths)
		}
		return Eligibility{}, problem.New(problem.Conflict, "dose-too-early",
			"Dose %d can be given from %s: %s.", next, earliest.Format("2 January 2006"), why)
	}
	age := vaccine.AgeOn(birth, sess.Date)
	if minAge := max(v.MinAge, sess.MinAge); age < minAge {
		return Eligibility{}, problem.New(problem.Conflict, "age-below-limit",
			"This session is for people aged %d and over; the beneficiary will be %d on %s.", minAge, age, sess.Date.Format("2 January 2006"))
	}
	if sess.MaxAge > 0 && age > sess.MaxAge {
		return Eligibility{}, problem.New(problem.Conflict, "age-above-limit",
			"This session is for people aged up to %d; the beneficiary will be %d on %s.", sess.MaxAge, age, sess.Date.Format("2 January 2006"))
	}
	return e, nil
}

func dayOf(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

func daysBetween(a, b time.Time) int {
	return int(dayOf(b).Sub(dayOf(a)).Hours()/24 + 0.5)
}

// Today is the current day in India, at 00:00 UTC (the form session dates take).
func Today(now time.Time) time.Time {
	return dayOf(now.In(IST))
}
