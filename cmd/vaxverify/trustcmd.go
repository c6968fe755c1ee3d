package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"os"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/vaxcert/vaxcert/shc"
	"github.com/vaxcert/vaxcert/verifier/divoc"
	"github.com/vaxcert/vaxcert/verifier/eudcc"
	"github.com/vaxcert/vaxcert/verifier/trust"
)

func runTrust(ctx context.Context, args []string, e env) (int, error) {
	if len(args) == 0 {
		return exitUsage, usageError{"trust needs a subcommand: add, refresh, import or list"}
	}
	switch args[0] {
	case "add":
		return trustAdd(ctx, args[1:], e)
	case "refresh":
		return trustRefresh(ctx, args[1:], e)
	case "import":
		return trustImport(args[1:], e)
	case "list":
		return trustList(args[1:], e)
	}
	return exitUsage, usageError{fmt.Sprintf("unknown trust subcommand %q (want add, refresh, import or list)", args[0])}
}

func (e env) fetcher() trust.Fetcher {
	c := trust.NewHTTPClient()
	if e.transport != nil {
		c.Transport = e.transport
	}
	return trust.Fetcher{Client: c}
}

func loadForUpdate(dir string) (*trust.Store, error) {
	s, err := trust.LoadDir(dir)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// merge combines a newly obtained issuer with what the store had: the new
// keys replace the old set; a CRL is kept for kids still present unless a new
// one came; name and website are kept unless new ones are given.
func merge(old, fresh *trust.Issuer) *trust.Issuer {
	if old == nil {
		return fresh
	}
	if fresh.Name == "" {
		fresh.Name = old.Name
	}
	if fresh.Website == "" {
		fresh.Website = old.Website
	}
	if len(fresh.Keys) == 0 {
		fresh.Keys = old.Keys
	}
	for kid, c := range old.CRLs {
		if _, have := fresh.CRLs[kid]; !have && fresh.Keys[kid] != nil {
			fresh.CRLs[kid] = c
		}
	}
	return fresh
}

func trustAdd(ctx context.Context, args []string, e env) (int, error) {
	fs := flag.NewFlagSet("trust add", flag.ContinueOnError)
	trustFlag := fs.String("trust", "", "trust directory")
	nameFlag := fs.String("name", "", "display name")
	urls, err := parseInterleaved(fs, args)
	if err != nil {
		return exitUsage, err
	}
	if len(urls) == 0 {
		return exitUsage, usageError{"trust add needs an issuer URL (https://issuer.example)"}
	}
	if *nameFlag != "" && len(urls) > 1 {
		return exitUsage, usageError{"--name applies to one issuer; add them one at a time"}
	}
	dir, err := trustDir(*trustFlag, e)
	if err != nil {
		return exitUsage, err
	}
	store, err := loadForUpdate(dir)
	if err != nil {
		return exitUsage, err
	}
	for _, iss := range urls {
		if err := shc.CheckIss(iss); err != nil {
			return exitUsage, usageError{err.Error()}
		}
		is, notes, err := e.fetcher().Fetch(ctx, iss)
		for _, n := range notes {
			fmt.Fprintf(e.stderr, "vaxverify: %s: %s\n", iss, n)
		}
		if err != nil {
			return exitUsage, fmt.Errorf("trust add %s: %w", iss, err)
		}
		is.Name = *nameFlag
		old, _ := store.Lookup(iss)
		is = merge(old, is)
		if err := trust.SaveIssuer(dir, is); err != nil {
			return exitUsage, err
		}
		fmt.Fprintf(e.stdout, "trusted %s: %d key(s), %d CRL(s)\n", iss, len(is.Keys), len(is.CRLs))
	}
	return exitValid, nil
}

func trustRefresh(ctx context.Context, args []string, e env) (int, error) {
	fs := flag.NewFlagSet("trust refresh", flag.ContinueOnError)
	trustFlag := fs.String("trust", "", "trust directory")
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return exitUsage, err
	}
	if len(rest) > 0 {
		return exitUsage, usageError{"trust refresh takes no arguments"}
	}
	dir, err := trustDir(*trustFlag, e)
	if err != nil {
		return exitUsage, err
	}
	store, err := loadForUpdate(dir)
	if err != nil {
		return exitUsage, err
	}
	failed := 0
	for _, old := range store.Issuers() {
		is, notes, err := e.fetcher().Fetch(ctx, old.Iss)
		for _, n := range notes {
			fmt.Fprintf(e.stderr, "vaxverify: %s: %s\n", old.Iss, n)
		}
		if err != nil {
			failed++
			fmt.Fprintf(e.stderr, "vaxverify: refresh %s: %s (kept the stored keys)\n", old.Iss, oneLine(err.Error()))
			continue
		}
		is.Source = old.Source
		is = merge(old, is)
		if err := trust.SaveIssuer(dir, is); err != nil {
			return exitUsage, err
		}
		fmt.Fprintf(e.stdout, "refreshed %s: %d key(s), %d CRL(s)\n", is.Iss, len(is.Keys), len(is.CRLs))
	}
	if failed > 0 {
		return exitUsage, fmt.Errorf("%d issuer(s) could not be refreshed", failed)
	}
	return exitValid, nil
}

