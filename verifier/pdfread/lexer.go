package pdfread

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
)

// PDF object model, as far as this reader needs it.
type (
	name   string
	ref    struct{ num, gen int }
	dict   map[string]any
	array  []any
	str    []byte
	stream struct {
		dict dict
		raw  []byte // still encoded
	}
	keyword string
)

const maxNesting = 64

var errSyntax = errors.New("pdfread: syntax error")

// lexer reads PDF values from a byte slice.
type lexer struct {
	b   []byte
	pos int
}

func isWhite(c byte) bool {
	return c == 0 || c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == ' '
}

func isDelim(c byte) bool {
	switch c {
	case '(', ')', '<', '>', '[', ']', '{', '}', '/', '%':
		return true
	}
	return false
}

func (l *lexer) skipSpace() {
	for l.pos < len(l.b) {
		c := l.b[l.pos]
		switch {
		case isWhite(c):
			l.pos++
		case c == '%':
			for l.pos < len(l.b) && l.b[l.pos] != '\n' && l.b[l.pos] != '\r' {
				l.pos++
			}
		default:
			return
		}
	}
}

// value parses one value. Indirect references ("1 0 R") are recognised
// by looking ahead after an integer.
func (l *lexer) value(depth int) (any, error) {
	if depth > maxNesting {
		return nil, fmt.Errorf("pdfread: objects nested too deeply")
	}
	l.skipSpace()
	if l.pos >= len(l.b) {
		return nil, errSyntax
	}
	c := l.b[l.pos]
	switch {
	case c == '/':
		return l.name(), nil
	case c == '(':
		return l.literalString()
	case c == '<' && l.pos+1 < len(l.b) && l.b[l.pos+1] == '<':
		return l.dict(depth)
	case c == '<':
		return l.hexString()
	case c == '[':
		l.pos++
		var a array
		for {
			l.skipSpace()
			if l.pos >= len(l.b) {
				return nil, errSyntax
			}
			if l.b[l.pos] == ']' {
				l.pos++
				return a, nil
			}
			v, err := l.value(depth + 1)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
	case c == '+' || c == '-' || c == '.' || (c >= '0' && c <= '9'):
		return l.number()
	default:
		start := l.pos
		for l.pos < len(l.b) && !isWhite(l.b[l.pos]) && !isDelim(l.b[l.pos]) {
			l.pos++
		}
		if l.pos == start {
			return nil, errSyntax
		}
		switch w := string(l.b[start:l.pos]); w {
		case "true":
			return true, nil
		case "false":
			return false, nil
		case "null":
			return nil, nil
		default:
			return keyword(w), nil
		}
	}
}

func (l *lexer) name() name {
	l.pos++ // '/'
	var out []byte
	for l.pos < len(l.b) && !isWhite(l.b[l.pos]) && !isDelim(l.b[l.pos]) {
		c := l.b[l.pos]
		if c == '#' && l.pos+2 < len(l.b) {
			if v, err := strconv.ParseUint(string(l.b[l.pos+1:l.pos+3]), 16, 8); err == nil {
				out = append(out, byte(v))
				l.pos += 3
				continue
			}
		}
		out = append(out, c)
		l.pos++
	}
	return name(out)
}

func (l *lexer) number() (any, error) {
	start := l.pos
	l.pos++
	for l.pos < len(l.b) && (l.b[l.pos] >= '0' && l.b[l.pos] <= '9' || l.b[l.pos] == '.') {
		l.pos++
	}
	text := string(l.b[start:l.pos])
	if n, err := strconv.ParseInt(text, 10, 64); err == nil {
		// "num gen R" is a reference.
		save := l.pos
		if n >= 0 {
			l.skipSpace()
			gstart := l.pos
			for l.pos < len(l.b) && l.b[l.pos] >= '0' && l.b[l.pos] <= '9' {
				l.pos++
			}
			if l.pos > gstart && l.pos-gstart < 7 {
				gen, _ := strconv.Atoi(string(l.b[gstart:l.pos]))
				l.skipSpace()
				if l.pos < len(l.b) && l.b[l.pos] == 'R' && (l.pos+1 == len(l.b) || isWhite(l.b[l.pos+1]) || isDelim(l.b[l.pos+1])) && n < 1<<31 {
					l.pos++
					return ref{int(n), gen}, nil
				}
			}
		}
		l.pos = save
		return n, nil
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return nil, errSyntax
	}
	return f, nil
}

func (l *lexer) literalString() (any, error) {
	l.pos++ // '('
	var out []byte
	nest := 1
	for l.pos < len(l.b) {
		c := l.b[l.pos]
		l.pos++
		switch c {
		case '(':
			nest++
		case ')':
			nest--
			if nest == 0 {
				return str(out), nil
			}
		case '\\':
			if l.pos >= len(l.b) {
				return nil, errSyntax
			}
			e := l.b[l.pos]
			l.pos++
			switch e {
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			case 't':
				c = '\t'
			case 'b':
				c = '\b'
			case 'f':
				c = '\f'
			case '\r':
				if l.pos < len(l.b) && l.b[l.pos] == '\n' {
					l.pos++
				}
				continue
			case '\n':
				continue
			default:
				if e >= '0' && e <= '7' {
					v := int(e - '0')
					for i := 0; i < 2 && l.pos < len(l.b) && l.b[l.pos] >= '0' && l.b[l.pos] <= '7'; i++ {
						v = v*8 + int(l.b[l.pos]-'0')
						l.pos++
					}
					c = byte(v)
				} else {
					c = e
				}
			}
		}
		out = append(out, c)
	}
	return nil, errSyntax
}

func (l *lexer) hexString() (any, error) {
	l.pos++ // '<'
	end := bytes.IndexByte(l.b[l.pos:], '>')
	if end < 0 {
		return nil, errSyntax
	}
	var digits []byte
	for _, c := range l.b[l.pos : l.pos+end] {
		if !isWhite(c) {
			digits = append(digits, c)
		}
	}
	l.pos += end + 1
	if len(digits)%2 == 1 {
		digits = append(digits, '0')
	}
	out := make([]byte, len(digits)/2)
	for i := range out {
		v, err := strconv.ParseUint(string(digits[2*i:2*i+2]), 16, 8)
		if err != nil {
			return nil, errSyntax
		}
		out[i] = byte(v)
	}
	return str(out), nil
}

func (l *lexer) dict(depth int) (any, error) {
	l.pos += 2 // "<<"
	d := dict{}
	for {
		l.skipSpace()
		if l.pos+1 < len(l.b) && l.b[l.pos] == '>' && l.b[l.pos+1] == '>' {
			l.pos += 2
			return d, nil
		}
		if l.pos >= len(l.b) || l.b[l.pos] != '/' {
			return nil, errSyntax
		}
		k := l.name()
		v, err := l.value(depth + 1)
		if err != nil {
			return nil, err
		}
		d[string(k)] = v
	}
}
