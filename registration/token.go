package registration

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/vaxcert/vaxcert/internal/problem"
	"github.com/vaxcert/vaxcert/keys"
)

// Session tokens.
const (
	TokenTTL      = 15 * time.Minute
	TokenAudience = "vaxcert-api"
)

// AuthKeysDir is where the login-token keys live under a data directory.
// They are a key store of their own: a certificate key never signs a login.
const AuthKeysDir = "auth-keys"

// Tokens issues and verifies session tokens: JWTs signed ES256 with the auth
// key store's active key (kid in the header), carrying sub (the account ID),
// role and centres.
type Tokens struct {
	keys   *keys.FileStore
	issuer string
	ttl    time.Duration
	now    func() time.Time
	cache  *tokenCache // tokens verified recently (tokencache.go)
}

// NewTokens signs with ks's active key; issuer becomes the iss claim and is
// required when verifying, as is the audience TokenAudience.
func NewTokens(ks *keys.FileStore, issuer string) *Tokens {
	return &Tokens{keys: ks, issuer: issuer, ttl: TokenTTL, now: time.Now, cache: newTokenCache()}
}

// SetClock replaces the clock (tests).
func (t *Tokens) SetClock(now func() time.Time) { t.now = now }

// Issue signs a token for p.
func (t *Tokens) Issue(p Principal) (token string, expires time.Time, err error) {
	signer, err := t.keys.ActiveSigner()
	if err != nil {
		return "", time.Time{}, fmt.Errorf("auth key: %w", err)
	}
	now := t.now().Truncate(time.Second)
	expires = now.Add(t.ttl)
	centres := p.Centres
	if centres == nil {
		centres = []string{}
	}
	tok, err := jwt.NewBuilder().
		Issuer(t.issuer).
		Audience([]string{TokenAudience}).
		Subject(p.AccountID).
		IssuedAt(now).
		Expiration(expires).
		JwtID(newUUID()).
		Claim("role", string(p.Role)).
		Claim("centres", centres).
		Build()
	if err != nil {
		return "", time.Time{}, err
	}
	hdr := jws.NewHeaders()
	if err := hdr.Set(jws.KeyIDKey, signer.KID()); err != nil {
		return "", time.Time{}, err
	}
	signed, err := jwt.Sign(tok, jwt.WithKey(jwa.ES256(), signer, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign session token: %w", err)
	}
	return string(signed), expires, nil
}

var (
	errTokenInvalid = problem.New(problem.Unauthorized, "token-invalid", "The session token is not valid; log in again.")
	errTokenExpired = problem.New(problem.Unauthorized, "token-expired", "The session token has expired; log in again.")
)

// VerifyToken checks signature (a key of the auth store that is not revoked),
// issuer, audience and expiry, and returns who the token speaks for. Every
// failure is a *problem.Error of kind Unauthorized: token-expired, or
// token-invalid for everything else.
func (t *Tokens) VerifyToken(ctx context.Context, token string) (Principal, error) {
	if len(token) > 4096 {
		return Principal{}, errTokenInvalid
	}
	if p, ok := t.cache.get(token, t.now(), t.keys); ok {
		return p, nil
	}
	var usedKID string
	provider := jws.KeyProviderFunc(func(_ context.Context, sink jws.KeySink, sig *jws.Signature, _ *jws.Message) error {
		kid, ok := sig.ProtectedHeaders().KeyID()
		if !ok {
			return errors.New("no kid")
		}
		pub, err := t.verificationKey(kid)
		if err != nil {
			return err
		}
		usedKID = kid
		sink.Key(jwa.ES256(), pub)
		return nil
	})
	tok, err := jwt.ParseString(token,
		jwt.WithKeyProvider(provider),
		jwt.WithIssuer(t.issuer),
		jwt.WithAudience(TokenAudience),
		jwt.WithRequiredClaim(jwt.SubjectKey),
		jwt.WithRequiredClaim(jwt.ExpirationKey),
		jwt.WithClock(jwt.ClockFunc(t.now)),
		jwt.WithAcceptableSkew(5*time.Second))
	if err != nil {
		if errors.Is(err, jwt.TokenExpiredError()) {
			return Principal{}, errTokenExpired
		}
		return Principal{}, errTokenInvalid
	}
	sub, _ := tok.Subject()
	var role string
	if err := tok.Get("role", &role); err != nil {
		return Principal{}, errTokenInvalid
	}
	r, ok := ParseRole(role)
	if !ok || sub == "" {
		return Principal{}, errTokenInvalid
	}
	p := Principal{AccountID: sub, Role: r}
	var centres []any
	if err := tok.Get("centres", &centres); err == nil {
		for _, c := range centres {
			if s, ok := c.(string); ok {
				p.Centres = append(p.Centres, s)
			}
		}
	}
	if exp, ok := tok.Expiration(); ok && usedKID != "" {
		t.cache.put(token, p, exp, usedKID, t.now())
	}
	return p, nil
}

// verificationKey is the public key for kid: active or retired keys verify
// (tokens signed just before a rotation stay good for their 15 minutes);
// revoked keys do not.
func (t *Tokens) verificationKey(kid string) (*ecdsa.PublicKey, error) {
	k, ok := t.keys.Lookup(kid)
	if !ok {
		// Perhaps rotated by the CLI since we loaded: look again, once.
		if err := t.keys.Reload(); err != nil {
			return nil, err
		}
		if k, ok = t.keys.Lookup(kid); !ok {
			return nil, errors.New("unknown kid")
		}
	}
	if k.State == keys.StateRevoked {
		return nil, errors.New("revoked kid")
	}
	return k.Public, nil
}