func readFileBounded(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", path, unwrapPath(err))
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", path, unwrapPath(err))
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, limit)
	}
	return b, nil
}

func trustImport(args []string, e env) (int, error) {
	fs := flag.NewFlagSet("trust import", flag.ContinueOnError)
	trustFlag := fs.String("trust", "", "trust directory")
	iss := fs.String("iss", "", "the issuer's iss (https URL)")
	nameFlag := fs.String("name", "", "display name")
	vci := fs.String("vci", "", "a VCI directory or snapshot file")
	var crls stringList
	fs.Var(&crls, "crl", "a CRL file (repeatable)")
	extra := registerImportFlags(fs)
	files, err := parseInterleaved(fs, args)
	if err != nil {
		return exitUsage, err
	}
	dir, err := trustDir(*trustFlag, e)
	if err != nil {
		return exitUsage, err
	}
	if done, code, err := extra.run(dir, *iss, *nameFlag, *vci, crls, files, e); done {
		return code, err
	}
	switch {
	case *vci != "" && *iss != "":
		return exitUsage, usageError{"use either --vci FILE or --iss URL JWKS-FILE, not both"}
	case *vci != "":
		if len(files) > 0 || len(crls) > 0 || *nameFlag != "" {
			return exitUsage, usageError{"--vci takes only the directory file"}
		}
		return importVCI(dir, *vci, e)
	case *iss == "":
		return exitUsage, usageError{"trust import needs --iss URL JWKS-FILE or --vci FILE"}
	case len(files) != 1:
		return exitUsage, usageError{"trust import --iss needs exactly one JWKS-FILE"}
	}
	if err := shc.CheckIss(*iss); err != nil {
		return exitUsage, usageError{err.Error()}
	}
	store, err := loadForUpdate(dir)
	if err != nil {
		return exitUsage, err
	}
	b, err := readFileBounded(files[0], trust.MaxJWKSSize)
	if err != nil {
		return exitUsage, err
	}
	keys, probs, err := trust.ParseJWKS(b)
	if err != nil {
		return exitInvalid, fmt.Errorf("%s: %w", files[0], err)
	}
	for _, p := range probs {
		fmt.Fprintf(e.stderr, "vaxverify: %s: key left out [%s]: %s\n", files[0], p.Code, p.Message)
	}
	if len(keys) == 0 {
		return exitInvalid, fmt.Errorf("%s holds no usable ES256 signing key; nothing imported", files[0])
	}
	is := &trust.Issuer{Iss: *iss, Name: *nameFlag, Source: "import", UpdatedAt: time.Now().UTC(),
		Keys: map[string]*trust.Key{}, CRLs: map[string]*trust.CRL{}}
	for _, k := range keys {
		is.Keys[k.Kid] = k
	}
	for _, path := range crls {
		b, err := readFileBounded(path, trust.MaxCRLSize)
		if err != nil {
			return exitUsage, err
		}
		c, err := trust.ParseCRL(b)
		if err != nil {
			return exitInvalid, fmt.Errorf("%s: %w", path, err)
		}
		if is.Keys[c.Kid] == nil {
			return exitInvalid, fmt.Errorf("%s: CRL is for kid %s, which is not in %s", path, c.Kid, files[0])
		}
		is.CRLs[c.Kid] = c
	}
	old, _ := store.Lookup(*iss)
	is = merge(old, is)
	for _, k := range keys {
		if k.CRLVersion > 0 && is.CRLs[k.Kid] == nil {
			fmt.Fprintf(e.stderr, "vaxverify: key %s announces a CRL (crlVersion %d) but none was given with --crl: cards it signed will be rejected until one is imported\n", k.Kid, k.CRLVersion)
		}
	}
	if err := trust.SaveIssuer(dir, is); err != nil {
		return exitUsage, err
	}
	fmt.Fprintf(e.stdout, "trusted %s: %d key(s), %d CRL(s)\n", is.Iss, len(is.Keys), len(is.CRLs))
	return exitValid, nil
}

