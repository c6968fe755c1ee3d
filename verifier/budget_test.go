package verifier

import (
	"bytes"
	"compress/flate"
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"runtime"
	"strings"
	"testing"
	"time"

	"codeberg.org/go-pdf/fpdf"

	"github.com/vaxcert/vaxcert/shc"
	"github.com/vaxcert/vaxcert/verifier/trust"
	"github.com/vaxcert/vaxcert/verifier/verdict"
)

// bombDeflated is a raw DEFLATE stream of 4 MiB of zeros after a payload's
// first bytes (about 4 KB): it inflates past any per-card cap.
func bombDeflated(t testing.TB) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestCompression)
	w.Write([]byte(`{"iss":"`))
	w.Write(make([]byte, 4<<20))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// signDeflated signs an already-compressed payload with key under kid,
// whoever kid belongs to.
func signDeflated(t testing.TB, key *ecdsa.PrivateKey, kid string, deflated []byte) string {
	t.Helper()
	b64 := base64.RawURLEncoding
	input := b64.EncodeToString([]byte(`{"zip":"DEF","alg":"ES256","kid":"`+kid+`"}`)) + "." + b64.EncodeToString(deflated)
	digest := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, key, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + b64.EncodeToString(sig)
}

func cardFile(jws ...string) []byte {
	return []byte(`{"verifiableCredential":["` + strings.Join(jws, `","`) + `"]}`)
}

func reasonOf(r verdict.Result) string {
	if len(r.Reasons) == 0 {
		return ""
	}
	return r.Reasons[0].Code
}

// TestInputBudgetCutsOffBombs: a file of DEFLATE bombs whose kid the trust
// store does not know (so each must be inflated to find its issuer) is
// inflated only until the input's budget is spent; the remaining cards are
// refused unread with inflate_budget, a genuine card among them too.
func TestInputBudgetCutsOffBombs(t *testing.T) {
	own := newOwnIssuer(t, "https://vaxcert.example/issuer", 0)
	attacker := newOwnIssuer(t, "https://attacker.example", 0)
	v := &Verifier{Trust: trust.NewStore(own.issuer)}
	genuine, err := shc.Sign(own.key, own.kid, samplePayload(t, own.issuer.Iss, time.Now().Add(-time.Hour), "", "210"))
	if err != nil {
		t.Fatal(err)
	}
	bomb := attacker.signRawDeflated(t, bombDeflated(t))

	// The default budget of one Verify call pays for the genuine card and
	// as many bombs at the per-card cap as fit in the rest.
	paid := (InputBudget - CardCost) / shc.MaxInflatedSize
	cards := []string{genuine}
	for range paid + 3 {
		cards = append(cards, bomb)
	}
	cards = append(cards, genuine)
	rs := v.Verify(context.Background(), cardFile(cards...), "bombs")
	if len(rs) != len(cards) {
		t.Fatalf("%d results for %d cards", len(rs), len(cards))
	}
	if rs[0].Status != verdict.Valid {
		t.Fatalf("genuine card first: %s %v", rs[0].Status, codes(rs[0].Reasons))
	}
	for i, r := range rs[1:] {
		want := "payload_too_large"
		if i >= paid {
			want = "inflate_budget"
		}
		if r.Status != verdict.Invalid || reasonOf(r) != want || r.Issuer.ID != "" {
			t.Fatalf("card %d: %s %v issuer %q, want %s", i+2, r.Status, codes(r.Reasons), r.Issuer.ID, want)
		}
	}

	// Each Verify call has a budget of its own ...
	if rs := v.Verify(context.Background(), []byte(genuine), "next"); rs[0].Status != verdict.Valid {
		t.Fatalf("a new input: %s %v", rs[0].Status, codes(rs[0].Reasons))
	}
	// ... unless the caller shares one between them (the API's batches).
	ctx := WithInputBudget(context.Background(), 2*shc.MaxInflatedSize)
	for i, want := range []string{"payload_too_large", "payload_too_large", "inflate_budget"} {
		if r := v.Verify(ctx, []byte(bomb), "batch"); reasonOf(r[0]) != want {
			t.Fatalf("shared budget, input %d: %v, want %s", i+1, codes(r[0].Reasons), want)
		}
	}
}

// TestInputBudgetAccounting: a card is charged what it inflates to, and at
// least CardCost; a card granted less than the per-card cap is refused with
// inflate_budget (not payload_too_large) when it needs more.
func TestInputBudgetAccounting(t *testing.T) {
	own := newOwnIssuer(t, "https://vaxcert.example/issuer", 0)
	v := &Verifier{Trust: trust.NewStore(own.issuer)}
	genuine, err := shc.Sign(own.key, own.kid, samplePayload(t, own.issuer.Iss, time.Now().Add(-time.Hour), "", "210"))
	if err != nil {
		t.Fatal(err)
	}
	bomb := newOwnIssuer(t, "https://attacker.example", 0).signRawDeflated(t, bombDeflated(t))
	tests := []struct {
		name   string
		budget int64
		cards  []string
		want   []string // first reason per card; "" is VALID
	}{
		{"genuine cards pay CardCost each", 3 * CardCost, []string{genuine, genuine, genuine, genuine},
			[]string{"", "", "", "inflate_budget"}},
		{"a bomb granted the rest of the budget", shc.MaxInflatedSize + 2*CardCost, []string{bomb, genuine, bomb, genuine},
			[]string{"payload_too_large", "", "inflate_budget", "inflate_budget"}},
		{"less than CardCost left", 2*CardCost - 1, []string{genuine, genuine}, []string{"", "inflate_budget"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := WithInputBudget(context.Background(), tt.budget)
			rs := v.Verify(ctx, cardFile(tt.cards...), "file")
			for i, r := range rs {
				if got := reasonOf(r); got != tt.want[i] || (got == "") != (r.Status == verdict.Valid) {
					t.Fatalf("card %d: %s %v, want %q", i+1, r.Status, codes(r.Reasons), tt.want[i])
				}
			}
			if left := budgetOf(ctx).left.Load(); left < 0 || left >= CardCost && tt.want[len(tt.want)-1] == "inflate_budget" {
				t.Fatalf("%d bytes left", left)
			}
		})
	}
}

