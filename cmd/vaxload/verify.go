package main

import (
	"context"
	"errors"
)

// verifyScenario: the verify API checks certificates.
func verifyScenario(ctx context.Context, e *env) (*report, error) {
	return nil, errors.New("the verify scenario waits for POST /api/v1/verify")
}
