package registration

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/vaxcert/vaxcert/internal/problem"
	"github.com/vaxcert/vaxcert/keys"
)

func newTokens(t testing.TB, now *time.Time) (*Tokens, *keys.FileStore) {
	t.Helper()
	ks, err := keys.OpenFileStore(filepath.Join(t.TempDir(), AuthKeysDir), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ks.EnsureActive(); err != nil {
		t.Fatal(err)
	}
	tk := NewTokens(ks, "https://vaxcert.test")
	tk.SetClock(func() time.Time { return *now })
	return tk, ks
}

func wantSlug(t *testing.T, err error, slug string) {
	t.Helper()
	p, ok := problem.As(err)
	if !ok || p.Slug != slug || p.Kind != problem.Unauthorized {
		t.Fatalf("got %v, want Unauthorized %s", err, slug)
	}
}

func TestTokens(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	tk, ks := newTokens(t, &now)
	p := Principal{AccountID: "acct-1", Role: Vaccinator, Centres: []string{"600001", "600002"}}
	token, exp, err := tk.Issue(p)
	if err != nil {
		t.Fatal(err)
	}
	if !exp.Equal(now.Add(15 * time.Minute)) {
		t.Fatalf("expires %v", exp)
	}
	got, err := tk.VerifyToken(ctx, token)
	if err != nil || got.AccountID != p.AccountID || got.Role != p.Role || strings.Join(got.Centres, ",") != "600001,600002" {
		t.Fatalf("VerifyToken = %+v, %v", got, err)
	}
	// The header names the auth key; the claims are what the contract says.
	msg, err := jws.ParseString(token)
	if err != nil {
		t.Fatal(err)
	}
	kid, _ := msg.Signatures()[0].ProtectedHeaders().KeyID()
	if active, _ := ks.ActiveSigner(); kid != active.KID() {
		t.Fatalf("kid %q", kid)
	}
	parsed, err := jwt.ParseString(token, jwt.WithVerify(false), jwt.WithValidate(false))
	if err != nil {
		t.Fatal(err)
	}
	iss, _ := parsed.Issuer()
	aud, _ := parsed.Audience()
	if iss != "https://vaxcert.test" || len(aud) != 1 || aud[0] != TokenAudience {
		t.Fatalf("iss %q aud %v", iss, aud)
	}

	t.Run("expired", func(t *testing.T) {
		later := now.Add(15*time.Minute + 6*time.Second)
		tk2 := *tk
		tk2.SetClock(func() time.Time { return later })
		_, err := tk2.VerifyToken(ctx, token)
		wantSlug(t, err, "token-expired")
	})
	t.Run("another key", func(t *testing.T) {
		other, _ := newTokens(t, &now)
		foreign, _, err := other.Issue(p)
		if err != nil {
			t.Fatal(err)
		}
		_, err = tk.VerifyToken(ctx, foreign)
		wantSlug(t, err, "token-invalid")
	})
	t.Run("wrong issuer or audience", func(t *testing.T) {
		signer, _ := ks.ActiveSigner()
		for _, b := range []*jwt.Builder{
			jwt.NewBuilder().Issuer("https://evil.test").Audience([]string{TokenAudience}),
			jwt.NewBuilder().Issuer("https://vaxcert.test").Audience([]string{"someone-else"}),
			jwt.NewBuilder().Issuer("https://vaxcert.test"),
		} {
			tok, _ := b.Subject("acct-1").Expiration(now.Add(time.Minute)).Claim("role", "admin").Build()
			hdr := jws.NewHeaders()
			hdr.Set(jws.KeyIDKey, signer.KID())
			signed, err := jwt.Sign(tok, jwt.WithKey(jwa.ES256(), signer, jws.WithProtectedHeaders(hdr)))
			if err != nil {
				t.Fatal(err)
			}
			_, err = tk.VerifyToken(ctx, string(signed))
			wantSlug(t, err, "token-invalid")
		}
	})
	t.Run("unsigned or tampered", func(t *testing.T) {
		parts := strings.Split(token, ".")
		forged := parts[0] + "." + strings.TrimRight(parts[1], "=") + "x." + parts[2]
		for _, tok := range []string{"", "x", parts[0] + "." + parts[1] + ".", forged, strings.Repeat("a", 5000)} {
			_, err := tk.VerifyToken(ctx, tok)
			wantSlug(t, err, "token-invalid")
		}
	})
	t.Run("rotation keeps tokens, revocation ends them", func(t *testing.T) {
		if _, err := ks.Rotate(); err != nil {
			t.Fatal(err)
		}
		if _, err := tk.VerifyToken(ctx, token); err != nil {
			t.Fatalf("token signed by the retired key: %v", err)
		}
		if err := ks.Revoke(kid); err != nil {
			t.Fatal(err)
		}
		_, err := tk.VerifyToken(ctx, token)
		wantSlug(t, err, "token-invalid")
		fresh, _, err := tk.Issue(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tk.VerifyToken(ctx, fresh); err != nil {
			t.Fatalf("token from the new key: %v", err)
		}
	})
}

// FuzzVerifyToken: arbitrary bytes never verify and never panic.
func FuzzVerifyToken(f *testing.F) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	tk, _ := newTokens(f, &now)
	good, _, err := tk.Issue(Principal{AccountID: "a", Role: Citizen})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good[:len(good)-2])
	f.Add("eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0.")
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, s string) {
		if s == good {
			return
		}
		if _, err := tk.VerifyToken(context.Background(), s); err == nil {
			t.Fatalf("%q verified", s)
		}
	})
}

func TestIDVault(t *testing.T) {
	v, err := NewIDVault(bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32))
	if err != nil {
		t.Fatal(err)
	}
	h1, h2 := v.Hash(Aadhaar, "234567890124"), v.Hash(Aadhaar, "234567890124")
	if h1 != h2 || len(h1) != 64 || strings.Contains(h1, "234567890124") {
		t.Fatalf("hash %s / %s", h1, h2)
	}
	if v.Hash(PAN, "234567890124") == h1 {
		t.Fatal("the type is not part of the hash")
	}
	other, _ := NewIDVault(bytes.Repeat([]byte{3}, 32), bytes.Repeat([]byte{2}, 32))
	if other.Hash(Aadhaar, "234567890124") == h1 {
		t.Fatal("the hash does not depend on the key")
	}
	sealed, err := v.Seal("12345678901234", Passport, "J8369854")
	if err != nil || bytes.Contains(sealed, []byte("J8369854")) {
		t.Fatalf("sealed %x, %v", sealed, err)
	}
	if got, err := v.Open("12345678901234", Passport, sealed); err != nil || got != "J8369854" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := v.Open("12345678901235", Passport, sealed); err == nil {
		t.Fatal("opened under another reference")
	}
	if _, err := v.Open("12345678901234", PAN, sealed); err == nil {
		t.Fatal("opened under another type")
	}
	sealed[len(sealed)-1] ^= 1
	if _, err := v.Open("12345678901234", Passport, sealed); err == nil {
		t.Fatal("opened a tampered seal")
	}
	if _, err := v.Open("12345678901234", Passport, sealed[:5]); err == nil {
		t.Fatal("opened a short seal")
	}
	if _, err := NewIDVault([]byte("short"), bytes.Repeat([]byte{2}, 32)); err == nil {
		t.Fatal("short hash key accepted")
	}
}
