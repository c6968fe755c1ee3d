package issuer

import (
	"context"
	"crypto/x509"
	"sync"
	"time"

	"github.com/vaxcert/vaxcert/verifier"
	"github.com/vaxcert/vaxcert/verifier/eudcc"
	"github.com/vaxcert/vaxcert/verifier/formats"
	"github.com/vaxcert/vaxcert/verifier/trust"
	"github.com/vaxcert/vaxcert/verifier/verdict"
)

// Checkpoint verifies certificates handed to the service, for employers and
// other relying parties that post them to POST /api/v1/verify. It trusts this
// service as published (keys and CRLs as served), plus whatever a vaxverify
// trust directory adds: other SHC issuers, EU DCC document signers, CoWIN
// keys. It is the same verifier library vaxverify runs offline.
type Checkpoint struct {
	svc      *Service
	trustDir string

	mu     sync.Mutex
	v      *verifier.Verifier
	loaded time.Time

	signersMu     sync.Mutex          // not mu: the bundle must not hold up verifications
	signers       []*x509.Certificate // EU DCC document signers, as last read
	signersErr    error
	signersLoaded time.Time
}

// Checkpoint returns a checkpoint; trustDir may be empty (this service only).
func (s *Service) Checkpoint(trustDir string) *Checkpoint {
	return &Checkpoint{svc: s, trustDir: trustDir}
}

// Verify checks one input (any kind vaxverify reads: QR text, JWS, file,
// image, PDF, HC1, CoWIN) and reports one result per card in it.
func (c *Checkpoint) Verify(ctx context.Context, input []byte, source string) ([]verdict.Result, error) {
	v, err := c.verifier(ctx)
	if err != nil {
		return nil, err
	}
	return v.Verify(ctx, input, source), nil
}

// DocumentSigners lists the EU DCC document signers the trust directory
// holds (none without one), for the /verify page's trust bundle. The
// folder is read at most every trustRefresh: the bundle is public and
// fetched by every checkpoint page.
func (c *Checkpoint) DocumentSigners() ([]*x509.Certificate, error) {
	c.signersMu.Lock()
	defer c.signersMu.Unlock()
	if c.signersLoaded.IsZero() || time.Since(c.signersLoaded) >= trustRefresh {
		store, err := eudcc.LoadTrustStore(c.trustDir)
		c.signers, c.signersErr, c.signersLoaded = store.Certificates(), err, time.Now()
	}
	return c.signers, c.signersErr
}

// verifier reloads the trust at most every trustRefresh, so a revocation or a
// rotation reaches the checkpoint within seconds.
func (c *Checkpoint) verifier(ctx context.Context) (*verifier.Verifier, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.v != nil && time.Since(c.loaded) < trustRefresh {
		return c.v, nil
	}
	store := trust.NewStore()
	if c.trustDir != "" {
		var err error
		if store, err = trust.LoadDir(c.trustDir); err != nil {
			return nil, err
		}
	}
	self, err := c.svc.PublishedIssuer(ctx)
	if err != nil {
		return nil, err
	}
	self.Name = "this service (" + c.svc.iss + ")"
	store.Put(self)
	c.v = &verifier.Verifier{Trust: store, TrustDir: c.trustDir, Now: c.svc.now, Formats: formats.All()}
	c.loaded = time.Now()
	return c.v, nil
}
