package issuer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vaxcert/vaxcert/internal/problem"
	"github.com/vaxcert/vaxcert/keys"
	"github.com/vaxcert/vaxcert/shc"
	"github.com/vaxcert/vaxcert/verifier"
	"github.com/vaxcert/vaxcert/verifier/trust"
	"github.com/vaxcert/vaxcert/verifier/verdict"
)

// PublishedKeys is the JWKS served at /.well-known/jwks.json: the keys as the
// key store has them on disk now (so keys rotated or revoked with the CLI
// while the service runs are published without a restart), each with
// crlVersion equal to its CRL's ctr.
func (s *Service) PublishedKeys(ctx context.Context) (keys.JWKS, error) {
	if err := s.keys.Reload(); err != nil {
		return keys.JWKS{}, err
	}
	versions, err := s.store.CRLVersions(ctx)
	if err != nil {
		return keys.JWKS{}, err
	}
	return s.keys.JWKS(func(kid string) int { return crlCounter(versions, kid) }), nil
}

// crlCounter is a key's CRL ctr: it starts at 1 (an empty list) and grows by
// one with every change.
func crlCounter(versions map[string]int, kid string) int {
	if v := versions[kid]; v > 1 {
		return v
	}
	return 1
}

// ErrCRLNotFound: no published key has this kid.
var ErrCRLNotFound = problem.New(problem.NotFound, "crl-not-found", "No published key has this kid.")

// crlDoc is the CRL document of SMART Health Cards §6.
type crlDoc struct {
	Kid    string   `json:"kid"`
	Method string   `json:"method"`
	Ctr    int      `json:"ctr"`
	RIDs   []string `json:"rids"`
}

// crlCache keeps each key's latest CRL document, valid while its ctr is
// unchanged.
type crlCache struct {
	mu   sync.Mutex
	docs map[string]cachedCRL
}

type cachedCRL struct {
	ctr int
	doc []byte
}

// CRL is the revocation list served at /.well-known/crl/{kid}.json for a
// published key: {"kid","method":"rid","ctr","rids":["rid.<cutoff>",…]}.
func (s *Service) CRL(ctx context.Context, kid string) ([]byte, error) {
	if err := s.keys.Reload(); err != nil {
		return nil, err
	}
	versions, err := s.store.CRLVersions(ctx)
	if err != nil {
		return nil, err
	}
	return s.crlDocument(ctx, kid, versions)
}

func (s *Service) crlDocument(ctx context.Context, kid string, versions map[string]int) ([]byte, error) {
	if k, ok := s.keys.Lookup(kid); !ok || k.State == keys.StateRevoked {
		return nil, ErrCRLNotFound
	}
	ctr := crlCounter(versions, kid)
	s.crls.mu.Lock()
	cached, ok := s.crls.docs[kid]
	s.crls.mu.Unlock()
	if ok && cached.ctr == ctr {
		return cached.doc, nil
	}
	storedCtr, entries, err := s.store.CRL(ctx, kid)
	if err != nil {
		return nil, err
	}
	doc := crlDoc{Kid: kid, Method: "rid", Ctr: max(storedCtr, 1), RIDs: make([]string, 0, len(entries))}
	for _, e := range entries {
		doc.RIDs = append(doc.RIDs, e.RID+"."+strconv.FormatInt(e.Cutoff, 10))
	}
	sort.Strings(doc.RIDs)
	body, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	s.crls.mu.Lock()
	if s.crls.docs == nil {
		s.crls.docs = map[string]cachedCRL{}
	}
	if cur, ok := s.crls.docs[kid]; !ok || cur.ctr <= doc.Ctr {
		s.crls.docs[kid] = cachedCRL{ctr: doc.Ctr, doc: body}
	}
	s.crls.mu.Unlock()
	return body, nil
}

// trustRefresh is how long the self-check reuses the published key set it
// loaded; a kid it does not know makes it reload at once.
const trustRefresh = 5 * time.Second

// trustCache holds a verifier whose only trusted issuer is this service, with
// the keys and CRLs exactly as served.
type trustCache struct {
	mu     sync.Mutex
	v      *verifier.Verifier
	kids   map[string]bool
	loaded time.Time
}