// TestBudgetSharedByPDFAttachments: the cards of every attachment of one
// PDF are one input.
func TestBudgetSharedByPDFAttachments(t *testing.T) {
	bomb := newOwnIssuer(t, "https://attacker.example", 0).signRawDeflated(t, bombDeflated(t))
	half := make([]string, InputBudget/shc.MaxInflatedSize/2+1)
	for i := range half {
		half[i] = bomb
	}
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.AddPage()
	pdf.SetAttachments([]fpdf.Attachment{
		{Content: cardFile(half...), Filename: "a.smart-health-card"},
		{Content: cardFile(half...), Filename: "b.smart-health-card"},
	})
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		t.Fatal(err)
	}
	rs := (&Verifier{}).Verify(context.Background(), buf.Bytes(), "bombs.pdf")
	if len(rs) != 2*len(half) {
		t.Fatalf("%d results", len(rs))
	}
	if last := rs[len(rs)-1]; reasonOf(last) != "inflate_budget" || !strings.Contains(last.Source, "b.smart-health-card") {
		t.Fatalf("last card of the second attachment: %s %v", last.Source, codes(last.Reasons))
	}
}

// TestForgedKnownKidNotInflated: a card whose kid names a trusted key but
// whose signature does not match it is refused before its payload is
// inflated: a DEFLATE bomb under a known kid costs a signature check, not an
// inflation, and nothing of the payload (not even its iss) is reported.
func TestForgedKnownKidNotInflated(t *testing.T) {
	own := newOwnIssuer(t, "https://vaxcert.example/issuer", 0)
	other := newOwnIssuer(t, "https://other.example", 0)
	attacker := newOwnIssuer(t, "https://attacker.example", 0)
	v := &Verifier{Trust: trust.NewStore(own.issuer, other.issuer)}
	bomb := bombDeflated(t)
	// The known kid of either trusted issuer, with whatever iss the
	// payload would claim.
	forged := make([]string, 20)
	for i := range forged {
		kid := own.kid
		if i%2 == 1 {
			kid = other.kid
		}
		forged[i] = signDeflated(t, attacker.key, kid, bomb)
	}
	input := cardFile(forged...)
	ctx := WithInputBudget(context.Background(), InputBudget)
	var rs []verdict.Result
	alloc := allocatedBytes(func() { rs = v.Verify(ctx, input, "forged") })
	for i, r := range rs {
		if r.Status != verdict.Invalid || reasonOf(r) != "signature_invalid" || r.Issuer.ID != "" || r.Issuer.KID == "" {
			t.Fatalf("card %d: %s %v issuer %+v", i+1, r.Status, codes(r.Reasons), r.Issuer)
		}
	}
	// Inflating them would have allocated at least the per-card cap each.
	if alloc >= 4<<20 {
		t.Errorf("%d forged cards allocated %d bytes: their payloads were inflated", len(forged), alloc)
	}
	if spent := InputBudget - budgetOf(ctx).left.Load(); spent != int64(len(forged))*CardCost {
		t.Errorf("charged %d bytes, want CardCost for each card", spent)
	}

	// A genuine card still verifies with one signature check, as does a
	// card signed by a trusted key under an iss that key is not trusted
	// for (the kid check is no shortcut to trust).
	genuine, err := shc.Sign(own.key, own.kid, samplePayload(t, own.issuer.Iss, time.Now().Add(-time.Hour), "", "210"))
	if err != nil {
		t.Fatal(err)
	}
	if r := verifyOne(t, v, []byte(genuine)); r.Status != verdict.Valid || r.Issuer.ID != own.issuer.Iss {
		t.Fatalf("genuine: %s %v", r.Status, codes(r.Reasons))
	}
	crossed, err := shc.Sign(other.key, other.kid, samplePayload(t, own.issuer.Iss, time.Now().Add(-time.Hour), "", "210"))
	if err != nil {
		t.Fatal(err)
	}
	if r := verifyOne(t, v, []byte(crossed)); r.Status != verdict.NotTrusted || reasonOf(r) != "kid_unknown" {
		t.Fatalf("other issuer's key: %s %v", r.Status, codes(r.Reasons))
	}
}

// signRawDeflated signs an already-compressed payload with o's key and kid.
func (o *ownIssuer) signRawDeflated(t testing.TB, deflated []byte) string {
	return signDeflated(t, o.key, o.kid, deflated)
}

// allocatedBytes is what f allocated on the heap.
func allocatedBytes(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
