package divoc

import (
	"embed"
	"encoding/json"
	"fmt"

	"github.com/piprate/json-gold/ld"
)

// The JSON-LD contexts a CoWIN certificate and its proof need, bundled so
// that verification never fetches anything: DIVOC's own verifier falls back
// to the network for unknown contexts, which both leaks who is being checked
// and lets whoever answers redefine what the signature covers.
//
//go:embed contexts/*.json
var contextFiles embed.FS

// Context URLs this package knows. A certificate may name only the
// credentials context and one CoWIN vaccination context; the security
// contexts are used for the proof options.
const (
	credentialsV1URL = "https://www.w3.org/2018/credentials/v1"
	cowinV1URL       = "https://cowin.gov.in/credentials/vaccination/v1"
	cowinV2URL       = "https://cowin.gov.in/credentials/vaccination/v2"
	securityV1URL    = "https://w3id.org/security/v1"
	securityV2URL    = "https://w3id.org/security/v2"
)

var contextFileByURL = map[string]string{
	credentialsV1URL: "contexts/credentials-v1.json",
	cowinV1URL:       "contexts/cowin-vaccination-v1.json",
	cowinV2URL:       "contexts/cowin-vaccination-v2.json",
	securityV1URL:    "contexts/security-v1.json",
	securityV2URL:    "contexts/security-v2.json",
}

// bundledContexts holds the parsed context documents, loaded once.
var bundledContexts = mustLoadContexts()

func mustLoadContexts() map[string]any {
	docs := make(map[string]any, len(contextFileByURL))
	for url, name := range contextFileByURL {
		raw, err := contextFiles.ReadFile(name)
		if err != nil {
			panic(fmt.Sprintf("divoc: bundled context %s missing: %v", name, err))
		}
		var doc any
		if err := json.Unmarshal(raw, &doc); err != nil {
			panic(fmt.Sprintf("divoc: bundled context %s is not JSON: %v", name, err))
		}
		docs[url] = doc
	}
	return docs
}

// errContextNotBundled is what the loader answers for any URL it does not
// hold; callers map it to the reason code jsonld_context_unknown.
type errContextNotBundled struct{ url string }

func (e errContextNotBundled) Error() string {
	return fmt.Sprintf("JSON-LD context %q is not bundled; refusing to fetch it", e.url)
}

// offlineLoader is a json-gold DocumentLoader that serves only the bundled
// contexts and refuses every other URL without any I/O.
type offlineLoader struct{}

// LoadDocument implements ld.DocumentLoader.
func (offlineLoader) LoadDocument(url string) (*ld.RemoteDocument, error) {
	doc, ok := bundledContexts[url]
	if !ok {
		return nil, ld.NewJsonLdError(ld.LoadingDocumentFailed, errContextNotBundled{url: url})
	}
	// A deep copy, so nothing json-gold does to a document can leak into
	// the next verification or race with a concurrent one.
	return &ld.RemoteDocument{DocumentURL: url, Document: ld.CloneDocument(doc)}, nil
}
