package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/vaxcert/vaxcert/internal/problem"
	"github.com/vaxcert/vaxcert/issuer"
	"github.com/vaxcert/vaxcert/registration"
)

// issuingAPI serves recording doses, certificate downloads, corrections,
// revocation and the CRLs (issue 4).
type issuingAPI struct {
	s      *Server
	iss    *issuer.Service
	reg    *registration.Service
	grants grantKey
	otp    *limiter // public certificate OTPs, per client IP
	ipHdr  string
	now    func() time.Time
}

// mountIssuing adds the issuing routes when the issuer is configured. The
// public download by OTP also needs registration (which sends the OTP).
func (s *Server) mountIssuing(r chi.Router, cfg Config) {
	if cfg.Issuer == nil {
		return
	}
	lim := cfg.RateLimits.withDefaults()
	a := &issuingAPI{s: s, iss: cfg.Issuer, reg: cfg.Registration, grants: grantKey(cfg.DownloadSecret), ipHdr: cfg.ClientIPHeader, now: time.Now}
	a.otp = newLimiter("certificate OTPs", lim.BookingPerMinute, lim.BookingBurst, a.now)

	r.Group(func(r chi.Router) {
		r.Use(allowAnyOrigin)
		r.Get("/.well-known/crl/{kid}.json", a.crl)
	})
	r.With(s.require(registration.Vaccinator)).Post("/api/v1/vaccinations", a.recordDose)

	// Downloads authenticate inside the handler: a citizen's token, or a
	// download grant from the public OTP flow.
	r.Get("/api/v1/certificates/{file}", a.download)
	r.With(s.require(registration.Citizen)).Get("/api/v1/certificates", a.listOwn)
	if a.reg != nil && len(a.grants) >= 16 {
		r.Group(func(r chi.Router) {
			r.Use(a.withClientIP, a.otp.middleware(func(r *http.Request) string { return "ip:" + clientIP(r, a.ipHdr) }, s.writeError))
			r.Post("/api/v1/certificates/public/otp", a.publicOTP)
			r.Post("/api/v1/certificates/public/confirm", a.publicConfirm)
		})
	}

	r.Group(func(r chi.Router) {
		r.Use(s.require(registration.Admin))
		r.Get("/api/v1/admin/certificates", a.adminList)
		r.Get("/api/v1/admin/certificates/{id}", a.adminGet)
		r.Post("/api/v1/admin/certificates/{id}/revoke", a.revoke)
		r.Post("/api/v1/admin/beneficiaries/{ref}/corrections", a.correct)
		r.Post("/api/v1/admin/beneficiaries/{ref}/reissue", a.reissue)
	})
}

func (a *issuingAPI) withClientIP(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(registration.WithClientIP(r.Context(), clientIP(r, a.ipHdr))))
	})
}

// Views.

type recordedDoseView struct {
	ID             string    `json:"dose_id"`
	BeneficiaryRef string    `json:"beneficiary_reference_id"`
	Number         int       `json:"dose_number"`
	Vaccine        string    `json:"vaccine"`
	Lot            string    `json:"lot"`
	Date           string    `json:"date"`
	CentreID       string    `json:"center_id"`
	RecordedAt     time.Time `json:"recorded_at"`
}

func viewDose(d issuer.Dose) recordedDoseView {
	return recordedDoseView{ID: d.ID, BeneficiaryRef: d.BeneficiaryRef, Number: d.Number, Vaccine: d.Vaccine, Lot: d.Lot,
		Date: d.Date.Format(time.DateOnly), CentreID: d.CentreID, RecordedAt: d.RecordedAt.UTC()}
}

type certificateView struct {
	ID             string            `json:"certificate_id"`
	BeneficiaryRef string            `json:"beneficiary_reference_id"`
	Status         string            `json:"status"` // pending, issued or revoked
	Course         string            `json:"course"` // provisional, final or precaution
	Doses          int               `json:"doses"`
	Reason         string            `json:"reason"` // dose, correction or reissue
	IssuedAt       *time.Time        `json:"issued_at,omitempty"`
	RevokedAt      *time.Time        `json:"revoked_at,omitempty"`
	RevokeReason   string            `json:"revoke_reason,omitempty"`
	Links          map[string]string `json:"links,omitempty"`
}

