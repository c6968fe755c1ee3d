package api

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/vaxcert/vaxcert/audit"
)

// TestAuditHeadAPI: only admins read the head; it is the store's newest
// entry, follows new entries, and vouches for the log as it stands.
func TestAuditHeadAPI(t *testing.T) {
	h := newIssuingServer(t)
	ctx := context.Background()
	spec := loadOpenAPI(t)
	for _, c := range []struct {
		name, token string
		status      int
		slug        string
	}{
		{"no token", "", 401, "token-missing"},
		{"bad token", "not-a-token", 401, "token-invalid"},
		{"citizen", h.citizen, 403, "role-forbidden"},
		{"vaccinator", h.vaccinator, 403, "role-forbidden"},
	} {
		rec := h.do("GET", "/api/v1/admin/audit/head", c.token, "")
		if rec.Code != c.status || decodeProblem(t, rec).Type != problemTypeBase+c.slug {
			t.Errorf("%s: %d %s", c.name, rec.Code, rec.Body)
		}
		spec.checkShape(t, "GET", "/api/v1/admin/audit/head", c.status, rec.Body.Bytes())
	}

	head := func() audit.Head {
		t.Helper()
		rec := h.do("GET", "/api/v1/admin/audit/head", h.admin, "")
		if rec.Code != 200 || rec.Header().Get("Cache-Control") != "no-store" {
			t.Fatalf("admin: %d %v %s", rec.Code, rec.Header(), rec.Body)
		}
		spec.checkShape(t, "GET", "/api/v1/admin/audit/head", 200, rec.Body.Bytes())
		var got audit.Head
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		want, err := h.Store.AuditHead(ctx)
		if err != nil || got.Seq != want.Seq || got.Hash != want.Hash || !got.At.Equal(want.At) {
			t.Fatalf("answered head %+v, the store's is %+v (%v)", got, want, err)
		}
		return got
	}
	before := head()
	if _, err := h.Store.AppendAudit(ctx, audit.Entry{At: time.Now(), Actor: "system", Action: "test.head", Subject: "x"}); err != nil {
		t.Fatal(err)
	}
	after := head()
	if after.Seq != before.Seq+1 || after.Hash == before.Hash {
		t.Fatalf("head after one more entry: %+v, before %+v", after, before)
	}
	if n, err := audit.Verify(ctx, h.Store, before, after); err != nil || n != after.Seq {
		t.Fatalf("verify with the answered heads: %d, %v", n, err)
	}
}
