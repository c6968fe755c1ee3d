// Package reliability holds vaxcert's reliability and security tests: hostile
// certificates for the verifier, audit-log tampering, database outages,
// crashes during issuance, abuse of the API, secrets in logs and the
// operational metrics. It has no code of its own; everything is in its tests,
// which drive the real packages and the real binaries (cmd/vaxcert and
// cmd/vaxverify, built once per test run).
//
// The default run is sized for CI (a couple of minutes on two cores). Longer
// runs are behind -long or VAXCERT_LONG=1:
//
//	go test ./internal/reliability/ -long -v
//
// docs/RELIABILITY.md lists the commands and the last results.
package reliability
