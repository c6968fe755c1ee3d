package verifier

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/vaxcert/vaxcert/shc"
	"github.com/vaxcert/vaxcert/verifier/trust"
	"github.com/vaxcert/vaxcert/verifier/verdict"
)

// FormatSHC is verdict.Result.Format for SMART Health Cards.
const FormatSHC = "shc"

// millisecondThreshold: a NumericDate above this (year 5138) can only be a
// value in milliseconds written by mistake.
const millisecondThreshold = 1e11

var payloadBuffers sync.Pool

type shcResult struct {
	verdict.Result
}

// notTrusted records a reason that makes the card NOT TRUSTED, unless it is
// already INVALID (a worse verdict).
func (r *shcResult) notTrusted(code, msg string) {
	if r.Status == verdict.Valid {
		r.Status = verdict.NotTrusted
	}
	r.Reasons = append(r.Reasons, verdict.Finding{Code: code, Message: msg})
}

func (r *shcResult) rejectErr(err error, fallback string) {
	r.Reject(shc.CodeOf(err, fallback), err.Error())
}

// verifySHC runs the SMART Health Card checks on one compact JWS. fromQR says
// it was read from a single QR code, where 1195 characters is the limit. b is
// the input's budget (nil: this card alone, under the per-card caps).
func (v *Verifier) verifySHC(jws, source string, fromQR bool, b *budget) verdict.Result {
	r := &shcResult{verdict.Result{Source: source, Format: FormatSHC, Status: verdict.Valid}}

	j, err := shc.ParseJWS(jws)
	if err != nil {
		r.rejectErr(err, "jws_malformed")
		return r.Result
	}
	r.Issuer.KID = j.Header.Kid
	for _, name := range j.Ignored {
		r.Warn("header_ignored", fmt.Sprintf("JWS header %q ignored: keys come only from the trust store", name))
	}
	if fromQR && len(jws) > shc.MaxQRJWSLength {
		r.Reject("qr_too_large", fmt.Sprintf("QR carries a %d-character JWS; one QR holds at most %d (version 22)", len(jws), shc.MaxQRJWSLength))
	}

	// What the card may inflate to: the per-card cap, or what is left of
	// the input's budget. A card that cannot pay CardCost is not read.
	grant := b.take(shc.MaxInflatedSize)
	if grant < CardCost {
		b.give(grant)
		overBudget(&r.Result)
		return r.Result
	}
	used := int64(CardCost)
	defer func() { b.give(grant - used) }()

	// A kid the trust store knows, under any issuer, names the only keys
	// the signature can match, whatever iss the payload claims: so it is
	// checked first, and a forgery (a DEFLATE bomb under a known kid among
	// them) is refused without being inflated.
	var signer *trust.Key
	if keys := v.Trust.KeysWithKid(j.Header.Kid); len(keys) > 0 {
		if signer = signedBy(j, keys); signer == nil {
			r.Reject("signature_invalid", "the signature does not match the trusted key")
			return r.Result
		}
	}

	// Otherwise the iss, inside the compressed payload, is needed to find
	// the key: the payload is inflated (within the grant) first.
	// The inflated payload is only read during this call (everything kept
	// in the result is copied out of it), so its buffer is recycled.
	bufp, _ := payloadBuffers.Get().(*[]byte)
	if bufp == nil {
		bufp = new([]byte)
	}
	defer func() {
		if cap(*bufp) <= 64<<10 {
			payloadBuffers.Put(bufp)
		}
	}()
	raw, err := shc.InflateInto(*bufp, j.Deflated, int(grant))
	*bufp = raw[:0]
	used = max(used, min(int64(len(raw)), grant))
	if err != nil {
		if grant < shc.MaxInflatedSize && shc.CodeOf(err, "") == "payload_too_large" {
			overBudget(&r.Result)
			return r.Result
		}
		r.rejectErr(err, "deflate_invalid")
		return r.Result
	}
	// JSON is UTF-8 (RFC 8259 8.1). encoding/json would quietly turn bad
	// bytes into U+FFFD, so the card would show a name its signed bytes do
	// not spell, and other verifiers might read those bytes differently.
	if !utf8.Valid(raw) {
		r.Reject("payload_utf8", "payload is not valid UTF-8")
		return r.Result
	}
	p, err := shc.DecodePayload(raw)
	if err != nil {
		r.rejectErr(err, "payload_json")
		return r.Result
	}
	r.Issuer.ID = p.Iss
	// A trusted iss was checked when it entered the store; only others
	// need the syntax check here.
	issuer, trusted := v.Trust.Lookup(p.Iss)
	if !trusted {
		if err := shc.CheckIss(p.Iss); err != nil {
			r.rejectErr(err, "iss_invalid")
			return r.Result
		}
	}
	signed := false
	switch {
	case !trusted:
		r.notTrusted("issuer_untrusted", fmt.Sprintf("issuer %s is not in the trust store; its signature cannot be checked", p.Iss))
	default:
		r.Issuer.Name = issuer.DisplayName()
		key := issuer.Key(j.Header.Kid)
		if key == nil {
			r.notTrusted("kid_unknown", fmt.Sprintf("key %s is not among the trusted keys of %s", j.Header.Kid, p.Iss))
			break
		}
		if !(signer != nil && signer.Public.Equal(key.Public)) && !j.VerifySignature(key.Public) {
			r.Reject("signature_invalid", "the signature does not match the trusted key")
			return r.Result
		}
		signed = true
		v.checkRevocation(r, issuer.CRL(key.Kid), key.CRLVersion, p)
	}

	v.checkClaims(r, p)
	contents, probs := shc.ReadBundle(p.VC.CredentialSubject.FHIRBundle)
	for _, pr := range probs {
		if pr.Warning {
			r.Warn(pr.Code, pr.Message)
		} else {
			r.Reject(pr.Code, pr.Message)
		}
	}
	// Only what a trusted key signed is shown: an unsigned claim of a name
	// is worse than none.
	if !signed {
		r.IssuedAt, r.ExpiresAt = nil, nil
	}
	if signed {
		fillContents(&r.Result, contents)
		if v.RequireFullCourse && r.Status == verdict.Valid {
			v.checkFullCourse(r, contents)
		}
	}
	return r.Result
}

