package main

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/vaxcert/vaxcert/internal/problem"
	"github.com/vaxcert/vaxcert/issuer"
	"github.com/vaxcert/vaxcert/keys"
	"github.com/vaxcert/vaxcert/store"
)

const dosesUsage = `usage: vaxcert doses [--data DIR] [--db URL] [--issuer-url URL] import [--errors OUT.csv] [--workers N] FILE.csv

FILE.csv has a header row naming the columns (any order):
  beneficiary_reference_id, dose_number, vaccine, lot, date (YYYY-MM-DD), center_id
Each row records one dose and issues the beneficiary's new certificate, exactly
as POST /api/v1/vaccinations does. The import is idempotent: a row already
imported (or the same dose already recorded) is counted as such, not twice, so
an interrupted import is finished by running it again.`

// doseColumns are the columns of an import file.
var doseImportColumns = []string{"beneficiary_reference_id", "dose_number", "vaccine", "lot", "date", "center_id"}

// doseRow is one parsed row of an import file.
type doseRow struct {
	line   int      // 1-based line of the file, for the error report
	fields []string // as read, for the error file
	req    issuer.DoseRequest
	err    error // what is wrong with the row itself
}

// maxImportField bounds one CSV field; anything longer is a broken file.
const maxImportField = 256

// readDoseRows parses an import file, calling yield for each data row in
// order. Rows with bad fields are yielded with err set; a malformed file
// (no or bad header, broken CSV) stops with an error.
func readDoseRows(r io.Reader, yield func(doseRow) error) error {
	cr := csv.NewReader(r)
	cr.ReuseRecord = false
	header, err := cr.Read()
	if err != nil {
		return fmt.Errorf("reading the header row: %w", err)
	}
	index := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if h == "centre_id" {
			h = "center_id"
		}
		if _, dup := index[h]; dup {
			return fmt.Errorf("header: column %q appears twice", h)
		}
		index[h] = i
	}
	for _, want := range doseImportColumns {
		if _, ok := index[want]; !ok {
			return fmt.Errorf("header: missing column %q (want %s)", want, strings.Join(doseImportColumns, ","))
		}
	}
	if len(index) != len(doseImportColumns) {
		return fmt.Errorf("header: unexpected columns; want exactly %s", strings.Join(doseImportColumns, ","))
	}
	cr.FieldsPerRecord = len(header)
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err // a *csv.ParseError names its line
		}
		line, _ := cr.FieldPos(0)
		row := doseRow{line: line, fields: rec}
		get := func(col string) string { return strings.TrimSpace(rec[index[col]]) }
		for _, f := range rec {
			if len(f) > maxImportField {
				row.err = fmt.Errorf("a field is longer than %d bytes", maxImportField)
			}
		}
		if row.err == nil {
			row.req, row.err = parseDoseRow(get)
		}
		if err := yield(row); err != nil {
			return err
		}
	}
}

func parseDoseRow(get func(string) string) (issuer.DoseRequest, error) {
	n, err := strconv.Atoi(get("dose_number"))
	if err != nil {
		return issuer.DoseRequest{}, errors.New("dose_number is not a number")
	}
	day, err := time.Parse(time.DateOnly, get("date"))
	if err != nil {
		return issuer.DoseRequest{}, errors.New("date is not YYYY-MM-DD")
	}
	ref := get("beneficiary_reference_id")
	return issuer.DoseRequest{
		BeneficiaryRef: ref, Number: n, Vaccine: get("vaccine"), Lot: get("lot"), Date: day, CentreID: get("center_id"),
		// One key per dose: a re-run replays the row instead of recording
		// it again, and an edited row is told apart.
		Idempotency: issuer.IdempotencyID{Scope: "import", Key: ref + ":" + strconv.Itoa(n)},
	}, nil
}