func (s *Service) selfCheckVerifier(ctx context.Context, kid string) (*verifier.Verifier, error) {
	s.trust.mu.Lock()
	defer s.trust.mu.Unlock()
	if s.trust.v != nil && s.trust.kids[kid] && time.Since(s.trust.loaded) < trustRefresh {
		return s.trust.v, nil
	}
	is, err := s.PublishedIssuer(ctx)
	if err != nil {
		return nil, err
	}
	kids := map[string]bool{}
	for k := range is.Keys {
		kids[k] = true
	}
	is.Name = "self-check"
	s.trust.v = &verifier.Verifier{Trust: trust.NewStore(is), Now: s.now}
	s.trust.kids, s.trust.loaded = kids, time.Now()
	return s.trust.v, nil
}

// PublishedIssuer is this service as a trusted SMART Health Card issuer, with
// its keys and CRLs parsed from exactly what the well-known endpoints serve,
// so a certificate that verifies against it verifies for anyone who trusts
// the service.
func (s *Service) PublishedIssuer(ctx context.Context) (*trust.Issuer, error) {
	set, err := s.PublishedKeys(ctx)
	if err != nil {
		return nil, err
	}
	versions, err := s.store.CRLVersions(ctx)
	if err != nil {
		return nil, err
	}
	served, err := json.Marshal(set)
	if err != nil {
		return nil, err
	}
	tkeys, _, err := trust.ParseJWKS(served)
	if err != nil {
		return nil, fmt.Errorf("issuer: the published key set does not parse: %w", err)
	}
	is := &trust.Issuer{Iss: s.iss, Keys: map[string]*trust.Key{}, CRLs: map[string]*trust.CRL{}}
	for _, k := range tkeys {
		doc, err := s.crlDocument(ctx, k.Kid, versions)
		if err != nil {
			return nil, err
		}
		crl, err := trust.ParseCRL(doc)
		if err != nil {
			return nil, fmt.Errorf("issuer: the published CRL of %s does not parse: %w", k.Kid, err)
		}
		is.Keys[k.Kid], is.CRLs[k.Kid] = k, crl
	}
	return is, nil
}

// forgetTrust makes the next self-check reload the published set (after a
// revocation changed a CRL).
func (s *Service) forgetTrust() {
	s.trust.mu.Lock()
	s.trust.v = nil
	s.trust.mu.Unlock()
}

// selfCheck verifies a freshly signed card the way a verifier anywhere will:
// with the offline verifier, trusting only this issuer with the keys and CRLs
// it publishes. A card that fails is never marked issued.
//
// With an http:// issuer URL (a development server) the verifier refuses the
// iss before it looks at anything else, so the card is checked with the same
// shc primitives the verifier uses: the signature against the published key,
// the payload encoding and the FHIR bundle rules.
func (s *Service) selfCheck(ctx context.Context, jws, kid string) error {
	v, err := s.selfCheckVerifier(ctx, kid)
	if err != nil {
		return err
	}
	if strings.HasPrefix(s.iss, "http://") {
		return s.selfCheckDev(v, jws, kid)
	}
	res := v.VerifyJWS(jws, "self-check")
	if res.Status != verdict.Valid {
		return fmt.Errorf("self-check: %s: %s", res.Status, describe(res.Reasons))
	}
	return nil
}

func (s *Service) selfCheckDev(v *verifier.Verifier, jws, kid string) error {
	is, _ := v.Trust.Lookup(s.iss)
	key := is.Key(kid)
	if key == nil {
		return fmt.Errorf("self-check: key %s is not published", kid)
	}
	j, err := shc.ParseJWS(jws)
	if err != nil {
		return fmt.Errorf("self-check: %w", err)
	}
	if !j.VerifySignature(key.Public) {
		return errors.New("self-check: the signature does not verify with the published key")
	}
	raw, err := shc.Inflate(j.Deflated, shc.MaxInflatedSize)
	if err != nil {
		return fmt.Errorf("self-check: %w", err)
	}
	p, err := shc.DecodePayload(raw)
	if err != nil {
		return fmt.Errorf("self-check: %w", err)
	}
	if p.Iss != s.iss || !p.VC.HasType(shc.HealthCardType) {
		return errors.New("self-check: iss or vc.type is wrong")
	}
	if crl := is.CRL(kid); crl != nil {
		if nbf, _ := p.NBF.Seconds(); crl.Revokes(p.VC.RID, nbf) {
			return errors.New("self-check: the card is revoked by the published CRL")
		}
	}
	_, probs := shc.ReadBundle(p.VC.CredentialSubject.FHIRBundle)
	for _, pr := range probs {
		if !pr.Warning {
			return fmt.Errorf("self-check: %s: %s", pr.Code, pr.Message)
		}
	}
	return nil
}

func describe(fs []verdict.Finding) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = f.Code + " (" + f.Message + ")"
	}
	return strings.Join(parts, "; ")
}
