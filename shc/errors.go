package shc

import "errors"

// FormatError is a violation of the SMART Health Cards format. Code is a
// stable snake_case reason (the verifier reports it unchanged); Message is for
// people.
type FormatError struct {
	Code    string
	Message string
}

func (e *FormatError) Error() string { return e.Message }

func formatErr(code, msg string) error { return &FormatError{Code: code, Message: msg} }

// CodeOf returns the reason code carried by err, or fallback when err is not
// (and does not wrap) a *FormatError.
func CodeOf(err error, fallback string) string {
	var fe *FormatError
	if errors.As(err, &fe) {
		return fe.Code
	}
	return fallback
}

// ErrTooLongForQR is returned by Sign, QRCode and QRPNG when a JWS is longer
// than MaxQRJWSLength: it would not fit a version-22 QR at error correction L,
// and chunked QR codes are deprecated. The issuer reacts by dropping optional
// content (or by issuing a file-only card).
var ErrTooLongForQR = errors.New("shc: JWS longer than 1195 characters does not fit a single QR code (version 22, ECC L)")
