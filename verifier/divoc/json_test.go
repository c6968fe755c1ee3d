package divoc

import (
	"strings"
	"testing"
)

func TestDecodeStrictJSON(t *testing.T) {
	deep := strings.Repeat(`{"a":`, maxJSONDepth) + "1" + strings.Repeat("}", maxJSONDepth)
	tooDeep := strings.Repeat(`{"a":`, maxJSONDepth+1) + "1" + strings.Repeat("}", maxJSONDepth+1)
	tests := []struct {
		name  string
		input string
		ok    bool
	}{
		{"object", `{"a":1,"b":[1,{"c":2}],"d":{"e":null}}`, true},
		{"same key in different objects", `{"a":{"x":1},"b":{"x":2},"x":3}`, true},
		{"same key in array elements", `{"a":[{"x":1},{"x":2}]}`, true},
		{"depth at the limit", deep, true},
		{"whitespace around", " \n{\"a\":1}\n ", true},
		{"duplicate at the top", `{"a":1,"a":2}`, false},
		{"duplicate nested", `{"a":{"b":1,"c":[],"b":2}}`, false},
		{"duplicate after a nested value", `{"a":{"x":1},"a":2}`, false},
		{"duplicate via escape", `{"name":1,"na\u006de":2}`, false},
		{"duplicate in array element", `{"a":[{"x":1,"x":2}]}`, false},
		{"too deep", tooDeep, false},
		{"array", `[{"a":1}]`, false},
		{"string", `"x"`, false},
		{"null", `null`, false},
		{"trailing value", `{"a":1} {"b":2}`, false},
		{"trailing garbage", `{"a":1} x`, false},
		{"unterminated", `{"a":1`, false},
		{"empty", ``, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := decodeStrictJSON([]byte(tt.input))
			if tt.ok && (err != nil || doc == nil) {
				t.Fatalf("rejected: %v", err)
			}
			if !tt.ok && err == nil {
				t.Fatalf("accepted: %v", doc)
			}
		})
	}
}
