package eudcc

import (
	_ "embed"
	"encoding/json"
	"strings"
)

// valueSetsJSON holds the display names of the EU value-set codes a result
// shows: disease (tg), vaccine type (vp), product (mp), manufacturer (ma),
// test type (tt) and test result (tr).
//
//go:embed valuesets.json
var valueSetsJSON []byte

// Value-set codes the verifier acts on, not only displays.
const (
	diseaseCOVID19    = "840539006"
	testNotDetected   = "260415000"
	testDetected      = "260373001"
	testTypeNAAT      = "LP6464-4"
	testTypeRapidTest = "LP217198-3"
)

var valueSets = func() map[string]map[string]string {
	var sets struct {
		TG, VP, MP, MA, TT, TR map[string]string
	}
	if err := json.Unmarshal(valueSetsJSON, &sets); err != nil {
		panic("eudcc: embedded value sets: " + err.Error())
	}
	return map[string]map[string]string{
		"tg": sets.TG, "vp": sets.VP, "mp": sets.MP, "ma": sets.MA, "tt": sets.TT, "tr": sets.TR,
	}
}()

// display returns the display name of code in the value set named set (for
// example "mp"), or the code itself when the set does not list it, so an
// unknown product is shown as sent rather than hidden.
func display(set, code string) string {
	code = strings.TrimSpace(code)
	if name, ok := valueSets[set][code]; ok {
		return name
	}
	return code
}

// known reports whether set lists code.
func known(set, code string) bool {
	_, ok := valueSets[set][strings.TrimSpace(code)]
	return ok
}
