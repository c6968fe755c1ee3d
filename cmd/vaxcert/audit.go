package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/vaxcert/vaxcert/audit"
)

func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("audit", flag.ContinueOnError)
	var c common
	c.register(fs)
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	if fs.NArg() != 1 || fs.Arg(0) != "verify" {
		return usageError{msg: "usage: vaxcert audit [--data DIR] [--db URL] verify"}
	}
	st, err := c.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	n, err := audit.Verify(ctx, st)
	if err != nil {
		return fmt.Errorf("audit log broken after %d good entries: %w", n, err)
	}
	fmt.Fprintf(stdout, "audit log intact: %d entries\n", n)
	return nil
}
