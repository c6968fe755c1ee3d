// Command vaxload puts a vaxcert server on this machine under load and
// measures it: Co-WIN search, a booking rush, vaccinators recording doses,
// certificate PDF downloads and the verify API. It prints throughput and
// latency percentiles, checks the scenario's invariants at the end (no
// overbooking; every dose answered 2xx has its certificate) and exits 1 if
// one fails.
//
// It only ever talks to loopback addresses, and every run is bounded in
// requests and in time: it stops by itself. See docs/PERFORMANCE.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/vaxcert/vaxcert/internal/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(realMain(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// Exit codes.
const (
	exitOK        = 0
	exitInvariant = 1 // the run finished and an invariant or an answer was wrong
	exitUsage     = 2 // bad command line, or the setup could not be done
)

const usage = `vaxload puts a vaxcert server on this machine under load and measures it.

Usage:
  vaxload SCENARIO [flags]

Scenarios:
  search     Co-WIN findByPin searches by anonymous clients
  rush       --clients citizens race for a session of --slots places
  issue      vaccinators record doses; each 201 must have an issued certificate
  download   citizens download their certificate PDFs
  verify     the verify API checks certificates

The server must run with the dev SMS outbox in --data (logins read their OTPs
there), and with its rate limits raised for load (see docs/PERFORMANCE.md).
Administrator and vaccinator accounts are made with 'vaxcert users add'
(--vaxcert, with the server's --data and --db).

Flags (each also VAXCERT_<NAME> from the environment):
`

// Hard limits: no flag value takes a run past them.
const (
	maxRequests = 5_000_000
	maxDuration = 10 * time.Minute // also keeps within a session token's 15 minutes
	maxTimeout  = 30 * time.Minute
	maxWorkers  = 10_000
	maxClients  = 100_000
)

type options struct {
	scenario string
	target   string
	data     string
	db       string
	vaxcert  string

	workers  int
	rate     float64
	requests int
	duration time.Duration
	timeout  time.Duration

	clients       int // rush
	slots         int // rush
	centres       int // search
	pincodes      int // search
	beneficiaries int // issue
	vaccinators   int // issue
	certs         int // download, verify

	jsonOut bool
}

func parseOptions(args []string, stderr io.Writer) (options, error) {
	var o options
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fs := newFlagSet(&o, stderr)
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
		if len(args) == 0 {
			return o, errors.New("")
		}
		return o, flag.ErrHelp
	}
	o.scenario = args[0]
	if _, ok := scenarios[o.scenario]; !ok {
		return o, fmt.Errorf("unknown scenario %q (run 'vaxload help')", o.scenario)
	}
	fs := newFlagSet(&o, stderr)
	if err := config.Parse(fs, args[1:]); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return o, o.check()
}

