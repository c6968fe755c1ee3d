package shc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// FileContentType is the media type of a .smart-health-card file.
const FileContentType = "application/smart-health-card"

// FileExtension is the conventional file name extension.
const FileExtension = ".smart-health-card"

// MaxFileSize bounds what ParseFile reads.
const MaxFileSize = 16 << 20

// File is the .smart-health-card document.
type File struct {
	VerifiableCredential []string `json:"verifiableCredential"`
}

// MarshalFile writes {"verifiableCredential":[jws,…]} (minified, no trailing
// newline).
func MarshalFile(jws ...string) ([]byte, error) {
	if len(jws) == 0 {
		return nil, errors.New("shc: a health card file needs at least one JWS")
	}
	for i, j := range jws {
		if !isCompactJWSShape(j) {
			return nil, fmt.Errorf("shc: file entry %d is not a compact JWS", i)
		}
	}
	return json.Marshal(File{VerifiableCredential: jws})
}

// ParseFile reads a .smart-health-card file and returns its JWS strings.
// Each must have the compact-JWS shape; their content is checked later.
func ParseFile(b []byte) ([]string, error) {
	if len(b) > MaxFileSize {
		return nil, formatErr("file_invalid", "health card file is too large")
	}
	b = bytes.TrimPrefix(b, []byte{0xEF, 0xBB, 0xBF})
	var f struct {
		VerifiableCredential *[]json.RawMessage `json:"verifiableCredential"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, formatErr("file_invalid", "health card file is not valid JSON: "+err.Error())
	}
	if f.VerifiableCredential == nil {
		return nil, formatErr("file_invalid", `health card file has no "verifiableCredential" array`)
	}
	if len(*f.VerifiableCredential) == 0 {
		return nil, formatErr("file_invalid", `"verifiableCredential" is empty`)
	}
	out := make([]string, 0, len(*f.VerifiableCredential))
	for i, raw := range *f.VerifiableCredential {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, formatErr("file_invalid", fmt.Sprintf("verifiableCredential[%d] is not a string", i))
		}
		out = append(out, s)
	}
	return out, nil
}

// isCompactJWSShape matches ^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$.
func isCompactJWSShape(s string) bool {
	parts := 0
	run := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			if run == 0 {
				return false
			}
			parts++
			run = 0
			continue
		}
		if !isB64URL(s[i : i+1]) {
			return false
		}
		run++
	}
	return parts == 2 && run > 0
}
