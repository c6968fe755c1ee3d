package registration

import (
	"context"
	"testing"
	"time"
)

// TestTokenCache: a token verified once is answered from the cache, and the
// cache never outlives what verification would say: not the token's
// expiry, not its key's revocation, not a change of a single byte.
func TestTokenCache(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	tk, ks := newTokens(t, &now)
	p := Principal{AccountID: "acct-1", Role: Vaccinator, Centres: []string{"600001"}}
	token, _, err := tk.Issue(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := tk.cache.get(token, now, ks); ok {
		t.Fatal("cached before it was verified")
	}
	if _, err := tk.VerifyToken(ctx, token); err != nil {
		t.Fatal(err)
	}
	got, ok := tk.cache.get(token, now, ks)
	if !ok || got.AccountID != "acct-1" || got.Role != Vaccinator || len(got.Centres) != 1 {
		t.Fatalf("cache = %+v, %v", got, ok)
	}
	// What a caller does with the principal does not change the cache.
	got.Centres[0] = "999999"
	if again, _ := tk.VerifyToken(ctx, token); again.Centres[0] != "600001" {
		t.Fatalf("the cached principal was changed through a returned one: %v", again.Centres)
	}

	t.Run("tampered", func(t *testing.T) {
		if _, err := tk.VerifyToken(ctx, token+"A"); err == nil {
			t.Fatal("a changed token verified")
		}
	})
	t.Run("expired", func(t *testing.T) {
		later := now.Add(TokenTTL + 6*time.Second)
		if _, ok := tk.cache.get(token, later, ks); ok {
			t.Fatal("cache used after expiry")
		}
		tk2 := *tk
		tk2.SetClock(func() time.Time { return later })
		_, err := tk2.VerifyToken(ctx, token)
		wantSlug(t, err, "token-expired")
	})
	t.Run("revoked key", func(t *testing.T) {
		signer, _ := ks.ActiveSigner()
		if _, err := ks.Rotate(); err != nil {
			t.Fatal(err)
		}
		if err := ks.Revoke(signer.KID()); err != nil {
			t.Fatal(err)
		}
		_, err := tk.VerifyToken(ctx, token)
		wantSlug(t, err, "token-invalid")
	})
}

func TestTokenCacheBounded(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	_, ks := newTokens(t, &now)
	c := newTokenCache()
	for i := range maxCachedTokens + 10 {
		exp := now.Add(time.Minute)
		if i < 20 {
			exp = now.Add(-time.Minute) // already expired: swept first
		}
		c.put(string(rune(i))+"token", Principal{AccountID: "a"}, exp, "kid", now)
	}
	if n := len(c.entries); n > maxCachedTokens {
		t.Fatalf("%d entries", n)
	}
	if _, ok := c.get("x", now, ks); ok {
		t.Fatal("unknown token found")
	}
}
