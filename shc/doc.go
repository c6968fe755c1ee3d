// Package shc is the SMART Health Cards v1.4.0 format itself, shared by the
// issuer and the verifier: the JWS payload and a minimal FHIR R4 bundle model,
// signing (minified JSON, raw DEFLATE, ES256 with a 64-byte r||s signature),
// the compact-JWS rules, the numeric "shc:/" QR text, the QR symbol (two
// segments, ECC L, version <= 22) and the .smart-health-card file.
//
// The package does no I/O and holds no keys: signing takes a crypto.Signer.
// Parsing functions are strict where the specification is (they are fed
// untrusted bytes by the verifier) and return *FormatError values whose Code
// the verifier reports as its stable reason code.
package shc
