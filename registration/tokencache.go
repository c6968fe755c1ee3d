package registration

import (
	"crypto/sha256"
	"slices"
	"sync"
	"time"

	"github.com/vaxcert/vaxcert/keys"
)

// tokenCache remembers the tokens verified recently, so that a client's
// every request does not pay an ECDSA verification: a citizen's session
// makes dozens of requests, a vaccinator's thousands, and the verification
// was the largest cost of an authenticated request after the database.
//
// An entry is keyed by the SHA-256 of the whole token, so a token differing
// in any byte is verified afresh. It is used only while the token has not
// expired and its key is known and not revoked, checked at every use, so
// revoking the auth key still takes effect at once.
type tokenCache struct {
	mu      sync.Mutex
	entries map[[sha256.Size]byte]cachedToken
}

type cachedToken struct {
	p       Principal
	expires time.Time
	kid     string
}

// maxCachedTokens bounds the cache (about 150 bytes an entry): more than
// the tokens alive in 15 minutes on one small server.
const maxCachedTokens = 100_000

func newTokenCache() *tokenCache {
	return &tokenCache{entries: map[[sha256.Size]byte]cachedToken{}}
}

// get returns the principal of a token verified before, if it is still
// usable at now with the keys as ks has them.
func (c *tokenCache) get(token string, now time.Time, ks *keys.FileStore) (Principal, bool) {
	sum := sha256.Sum256([]byte(token))
	c.mu.Lock()
	e, ok := c.entries[sum]
	c.mu.Unlock()
	if !ok || !now.Before(e.expires) {
		return Principal{}, false
	}
	if k, ok := ks.Lookup(e.kid); !ok || k.State == keys.StateRevoked {
		return Principal{}, false
	}
	p := e.p
	p.Centres = slices.Clone(p.Centres)
	return p, true
}

// put remembers a verified token. When the cache is full it drops the
// expired entries, and if that is not enough, everything: a dropped token is
// only verified again.
func (c *tokenCache) put(token string, p Principal, expires time.Time, kid string, now time.Time) {
	sum := sha256.Sum256([]byte(token))
	p.Centres = slices.Clone(p.Centres)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= maxCachedTokens {
		for k, e := range c.entries {
			if !now.Before(e.expires) {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= maxCachedTokens {
			clear(c.entries)
		}
	}
	c.entries[sum] = cachedToken{p: p, expires: expires, kid: kid}
}