func newFlagSet(o *options, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("vaxload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.target, "target", "http://127.0.0.1:8080", "the server's base URL; it must resolve to loopback addresses only")
	fs.StringVar(&o.data, "data", "./vaxcert-data", "the server's data directory (its dev SMS outbox holds the login OTPs)")
	fs.StringVar(&o.db, "db", "", "the server's database, passed to 'vaxcert users add' (empty: SQLite in --data)")
	fs.StringVar(&o.vaxcert, "vaxcert", "", "the vaxcert binary for 'users add' (default: next to vaxload, else on PATH)")
	fs.IntVar(&o.workers, "workers", 32, "concurrent clients in the measured phase (rush: --clients)")
	fs.Float64Var(&o.rate, "rate", 0, "open loop: start requests at this many per second, latency counted from each scheduled start (0: closed loop, each worker sends when answered; rush: all clients at once)")
	fs.IntVar(&o.requests, "requests", 20000, fmt.Sprintf("at most this many requests in the measured phase (at most %d)", maxRequests))
	fs.DurationVar(&o.duration, "duration", 30*time.Second, fmt.Sprintf("at most this long for the measured phase (at most %s)", maxDuration))
	fs.DurationVar(&o.timeout, "timeout", 10*time.Minute, fmt.Sprintf("at most this long for the whole run, setup and checks included (at most %s)", maxTimeout))
	fs.IntVar(&o.clients, "clients", 2000, "rush: citizens racing, each with one booking attempt")
	fs.IntVar(&o.slots, "slots", 100, "rush: places in the session")
	fs.IntVar(&o.centres, "centres", 40, "search: centres with a session on the searched day")
	fs.IntVar(&o.pincodes, "pincodes", 8, "search: pincodes the centres are spread over")
	fs.IntVar(&o.beneficiaries, "beneficiaries", 10000, "issue: beneficiaries (each takes up to 3 doses: two primary and a precaution)")
	fs.IntVar(&o.vaccinators, "vaccinators", 16, "issue: vaccinator accounts recording doses")
	fs.IntVar(&o.certs, "certs", 1000, "download, verify: distinct certificates")
	fs.BoolVar(&o.jsonOut, "json", false, "print the report as JSON")
	return fs
}

func (o *options) check() error {
	switch {
	case o.requests < 1 || o.requests > maxRequests:
		return fmt.Errorf("--requests must be between 1 and %d", maxRequests)
	case o.duration <= 0 || o.duration > maxDuration:
		return fmt.Errorf("--duration must be positive and at most %s", maxDuration)
	case o.timeout <= 0 || o.timeout > maxTimeout:
		return fmt.Errorf("--timeout must be positive and at most %s", maxTimeout)
	case o.rate < 0 || o.rate > 1_000_000:
		return fmt.Errorf("--rate must be between 0 (closed loop) and 1000000 per second")
	case o.workers < 1 || o.workers > maxWorkers:
		return fmt.Errorf("--workers must be between 1 and %d", maxWorkers)
	case o.clients < 1 || o.clients > maxClients:
		return fmt.Errorf("--clients must be between 1 and %d", maxClients)
	case o.slots < 1 || o.slots > 100000:
		return fmt.Errorf("--slots must be between 1 and 100000 (a session's largest capacity)")
	case o.centres < 1 || o.centres > 10000 || o.pincodes < 1 || o.pincodes > o.centres:
		return fmt.Errorf("--centres must be between 1 and 10000, --pincodes between 1 and --centres")
	case o.beneficiaries < 1 || o.beneficiaries > maxClients*4:
		return fmt.Errorf("--beneficiaries must be between 1 and %d", maxClients*4)
	case o.vaccinators < 1 || o.vaccinators > 1000:
		return fmt.Errorf("--vaccinators must be between 1 and 1000")
	case o.certs < 1 || o.certs > maxClients:
		return fmt.Errorf("--certs must be between 1 and %d", maxClients)
	}
	return nil
}

func realMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseOptions(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		if err.Error() != "" {
			fmt.Fprintf(stderr, "vaxload: %v\n", err)
		}
		return exitUsage
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()

	base, dial, err := loopbackTarget(ctx, o.target)
	if err != nil {
		fmt.Fprintf(stderr, "vaxload: %v\n", err)
		return exitUsage
	}
	ob, err := openOutbox(filepath.Join(o.data, "sms-outbox.jsonl"))
	if err != nil {
		fmt.Fprintf(stderr, "vaxload: %v\n", err)
		return exitUsage
	}
	conns := max(o.workers, 64)
	if o.scenario == "rush" {
		conns = max(conns, o.clients)
	}
	e := &env{
		opts:     o,
		api:      &api{base: base, http: newHTTPClient(dial, conns, 60*time.Second)},
		outbox:   ob,
		users:    &execUsers{bin: o.vaxcert, data: o.data, db: o.db},
		progress: stderr,
		run:      newRunID(),
	}
	rep, err := scenarios[o.scenario](ctx, e)
	if err != nil {
		fmt.Fprintf(stderr, "vaxload %s: %v\n", o.scenario, err)
		return exitUsage
	}
	rep.Target = base.String()
	if o.jsonOut {
		rep.writeJSON(stdout)
	} else {
		rep.writeText(stdout)
	}
	if !rep.Passed() {
		return exitInvariant
	}
	return exitOK
}