func runDoses(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("doses", flag.ContinueOnError)
	var c common
	c.register(fs)
	issuerURL := fs.String("issuer-url", "", "the certificates' issuer URL, as given to serve; default http://ADDR")
	addr := fs.String("addr", "127.0.0.1:8080", "serve's listen address, only to derive the default issuer URL as serve does")
	errorsOut := fs.String("errors", "", "write the rows that failed, with an error column, to this CSV file (fix and re-import it)")
	workers := fs.Int("workers", 8, "rows recorded at once")
	// Flags may come before or after the verb.
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	if fs.NArg() == 0 || fs.Arg(0) != "import" {
		return usageError{msg: dosesUsage}
	}
	if err := parseFlags(fs, fs.Args()[1:], stderr); err != nil {
		return err
	}
	if fs.NArg() != 1 || *workers < 1 || *workers > 256 {
		return usageError{msg: dosesUsage}
	}
	iss, err := issuerOrDefault(*issuerURL, *addr)
	if err != nil {
		return usageError{msg: err.Error()}
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	defer f.Close()
	var total int64
	if info, err := f.Stat(); err == nil {
		total = info.Size()
	}

	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	st, ks, err := openForIssuing(ctx, &c)
	if err != nil {
		return err
	}
	defer st.Close()
	iss2, err := newIssuer(&c, st, ks, iss, log)
	if err != nil {
		return err
	}
	defer iss2.Close()
	// Certificates an interrupted run (or a crash) left pending are
	// finished first.
	if _, err := iss2.FinishPending(ctx, 0); err != nil {
		return err
	}

	var errFile *csv.Writer
	if *errorsOut != "" {
		out, err := os.Create(*errorsOut)
		if err != nil {
			return err
		}
		defer out.Close()
		errFile = csv.NewWriter(out)
		errFile.Write(append(append([]string{}, doseImportColumns...), "error"))
		defer errFile.Flush()
	}
	rep := newImportReport(stdout, stderr, f, total, errFile)
	actor := cliActor()
	// Rows go to workers by beneficiary, so one person's doses are recorded
	// in file order (dose 1 before dose 2) while different people's run in
	// parallel (and share transactions).
	queues := make([]chan doseRow, *workers)
	var wg sync.WaitGroup
	for i := range queues {
		queues[i] = make(chan doseRow, 16)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for row := range queues[i] {
				rep.done(row, importRow(ctx, iss2, row, actor))
			}
		}()
	}
	readErr := readDoseRows(f, func(row doseRow) error {
		h := fnv.New32a()
		h.Write([]byte(row.req.BeneficiaryRef))
		select {
		case queues[h.Sum32()%uint32(len(queues))] <- row:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	for _, q := range queues {
		close(q)
	}
	wg.Wait()
	rep.finish()
	switch {
	case errors.Is(readErr, context.Canceled):
		return errors.New("interrupted: run the same import again to finish it (rows already imported are not recorded twice)")
	case readErr != nil:
		return readErr
	case rep.failed > 0:
		return fmt.Errorf("%d row(s) failed; see above", rep.failed)
	}
	return nil
}

// outcome of one row.
type rowOutcome int

const (
	rowImported rowOutcome = iota
	rowAlready
	rowFailed
)

type rowResult struct {
	outcome rowOutcome
	err     error
}

func importRow(ctx context.Context, iss *issuer.Service, row doseRow, actor string) rowResult {
	if row.err != nil {
		return rowResult{rowFailed, row.err}
	}
	row.req.Actor = actor
	rec, err := iss.RecordDose(ctx, row.req)
	if p, ok := problem.As(err); ok {
		switch p.Slug {
		case "dose-already-recorded": // recorded before through the API, identically
			return rowResult{rowAlready, nil}
		case "idempotency-key-reused":
			return rowResult{rowFailed, errors.New("this dose was imported before with other details; the first import stands (ask an admin for a correction)")}
		}
		return rowResult{rowFailed, errors.New(p.Detail)}
	}
	if err != nil {
		return rowResult{rowFailed, err}
	}
	if rec.Replayed {
		return rowResult{rowAlready, nil}
	}
	return rowResult{rowImported, nil}
}

// importReport counts rows, prints each failure, and on a terminal draws a
// progress bar (by bytes read, as the row count is unknown in advance).
type importReport struct {
	mu                        sync.Mutex
	stdout, stderr            io.Writer
	file                      *os.File
	total                     int64
	errFile                   *csv.Writer
	tty                       bool
	start, drawn              time.Time
	imported, already, failed int
}

func newImportReport(stdout, stderr io.Writer, f *os.File, total int64, errFile *csv.Writer) *importReport {
	r := &importReport{stdout: stdout, stderr: stderr, file: f, total: total, errFile: errFile, start: time.Now()}
	if e, ok := stderr.(*os.File); ok && term.IsTerminal(int(e.Fd())) {
		r.tty = true
	}
	return r
}

func (r *importReport) done(row doseRow, res rowResult) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch res.outcome {
	case rowImported:
		r.imported++
	case rowAlready:
		r.already++
	case rowFailed:
		r.failed++
		if r.tty {
			fmt.Fprint(r.stderr, "\r\033[K")
		}
		fmt.Fprintf(r.stderr, "line %d: %v\n", row.line, res.err)
		if r.errFile != nil {
			r.errFile.Write(append(append([]string{}, row.fields...), res.err.Error()))
		}
	}
	if r.tty && time.Since(r.drawn) > 100*time.Millisecond {
		r.drawn = time.Now()
		r.draw()
	}
}

func (r *importReport) draw() {
	frac := 0.0
	if pos, err := r.file.Seek(0, io.SeekCurrent); err == nil && r.total > 0 {
		frac = min(float64(pos)/float64(r.total), 1)
	}
	const width = 30
	bar := strings.Repeat("=", int(frac*width)) + strings.Repeat(" ", width-int(frac*width))
	n := r.imported + r.already + r.failed
	rate := float64(n) / max(time.Since(r.start).Seconds(), 0.001)
	fmt.Fprintf(r.stderr, "\r\033[K[%s] %3.0f%%  %d rows (%d new, %d already, %d failed)  %.0f rows/s",
		bar, frac*100, n, r.imported, r.already, r.failed, rate)
}

func (r *importReport) finish() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.tty {
		r.draw()
		fmt.Fprintln(r.stderr)
	}
	fmt.Fprintf(r.stdout, "%d dose(s) recorded and certified, %d already recorded, %d failed (%s)\n",
		r.imported, r.already, r.failed, time.Since(r.start).Round(time.Millisecond))
}

// openForIssuing opens the store and the certificate key store, creating
// the first signing key (audited) if there is none yet.
func openForIssuing(ctx context.Context, c *common) (store.Store, *keys.FileStore, error) {
	ks, err := c.openKeys()
	if err != nil {
		return nil, nil, err
	}
	st, err := c.openStore(ctx)
	if err != nil {
		return nil, nil, err
	}
	key, created, err := ks.EnsureActive()
	if err == nil && created {
		err = recordAudit(ctx, st, cliActor(), "key.generated", key.KID, "first signing key, created by the CLI")
	}
	if err == nil {
		err = ks.SelfCheck()
	}
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return st, ks, nil
}
