package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vaxcert/vaxcert/api"
	"github.com/vaxcert/vaxcert/booking"
	"github.com/vaxcert/vaxcert/booking/demo"
	"github.com/vaxcert/vaxcert/keys"
	"github.com/vaxcert/vaxcert/registration"
	"github.com/vaxcert/vaxcert/registration/sms"
	"github.com/vaxcert/vaxcert/store"
)

// citizenFlags configure registration and booking in `vaxcert serve`.
type citizenFlags struct {
	sms            string
	smsToken       string
	demo           bool
	otpValidity    time.Duration
	otpAttempts    int
	otpCooldown    time.Duration
	otpPerMobile   int
	otpPerIP       int
	searchRate     int
	searchBurst    int
	bookingRate    int
	bookingBurst   int
	clientIPHeader string
	searchCache    time.Duration
}

func registerCitizenFlags(fs *flag.FlagSet) *citizenFlags {
	f := &citizenFlags{}
	d, r := registration.DefaultLimits, api.DefaultRateLimits
	fs.StringVar(&f.sms, "sms", "outbox", `SMS sender: "outbox" appends to <data>/sms-outbox.jsonl (development); an https:// URL POSTs {"to","text"} to that gateway`)
	fs.StringVar(&f.smsToken, "sms-token", "", "bearer token for the SMS gateway (prefer VAXCERT_SMS_TOKEN: flags show in process lists)")
	fs.BoolVar(&f.demo, "demo", false, "load the demo data set (states, districts, ~630 centres, 7 days of sessions) into an empty store")
	fs.DurationVar(&f.otpValidity, "otp-validity", d.OTPValidity, "how long an OTP can be confirmed")
	fs.IntVar(&f.otpAttempts, "otp-attempts", d.OTPAttempts, "wrong OTPs allowed per OTP request")
	fs.DurationVar(&f.otpCooldown, "otp-cooldown", d.OTPCooldown, "wait between two OTPs to one mobile")
	fs.IntVar(&f.otpPerMobile, "otp-per-mobile", d.OTPPerMobileHour, "OTPs per mobile per hour")
	fs.IntVar(&f.otpPerIP, "otp-per-ip", d.OTPPerClientHour, "OTPs per client IP per hour")
	fs.IntVar(&f.searchRate, "search-rate", r.SearchPerMinute, "public search requests per client IP per minute")
	fs.IntVar(&f.searchBurst, "search-burst", r.SearchBurst, "public search requests a client IP may make at once")
	fs.IntVar(&f.bookingRate, "booking-rate", r.BookingPerMinute, "bookings, beneficiary changes and OTP requests per client per minute")
	fs.IntVar(&f.bookingBurst, "booking-burst", r.BookingBurst, "of those, how many at once")
	fs.DurationVar(&f.searchCache, "search-cache", time.Second, "keep the public search and places answers in memory this long, so a crowd polling one pincode costs one query (0: off; shared caches may keep them 30 s anyway)")
	fs.StringVar(&f.clientIPHeader, "client-ip-header", "", "header carrying the client IP, set by a trusted reverse proxy (e.g. X-Real-IP); empty: the peer address")
	return f
}

func (f *citizenFlags) rateLimits() api.RateLimits {
	return api.RateLimits{SearchPerMinute: f.searchRate, SearchBurst: f.searchBurst, BookingPerMinute: f.bookingRate, BookingBurst: f.bookingBurst}
}

// openAuthKeys opens the login-token key store <data>/auth-keys, separate
// from the certificate keys, creating its first key.
func (c *common) openAuthKeys() (*keys.FileStore, error) {
	var pass []byte
	if p := os.Getenv("VAXCERT_KEY_PASSPHRASE"); p != "" {
		pass = []byte(p)
	}
	ks, err := keys.OpenFileStore(filepath.Join(c.data, registration.AuthKeysDir), pass)
	if err != nil {
		return nil, err
	}
	if _, _, err := ks.EnsureActive(); err != nil {
		return nil, err
	}
	return ks, ks.SelfCheck()
}