// signedBy returns the key among keys whose signature j carries, or nil.
func signedBy(j *shc.JWS, keys []*trust.Key) *trust.Key {
	for _, k := range keys {
		if j.VerifySignature(k.Public) {
			return k
		}
	}
	return nil
}

// overBudget refuses a card the input's budget cannot pay for.
func overBudget(r *verdict.Result) {
	r.Reject("inflate_budget", fmt.Sprintf("not checked: the cards before it used up this input's budget "+
		"(each card counts what it inflates to, and at least %d KiB)", CardCost>>10))
}

func (v *Verifier) checkClaims(r *shcResult, p *shc.Payload) {
	now := v.now()
	var nbfSec float64
	switch {
	case p.NBF.IsZero():
		r.Reject("nbf_missing", "payload has no nbf")
	default:
		sec, err := p.NBF.Seconds()
		switch {
		case err != nil:
			r.Reject("nbf_invalid", "nbf is not a number")
		case sec > millisecondThreshold:
			r.Reject("nbf_milliseconds", fmt.Sprintf("nbf %s looks like milliseconds; it must be seconds", p.NBF))
		default:
			nbfSec = sec
			nbf, _ := p.NBF.Time()
			r.IssuedAt = &nbf
			if nbf.After(now.Add(v.skew())) {
				r.Reject("nbf_future", fmt.Sprintf("not valid before %s", nbf.Format(time.RFC3339)))
			}
		}
	}
	if !p.Exp.IsZero() {
		sec, err := p.Exp.Seconds()
		switch {
		case err != nil:
			r.Reject("exp_invalid", "exp is not a number")
		case sec > millisecondThreshold:
			r.Reject("exp_milliseconds", fmt.Sprintf("exp %s looks like milliseconds; it must be seconds", p.Exp))
		default:
			exp, _ := p.Exp.Time()
			r.ExpiresAt = &exp
			if nbfSec != 0 && sec <= nbfSec {
				r.Reject("exp_before_nbf", "exp is not after nbf")
			}
			if exp.Before(now) {
				r.Reject("expired", fmt.Sprintf("expired on %s", exp.Format(time.RFC3339)))
			}
		}
	}
	if !p.VC.HasType(shc.HealthCardType) {
		r.Reject("vc_type_missing", fmt.Sprintf("vc.type does not contain %s", shc.HealthCardType))
	}
	if p.VC.CredentialSubject.FHIRVersion == "" {
		r.Warn("fhir_version_missing", "credentialSubject has no fhirVersion")
	}
	if rid := p.VC.RID; rid != "" && (len(rid) > 24 || !isB64URL(rid)) {
		r.Warn("rid_invalid", "vc.rid is not 1..24 base64url characters")
	}
}

