// Package vaccine is the vaccine catalog: which vaccines exist, their codes,
// how many doses make the primary course, the minimum age and the intervals
// between doses. The catalog is data (catalog.json), not code, so a new
// vaccine or a changed interval is an edit to one file.
package vaccine

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"time"
)

//go:embed catalog.json
var catalogJSON []byte

// Vaccine is one product in the catalog.
type Vaccine struct {
	Code         string `json:"code"` // our identifier, e.g. "COVISHIELD"
	Name         string `json:"name"`
	Manufacturer string `json:"manufacturer"`
	CVX          string `json:"cvx"`           // CDC CVX code, emitted in SMART Health Cards
	PrimaryDoses int    `json:"primary_doses"` // doses in the full primary course
	MinAge       int    `json:"min_age"`       // years, on the day of vaccination
	// IntervalDays[i] is the minimum number of days between primary dose i+1
	// and dose i+2.
	IntervalDays []int `json:"interval_days"`
}

// Catalog is the set of vaccines and the rules shared by all of them.
type Catalog struct {
	PrecautionAfterMonths int       `json:"precaution_after_months"` // after the last primary dose
	Vaccines              []Vaccine `json:"vaccines"`
	byCode                map[string]Vaccine
}

// Default is the embedded catalog.
var Default = mustParse(catalogJSON)

func mustParse(data []byte) *Catalog {
	c, err := Parse(data)
	if err != nil {
		panic(err) // the embedded catalog is checked by the tests
	}
	return c
}

// Parse reads and validates a catalog.
func Parse(data []byte) (*Catalog, error) {
	var c Catalog
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("vaccine catalog: %w", err)
	}
	c.byCode = map[string]Vaccine{}
	for _, v := range c.Vaccines {
		switch {
		case v.Code == "" || v.Name == "" || v.CVX == "":
			return nil, fmt.Errorf("vaccine catalog: %q: code, name and cvx are required", v.Code)
		case v.PrimaryDoses < 1 || len(v.IntervalDays) != v.PrimaryDoses-1:
			return nil, fmt.Errorf("vaccine catalog: %s: need primary_doses-1 intervals", v.Code)
		case c.byCode[v.Code].Code != "":
			return nil, fmt.Errorf("vaccine catalog: %s listed twice", v.Code)
		}
		c.byCode[v.Code] = v
	}
	if c.PrecautionAfterMonths < 1 {
		return nil, fmt.Errorf("vaccine catalog: precaution_after_months must be positive")
	}
	return &c, nil
}

// Lookup finds a vaccine by code.
func (c *Catalog) Lookup(code string) (Vaccine, bool) {
	v, ok := c.byCode[code]
	return v, ok
}

// Codes lists the vaccine codes, sorted.
func (c *Catalog) Codes() []string {
	codes := make([]string, 0, len(c.byCode))
	for code := range c.byCode {
		codes = append(codes, code)
	}
	sort.Strings(codes)
	return codes
}

// Dose is one dose already given.
type Dose struct {
	Number  int
	Vaccine string
	Date    time.Time
}

// NextDose says which dose comes next after history (ordered by number) and
// the earliest date it may be given. Precaution doses continue the numbering
// after the primary course; each comes PrecautionAfterMonths after the dose
// before it. The primary course must use one vaccine; a precaution dose may
// use any.
func (c *Catalog) NextDose(history []Dose) (number int, vaccineCode string, earliest time.Time, err error) {
	if len(history) == 0 {
		return 1, "", time.Time{}, nil
	}
	first, ok := c.Lookup(history[0].Vaccine)
	if !ok {
		return 0, "", time.Time{}, fmt.Errorf("unknown vaccine %q in history", history[0].Vaccine)
	}
	last := history[len(history)-1]
	next := last.Number + 1
	if next <= first.PrimaryDoses {
		return next, first.Code, last.Date.AddDate(0, 0, first.IntervalDays[next-2]), nil
	}
	return next, "", last.Date.AddDate(0, c.PrecautionAfterMonths, 0), nil
}

// Status is where a history stands against the catalog.
type Status string

const (
	None        Status = "none"
	Provisional Status = "provisional" // primary course started, not complete
	Final       Status = "final"       // primary course complete
	Precaution  Status = "precaution"  // at least one dose after the primary course
)

// CourseStatus classifies a dose history.
func (c *Catalog) CourseStatus(history []Dose) Status {
	if len(history) == 0 {
		return None
	}
	first, ok := c.Lookup(history[0].Vaccine)
	if !ok {
		return Provisional
	}
	n := history[len(history)-1].Number
	switch {
	case n < first.PrimaryDoses:
		return Provisional
	case n == first.PrimaryDoses:
		return Final
	default:
		return Precaution
	}
}

// AgeOn is a person's age in whole years on a day.
func AgeOn(birth, day time.Time) int {
	age := day.Year() - birth.Year()
	if day.Month() < birth.Month() || (day.Month() == birth.Month() && day.Day() < birth.Day()) {
		age--
	}
	return age
}