// newCitizenServices builds registration and booking over st.
func newCitizenServices(c *common, st store.Store, issuerURL string, f *citizenFlags, log *slog.Logger) (*registration.Service, *booking.Service, error) {
	authKeys, err := c.openAuthKeys()
	if err != nil {
		return nil, nil, fmt.Errorf("auth keys: %w", err)
	}
	secrets, err := registration.LoadSecrets(registration.SecretsDir(c.data))
	if err != nil {
		return nil, nil, err
	}
	sender, err := sms.FromConfig(f.sms, f.smsToken, c.data, log)
	if err != nil {
		return nil, nil, usageError{msg: err.Error()}
	}
	reg, err := registration.NewService(registration.Config{
		Store: st, SMS: sender, Tokens: registration.NewTokens(authKeys, issuerURL), Secrets: secrets, Log: log,
		Limits: registration.Limits{OTPValidity: f.otpValidity, OTPAttempts: f.otpAttempts, OTPCooldown: f.otpCooldown,
			OTPPerMobileHour: f.otpPerMobile, OTPPerClientHour: f.otpPerIP},
	})
	if err != nil {
		return nil, nil, err
	}
	bk, err := booking.NewService(booking.Config{Store: st, Beneficiaries: st, Doses: st, Audit: st})
	if err != nil {
		return nil, nil, err
	}
	return reg, bk, nil
}

// loadDemo loads the demo data set if the store has no places yet.
func loadDemo(ctx context.Context, st store.Store, bk *booking.Service, log *slog.Logger) error {
	sum, err := demo.Load(ctx, st, bk.Today())
	switch {
	case errors.Is(err, demo.ErrNotEmpty):
		log.Info("demo data not loaded: the store already has places")
		return nil
	case err != nil:
		return err
	}
	log.Info("demo data loaded", "summary", sum.String())
	return recordAudit(ctx, st, "system", "demo.loaded", "", sum.String())
}

// centreList is a repeatable --centre flag (also comma-separated).
type centreList []string

func (l *centreList) String() string { return strings.Join(*l, ",") }

func (l *centreList) Set(v string) error {
	for _, id := range strings.Split(v, ",") {
		if id = strings.TrimSpace(id); id != "" {
			*l = append(*l, id)
		}
	}
	return nil
}

// runUsers: vaxcert users add --role vaccinator|admin --mobile M [--centre ID]…
func runUsers(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "add" {
		fmt.Fprintln(stderr, "usage: vaxcert users add --role vaccinator|admin|citizen --mobile MOBILE [--centre ID]...")
		return usageError{}
	}
	fs := flag.NewFlagSet("users add", flag.ContinueOnError)
	var c common
	c.register(fs)
	role := fs.String("role", "", "vaccinator, admin, or citizen (to take a role away)")
	mobile := fs.String("mobile", "", "the account's 10-digit mobile number; the person logs in with an OTP sent to it")
	var centres centreList
	fs.Var(&centres, "centre", "a centre ID where a vaccinator works (repeat, or comma-separate)")
	if err := parseFlags(fs, args[1:], stderr); err != nil {
		return err
	}
	r, ok := registration.ParseRole(*role)
	if !ok {
		return usageError{msg: "--role must be vaccinator, admin or citizen"}
	}
	st, err := c.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	for _, id := range centres {
		if _, err := st.Centre(ctx, id); err != nil {
			return fmt.Errorf("centre %s: %w", id, err)
		}
	}
	a, err := registration.PutStaff(ctx, st, *mobile, r, centres, time.Now())
	if err != nil {
		return err
	}
	if err := recordAudit(ctx, st, cliActor(), "account.role", a.ID, fmt.Sprintf("%s %s centres=%s", a.Role, registration.MaskMobile(a.Mobile), strings.Join(a.Centres, ","))); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "account %s: mobile %s is %s", a.ID, a.Mobile, a.Role)
	if len(a.Centres) > 0 {
		fmt.Fprintf(stdout, " at centres %s", strings.Join(a.Centres, ", "))
	}
	fmt.Fprintln(stdout)
	return nil
}

