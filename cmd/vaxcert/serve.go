package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/vaxcert/vaxcert/api"
	"github.com/vaxcert/vaxcert/internal/httpserver"
	"github.com/vaxcert/vaxcert/keys"
	"github.com/vaxcert/vaxcert/store"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var c common
	c.register(fs)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address")
	issuerURL := fs.String("issuer-url", "", "the certificates' issuer URL (SMART Health Card iss); default http://ADDR")
	logFormat := fs.String("log-format", "json", "log format: json or text")
	verifyTrust := fs.String("verify-trust", "", "a vaxverify trust directory whose issuers, EU DCC signers and CoWIN keys POST /api/v1/verify also trusts (this service is always trusted); its EU DCC signers also go to the /verify page")
	auditHeadEvery := fs.Duration("audit-head-interval", 10*time.Minute, "log the audit log's head (audit head seq=… hash=…) at start and this often, so shipped logs can prove later that no newest entries were deleted; 0 disables")
	citizenCfg := registerCitizenFlags(fs)
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	if *auditHeadEvery < 0 {
		return usageError{msg: fmt.Sprintf("--audit-head-interval %v: want a duration of at least 0", *auditHeadEvery)}
	}
	log := newLogger(stderr, *logFormat)

	iss, err := issuerOrDefault(*issuerURL, *addr)
	if err != nil {
		return usageError{msg: err.Error()}
	}
	if !strings.HasPrefix(iss, "https://") {
		log.Warn("issuer URL is not https: SMART Health Card verifiers will reject these certificates; set --issuer-url https://… in production", "issuer_url", iss)
	}

	keystore, err := c.openKeys()
	if err != nil {
		return err
	}
	st, err := c.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	key, created, err := keystore.EnsureActive()
	if err != nil {
		return err
	}
	if created {
		log.Info("generated the first certificate-signing key", "kid", key.KID)
		if err := recordAudit(ctx, st, "system", "key.generated", key.KID, "first start"); err != nil {
			return err
		}
	}
	if err := keystore.SelfCheck(); err != nil {
		return err
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	issuerSvc, err := newIssuer(&c, st, keystore, iss, log)
	if err != nil {
		return err
	}
	defer issuerSvc.Close()
	go issuerSvc.Run(ctx) // finishes certificates a crash left pending, now and periodically
	downloadSecret, err := keys.LoadOrCreateSecret(secretsDir(&c), "download-grant")
	if err != nil {
		return err
	}
	reg, bk, err := newCitizenServices(&c, st, iss, citizenCfg, log)
	if err != nil {
		return err
	}
	if citizenCfg.demo {
		if err := loadDemo(ctx, st, bk, log); err != nil {
			return err
		}
	}
	if *auditHeadEvery > 0 {
		logAuditHead(ctx, st, log)
		ctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); publishAuditHead(ctx, st, log, *auditHeadEvery) }()
		defer func() { cancel(); <-done }() // before the store closes
	}
	log.Info("vaxcert listening", "addr", ln.Addr().String(), "issuer_url", iss, "store", store.Describe(c.db, c.data))
	srv := api.New(api.Config{Logger: log, Keys: issuerSvc, Store: st, Issuer: issuerSvc, DownloadSecret: downloadSecret,
		Auth: reg, Registration: reg, Booking: bk, RateLimits: citizenCfg.rateLimits(), ClientIPHeader: citizenCfg.clientIPHeader,
		Checkpoint: issuerSvc.Checkpoint(*verifyTrust), SearchCacheTTL: citizenCfg.searchCache, Audit: st})
	if err := httpserver.Serve(ctx, ln, srv); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	log.Info("vaxcert stopped")
	return nil
}

// issuerOrDefault validates an explicit issuer URL or derives one from the
// listen address. SMART Health Cards forbid a trailing slash.
func issuerOrDefault(iss, addr string) (string, error) {
	if iss == "" {
		return "http://" + addr, nil
	}
	u, err := url.Parse(iss)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("--issuer-url %q: want an absolute http(s) URL without query or fragment", iss)
	}
	return strings.TrimSuffix(iss, "/"), nil
}
