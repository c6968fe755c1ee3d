package verdict

import "time"

// Report is the document `vaxverify verify --json` prints and
// POST /api/v1/verify answers (schema in docs/VERIFIER.md).
type Report struct {
	SchemaVersion int       `json:"schema_version"`
	VerifiedAt    time.Time `json:"verified_at"`
	Results       []Result  `json:"results"`
	Summary       Summary   `json:"summary"`
}

// Summary counts the results by status.
type Summary struct {
	Total      int `json:"total"`
	Valid      int `json:"valid"`
	Invalid    int `json:"invalid"`
	NotTrusted int `json:"not_trusted"`
	Errors     int `json:"errors"` // inputs that could not be read
}

// NewReport summarises results verified at a moment.
func NewReport(at time.Time, results []Result) Report {
	return Report{SchemaVersion: 1, VerifiedAt: at.UTC(), Results: results, Summary: Summarize(results)}
}

// Summarize counts results by status.
func Summarize(rs []Result) Summary {
	s := Summary{Total: len(rs)}
	for _, r := range rs {
		switch r.Status {
		case Valid:
			s.Valid++
		case NotTrusted:
			s.NotTrusted++
		default:
			s.Invalid++
		}
	}
	return s
}