// runCentres: vaxcert centres import FILE.csv
func runCentres(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "import" {
		fmt.Fprintln(stderr, "usage: vaxcert centres import FILE.csv   (- reads standard input)\n\ncolumns: "+strings.Join(booking.CSVColumns, ","))
		return usageError{}
	}
	fs := flag.NewFlagSet("centres import", flag.ContinueOnError)
	var c common
	c.register(fs)
	if err := parseFlags(fs, args[1:], stderr); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{msg: "give one CSV file (or - for standard input)"}
	}
	var in io.Reader = os.Stdin
	if name := fs.Arg(0); name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	st, err := c.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	bk, err := booking.NewService(booking.Config{Store: st, Beneficiaries: st, Doses: st, Audit: st})
	if err != nil {
		return err
	}
	res, err := bk.ImportCSV(ctx, cliActor(), in)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "imported %s\n", res)
	return nil
}

// runSessions: vaxcert sessions add --centre ID --date YYYY-MM-DD --vaccine V …
func runSessions(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "add" {
		fmt.Fprintln(stderr, "usage: vaxcert sessions add --centre ID --date YYYY-MM-DD [--days N] --vaccine CODE --dose1 N [--dose2 N] [--precaution N] [--min-age N] [--max-age N] [--fee RUPEES] [--slots A,B]")
		return usageError{}
	}
	fs := flag.NewFlagSet("sessions add", flag.ContinueOnError)
	var c common
	c.register(fs)
	centre := fs.String("centre", "", "centre ID")
	date := fs.String("date", "", "first day, YYYY-MM-DD (default today in India)")
	days := fs.Int("days", 1, "plan the same session on this many consecutive days")
	vacc := fs.String("vaccine", "", "vaccine catalog code, e.g. COVISHIELD")
	minAge := fs.Int("min-age", 18, "minimum age")
	maxAge := fs.Int("max-age", 0, "maximum age (0: none)")
	fee := fs.Int("fee", 0, "fee in rupees (0 at free centres)")
	slots := fs.String("slots", "", "comma-separated slot names (default four two-hour slots from 09:00AM)")
	var capacity booking.Capacity
	fs.IntVar(&capacity.Dose1, "dose1", 0, "places for first doses")
	fs.IntVar(&capacity.Dose2, "dose2", 0, "places for later primary doses")
	fs.IntVar(&capacity.Precaution, "precaution", 0, "places for precaution doses")
	if err := parseFlags(fs, args[1:], stderr); err != nil {
		return err
	}
	if *centre == "" || *vacc == "" || *days < 1 || *days > 60 {
		return usageError{msg: "--centre and --vaccine are required; --days is 1 to 60"}
	}
	st, err := c.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	bk, err := booking.NewService(booking.Config{Store: st, Beneficiaries: st, Doses: st, Audit: st})
	if err != nil {
		return err
	}
	first := bk.Today()
	if *date != "" {
		if first, err = time.Parse(time.DateOnly, *date); err != nil {
			return usageError{msg: "--date must be YYYY-MM-DD"}
		}
	}
	var slotList []string
	if *slots != "" {
		for _, s := range strings.Split(*slots, ",") {
			slotList = append(slotList, strings.TrimSpace(s))
		}
	}
	for i := range *days {
		sa, err := bk.AddSession(ctx, cliActor(), booking.NewSession{CentreID: *centre, Date: first.AddDate(0, 0, i).Format(time.DateOnly),
			Vaccine: *vacc, MinAge: *minAge, MaxAge: *maxAge, Fee: *fee, Slots: slotList, Capacity: capacity})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "session %s: %s, %s, %s, places %d/%d/%d\n", sa.ID, sa.Centre.Name, sa.Date.Format(time.DateOnly),
			sa.Vaccine, sa.Capacity.Dose1, sa.Capacity.Dose2, sa.Capacity.Precaution)
	}
	return nil
}
