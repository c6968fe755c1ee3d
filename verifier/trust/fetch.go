package trust

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/vaxcert/vaxcert/shc"
)

// Fetcher downloads an issuer's published key set and revocation lists. Only
// the trust commands use it; verification never touches the network.
type Fetcher struct {
	// Client defaults to NewHTTPClient().
	Client *http.Client
}

// NewHTTPClient is an HTTPS client with a total time limit, TLS 1.2 or
// later, and redirects allowed only to https URLs (at most 3).
func NewHTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	tr.Proxy = http.ProxyFromEnvironment
	return &http.Client{
		Transport: tr,
		Timeout:   20 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 3 {
				return errors.New("too many redirects")
			}
			if req.URL.Scheme != "https" {
				return errors.New("redirect to a non-https URL refused")
			}
			return nil
		},
	}
}

// Fetch builds an Issuer from iss + "/.well-known/jwks.json" and, for each
// key with a crlVersion, iss + "/.well-known/crl/" + kid + ".json". The
// returned notes list keys that were left out and CRL oddities.
func (f Fetcher) Fetch(ctx context.Context, iss string) (*Issuer, []string, error) {
	if err := shc.CheckIss(iss); err != nil {
		return nil, nil, err
	}
	body, err := f.get(ctx, iss+"/.well-known/jwks.json", MaxJWKSSize)
	if err != nil {
		return nil, nil, err
	}
	keys, probs, err := ParseJWKS(body)
	if err != nil {
		return nil, nil, fmt.Errorf("%s/.well-known/jwks.json: %w", iss, err)
	}
	var notes []string
	for _, p := range probs {
		notes = append(notes, "key left out: "+p.Error())
	}
	if len(keys) == 0 {
		return nil, notes, fmt.Errorf("%s publishes no usable ES256 signing key", iss)
	}
	is := &Issuer{Iss: iss, Source: "https", UpdatedAt: time.Now().UTC(), Keys: map[string]*Key{}, CRLs: map[string]*CRL{}}
	for _, k := range keys {
		is.Keys[k.Kid] = k
		if k.CRLVersion == 0 {
			continue
		}
		url := iss + "/.well-known/crl/" + k.Kid + ".json"
		body, err := f.get(ctx, url, MaxCRLSize)
		if err != nil {
			return nil, notes, fmt.Errorf("key %s has crlVersion %d but its CRL could not be fetched: %w", k.Kid, k.CRLVersion, err)
		}
		c, err := ParseCRL(body)
		if err != nil {
			return nil, notes, fmt.Errorf("%s: %w", url, err)
		}
		if c.Kid != k.Kid {
			return nil, notes, fmt.Errorf("%s: CRL is for kid %s", url, c.Kid)
		}
		if c.Ctr < k.CRLVersion {
			notes = append(notes, fmt.Sprintf("CRL of %s has ctr %d, older than the key's crlVersion %d", k.Kid, c.Ctr, k.CRLVersion))
		}
		is.CRLs[k.Kid] = c
	}
	return is, notes, nil
}

func (f Fetcher) get(ctx context.Context, url string, limit int64) ([]byte, error) {
	client := f.Client
	if client == nil {
		client = NewHTTPClient()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("GET %s: response larger than %d bytes", url, limit)
	}
	return b, nil
}
