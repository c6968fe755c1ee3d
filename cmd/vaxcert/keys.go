package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

const keysUsage = "usage: vaxcert keys [--data DIR] [--db URL] list | rotate | retire KID | revoke KID | export-jwks"

func runKeys(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("keys", flag.ContinueOnError)
	var c common
	c.register(fs)
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	rest := fs.Args()
	if len(rest) == 0 {
		return usageError{msg: keysUsage}
	}
	verb, operands := rest[0], rest[1:]
	wantOperands := map[string]int{"list": 0, "rotate": 0, "export-jwks": 0, "retire": 1, "revoke": 1}
	n, ok := wantOperands[verb]
	if !ok || len(operands) != n {
		return usageError{msg: keysUsage}
	}

	keystore, err := c.openKeys()
	if err != nil {
		return err
	}
	switch verb {
	case "list":
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "KID\tSTATE\tCREATED")
		for _, k := range keystore.List() {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", k.KID, k.State, k.Created.UTC().Format(time.RFC3339))
		}
		return tw.Flush()
	case "export-jwks":
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(keystore.JWKS(func(string) int { return 0 }))
	}

	// The mutating verbs are audited, so the store must be reachable first.
	st, err := c.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	switch verb {
	case "rotate":
		k, err := keystore.Rotate()
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "new active key %s; previously active keys are now retired (still published)\n", k.KID)
		return recordAudit(ctx, st, cliActor(), "key.rotated", k.KID, "")
	case "retire":
		if err := keystore.Retire(operands[0]); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "key %s retired: it no longer signs, and stays published for verification\n", operands[0])
		return recordAudit(ctx, st, cliActor(), "key.retired", operands[0], "")
	default: // revoke
		if err := keystore.Revoke(operands[0]); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "key %s revoked: withdrawn from the JWKS; certificates it signed no longer verify\n", operands[0])
		return recordAudit(ctx, st, cliActor(), "key.revoked", operands[0], "")
	}
}
