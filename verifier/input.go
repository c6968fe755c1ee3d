package verifier

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/vaxcert/vaxcert/shc"
	"github.com/vaxcert/vaxcert/verifier/verdict"
)

// FormatUnknown is verdict.Result.Format when nothing recognisable was found.
const FormatUnknown = "unknown"

// maxDepth bounds nesting: a PDF may hold a file or an image, an image holds
// a QR text, and that is all.
const maxDepth = 3

// Format is a certificate format other than SMART Health Cards, plugged into
// the dispatch through Verifier.Formats (package verifier/formats has EU DCC
// and CoWIN): Detect says whether the bytes (a QR payload, a file) are of
// this format; Verify checks them as of v.Time(), with v.TrustDir for its
// trust material. The dispatch sets the result's Source.
type Format struct {
	Name   string
	Detect func(input []byte) bool
	Verify func(v *Verifier, input []byte, source string) verdict.Result
}

func unrecognised(source, code, msg string) verdict.Result {
	r := verdict.Result{Source: source, Format: FormatUnknown, Status: verdict.Invalid}
	r.Reject(code, msg)
	return r
}

// dispatch detects the kind of input and hands it to the right reader.
func (v *Verifier) dispatch(ctx context.Context, input []byte, source string, depth int) []verdict.Result {
	if err := ctx.Err(); err != nil {
		return []verdict.Result{unrecognised(source, "cancelled", err.Error())}
	}
	if depth > maxDepth {
		return []verdict.Result{unrecognised(source, "input_nested", "input nested too deeply")}
	}
	if len(input) > MaxInputSize {
		return []verdict.Result{unrecognised(source, "input_too_large", fmt.Sprintf("input larger than %d bytes", MaxInputSize))}
	}
	if len(input) == 0 {
		return []verdict.Result{unrecognised(source, "input_empty", "input is empty")}
	}
	switch {
	case bytes.HasPrefix(input, []byte("%PDF-")):
		return v.verifyPDF(ctx, input, source, depth)
	case isImage(input):
		return v.verifyImage(ctx, input, source, depth)
	}
	for _, f := range v.Formats {
		if f.Detect != nil && f.Verify != nil && f.Detect(input) {
			// A certificate of another format inflates little (EU DCC 64
			// KiB, CoWIN 16 KiB), but a PDF may carry thousands: each is
			// charged like a card.
			b := budgetOf(ctx)
			if got := b.take(CardCost); got < CardCost {
				b.give(got)
				r := verdict.Result{Source: source, Format: f.Name, Status: verdict.Valid}
				overBudget(&r)
				return []verdict.Result{r}
			}
			r := f.Verify(v, input, source)
			r.Source = source
			if v.RequireFullCourse && r.Status == verdict.Valid {
				v.checkCourseByNumbers(&r)
			}
			return []verdict.Result{r}
		}
	}
	if !utf8.Valid(input) {
		return []verdict.Result{unrecognised(source, "input_unrecognized", "input is neither text, an image nor a PDF")}
	}
	return v.verifyText(string(input), source, budgetOf(ctx))
}

// verifyText handles the textual SHC inputs: QR texts (one per line;
// chunks of one card reassembled), a .smart-health-card file, or a JWS.
func (v *Verifier) verifyText(text, source string, b *budget) []verdict.Result {
	// One final line break is how text files and terminals end text; it is
	// not part of the card. Anything more is kept and judged.
	text = strings.TrimSuffix(strings.TrimSuffix(text, "\n"), "\r")
	trimmed := strings.TrimSpace(text)
	switch {
	case strings.HasPrefix(strings.ToLower(trimmed), "shc:"):
		return v.verifyQRTexts(text, source, b)
	case strings.HasPrefix(trimmed, "{"):
		return v.verifyFile([]byte(text), source, b)
	case looksLikeJWS(trimmed):
		return []verdict.Result{v.verifySHC(text, source, false, b)}
	}
	return []verdict.Result{unrecognised(source, "input_unrecognized",
		"not a health card: expected shc:/ text, a JWS, a .smart-health-card file, a QR image or a PDF")}
}

func looksLikeJWS(s string) bool {
	return strings.Count(s, ".") == 2 && !strings.ContainsAny(s, " \t\r\n{}\"")
}

// verifyQRTexts verifies each line as a QR text. Deprecated chunks
// ("shc:/C/N/…") are collected and reassembled into one card, with a warning.
func (v *Verifier) verifyQRTexts(text, source string, b *budget) []verdict.Result {
	var results []verdict.Result
	var chunks []shc.Chunk
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			continue
		}
		c, err := shc.ParseQRChunk(line)
		if err != nil {
			r := verdict.Result{Source: source, Format: FormatSHC, Status: verdict.Valid}
			r.Reject(shc.CodeOf(err, "qr_digits"), err.Error())
			results = append(results, r)
			continue
		}
		if c.Chunked {
			chunks = append(chunks, c)
			continue
		}
		results = append(results, v.verifySHC(c.JWS, source, true, b))
	}
	if len(chunks) > 0 {
		jws, err := shc.Reassemble(chunks)
		if err != nil {
			r := verdict.Result{Source: source, Format: FormatSHC, Status: verdict.Valid}
			r.Reject(shc.CodeOf(err, "qr_chunks_incomplete"), err.Error())
			results = append(results, r)
		} else {
			r := v.verifySHC(jws, source, false, b)
			r.Warn("qr_chunked", fmt.Sprintf("card read from %d chunked QR codes, a form deprecated since SMART Health Cards 1.2", chunks[0].Total))
			results = append(results, r)
		}
	}
	if len(results) == 0 {
		return []verdict.Result{unrecognised(source, "input_empty", "no QR text in the input")}
	}
	return results
}

// verifyFile verifies every JWS of a .smart-health-card file.
func (v *Verifier) verifyFile(file []byte, source string, b *budget) []verdict.Result {
	list, err := shc.ParseFile(file)
	if err != nil {
		r := verdict.Result{Source: source, Format: FormatSHC, Status: verdict.Valid}
		r.Reject(shc.CodeOf(err, "file_invalid"), err.Error())
		return []verdict.Result{r}
	}
	out := make([]verdict.Result, 0, len(list))
	for i, jws := range list {
		src := source
		if len(list) > 1 {
			src = fmt.Sprintf("%s#%d", source, i+1)
		}
		out = append(out, v.verifySHC(jws, src, false, b))
	}
	return out
}

func isImage(b []byte) bool {
	return bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) ||
		bytes.HasPrefix(b, []byte{0xFF, 0xD8, 0xFF}) ||
		bytes.HasPrefix(b, []byte("GIF8"))
}
