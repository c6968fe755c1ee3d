package eudcc

import (
	"errors"
	"fmt"
)

// Reason codes: stable, snake_case, one per way a certificate is rejected.
// They appear as verdict.Finding.Code.
const (
	CodePrefixInvalid     = "prefix_invalid"        // not "HC1:" (another version, another scheme, or none)
	CodeBase45Invalid     = "base45_invalid"        // not strict RFC 9285 Base45
	CodeZlibInvalid       = "zlib_invalid"          // not a zlib stream, truncated, or inflating past the size cap
	CodeCOSEInvalid       = "cose_invalid"          // not a well-formed COSE_Sign1
	CodeAlgUnsupported    = "alg_unsupported"       // neither ES256 nor PS256
	CodeKIDInvalid        = "kid_invalid"           // no kid, or not 8 bytes
	CodeKIDUnknown        = "kid_unknown"           // no trusted DSC has this kid (status not_trusted)
	CodeKeyMismatch       = "alg_key_mismatch"      // the algorithm does not fit the DSC's key type
	CodeSignatureInvalid  = "signature_invalid"     // no DSC with this kid verifies the signature
	CodeCWTInvalid        = "cwt_invalid"           // claims missing or malformed (iss, iat, exp, -260/1)
	CodeSchemaInvalid     = "schema_invalid"        // the DCC breaks the schema of its version
	CodeExpired           = "expired"               // verification time after exp
	CodeNotYetValid       = "not_yet_valid"         // verification time before iat
	CodeDSCExpired        = "dsc_expired"           // verification time after the DSC's notAfter
	CodeDSCNotYetValid    = "dsc_not_yet_valid"     // verification time before the DSC's notBefore
	CodeKeyUsage          = "key_usage"             // the DSC may not sign this type (v, t or r)
	CodeTestPositive      = "test_positive"         // a test certificate whose result is "detected"
	CodeTestResultUnknown = "test_result_unknown"   // a test result code other than detected / not detected
	CodeTestSampleFuture  = "test_sample_in_future" // a test sampled after the verification time
	CodeTrustStoreInvalid = "trust_store_invalid"   // <trustDir>/dsc could not be loaded
)

// Warning codes: the certificate is accepted, but a person should know.
const (
	WarnTestCertificate     = "test_certificate"     // a test result, not a vaccination
	WarnRecoveryCertificate = "recovery_certificate" // a recovery statement, not a vaccination
	WarnRecoveryPeriod      = "recovery_outside_validity"
	WarnUnknownCode         = "unknown_code" // a value-set code this verifier does not know
)

// Error is a rejection with its reason code. Every step of the decoding
// pipeline returns one, so a caller can map any failure to a code with
// errors.As.
type Error struct {
	Code    string
	Message string
	Err     error // the underlying cause, if any
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func (e *Error) Unwrap() error { return e.Err }

func fail(code string, cause error, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: cause}
}

// CodeOf returns the reason code of err, or "" when err carries none.
func CodeOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}
