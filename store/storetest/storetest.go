// Package storetest is the one conformance suite that every store must pass.
// store/sqlite and store/postgres each call Run from their tests, so both
// backends are held to exactly the same behaviour.
package storetest

import (
	"context"
	"testing"

	"github.com/vaxcert/vaxcert/store"
)

// Opener returns a fresh, migrated, empty store for one test.
type Opener func(t *testing.T) store.Store

// Run runs every conformance test against stores made by open.
func Run(t *testing.T, open Opener) {
	tests := map[string]func(*testing.T, Opener){
		"Ping":       testPing,
		"AuditChain": testAuditChain,
		"AuditHead":  testAuditHead,
		// registration and booking (issue 3)
		"OTPLogin":           testOTPLogin,
		"OTPLimits":          testOTPLimits,
		"Tokens":             testTokens,
		"BeneficiaryOTP":     testBeneficiaryOTP,
		"Beneficiaries":      testBeneficiaries,
		"StaffAccounts":      testStaffAccounts,
		"Places":             testPlaces,
		"SessionsSearch":     testSessionsSearch,
		"BookingFlow":        testBookingFlow,
		"BookingRace":        testBookingRace,
		"BookBatch":          testBookBatch,
		"EligibilityHistory": testEligibilityHistory,
		// issuing (issue 4)
		"IssueAfterEachDose": testIssueAfterEachDose,
		"DoseRules":          testDoseRules,
		"Idempotency":        testIdempotency,
		"CrashRecovery":      testCrashRecovery,
		"MarkIssuedOnce":     testMarkIssuedOnce,
		"Corrections":        testCorrections,
		"Revocation":         testRevocation,
		"QRBoundary":         testQRBoundary,
	}
	for name, test := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			test(t, open)
		})
	}
}

func testPing(t *testing.T, open Opener) {
	s := open(t)
	if err := s.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
}
