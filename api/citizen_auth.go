package api

import (
	"net/http"
	"time"

	"github.com/vaxcert/vaxcert/internal/problem"
)

type otpRequest struct {
	Mobile string `json:"mobile"`
}

type otpConfirm struct {
	TxnID string `json:"txn_id"`
	OTP   string `json:"otp"`
}

// startOTP: POST /api/v1/auth/otp {"mobile"} → {"txn_id"}. The answer is
// the same whether or not the mobile has an account.
func (c *citizenAPI) startOTP(w http.ResponseWriter, r *http.Request) {
	var in otpRequest
	if err := decodeJSON(r, &in); err != nil {
		c.s.writeError(w, r, err)
		return
	}
	txn, err := c.reg.StartLogin(r.Context(), in.Mobile)
	if err != nil {
		c.s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]string{"txn_id": txn})
}

// confirmOTP: POST /api/v1/auth/otp/confirm {"txn_id","otp"} →
// {"token","expires_at"}. The web pages call it in-process and keep the
// token in their HttpOnly cookie (web_session.go).
func (c *citizenAPI) confirmOTP(w http.ResponseWriter, r *http.Request) {
	var in otpConfirm
	if err := decodeJSON(r, &in); err != nil {
		c.s.writeError(w, r, err)
		return
	}
	if in.TxnID == "" || in.OTP == "" {
		c.s.writeError(w, r, problem.Invalidf("otp-invalid", "Send txn_id and otp."))
		return
	}
	token, exp, err := c.reg.ConfirmLogin(r.Context(), in.TxnID, in.OTP)
	if err != nil {
		c.s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]string{"token": token, "expires_at": exp.UTC().Format(time.RFC3339)})
}
