package trust

import (
	"encoding/json"
	"fmt"

	"github.com/vaxcert/vaxcert/shc"
)

// MaxVCISize bounds a VCI directory or snapshot.
const MaxVCISize = 64 << 20

type vciIssuer struct {
	Iss          string `json:"iss"`
	Name         string `json:"name"`
	Website      string `json:"website"`
	CanonicalIss string `json:"canonical_iss"`
}

// ParseVCI reads a VCI directory: either the plain list
// {"participating_issuers":[{"iss","name","website"?,"canonical_iss"?}]},
// whose issuers come without keys (trust refresh fetches them), or the
// offline snapshot {"issuerInfo":[{"issuer":{…},"keys":[…],"crls":[…]}]},
// which carries them. Unknown members are ignored; entries with an invalid
// iss and keys that are not usable ES256 keys are skipped and reported.
func ParseVCI(b []byte) ([]*Issuer, []string, error) {
	if len(b) > MaxVCISize {
		return nil, nil, fmt.Errorf("VCI directory larger than %d bytes", MaxVCISize)
	}
	var doc struct {
		Participating *[]vciIssuer `json:"participating_issuers"`
		IssuerInfo    *[]struct {
			Issuer vciIssuer         `json:"issuer"`
			Keys   []json.RawMessage `json:"keys"`
			CRLs   []json.RawMessage `json:"crls"`
		} `json:"issuerInfo"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, nil, fmt.Errorf("VCI directory is not valid JSON: %w", err)
	}
	if doc.Participating == nil && doc.IssuerInfo == nil {
		return nil, nil, fmt.Errorf(`VCI directory has neither "participating_issuers" nor "issuerInfo"`)
	}
	var out []*Issuer
	var notes []string
	byIss := map[string]*Issuer{}
	add := func(v vciIssuer) *Issuer {
		if err := shc.CheckIss(v.Iss); err != nil {
			notes = append(notes, fmt.Sprintf("skipped %q: %v", v.Iss, err))
			return nil
		}
		if is, ok := byIss[v.Iss]; ok {
			return is
		}
		is := &Issuer{Iss: v.Iss, Name: v.Name, Website: v.Website, Source: "vci",
			Keys: map[string]*Key{}, CRLs: map[string]*CRL{}}
		byIss[v.Iss] = is
		out = append(out, is)
		return is
	}
	if doc.Participating != nil {
		for _, v := range *doc.Participating {
			add(v)
		}
	}
	if doc.IssuerInfo != nil {
		for _, info := range *doc.IssuerInfo {
			is := add(info.Issuer)
			if is == nil {
				continue
			}
			for _, raw := range info.Keys {
				k, p := parseJWK(raw)
				if p != nil {
					notes = append(notes, fmt.Sprintf("%s: key %s skipped: %s", is.Iss, p.Kid, p.Message))
					continue
				}
				is.Keys[k.Kid] = k
			}
			for _, raw := range info.CRLs {
				c, err := ParseCRL(raw)
				if err != nil {
					notes = append(notes, fmt.Sprintf("%s: CRL skipped: %v", is.Iss, err))
					continue
				}
				is.CRLs[c.Kid] = c
			}
		}
	}
	return out, notes, nil
}
