// Command vaxcert runs the vaxcert service and its administration commands.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(realMain(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `vaxcert issues and publishes signed vaccination certificates.

Usage:
  vaxcert serve      [flags]   run the HTTP service (applies migrations first)
  vaxcert migrate    [flags]   apply database migrations and exit
  vaxcert keys       list | rotate | retire KID | revoke KID | export-jwks
  vaxcert audit      verify [--head SEQ:HASH]... | head [--json]               check the hash chain and recorded heads; print the head
  vaxcert users      add --role vaccinator|admin --mobile M [--centre ID]...   staff accounts
  vaxcert centres    import FILE.csv                                           centres, with states and districts
  vaxcert sessions   add --centre ID --date YYYY-MM-DD --vaccine CODE --dose1 N ...   plan sessions
  vaxcert doses      import [--errors OUT.csv] FILE.csv                        record doses made offline, issue their certificates
  vaxcert certs      list | show ID | revoke ID | reissue REF | finish-pending  certificates

Every flag also reads VAXCERT_<NAME> from the environment (e.g. --issuer-url is VAXCERT_ISSUER_URL).
Run 'vaxcert COMMAND -h' for a command's flags.
`

// Exit codes.
const (
	exitOK    = 0
	exitError = 1 // the command ran and failed
	exitUsage = 2
)

type command func(ctx context.Context, args []string, stdout, stderr io.Writer) error

func realMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	commands := map[string]command{
		"serve":    runServe,
		"migrate":  runMigrate,
		"keys":     runKeys,
		"audit":    runAudit,
		"users":    runUsers,
		"centres":  runCentres,
		"doses":    runDoses,
		"certs":    runCerts,
		"sessions": runSessions,
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, usage)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "vaxcert: unknown command %q (run 'vaxcert help')\n", args[0])
		return exitUsage
	}
	if err := cmd(ctx, args[1:], stdout, stderr); err != nil {
		if u, ok := err.(usageError); ok {
			if u.msg != "" {
				fmt.Fprintf(stderr, "vaxcert %s: %s\n", args[0], u.msg)
			}
			return exitUsage
		}
		fmt.Fprintf(stderr, "vaxcert %s: %v\n", args[0], err)
		return exitError
	}
	return exitOK
}

// usageError is a mistake in the command line: exit code 2.
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }
