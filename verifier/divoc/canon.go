package divoc

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/piprate/json-gold/ld"
)

// jsonldOptions returns options for one JSON-LD operation: the offline
// loader, safe mode (a property that does not expand to an IRI is an error
// instead of silently vanishing from the signed data), URDNA2015 to N-Quads.
func jsonldOptions() *ld.JsonLdOptions {
	opts := ld.NewJsonLdOptions("")
	opts.DocumentLoader = offlineLoader{} // never the default HTTP loader
	opts.SafeMode = true
	opts.Algorithm = ld.AlgorithmURDNA2015
	opts.Format = "application/n-quads"
	opts.ProcessingMode = ld.JsonLd_1_1
	return opts
}

// linkedDataError is a JSON-LD failure with the reason code it maps to.
type linkedDataError struct {
	code string
	err  error
}

func (e *linkedDataError) Error() string { return e.err.Error() }
func (e *linkedDataError) Unwrap() error { return e.err }

// canonicalize expands doc in safe mode, checks that everything in it
// survives into RDF (see checkExpanded), and returns its URDNA2015
// canonical N-Quads. Errors are *linkedDataError.
func canonicalize(doc map[string]any) (nquads string, err error) {
	// json-gold panics on some malformed input (found by fuzzing: an object
	// whose "type", or "" member, is not a string). checkShape refuses those
	// shapes first; this keeps any other such input a rejection, not a crash.
	defer func() {
		if r := recover(); r != nil {
			nquads, err = "", &linkedDataError{code: "jsonld_invalid", err: fmt.Errorf("the JSON-LD processor failed on this input: %v", r)}
		}
	}()
	proc := ld.NewJsonLdProcessor()
	opts := jsonldOptions()
	expanded, err := proc.Expand(doc, opts)
	if err != nil {
		return "", classifyJSONLDError(err)
	}
	if err := checkExpanded(expanded); err != nil {
		return "", err
	}
	// Normalising the expanded form is the same as normalising doc (expansion
	// is idempotent) and spares a second pass over the contexts.
	out, err := proc.Normalize(expanded, opts)
	if err != nil {
		return "", classifyJSONLDError(err)
	}
	nquads, ok := out.(string)
	if !ok {
		return "", &linkedDataError{code: "jsonld_invalid", err: fmt.Errorf("canonicalisation returned %T", out)}
	}
	return nquads, nil
}

func classifyJSONLDError(err error) error {
	var notBundled errContextNotBundled
	if errors.As(err, &notBundled) {
		return &linkedDataError{code: "jsonld_context_unknown", err: notBundled}
	}
	var ldErr *ld.JsonLdError
	if errors.As(err, &ldErr) && ldErr.Code == ld.InvalidProperty {
		return &linkedDataError{code: "jsonld_unknown_term",
			err: errors.New("a member is not defined by the certificate's contexts, so the signature does not cover it")}
	}
	return &linkedDataError{code: "jsonld_invalid", err: fmt.Errorf("not valid JSON-LD: %v", err)}
}

// checkExpanded walks the expanded document for what safe mode does not
// catch but RDF conversion would silently drop (unsigned data):
//   - a node @id that is not an absolute IRI: every statement about the
//     node vanishes (a relative credentialSubject id drops name, age and
//     gender out of the signed data). IRIs with spaces, as India issued
//     them ("did:Aadhaar Card:…"), are absolute and kept.
//   - a blank-node @id ("_:x"): lets one node's members be spread over
//     several JSON objects; CoWIN never uses them.
//   - an http(s) IRI that json-gold's URL check rejects (e.g. with a space
//     in it): json-gold drops every statement using it, as RDF conversion
//     of an invalid IRI.
//   - an @type that is not an absolute IRI (a type no context defines).
func checkExpanded(v any) error {
	switch t := v.(type) {
	case []any:
		for _, e := range t {
			if err := checkExpanded(e); err != nil {
				return err
			}
		}
	case map[string]any:
		if id, ok := t["@id"]; ok {
			s, _ := id.(string)
			switch {
			case strings.HasPrefix(s, "_:"):
				return &linkedDataError{code: "relative_id", err: fmt.Errorf("blank node id %q is not allowed", s)}
			case !ld.IsAbsoluteIri(s):
				return &linkedDataError{code: "relative_id",
					err: fmt.Errorf("id %q is not an absolute IRI, so nothing said about it is signed", s)}
			case droppedIRI(s):
				return &linkedDataError{code: "invalid_iri",
					err: fmt.Errorf("id %q is not a valid URL, so nothing said about it is signed", s)}
			}
		}
		if ty, ok := t["@type"]; ok {
			if _, isValue := t["@value"]; !isValue { // a value's @type is a datatype from the contexts
				types, _ := ty.([]any)
				if s, ok := ty.(string); ok {
					types = []any{s}
				}
				for _, x := range types {
					s, _ := x.(string)
					if !ld.IsAbsoluteIri(s) || strings.HasPrefix(s, "_:") || droppedIRI(s) {
						return &linkedDataError{code: "jsonld_unknown_term",
							err: fmt.Errorf("type %q is not defined by the certificate's contexts, so the signature does not cover it", s)}
					}
				}
			}
		}
		for _, k := range slices.Sorted(maps.Keys(t)) { // sorted: the first problem reported is stable
			if k == "@id" || k == "@type" {
				continue
			}
			if err := checkExpanded(t[k]); err != nil {
				return err
			}
		}
	}
	return nil
}

// droppedIRI reports an IRI json-gold would drop during RDF conversion
// despite its being absolute: an http(s) IRI that fails its URL check.
func droppedIRI(iri string) bool {
	return (strings.HasPrefix(iri, "http://") || strings.HasPrefix(iri, "https://")) && !ld.IsURL(iri)
}
