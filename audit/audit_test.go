package audit

import (
	"strings"
	"testing"
)

func TestParseHead(t *testing.T) {
	hash := strings.Repeat("0123456789abcdef", 4)
	h, err := ParseHead("42:" + strings.ToUpper(hash))
	if err != nil || h.Seq != 42 || h.Hash != hash || h.String() != "42:"+hash {
		t.Fatalf("ParseHead: %+v, %v; want 42:%s (hex read in either case, kept in lower)", h, err, hash)
	}
	for _, bad := range []string{"", "42", "42:", ":" + hash, "0:" + hash, "-1:" + hash, "x:" + hash,
		"42:" + hash[1:], "42:" + hash + "00", "42:" + strings.Repeat("z", 64), "42 :" + hash} {
		if _, err := ParseHead(bad); err == nil {
			t.Errorf("ParseHead(%q) accepted it", bad)
		}
	}
}