func importVCI(dir, path string, e env) (int, error) {
	store, err := loadForUpdate(dir)
	if err != nil {
		return exitUsage, err
	}
	b, err := readFileBounded(path, trust.MaxVCISize)
	if err != nil {
		return exitUsage, err
	}
	issuers, notes, err := trust.ParseVCI(b)
	if err != nil {
		return exitInvalid, fmt.Errorf("%s: %w", path, err)
	}
	for _, n := range notes {
		fmt.Fprintf(e.stderr, "vaxverify: %s: %s\n", path, n)
	}
	withKeys := 0
	for _, is := range issuers {
		is.UpdatedAt = time.Now().UTC()
		old, _ := store.Lookup(is.Iss)
		is = merge(old, is)
		if len(is.Keys) > 0 {
			withKeys++
		}
		if err := trust.SaveIssuer(dir, is); err != nil {
			return exitUsage, err
		}
	}
	fmt.Fprintf(e.stdout, "trusted %d issuer(s) from %s (%d with keys", len(issuers), path, withKeys)
	if withKeys < len(issuers) {
		fmt.Fprintf(e.stdout, "; run 'vaxverify trust refresh' to fetch the others' keys")
	}
	fmt.Fprintln(e.stdout, ")")
	return exitValid, nil
}

func trustList(args []string, e env) (int, error) {
	fs := flag.NewFlagSet("trust list", flag.ContinueOnError)
	trustFlag := fs.String("trust", "", "trust directory")
	asJSON := fs.Bool("json", false, "print JSON")
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return exitUsage, err
	}
	if len(rest) > 0 {
		return exitUsage, usageError{"trust list takes no arguments"}
	}
	dir, err := trustDir(*trustFlag, e)
	if err != nil {
		return exitUsage, err
	}
	store, err := trust.LoadDir(dir)
	if err != nil {
		return exitUsage, err
	}
	type listed struct {
		Iss       string    `json:"iss"`
		Name      string    `json:"name,omitempty"`
		Source    string    `json:"source,omitempty"`
		UpdatedAt time.Time `json:"updated_at"`
		Kids      []string  `json:"kids"`
		CRLs      int       `json:"crls"`
	}
	var out []listed
	for _, is := range store.Issuers() {
		l := listed{Iss: is.Iss, Name: is.Name, Source: is.Source, UpdatedAt: is.UpdatedAt, Kids: []string{}, CRLs: len(is.CRLs)}
		for kid := range is.Keys {
			l.Kids = append(l.Kids, kid)
		}
		sort.Strings(l.Kids)
		out = append(out, l)
	}
	// The other formats' material, as their packages read it.
	dscCount := 0
	if ts, err := eudcc.LoadTrustStore(dir); err == nil {
		dscCount = ts.Len()
	}
	type didKey struct {
		DID         string `json:"did"`
		Name        string `json:"name"`
		Fingerprint string `json:"fingerprint_sha256"`
		Builtin     bool   `json:"builtin"`
	}
	dids := []didKey{}
	if keys, err := divoc.TrustedKeys(dir); err == nil {
		for _, k := range keys {
			dids = append(dids, didKey{k.DID, k.Name, k.Fingerprint, k.Builtin})
		}
	}
	if *asJSON {
		if out == nil {
			out = []listed{}
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return exitValid, enc.Encode(map[string]any{"trust_dir": dir, "shc_issuers": out,
			"eu_dcc_signers": dscCount, "divoc_keys": dids})
	}
	fmt.Fprintf(e.stdout, "trust directory %s\n", dir)
	if len(out) == 0 {
		fmt.Fprintln(e.stdout, "SMART Health Card issuers: none")
	} else {
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ISS\tNAME\tKEYS\tCRLS\tSOURCE\tUPDATED")
		for _, l := range out {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\n", l.Iss, l.Name, len(l.Kids), l.CRLs, l.Source, l.UpdatedAt.Format(time.DateOnly))
		}
		if err := tw.Flush(); err != nil {
			return exitUsage, err
		}
	}
	fmt.Fprintf(e.stdout, "EU DCC document signer certificates: %d\n", dscCount)
	for _, k := range dids {
		origin := "imported"
		if k.Builtin {
			origin = "built in"
		}
		fmt.Fprintf(e.stdout, "CoWIN/DIVOC key: %s %s (%s, %.16s…)\n", k.DID, k.Name, origin, k.Fingerprint)
	}
	return exitValid, nil
}
