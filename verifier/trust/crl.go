package trust

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// MaxCRLSize bounds a revocation list read from a file or the network.
const MaxCRLSize = 4 << 20

// CRL is an issuer's revocation list for one key (method "rid").
type CRL struct {
	Kid    string   `json:"kid"`
	Method string   `json:"method"`
	Ctr    int      `json:"ctr"`
	RIDs   []string `json:"rids"`

	// cutoff maps a rid to the time before which cards are revoked
	// (seconds); revokeAll holds bare rids, which revoke every card.
	cutoff    map[string]int64
	revokeAll map[string]bool
}

// ParseCRL reads {"kid","method":"rid","ctr","rids":[…]}. ctr may be a number
// or a numeric string (the spec template and some live issuers write
// "ctr":"1"). Each rid is base64url, at most 24 characters, optionally
// followed by "." and an integer timestamp in seconds.
func ParseCRL(b []byte) (*CRL, error) {
	if len(b) > MaxCRLSize {
		return nil, fmt.Errorf("CRL larger than %d bytes", MaxCRLSize)
	}
	var raw struct {
		Kid    string          `json:"kid"`
		Method string          `json:"method"`
		Ctr    json.RawMessage `json:"ctr"`
		RIDs   *[]string       `json:"rids"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("CRL is not valid JSON: %w", err)
	}
	if raw.Kid == "" {
		return nil, fmt.Errorf("CRL has no kid")
	}
	if raw.Method != "rid" {
		return nil, fmt.Errorf("CRL method is %q; only \"rid\" is defined", raw.Method)
	}
	ctrText := string(bytes.Trim(raw.Ctr, `"`))
	ctr, err := strconv.Atoi(ctrText)
	if err != nil || ctr < 1 || len(raw.Ctr) == 0 {
		return nil, fmt.Errorf("CRL ctr must be an integer >= 1")
	}
	if raw.RIDs == nil {
		return nil, fmt.Errorf("CRL has no rids array")
	}
	c := &CRL{Kid: raw.Kid, Method: raw.Method, Ctr: ctr, RIDs: *raw.RIDs}
	if err := c.index(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *CRL) index() error {
	c.cutoff = make(map[string]int64)
	c.revokeAll = make(map[string]bool)
	for _, entry := range c.RIDs {
		rid, ts, hasTS := strings.Cut(entry, ".")
		if rid == "" || len(rid) > 24 || !isB64URL(rid) {
			return fmt.Errorf("CRL entry %q: rid must be 1..24 base64url characters", entry)
		}
		if !hasTS {
			c.revokeAll[rid] = true
			continue
		}
		sec, err := strconv.ParseInt(ts, 10, 64)
		if err != nil || sec < 0 {
			return fmt.Errorf("CRL entry %q: timestamp must be integer seconds", entry)
		}
		if prev, ok := c.cutoff[rid]; !ok || sec > prev {
			c.cutoff[rid] = sec
		}
	}
	return nil
}

// Revokes reports whether a card with this rid and nbf (seconds) is revoked:
// a bare rid revokes every card carrying it; "rid.T" revokes only cards whose
// nbf is earlier than T.
func (c *CRL) Revokes(rid string, nbf float64) bool {
	if c == nil || rid == "" {
		return false
	}
	if c.revokeAll[rid] {
		return true
	}
	t, ok := c.cutoff[rid]
	return ok && nbf < float64(t)
}

func isB64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if !(ch >= 'A' && ch <= 'Z' || ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_') {
			return false
		}
	}
	return true
}
