// Package verifier checks vaccination certificates offline: SMART Health
// Cards (this package), and, plugged in through Verifier.Formats (package
// verifier/formats), EU DCC (eudcc) and CoWIN/DIVOC (divoc). It takes whatever a checkpoint is handed (numeric
// "shc:/" text, a compact JWS, a .smart-health-card file, a QR image, a
// certificate PDF) and reports one verdict.Result per card, every rejection
// with a stable reason code.
//
// It is a pure library: no network, no database, no server code (a test over
// `go list -deps` enforces it). The trust store comes in as a *trust.Store,
// which can be loaded from a directory or any fs.FS.
package verifier

import (
	"context"
	"time"

	"github.com/vaxcert/vaxcert/verifier/trust"
	"github.com/vaxcert/vaxcert/verifier/verdict"
)

// DefaultSkew is how far in the future an nbf may lie (clocks disagree).
const DefaultSkew = 5 * time.Minute

// FullCourseWait is how long after the last dose a course counts as complete.
const FullCourseWait = 14 * 24 * time.Hour

// MaxInputSize bounds one input (a PDF or a photo is the largest kind).
const MaxInputSize = 32 << 20

// Verifier holds what verification needs; the zero value (no trusted
// issuers, the wall clock) is usable. It is safe for concurrent use.
type Verifier struct {
	// Trust holds the trusted SHC issuers; nil trusts no one.
	Trust *trust.Store
	// TrustDir is the trust directory, passed to the formats that keep their
	// own material in it (EU DCC's dsc/, CoWIN's did/). May be empty.
	TrustDir string
	// Now is the verification time; nil means time.Now. vaxverify's --at
	// sets it to a fixed moment.
	Now func() time.Time
	// RequireFullCourse additionally requires the doses to complete a
	// primary course, the last at least FullCourseWait before Now.
	RequireFullCourse bool
	// Skew tolerates an nbf this far in the future; 0 means DefaultSkew.
	Skew time.Duration
	// Formats are the other certificate formats to recognise, tried in
	// order before the SHC text forms (formats.All() for EU DCC and CoWIN).
	// Empty means SMART Health Cards only.
	Formats []Format
}

// Time is the verification moment: Now(), or the wall clock.
func (v *Verifier) Time() time.Time { return v.now() }

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func (v *Verifier) skew() time.Duration {
	if v.Skew > 0 {
		return v.Skew
	}
	return DefaultSkew
}

// Verify checks one input and returns a result per card found in it (a file
// or a PDF may hold several; deprecated chunked QR texts given together, one
// per line, make one card). source names the input in the results ("-",
// a path, "(text)"). It never returns an empty slice. The cards share
// InputBudget, or the budget ctx carries (WithInputBudget).
func (v *Verifier) Verify(ctx context.Context, input []byte, source string) []verdict.Result {
	if budgetOf(ctx) == nil {
		ctx = WithInputBudget(ctx, InputBudget)
	}
	return v.dispatch(ctx, input, source, 0)
}

// VerifyJWS checks one compact JWS (one card: only the per-card caps apply).
func (v *Verifier) VerifyJWS(jws, source string) verdict.Result {
	return v.verifySHC(jws, source, false, nil)
}
