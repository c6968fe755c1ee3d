package shc

import (
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// jreader is a small strict JSON reader for the verifier's hot path. The
// payload of every card is decoded with it rather than encoding/json, whose
// reflection and double scanning cost as much as the ECDSA verification the
// whole check is measured against. It validates what it reads (RFC 8259
// grammar, UTF-8, no control characters in strings) and never allocates for
// what it skips.
type jreader struct {
	b     []byte
	i     int
	depth int
	// s, when set, is string(b): decoded strings without escapes are then
	// substrings of it, one allocation for the whole document instead of
	// one per value.
	s string
}

const maxJSONDepth = 128

var errJSON = errors.New("malformed JSON")

func (r *jreader) fail(what string) error {
	return fmt.Errorf("malformed JSON at offset %d: %s", r.i, what)
}

func (r *jreader) ws() {
	for r.i < len(r.b) {
		switch r.b[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

// peek returns the next significant byte (0 at the end).
func (r *jreader) peek() byte {
	r.ws()
	if r.i >= len(r.b) {
		return 0
	}
	return r.b[r.i]
}

// end checks that only whitespace remains.
func (r *jreader) end() error {
	if r.ws(); r.i < len(r.b) {
		return r.fail("data after the top-level value")
	}
	return nil
}

// rawString reads a string token and returns its content without the
// quotes, and whether it contains escapes.
func (r *jreader) rawString() ([]byte, bool, error) {
	if r.peek() != '"' {
		return nil, false, r.fail("want a string")
	}
	r.i++
	start := r.i
	escaped, high := false, false
	for r.i < len(r.b) {
		c := r.b[r.i]
		switch {
		case c == '"':
			s := r.b[start:r.i]
			r.i++
			if high && !utf8.Valid(s) {
				return nil, false, r.fail("invalid UTF-8 in a string")
			}
			return s, escaped, nil
		case c == '\\':
			escaped = true
			if r.i+1 >= len(r.b) {
				return nil, false, r.fail("unterminated string")
			}
			switch r.b[r.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				r.i += 2
			case 'u':
				if r.i+6 > len(r.b) || !isHex4(r.b[r.i+2:r.i+6]) {
					return nil, false, r.fail("bad \\u escape")
				}
				r.i += 6
			default:
				return nil, false, r.fail("bad escape")
			}
			continue
		case c < 0x20:
			return nil, false, r.fail("control character in a string")
		case c >= 0x80:
			high = true
		}
		r.i++
	}
	return nil, false, r.fail("unterminated string")
}

// str reads a string value.
func (r *jreader) str() (string, error) {
	s, escaped, err := r.rawString()
	if err != nil {
		return "", err
	}
	if !escaped {
		if r.s != "" {
			return r.s[r.i-len(s)-1 : r.i-1], nil
		}
		return string(s), nil
	}
	var out string
	// The rare escaped string goes through encoding/json for exact
	// unescaping (\uXXXX, surrogate pairs).
	if err := json.Unmarshal(r.b[r.i-len(s)-2:r.i], &out); err != nil {
		return "", r.fail("bad escape in a string")
	}
	return out, nil
}

// optStr reads a string, or null (which leaves it empty, as encoding/json does).
func (r *jreader) optStr() (string, error) {
	if r.null() {
		return "", nil
	}
	return r.str()
}

// null consumes a null literal if one is next.
func (r *jreader) null() bool {
	if r.peek() == 'n' && r.i+4 <= len(r.b) && string(r.b[r.i:r.i+4]) == "null" {
		r.i += 4
		return true
	}
	return false
}

// key reads an object member name, without allocating unless escaped.
func (r *jreader) key() (string, []byte, error) {
	s, escaped, err := r.rawString()
	if err != nil {
		return "", nil, err
	}
	if escaped {
		var out string
		if err := json.Unmarshal(r.b[r.i-len(s)-2:r.i], &out); err != nil {
			return "", nil, r.fail("bad escape in a member name")
		}
		return out, nil, nil
	}
	return "", s, nil
}

// object iterates over the members of an object; fn must consume the value.
// The key is passed as bytes (callees compare string(key), which does not
// allocate) and is only valid during the call.
func (r *jreader) object(fn func(key []byte) error) error {
	if r.peek() != '{' {
		return r.fail("want an object")
	}
	if r.depth++; r.depth > maxJSONDepth {
		return r.fail("nested too deeply")
	}
	r.i++
	if r.peek() == '}' {
		r.i++
		r.depth--
		return nil
	}
	for {
		k, kb, err := r.key()
		if err != nil {
			return err
		}
		if r.peek() != ':' {
			return r.fail("want ':'")
		}
		r.i++
		if kb == nil {
			kb = []byte(k)
		}
		err = fn(kb)
		if err != nil {
			return err
		}
		switch r.peek() {
		case ',':
			r.i++
		case '}':
			r.i++
			r.depth--
			return nil
		default:
			return r.fail("want ',' or '}'")
		}
	}
}

// array iterates over the elements of an array; fn must consume each.
func (r *jreader) array(fn func() error) error {
	if r.peek() != '[' {
		return r.fail("want an array")
	}
	if r.depth++; r.depth > maxJSONDepth {
		return r.fail("nested too deeply")
	}
	r.i++
	if r.peek() == ']' {
		r.i++
		r.depth--
		return nil
	}
	for {
		if err := fn(); err != nil {
			return err
		}
		switch r.peek() {
		case ',':
			r.i++
		case ']':
			r.i++
			r.depth--
			return nil
		default:
			return r.fail("want ',' or ']'")
		}
	}
}

// number reads a number literal.
func (r *jreader) number() ([]byte, error) {
	r.ws()
	start := r.i
	for r.i < len(r.b) {
		c := r.b[r.i]
		if !(c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E') {
			break
		}
		r.i++
	}
	lit := r.b[start:r.i]
	if !isJSONNumber(lit) {
		r.i = start
		return nil, r.fail("want a number")
	}
	return lit, nil
}

// boolean reads true or false.
func (r *jreader) boolean() (bool, error) {
	r.ws()
	switch {
	case r.i+4 <= len(r.b) && string(r.b[r.i:r.i+4]) == "true":
		r.i += 4
		return true, nil
	case r.i+5 <= len(r.b) && string(r.b[r.i:r.i+5]) == "false":
		r.i += 5
		return false, nil
	}
	return false, r.fail("want true or false")
}

// skip validates and skips any value.
func (r *jreader) skip() error {
	switch c := r.peek(); {
	case c == '{':
		return r.object(func([]byte) error { return r.skip() })
	case c == '[':
		return r.array(r.skip)
	case c == '"':
		_, _, err := r.rawString()
		return err
	case c == 't' || c == 'f':
		_, err := r.boolean()
		return err
	case c == 'n':
		if r.null() {
			return nil
		}
	case c == '-' || c >= '0' && c <= '9':
		_, err := r.number()
		return err
	}
	return r.fail("want a value")
}

// raw skips a value and returns its bytes.
func (r *jreader) raw() ([]byte, error) {
	r.ws()
	start := r.i
	if err := r.skip(); err != nil {
		return nil, err
	}
	return r.b[start:r.i], nil
}

// stringArray reads an array of strings (null reads as empty).
func (r *jreader) stringArray() ([]string, error) {
	if r.null() {
		return nil, nil
	}
	var out []string
	err := r.array(func() error {
		s, err := r.str()
		out = append(out, s)
		return err
	})
	return out, err
}

// decodePayload reads the card's payload with jreader.
func decodePayload(b []byte) (*Payload, error) {
	r := &jreader{b: b, s: string(b)}
	var p Payload
	err := r.object(func(k []byte) error {
		var err error
		switch string(k) {
		case "iss":
			p.Iss, err = r.optStr()
		case "nbf", "exp":
			var lit []byte
			if lit, err = r.number(); err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
			if string(k) == "nbf" {
				p.NBF = NumericDate(lit)
			} else {
				p.Exp = NumericDate(lit)
			}
		case "vc":
			err = r.object(func(k []byte) error {
				var err error
				switch string(k) {
				case "type":
					p.VC.Type, err = r.stringArray()
				case "rid":
					p.VC.RID, err = r.optStr()
				case "credentialSubject":
					err = r.object(func(k []byte) error {
						var err error
						switch string(k) {
						case "fhirVersion":
							p.VC.CredentialSubject.FHIRVersion, err = r.optStr()
						case "fhirBundle":
							err = decodeBundle(r, &p.VC.CredentialSubject.FHIRBundle)
						default:
							err = r.skip()
						}
						return err
					})
				default:
					err = r.skip()
				}
				return err
			})
		default:
			err = r.skip()
		}
		return err
	})
	if err == nil {
		err = r.end()
	}
	if err != nil {
		return nil, err
	}
	return &p, nil
}

func decodeBundle(r *jreader, b *Bundle) error {
	return r.object(func(k []byte) error {
		var err error
		switch string(k) {
		case "resourceType":
			b.ResourceType, err = r.optStr()
		case "type":
			b.Type, err = r.optStr()
		case "entry":
			if r.null() {
				return nil
			}
			err = r.array(func() error {
				var e Entry
				err := r.object(func(k []byte) error {
					var err error
					switch string(k) {
					case "fullUrl":
						e.FullURL, err = r.optStr()
					case "resource":
						// Read the resource now, in the same pass; ReadBundle
						// uses what was learnt. A resource that does not
						// decode is kept raw for ReadBundle to report.
						r.ws()
						start, depth := r.i, r.depth
						facts, ferr := readResourceAt(r, nil)
						if ferr != nil {
							r.i, r.depth = start, depth
							e.Resource, err = r.raw()
							return err
						}
						e.Resource = r.b[start:r.i]
						e.facts = &facts
					default:
						err = r.skip()
					}
					return err
				})
				b.Entry = append(b.Entry, e)
				return err
			})
		default:
			err = r.skip()
		}
		return err
	})
}

func isHex4(b []byte) bool {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}
