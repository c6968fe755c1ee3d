package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/vaxcert/vaxcert/shc"
)

// verifyScenario: a checkpoint sends the numeric QR text of certificates to
// the verify API. Every answer must say valid; a tampered card, sent once
// before and once after, must be refused.
func verifyScenario(ctx context.Context, e *env) (*report, error) {
	rep := newReport("verify")
	o := e.opts
	start := time.Now()
	c, err := e.clinic(ctx, min(o.vaccinators, 4))
	if err != nil {
		return nil, err
	}
	certs, err := e.issueOne(ctx, c, o.certs)
	if err != nil {
		return nil, err
	}
	texts := make([]string, len(certs))
	err = parallel(ctx, len(certs), setupWorkers, func(ctx context.Context, i int) error {
		a, err := e.api.call(ctx, http.MethodGet, "/api/v1/certificates/"+certs[i].certID+".smart-health-card", nil, certs[i].owner, nil)
		if err != nil {
			return err
		}
		if a.status != http.StatusOK {
			return fmt.Errorf("download a card: %s", a.describe())
		}
		jws, err := shc.ParseFile(a.body)
		if err != nil || len(jws) != 1 {
			return fmt.Errorf("download a card: %d cards, %v", len(jws), err)
		}
		texts[i] = shc.QRText(jws[0])
		return nil
	})
	if err != nil {
		return nil, err
	}
	rep.Setup = time.Since(start)
	rep.SetupNote = fmt.Sprintf("%d certificates issued and their QR texts read", len(texts))

	tampered := tamper(texts[0])
	before, err := e.verifyOnce(ctx, tampered)
	if err != nil {
		return nil, err
	}
	ph := e.measure(ctx, "verify", "verifications/s", e.bounds(o.workers), func(ctx context.Context, w, i int) outcome {
		a, err := e.api.call(ctx, http.MethodPost, "/api/v1/verify", rawBody{data: []byte(texts[i%len(texts)]), contentType: "text/plain"}, "", nil)
		if err != nil {
			return outcome{err: err}
		}
		if a.status != http.StatusOK {
			return outcome{status: a.status, err: fmt.Errorf("verify: %s", a.describe())}
		}
		if st, err := verdictOf(a.body); err != nil || st != "valid" {
			return outcome{status: a.status, err: fmt.Errorf("verify: a card the server issued is %q (%v)", st, err)}
		}
		return outcome{status: a.status}
	})
	rep.Phases = append(rep.Phases, ph)
	rep.LoadAfter = loadAverage()
	rep.answersCheck(ph)
	after, err := e.verifyOnce(ctx, tampered)
	if err != nil {
		return nil, err
	}
	rep.check("tampered card refused", before == "invalid" && after == "invalid", "a card with one signature character changed is %q before and %q after", before, after)
	return rep, nil
}

// tamper changes one character of the signature's digits in a numeric QR
// text, keeping it well formed.
func tamper(text string) string {
	b := []byte(text)
	i := len(b) - 10
	if b[i] == '1' {
		b[i] = '2'
	} else {
		b[i] = '1'
	}
	return string(b)
}

func (e *env) verifyOnce(ctx context.Context, text string) (string, error) {
	a, err := e.api.call(ctx, http.MethodPost, "/api/v1/verify", rawBody{data: []byte(text), contentType: "text/plain"}, "", nil)
	if err != nil {
		return "", err
	}
	if a.status == http.StatusNotFound || a.status == http.StatusMethodNotAllowed {
		return "", fmt.Errorf("POST /api/v1/verify: %s: the server has no verify API", a.describe())
	}
	if a.status != http.StatusOK {
		return "", fmt.Errorf("POST /api/v1/verify: %s", a.describe())
	}
	return verdictOf(a.body)
}

// verdictOf reads the one result of a verify answer (the vaxverify --json
// report): its status, valid, invalid or not_trusted.
func verdictOf(body []byte) (string, error) {
	var r struct {
		Results []struct {
			Status string `json:"status"`
		} `json:"results"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return "", fmt.Errorf("verify answer: %v", err)
	}
	if len(r.Results) != 1 {
		return "", fmt.Errorf("verify answer: %d results, want 1", len(r.Results))
	}
	return r.Results[0].Status, nil
}
