package divoc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// maxJSONDepth bounds nesting; a CoWIN certificate nests four levels deep.
const maxJSONDepth = 16

// decodeStrictJSON parses one JSON object with no duplicate keys, no
// nesting deeper than maxJSONDepth and nothing after it. Duplicate keys
// matter because parsers disagree on which one wins, so a certificate with
// two "name" members could show one name here and another elsewhere.
func decodeStrictJSON(data []byte) (map[string]any, error) {
	if len(data) > MaxCertificateSize {
		return nil, fmt.Errorf("the certificate is %d bytes, the limit is %d", len(data), MaxCertificateSize)
	}
	if err := checkJSONStructure(data); err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if doc == nil {
		return nil, errors.New("the certificate is not a JSON object")
	}
	return doc, nil
}

// checkJSONStructure walks the token stream once, rejecting duplicate keys,
// excessive depth, a non-object top level and trailing data.
func checkJSONStructure(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	var stack []*frame
	first := true
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if first {
			if d, ok := tok.(json.Delim); !ok || d != '{' {
				return errors.New("the certificate is not a JSON object")
			}
		} else if len(stack) == 0 {
			return errors.New("unexpected data after the JSON object")
		}
		first = false

		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.object && top.expectKey {
			if key, ok := tok.(string); ok {
				if _, dup := top.keys[key]; dup {
					return fmt.Errorf("duplicate key %q", key)
				}
				top.keys[key] = struct{}{}
				top.expectKey = false
				continue
			}
			// Otherwise it must be the closing '}' handled below.
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			if len(stack) >= maxJSONDepth {
				return fmt.Errorf("JSON nested deeper than %d levels", maxJSONDepth)
			}
			obj := tok == json.Delim('{')
			f := &frame{object: obj, expectKey: obj}
			if obj {
				f.keys = make(map[string]struct{})
			}
			stack = append(stack, f)
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			valueDone(stack)
		default:
			valueDone(stack)
		}
	}
	if first {
		return errors.New("empty input")
	}
	return nil
}

// frame is one open object or array in checkJSONStructure.
type frame struct {
	object    bool
	keys      map[string]struct{}
	expectKey bool // in an object: the next token is a key (or '}')
}

// valueDone notes that a member value of the innermost open object ended.
func valueDone(stack []*frame) {
	if len(stack) > 0 && stack[len(stack)-1].object {
		stack[len(stack)-1].expectKey = true
	}
}
