// Command vaxverify verifies vaccination certificates offline: SMART Health
// Cards (numeric QR text, JWS, .smart-health-card file, QR image, PDF), and
// EU DCC and CoWIN/DIVOC certificates where those verifiers are built in.
//
//	vaxverify verify [--trust DIR] [--json] [--at TIME] [--minimal] [--require-full-course] INPUT…
//	vaxverify trust add [--trust DIR] [--name NAME] https://issuer.example
//	vaxverify trust refresh [--trust DIR]
//	vaxverify trust import [--trust DIR] --iss URL [--name NAME] [--crl FILE]… JWKS-FILE
//	vaxverify trust import [--trust DIR] --vci FILE
//	vaxverify trust import [--trust DIR] --dsc CERT-FILE…
//	vaxverify trust import [--trust DIR] --did DID --name NAME KEY.pem
//	vaxverify trust list [--trust DIR] [--json]
//
// Exit codes: 0 valid, 1 invalid or not trusted, 2 usage or I/O error.
// Only the trust commands use the network; verify never does.
package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(realMain(ctx, os.Args[1:], env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}))
}

// env is what realMain touches of the outside world, so tests can replace it.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	// transport, when set, is the only way the trust commands reach the
	// network (tests give one that fails, to prove verify never calls it).
	transport http.RoundTripper
	getenv    func(string) string
}

func (e env) env(key string) string {
	if e.getenv != nil {
		return e.getenv(key)
	}
	return os.Getenv(key)
}
