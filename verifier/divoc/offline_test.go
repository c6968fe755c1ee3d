package divoc

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
)

// refusingTransport fails and counts every HTTP request.
type refusingTransport struct{ calls atomic.Int64 }

func (rt *refusingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	rt.calls.Add(1)
	return nil, errors.New("network use in a test: " + req.URL.String())
}

// Verification never touches the network: every HTTP request in this
// process fails and is counted while all samples and documents naming
// unknown contexts are processed. (Not parallel: it swaps a global.)
func TestVerificationIsOffline(t *testing.T) {
	rt := &refusingTransport{}
	saved := http.DefaultTransport
	http.DefaultTransport = rt
	t.Cleanup(func() { http.DefaultTransport = saved })

	samples, err := filepath.Glob(filepath.Join(testdataDir(t), "samples", "*"))
	if err != nil || len(samples) == 0 {
		t.Fatalf("no samples: %v", err)
	}
	for _, path := range samples {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		Verify(data, t.TempDir(), checkAt)
	}

	// Straight to the canonicaliser, past checkContext, with contexts that
	// a networked loader would fetch.
	for _, ctx := range []any{
		"https://example.com/context.jsonld",
		"http://127.0.0.1:1/context",
		[]any{credentialsV1URL, "https://www.pedulilindungi.id/credentials/vaccination/v2"},
		map[string]any{"@import": "https://example.com/imported.jsonld"},
	} {
		_, err := canonicalize(map[string]any{"@context": ctx, "name": "x"})
		var lde *linkedDataError
		if !errors.As(err, &lde) || lde.code != "jsonld_context_unknown" {
			t.Errorf("context %v: got %v, want jsonld_context_unknown", ctx, err)
		}
	}
	if n := rt.calls.Load(); n != 0 {
		t.Fatalf("%d HTTP requests were made", n)
	}
}

func TestOfflineLoader(t *testing.T) {
	for url := range contextFileByURL {
		doc, err := offlineLoader{}.LoadDocument(url)
		if err != nil || doc.Document == nil {
			t.Errorf("%s: %v", url, err)
		}
	}
	for _, url := range []string{
		"https://w3id.org/security/v3", "https://cowin.gov.in/credentials/vaccination/v3",
		"http://www.w3.org/2018/credentials/v1", "https://www.w3.org/2018/credentials/v1/", "", "file:///etc/passwd",
	} {
		if _, err := (offlineLoader{}).LoadDocument(url); err == nil {
			t.Errorf("%q was served", url)
		}
	}
	// A loaded document is a copy: changing it does not change the next one.
	first, _ := offlineLoader{}.LoadDocument(cowinV1URL)
	first.Document.(map[string]any)["@context"] = nil
	second, _ := offlineLoader{}.LoadDocument(cowinV1URL)
	if second.Document.(map[string]any)["@context"] == nil {
		t.Error("the bundled context was modified through a loaded copy")
	}
}
