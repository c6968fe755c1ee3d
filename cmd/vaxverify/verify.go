package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/vaxcert/vaxcert/verifier"
	"github.com/vaxcert/vaxcert/verifier/formats"
	"github.com/vaxcert/vaxcert/verifier/trust"
	"github.com/vaxcert/vaxcert/verifier/verdict"
)

// Report and Summary are the --json document (schema in docs/VERIFIER.md),
// shared with the server's POST /api/v1/verify.
type (
	Report  = verdict.Report
	Summary = verdict.Summary
)

type input struct {
	source string
	data   []byte
}

var chunkText = regexp.MustCompile(`^shc:/[0-9]+/[0-9]+/`)

func runVerify(ctx context.Context, args []string, e env) (int, error) {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	trustFlag := fs.String("trust", "", "trust directory")
	asJSON := fs.Bool("json", false, "print a JSON report")
	at := fs.String("at", "", "verify as of this RFC 3339 time instead of now")
	minimal := fs.Bool("minimal", false, "show only the status, name and birth date")
	fullCourse := fs.Bool("require-full-course", false, "require a complete primary course, the last dose at least 14 days old")
	paths, err := parseInterleaved(fs, args)
	if err != nil {
		return exitUsage, err
	}
	if len(paths) == 0 {
		return exitUsage, usageError{"verify needs at least one INPUT (a file, or - for stdin)"}
	}
	now := time.Now()
	if *at != "" {
		t, err := time.Parse(time.RFC3339, *at)
		if err != nil {
			return exitUsage, usageError{fmt.Sprintf("--at %q is not an RFC 3339 time (e.g. 2024-01-31T12:00:00Z)", *at)}
		}
		now = t
	}
	dir, err := trustDir(*trustFlag, e)
	if err != nil {
		return exitUsage, err
	}
	store, err := trust.LoadDir(dir)
	if err != nil {
		return exitUsage, err
	}
	v := &verifier.Verifier{
		Trust:             store,
		TrustDir:          dir,
		Now:               func() time.Time { return now },
		RequireFullCourse: *fullCourse,
		Formats:           formats.All(),
	}

	inputs, ioFailures := readInputs(paths, e)
	inputs = mergeChunks(inputs)
	var results []verdict.Result
	for _, in := range inputs {
		results = append(results, v.Verify(ctx, in.data, in.source)...)
	}
	if *minimal {
		for i := range results {
			results[i] = minimize(results[i])
		}
	}
	sum := verdict.Summarize(results)
	sum.Errors = len(ioFailures)
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if results == nil {
			results = []verdict.Result{}
		}
		if err := enc.Encode(Report{SchemaVersion: 1, VerifiedAt: now.UTC(), Results: results, Summary: sum}); err != nil {
			return exitUsage, err
		}
	} else {
		for _, r := range results {
			printHuman(e.stdout, r, *minimal)
		}
		if len(results)+len(ioFailures) > 1 {
			fmt.Fprintf(e.stdout, "%d checked: %d valid, %d invalid, %d not trusted", sum.Total, sum.Valid, sum.Invalid, sum.NotTrusted)
			if sum.Errors > 0 {
				fmt.Fprintf(e.stdout, ", %d unreadable", sum.Errors)
			}
			fmt.Fprintln(e.stdout)
		}
	}
	for _, f := range ioFailures {
		fmt.Fprintf(e.stderr, "vaxverify: %s\n", oneLine(f.Error()))
	}
	switch {
	case len(ioFailures) > 0:
		return exitUsage, nil
	case sum.Valid != sum.Total || sum.Total == 0:
		return exitInvalid, nil
	}
	return exitValid, nil
}

func readInputs(paths []string, e env) ([]input, []error) {
	var ins []input
	var errs []error
	stdinUsed := false
	for _, p := range paths {
		var r io.Reader
		source := p
		if p == "-" {
			if stdinUsed {
				errs = append(errs, fmt.Errorf("stdin (-) given more than once"))
				continue
			}
			stdinUsed = true
			r = e.stdin
		} else {
			f, err := os.Open(p)
			if err != nil {
				errs = append(errs, fmt.Errorf("cannot read %s: %w", p, unwrapPath(err)))
				continue
			}
			defer f.Close()
			if st, err := f.Stat(); err == nil && st.IsDir() {
				errs = append(errs, fmt.Errorf("cannot read %s: it is a directory", p))
				continue
			}
			r = f
		}
		b, err := io.ReadAll(io.LimitReader(r, verifier.MaxInputSize+1))
		if err != nil {
			errs = append(errs, fmt.Errorf("cannot read %s: %w", p, unwrapPath(err)))
			continue
		}
		if len(b) > verifier.MaxInputSize {
			errs = append(errs, fmt.Errorf("%s is larger than %d bytes", p, verifier.MaxInputSize))
			continue
		}
		ins = append(ins, input{source: source, data: b})
	}
	return ins, errs
}

