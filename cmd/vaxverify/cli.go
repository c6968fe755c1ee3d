package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/vaxcert/vaxcert/verifier/trust"
)

// Exit codes.
const (
	exitValid   = 0
	exitInvalid = 1
	exitUsage   = 2
)

const usageText = `usage:
  vaxverify verify [--trust DIR] [--json] [--at TIME] [--minimal] [--require-full-course] INPUT…
  vaxverify trust add [--trust DIR] [--name NAME] https://issuer.example
  vaxverify trust refresh [--trust DIR]
  vaxverify trust import [--trust DIR] --iss URL [--name NAME] [--crl FILE]… JWKS-FILE
  vaxverify trust import [--trust DIR] --vci FILE
  vaxverify trust import [--trust DIR] --dsc CERT-FILE…                 (EU DCC signers)
  vaxverify trust import [--trust DIR] --did DID --name NAME KEY.pem    (CoWIN/DIVOC key)
  vaxverify trust list [--trust DIR] [--json]

INPUT is a file (shc:/ text, JWS, .smart-health-card, HC1: text, CoWIN ZIP or JSON,
PNG/JPEG/GIF of a QR code, certificate PDF) or - for stdin.
Exit codes: 0 valid, 1 invalid or not trusted, 2 usage or I/O error.
The trust directory defaults to $VAXVERIFY_TRUST, else <user config dir>/vaxverify.
`

// usageError is a mistake in the command line: one line on stderr, exit 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func realMain(ctx context.Context, args []string, e env) int {
	if len(args) == 0 {
		fmt.Fprintln(e.stderr, "vaxverify: missing command (verify or trust); see 'vaxverify help'")
		return exitUsage
	}
	var code int
	var err error
	switch args[0] {
	case "verify":
		code, err = runVerify(ctx, args[1:], e)
	case "trust":
		code, err = runTrust(ctx, args[1:], e)
	case "help", "-h", "--help":
		fmt.Fprint(e.stdout, usageText)
		return exitValid
	default:
		err = usageError{fmt.Sprintf("unknown command %q (want verify or trust)", args[0])}
	}
	if err != nil {
		var ue usageError
		if errors.As(err, &ue) || errors.Is(err, flag.ErrHelp) {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprint(e.stderr, usageText)
			} else {
				fmt.Fprintf(e.stderr, "vaxverify: %s; see 'vaxverify help'\n", oneLine(err.Error()))
			}
			return exitUsage
		}
		fmt.Fprintf(e.stderr, "vaxverify: %v\n", oneLine(err.Error()))
		if code == 0 {
			code = exitUsage
		}
	}
	return code
}

func oneLine(s string) string { return strings.ReplaceAll(strings.TrimSpace(s), "\n", "; ") }

// parseInterleaved parses flags that may come before or after the
// positional arguments ("verify card.png --json").
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{err.Error()}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if len(args) > 0 && len(rest) < len(args) && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// stringList is a repeatable flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// trustDir resolves --trust, $VAXVERIFY_TRUST, then the default.
func trustDir(flagValue string, e env) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	if v := e.env("VAXVERIFY_TRUST"); v != "" {
		return v, nil
	}
	return trust.DefaultDir()
}