func viewCertificate(c issuer.Certificate, admin bool) certificateView {
	v := certificateView{ID: c.ID, BeneficiaryRef: c.BeneficiaryRef, Status: string(c.Status), Course: string(c.Course),
		Doses: c.DoseCount, Reason: c.Reason}
	if c.Status == issuer.Issued {
		at := c.IssuedAt.UTC()
		v.IssuedAt = &at
		base := "/api/v1/certificates/" + c.ID
		v.Links = map[string]string{
			"smart_health_card": base + ".smart-health-card",
			"qr_png":            base + ".png",
			"fhir":              base + ".fhir.json",
			"pdf":               base + ".pdf",
			"pdf_travel":        base + ".pdf?variant=travel",
		}
	}
	if c.Revoked() {
		at := c.RevokedAt.UTC()
		v.Status, v.RevokedAt, v.Links = "revoked", &at, nil
		if admin {
			v.RevokeReason = c.RevokeReason
		}
	}
	return v
}

// recordDose: POST /api/v1/vaccinations with an Idempotency-Key header →
// 201 {"dose","certificate"}. A retry with the same key gets the same answer
// (marked Idempotent-Replayed: true).
func (a *issuingAPI) recordDose(w http.ResponseWriter, r *http.Request) {
	var in struct {
		BeneficiaryRef string `json:"beneficiary_reference_id"`
		Vaccine        string `json:"vaccine"`
		Lot            string `json:"lot"`
		DoseNumber     int    `json:"dose_number"`
		Date           string `json:"date"`
		CentreID       string `json:"center_id"`
	}
	if err := decodeJSON(r, &in); err != nil {
		a.s.writeError(w, r, err)
		return
	}
	p := principal(r.Context())
	key := strings.TrimSpace(r.Header.Get("Idempotency-Key"))
	if key == "" {
		a.s.writeError(w, r, problem.Invalidf("idempotency-key-missing",
			"Send an Idempotency-Key header (for instance a UUID made when the dose was entered), so that a retry never records the dose twice."))
		return
	}
	if in.CentreID == "" && len(p.Centres) == 1 {
		in.CentreID = p.Centres[0]
	}
	if in.CentreID == "" {
		a.s.writeError(w, r, problem.Invalidf("centre-missing", "Give center_id: the centre where the dose was given."))
		return
	}
	if !p.AtCentre(in.CentreID) {
		a.s.writeError(w, r, problem.New(problem.Forbidden, "not-your-centre", "You record doses only at your own centre(s); centre %s is not one of them.", in.CentreID))
		return
	}
	day, err := time.Parse(time.DateOnly, strings.TrimSpace(in.Date))
	if err != nil {
		a.s.writeError(w, r, problem.Invalidf("date-invalid", "date must be the day the dose was given, written YYYY-MM-DD."))
		return
	}
	rec, err := a.iss.RecordDose(r.Context(), issuer.DoseRequest{
		BeneficiaryRef: in.BeneficiaryRef, Vaccine: in.Vaccine, Lot: in.Lot, Number: in.DoseNumber, Date: day,
		CentreID: in.CentreID, Actor: actor(r),
		Idempotency: issuer.IdempotencyID{Scope: "user:" + p.AccountID, Key: key},
	})
	if err != nil {
		a.s.writeError(w, r, err)
		return
	}
	if rec.Replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	w.Header().Set("Location", "/api/v1/certificates/"+rec.Certificate.ID+".smart-health-card")
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, map[string]any{"dose": viewDose(rec.Dose), "certificate": viewCertificate(rec.Certificate, false)})
}

// listOwn: GET /api/v1/certificates[?beneficiary_reference_id=] → the
// caller's beneficiaries' certificates, newest first.
func (a *issuingAPI) listOwn(w http.ResponseWriter, r *http.Request) {
	p := principal(r.Context())
	want := r.URL.Query().Get("beneficiary_reference_id")
	var refs []string
	if want != "" {
		if a.reg == nil {
			a.s.writeError(w, r, issuer.ErrNoCertificate)
			return
		}
		if _, err := a.reg.Beneficiary(r.Context(), p, want); err != nil {
			a.s.writeError(w, r, err)
			return
		}
		refs = []string{want}
	} else if a.reg != nil {
		bens, err := a.reg.Beneficiaries(r.Context(), p)
		if err != nil {
			a.s.writeError(w, r, err)
			return
		}
		for _, b := range bens {
			refs = append(refs, b.RefID)
		}
	}
	out := []certificateView{}
	for _, ref := range refs {
		certs, err := a.iss.Certificates(r.Context(), issuer.CertificateFilter{BeneficiaryRef: ref, Limit: 50})
		if err != nil {
			a.s.writeError(w, r, err)
			return
		}
		for _, c := range certs {
			if c.AccountID == p.AccountID {
				out = append(out, viewCertificate(c, false))
			}
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"certificates": out})
}