func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// mergeChunks puts the deprecated chunked QR texts given as separate inputs
// together, so that their card is reassembled.
func mergeChunks(ins []input) []input {
	var out []input
	var chunks []string
	var sources []string
	at := -1
	for _, in := range ins {
		text := strings.TrimSpace(string(in.data))
		if chunkText.MatchString(text) && !strings.Contains(text, "\n") {
			if at < 0 {
				at = len(out)
				out = append(out, input{})
			}
			chunks = append(chunks, text)
			sources = append(sources, in.source)
			continue
		}
		out = append(out, in)
	}
	if at >= 0 {
		out[at] = input{source: strings.Join(sources, "+"), data: []byte(strings.Join(chunks, "\n"))}
	}
	return out
}

// minimize keeps what --minimal promises: the verdict with its reasons, the
// issuer's name, and the holder's name and birth date.
func minimize(r verdict.Result) verdict.Result {
	m := verdict.Result{Source: r.Source, Format: r.Format, Status: r.Status, Reasons: r.Reasons, Warnings: r.Warnings,
		Issuer: verdict.Issuer{ID: r.Issuer.ID, Name: r.Issuer.Name}}
	if r.Subject != nil {
		m.Subject = &verdict.Subject{Name: r.Subject.Name, BirthDate: r.Subject.BirthDate}
	}
	return m
}

func printHuman(w io.Writer, r verdict.Result, minimal bool) {
	fmt.Fprintf(w, "%s: %s", r.Source, r.Status.Label())
	if r.Format != "" && r.Format != verifier.FormatUnknown {
		fmt.Fprintf(w, " (%s)", formatLabel(r.Format))
	}
	fmt.Fprintln(w)
	for _, f := range r.Reasons {
		fmt.Fprintf(w, "  reason:  %s [%s]\n", f.Message, f.Code)
	}
	if r.Subject != nil {
		fmt.Fprintf(w, "  name:    %s\n", r.Subject.Name)
		if r.Subject.BirthDate != "" {
			fmt.Fprintf(w, "  born:    %s\n", r.Subject.BirthDate)
		}
		if !minimal {
			if r.Subject.Age != "" {
				fmt.Fprintf(w, "  age:     %s\n", r.Subject.Age)
			}
			if r.Subject.ID != "" {
				fmt.Fprintf(w, "  id:      %s\n", r.Subject.ID)
			}
		}
	}
	if r.Issuer.ID != "" || r.Issuer.Name != "" {
		switch {
		case r.Issuer.Name != "" && r.Issuer.Name != r.Issuer.ID:
			fmt.Fprintf(w, "  issuer:  %s (%s)\n", r.Issuer.Name, r.Issuer.ID)
		default:
			fmt.Fprintf(w, "  issuer:  %s\n", r.Issuer.ID)
		}
	}
	if !minimal {
		for i, d := range r.Doses {
			n := d.Number
			if n == 0 {
				n = i + 1
			}
			line := fmt.Sprintf("  dose %d:  %s  %s", n, d.Date, d.Vaccine)
			if d.Total > 0 {
				line += fmt.Sprintf(" (%d of %d)", d.Number, d.Total)
			}
			if d.Lot != "" {
				line += "  lot " + d.Lot
			}
			if d.Performer != "" {
				line += "  by " + d.Performer
			}
			if d.Country != "" {
				line += "  in " + d.Country
			}
			fmt.Fprintln(w, line)
		}
		if r.IssuedAt != nil {
			fmt.Fprintf(w, "  issued:  %s\n", r.IssuedAt.UTC().Format(time.RFC3339))
		}
		if r.ExpiresAt != nil {
			fmt.Fprintf(w, "  expires: %s\n", r.ExpiresAt.UTC().Format(time.RFC3339))
		}
	}
	for _, f := range r.Warnings {
		fmt.Fprintf(w, "  warning: %s [%s]\n", f.Message, f.Code)
	}
}

func formatLabel(f string) string {
	switch f {
	case "shc":
		return "SMART Health Card"
	case "eu-dcc":
		return "EU Digital COVID Certificate"
	case "divoc":
		return "CoWIN/DIVOC"
	}
	return f
}