func isB64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// checkRevocation applies the issuer's CRL for the signing key. A key that
// announces a CRL (crlVersion) without one in the trust store cannot be
// cleared: the card is rejected rather than passed unchecked.
func (v *Verifier) checkRevocation(r *shcResult, crl *trust.CRL, crlVersion int, p *shc.Payload) {
	if crl == nil {
		if crlVersion > 0 {
			r.Reject("crl_unavailable", fmt.Sprintf("the key publishes a revocation list (crlVersion %d) but the trust store has none; run `vaxverify trust refresh`", crlVersion))
		}
		return
	}
	if crl.Ctr < crlVersion {
		r.Warn("crl_stale", fmt.Sprintf("the stored revocation list (ctr %d) is older than the key's crlVersion %d", crl.Ctr, crlVersion))
	}
	// An unreadable nbf counts as 0, so rid.T entries still apply.
	nbf, _ := p.NBF.Seconds()
	if crl.Revokes(p.VC.RID, nbf) {
		r.Reject("revoked", fmt.Sprintf("the issuer has revoked this card (rid %s)", p.VC.RID))
	}
}

func fillContents(r *verdict.Result, c shc.BundleContents) {
	if c.Patient != nil {
		s := &verdict.Subject{BirthDate: c.Patient.BirthDate}
		if len(c.Patient.Name) > 0 {
			s.Name = c.Patient.Name[0].Display()
		}
		r.Subject = s
	}
	doses := make([]verdict.Dose, 0, len(c.Doses))
	for _, d := range c.Doses {
		name, code, _ := lookupVaccine(d.VaccineCode)
		vd := verdict.Dose{Date: d.OccurrenceDateTime, Vaccine: name, VaccineCode: code, Lot: d.LotNumber}
		if len(d.Performer) > 0 {
			vd.Performer = d.Performer[0].Actor.Display
		}
		doses = append(doses, vd)
	}
	slices.SortStableFunc(doses, func(a, b verdict.Dose) int { return strings.Compare(a.Date, b.Date) })
	if len(doses) > 0 {
		r.Doses = doses
	}
}

// checkFullCourse: the doses complete a primary course when their number
// reaches the shortest course among the vaccines given (so one Janssen dose
// completes, and two doses of different two-dose vaccines complete), and the
// last dose is at least FullCourseWait old.
func (v *Verifier) checkFullCourse(r *shcResult, c shc.BundleContents) {
	if len(c.Doses) == 0 {
		r.Reject("course_incomplete", "the card records no vaccination")
		return
	}
	need := 0
	last := time.Time{}
	for _, d := range c.Doses {
		_, _, n := lookupVaccine(d.VaccineCode)
		if need == 0 || n < need {
			need = n
		}
		if t, ok := parseDate(d.OccurrenceDateTime); ok && t.After(last) {
			last = t
		}
	}
	if len(c.Doses) < need {
		r.Reject("course_incomplete", fmt.Sprintf("%d of %d doses of the primary course", len(c.Doses), need))
		return
	}
	if last.IsZero() {
		r.Reject("course_incomplete", "the date of the last dose is unknown")
		return
	}
	if v.now().Before(last.Add(FullCourseWait)) {
		r.Reject("course_too_recent", fmt.Sprintf("the last dose (%s) is less than 14 days old", last.Format(time.DateOnly)))
	}
}

// parseDate reads a FHIR dateTime's date part (YYYY-MM-DD, possibly with a
// time after it). Partial dates are not precise enough for the 14-day rule.
func parseDate(s string) (time.Time, bool) {
	if len(s) < 10 {
		return time.Time{}, false
	}
	t, err := time.Parse(time.DateOnly, s[:10])
	if err != nil || (len(s) > 10 && !strings.HasPrefix(s[10:], "T")) {
		return time.Time{}, false
	}
	return t, true
}

// checkCourseByNumbers is the full-course rule for formats that state dose
// numbers (EU DCC dn/sd, CoWIN dose/totalDoses): the latest dose must be
// number Total or beyond, and at least FullCourseWait old.
func (v *Verifier) checkCourseByNumbers(r *verdict.Result) {
	if len(r.Doses) == 0 {
		r.Reject("course_incomplete", "the certificate records no vaccination")
		return
	}
	last := r.Doses[0]
	for _, d := range r.Doses[1:] {
		if d.Date > last.Date {
			last = d
		}
	}
	if last.Total == 0 || last.Number < last.Total {
		r.Reject("course_incomplete", fmt.Sprintf("dose %d of %d of the primary course", last.Number, last.Total))
		return
	}
	t, ok := parseDate(last.Date)
	if !ok {
		r.Reject("course_incomplete", "the date of the last dose is unknown")
		return
	}
	if v.now().Before(t.Add(FullCourseWait)) {
		r.Reject("course_too_recent", fmt.Sprintf("the last dose (%s) is less than 14 days old", last.Date))
	}
}