// Admin endpoints.

type reasonRequest struct {
	Reason string `json:"reason"`
}

// adminList: GET /api/v1/admin/certificates[?beneficiary_reference_id=&status=pending|issued]
func (a *issuingAPI) adminList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := issuer.CertificateFilter{BeneficiaryRef: q.Get("beneficiary_reference_id"), Status: issuer.Status(q.Get("status")), Limit: 200}
	if f.Status != "" && f.Status != issuer.Pending && f.Status != issuer.Issued {
		a.s.writeError(w, r, problem.Invalidf("status-invalid", "status is pending or issued."))
		return
	}
	certs, err := a.iss.Certificates(r.Context(), f)
	if err != nil {
		a.s.writeError(w, r, err)
		return
	}
	out := make([]certificateView, len(certs))
	for i, c := range certs {
		out[i] = viewCertificate(c, true)
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"certificates": out})
}

// adminGet: GET /api/v1/admin/certificates/{id} → the certificate with its
// JWS.
func (a *issuingAPI) adminGet(w http.ResponseWriter, r *http.Request) {
	c, err := a.iss.Certificate(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		a.s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, struct {
		certificateView
		KID string `json:"kid,omitempty"`
		RID string `json:"rid,omitempty"`
		JWS string `json:"jws,omitempty"`
	}{viewCertificate(c, true), c.KID, c.RID, c.JWS})
}

// revoke: POST /api/v1/admin/certificates/{id}/revoke {"reason"}.
func (a *issuingAPI) revoke(w http.ResponseWriter, r *http.Request) {
	var in reasonRequest
	if err := decodeJSON(r, &in); err != nil {
		a.s.writeError(w, r, err)
		return
	}
	c, err := a.iss.Revoke(r.Context(), chi.URLParam(r, "id"), in.Reason, actor(r))
	if err != nil {
		a.s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, viewCertificate(c, true))
}

// correct: POST /api/v1/admin/beneficiaries/{ref}/corrections
// {"name","birth_date","gender","reason"} (omit what stays) →
// {"beneficiary","certificate","revoked"}.
func (a *issuingAPI) correct(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name      string `json:"name"`
		BirthDate string `json:"birth_date"`
		Gender    string `json:"gender"`
		Reason    string `json:"reason"`
	}
	if err := decodeJSON(r, &in); err != nil {
		a.s.writeError(w, r, err)
		return
	}
	out, err := a.iss.Correct(r.Context(), issuer.Correction{BeneficiaryRef: chi.URLParam(r, "ref"),
		Name: in.Name, BirthDate: in.BirthDate, Gender: in.Gender, Reason: in.Reason, Actor: actor(r)})
	if err != nil {
		a.s.writeError(w, r, err)
		return
	}
	b := out.Beneficiary
	body := map[string]any{
		"beneficiary": map[string]any{"beneficiary_reference_id": b.RefID, "name": b.Name, "gender": b.Gender,
			"birth_date": b.BirthDate.Format(time.DateOnly), "corrections": b.Corrections},
		"revoked": nonNilStrings(out.Revoked),
	}
	if out.Certificate != nil {
		body["certificate"] = viewCertificate(*out.Certificate, true)
	}
	writeJSON(w, http.StatusOK, body)
}

// reissue: POST /api/v1/admin/beneficiaries/{ref}/reissue {"reason"} → 201
// with a new certificate of the doses on record.
func (a *issuingAPI) reissue(w http.ResponseWriter, r *http.Request) {
	var in reasonRequest
	if err := decodeJSON(r, &in); err != nil {
		a.s.writeError(w, r, err)
		return
	}
	c, err := a.iss.Reissue(r.Context(), chi.URLParam(r, "ref"), in.Reason, actor(r))
	if err != nil {
		a.s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, viewCertificate(c, true))
}

func nonNilStrings(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}
