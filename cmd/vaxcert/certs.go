package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"
	"time"

	"github.com/vaxcert/vaxcert/issuer"
)

const certsUsage = `usage: vaxcert certs [--data DIR] [--db URL] [--issuer-url URL] COMMAND
  list [--beneficiary REF] [--status pending|issued] [--limit N]   certificates, newest first
  show ID                                  one certificate as JSON, with its JWS
  revoke ID --reason TEXT                  revoke it (and the person's earlier cards of the same key)
  reissue REF --reason TEXT                issue a new certificate of the doses on record
  finish-pending                           sign and issue the certificates a crash left pending`

func runCerts(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("certs", flag.ContinueOnError)
	var c common
	c.register(fs)
	issuerURL := fs.String("issuer-url", "", "the certificates' issuer URL, as given to serve; default http://ADDR")
	addr := fs.String("addr", "127.0.0.1:8080", "serve's listen address, only to derive the default issuer URL as serve does")
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageError{msg: certsUsage}
	}
	verb, rest := fs.Arg(0), fs.Args()[1:]
	sub := flag.NewFlagSet("certs "+verb, flag.ContinueOnError)
	ref := sub.String("beneficiary", "", "only this beneficiary's certificates")
	status := sub.String("status", "", "only pending or issued certificates")
	limit := sub.Int("limit", 50, "at most this many")
	reason := sub.String("reason", "", "why (goes to the audit log)")
	// Operands and flags may come in any order.
	var operands []string
	for {
		if err := parseFlags(sub, rest, stderr); err != nil {
			return err
		}
		if sub.NArg() == 0 {
			break
		}
		operands, rest = append(operands, sub.Arg(0)), sub.Args()[1:]
	}
	want := map[string]int{"list": 0, "show": 1, "revoke": 1, "reissue": 1, "finish-pending": 0}
	if n, ok := want[verb]; !ok || len(operands) != n {
		return usageError{msg: certsUsage}
	}
	iss, err := issuerOrDefault(*issuerURL, *addr)
	if err != nil {
		return usageError{msg: err.Error()}
	}
	st, ks, err := openForIssuing(ctx, &c)
	if err != nil {
		return err
	}
	defer st.Close()
	svc, err := newIssuer(&c, st, ks, iss, slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		return err
	}
	defer svc.Close()
	actor := cliActor()

	switch verb {
	case "list":
		certs, err := svc.Certificates(ctx, issuer.CertificateFilter{BeneficiaryRef: *ref, Status: issuer.Status(*status), Limit: *limit})
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tBENEFICIARY\tSTATUS\tCOURSE\tDOSES\tREASON\tCREATED\tREVOKED")
		for _, c := range certs {
			status, revoked := string(c.Status), "-"
			if c.Revoked() {
				status, revoked = "revoked", c.RevokedAt.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", c.ID, c.BeneficiaryRef, status, c.Course, c.DoseCount, c.Reason,
				c.CreatedAt.UTC().Format(time.RFC3339), revoked)
		}
		return tw.Flush()
	case "show":
		c, err := svc.Certificate(ctx, operands[0])
		if err != nil {
			return err
		}
		return printJSON(stdout, certificateJSON(c))
	case "revoke":
		c, err := svc.Revoke(ctx, operands[0], *reason, actor)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "certificate %s revoked; the CRL of key %s now lists %s.%d\n", c.ID, c.KID, c.RID, c.NBF+1)
		return nil
	case "reissue":
		c, err := svc.Reissue(ctx, operands[0], *reason, actor)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "certificate %s issued (%s, %d doses)\n", c.ID, c.Course, c.DoseCount)
		return nil
	default: // finish-pending
		n, err := svc.FinishPending(ctx, 0)
		fmt.Fprintf(stdout, "%d pending certificate(s) issued\n", n)
		return err
	}
}

func certificateJSON(c issuer.Certificate) map[string]any {
	out := map[string]any{
		"certificate_id": c.ID, "beneficiary_reference_id": c.BeneficiaryRef, "status": c.Status, "course": c.Course,
		"doses": c.DoseCount, "reason": c.Reason, "dose_id": c.DoseID, "nbf": c.NBF, "created_at": c.CreatedAt.UTC(),
		"details": c.Details,
	}
	if c.Status == issuer.Issued {
		out["kid"], out["rid"], out["jws"], out["issued_at"] = c.KID, c.RID, c.JWS, c.IssuedAt.UTC()
	}
	if c.Revoked() {
		out["revoked_at"], out["revoke_reason"] = c.RevokedAt.UTC(), c.RevokeReason
	}
	return out
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
