package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/vaxcert/vaxcert/audit"
)

const auditUsage = `usage: vaxcert audit [--data DIR] [--db URL] COMMAND
  verify [--head SEQ:HASH]... [--heads FILE]   check the hash chain, and that every recorded head is still in it
  head [--json]                               print the newest entry as SEQ:HASH TIME, to keep where the database cannot reach`

func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("audit", flag.ContinueOnError)
	var c common
	c.register(fs)
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	if fs.NArg() == 0 || (fs.Arg(0) != "verify" && fs.Arg(0) != "head") {
		return usageError{msg: auditUsage}
	}
	verb := fs.Arg(0)
	sub := flag.NewFlagSet("audit "+verb, flag.ContinueOnError)
	var heads headList
	var headsFile string
	var asJSON bool
	if verb == "verify" {
		sub.Var(&heads, "head", "a head recorded earlier, `SEQ:HASH`: entry SEQ must still be in the log with this hash (repeatable)")
		sub.StringVar(&headsFile, "heads", "", "a `FILE` of recorded heads, one a line, as 'audit head' prints them (plain or --json) or as serve logs them (JSON or text)")
	} else {
		sub.BoolVar(&asJSON, "json", false, `print {"seq","hash","at"} on one line`)
	}
	if err := parseFlags(sub, fs.Args()[1:], stderr); err != nil {
		return err
	}
	if sub.NArg() != 0 {
		return usageError{msg: auditUsage}
	}
	if headsFile != "" {
		fromFile, err := readHeads(headsFile)
		if err != nil {
			return usageError{msg: err.Error()}
		}
		heads = append(heads, fromFile...)
	}

	st, err := c.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	if verb == "head" {
		h, err := st.AuditHead(ctx)
		switch {
		case err != nil:
			return err
		case h.Seq == 0:
			return errors.New("the audit log is empty: it has no head yet")
		case asJSON:
			return json.NewEncoder(stdout).Encode(h)
		}
		fmt.Fprintf(stdout, "%s %s\n", h, h.At.UTC().Format(time.RFC3339Nano))
		return nil
	}
	n, err := audit.Verify(ctx, st, heads...)
	if err != nil {
		return fmt.Errorf("audit log broken after %d good entries: %w", n, err)
	}
	if len(heads) > 0 {
		fmt.Fprintf(stdout, "audit log intact: %d entries, %d recorded head(s) present\n", n, len(heads))
		return nil
	}
	fmt.Fprintf(stdout, "audit log intact: %d entries\n", n)
	return nil
}

// headList collects repeated --head flags; a malformed one is a flag error.
type headList []audit.Head

func (l *headList) String() string { return fmt.Sprint([]audit.Head(*l)) }

func (l *headList) Set(s string) error {
	h, err := audit.ParseHead(s)
	if err != nil {
		return err
	}
	*l = append(*l, h)
	return nil
}

// readHeads reads a file of recorded heads, one a line, in any form this
// program writes one: SEQ:HASH first on the line (as `vaxcert audit head`
// prints it, the time after it); a JSON object with seq and hash (`audit head
// --json`, or serve's "audit head" log line in JSON); or seq=N and hash=H
// among the fields (that log line in text). So heads taken from shipped logs
// need only a grep. Blank lines and lines starting with # are skipped.
func readHeads(path string) ([]audit.Head, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--heads: %w", err)
	}
	defer f.Close()
	var heads []audit.Head
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		h, err := audit.ParseHead(headField(text))
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, line, err)
		}
		heads = append(heads, h)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return heads, nil
}

// headField finds the SEQ:HASH a line of a heads file holds.
func headField(line string) string {
	if strings.HasPrefix(line, "{") {
		var j struct {
			Seq  json.Number `json:"seq"`
			Hash string      `json:"hash"`
		}
		if err := json.Unmarshal([]byte(line), &j); err != nil {
			return line // not SEQ:HASH either, so ParseHead says what is wrong
		}
		return j.Seq.String() + ":" + j.Hash
	}
	fields := strings.Fields(line)
	var seq, hash string
	for _, f := range fields {
		if v, ok := strings.CutPrefix(f, "seq="); ok {
			seq = v
		}
		if v, ok := strings.CutPrefix(f, "hash="); ok {
			hash = v
		}
	}
	if seq != "" || hash != "" {
		return seq + ":" + hash
	}
	return fields[0]
}

// logAuditHead logs the audit log's head, so that the shipped service log
// keeps a record of it that whoever controls the database cannot rewrite:
// `vaxcert audit verify --head SEQ:HASH` with a logged head then detects the
// deletion of the newest entries.
func logAuditHead(ctx context.Context, s audit.Store, log *slog.Logger) {
	h, err := s.AuditHead(ctx)
	if err != nil {
		if ctx.Err() == nil {
			log.Warn("audit head unreadable", "err", err)
		}
		return
	}
	log.Info("audit head", "seq", h.Seq, "hash", h.Hash)
}

// publishAuditHead logs the head every interval until ctx ends, so that the
// record is never more than one interval behind.
func publishAuditHead(ctx context.Context, s audit.Store, log *slog.Logger, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			logAuditHead(ctx, s, log)
		}
	}
}
