package reliability

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/vaxcert/vaxcert/keys"
	"github.com/vaxcert/vaxcert/registration"
)

// expectProblem checks that r is a problem+json answer with one of the
// statuses (and, if given, the slug).
func expectProblem(t *testing.T, what string, r response, slug string, statuses ...int) {
	t.Helper()
	ok := false
	for _, s := range statuses {
		ok = ok || r.status == s
	}
	if !ok {
		t.Errorf("%s: status %d, want %v: %.300s", what, r.status, statuses, r.body)
		return
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Errorf("%s: Content-Type %q, want application/problem+json", what, ct)
	}
	if slug != "" && r.slug() != slug {
		t.Errorf("%s: problem %q, want %q", what, r.slug(), slug)
	}
}

// otpConfirm confirms a login OTP from client IP ip.
func otpConfirm(t *testing.T, svc *service, txn, otp, ip string) response {
	t.Helper()
	r, err := svc.client("").do("POST", "/api/v1/auth/otp/confirm", map[string]string{"txn_id": txn, "otp": otp}, "X-Real-IP", ip)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func otpStart(t *testing.T, svc *service, mobile, ip string) response {
	t.Helper()
	r, err := svc.client("").do("POST", "/api/v1/auth/otp", map[string]string{"mobile": mobile}, "X-Real-IP", ip)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// wrongOTP is a six-digit code other than otp.
func wrongOTP(otp string, i int) string {
	n, _ := strconv.Atoi(otp)
	return fmt.Sprintf("%06d", (n+1+i)%1000000)
}

func smsTo(svc *service, mobile string) int {
	n := 0
	for _, m := range svc.smsOutbox() {
		if m.To == mobile {
			n++
		}
	}
	return n
}

// TestOTPAbuse: brute force of one OTP stops at the attempt cap (the right
// OTP is refused after it, through the v1 and the Co-WIN API alike), an OTP
// is single use and expires, and floods stop at the caps per mobile and per
// client IP, with Retry-After, sending no SMS beyond them.
func TestOTPAbuse(t *testing.T) {
	// The client IP comes from X-Real-IP (as behind a reverse proxy), so
	// that each case is its own client; the per-IP request rate is lifted so
	// that the caps themselves are what is tested.
	svc := startService(t, serviceOptions{args: []string{"--client-ip-header", "X-Real-IP",
		"--otp-attempts", "3", "--otp-per-mobile", "4", "--otp-per-ip", "6", "--otp-cooldown", "0s", "--otp-validity", "5s",
		"--booking-rate", "100000", "--booking-burst", "100000"}})

	t.Run("brute force of one OTP", func(t *testing.T) {
		ip := "198.51.100.1"
		mobile := newMobile()
		txn, otp := svc.requestOTPFrom(t, mobile, ip)
		for i := range 2 {
			expectProblem(t, "wrong OTP", otpConfirm(t, svc, txn, wrongOTP(otp, i), ip), "otp-wrong", http.StatusUnauthorized)
		}
		expectProblem(t, "third wrong OTP", otpConfirm(t, svc, txn, wrongOTP(otp, 2), ip), "otp-attempts-exceeded", http.StatusTooManyRequests)
		expectProblem(t, "the right OTP after the cap", otpConfirm(t, svc, txn, otp, ip), "otp-attempts-exceeded", http.StatusTooManyRequests)
	})
	t.Run("brute force through the Co-WIN API", func(t *testing.T) {
		ip := "198.51.100.2"
		mobile := newMobile()
		txn, otp := svc.requestOTPFrom(t, mobile, ip)
		digest := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }
		c := svc.client("")
		for i := range 3 {
			r, err := c.do("POST", "/api/v2/auth/public/confirmOTP", map[string]string{"txnId": txn, "otp": digest(wrongOTP(otp, i))}, "X-Real-IP", ip)
			if err != nil || r.status < 400 {
				t.Fatalf("wrong OTP digest %d: %v %d %s", i, err, r.status, r.body)
			}
		}
		r, err := c.do("POST", "/api/v2/auth/public/confirmOTP", map[string]string{"txnId": txn, "otp": digest(otp)}, "X-Real-IP", ip)
		if err != nil || r.status < 400 {
			t.Errorf("the right OTP digest after 3 wrong ones: %v %d %s", err, r.status, r.body)
		}
		// The v1 endpoint shares the count: the transaction is spent.
		expectProblem(t, "v1 after the Co-WIN cap", otpConfirm(t, svc, txn, otp, ip), "otp-attempts-exceeded", http.StatusTooManyRequests)
	})
	t.Run("single use", func(t *testing.T) {
		ip := "198.51.100.3"
		txn, otp := svc.requestOTPFrom(t, newMobile(), ip)
		if r := otpConfirm(t, svc, txn, otp, ip); r.status != http.StatusOK {
			t.Fatalf("first use: %d %s", r.status, r.body)
		}
		expectProblem(t, "second use", otpConfirm(t, svc, txn, otp, ip), "otp-used", http.StatusUnauthorized)
	})
	t.Run("expiry", func(t *testing.T) {
		ip := "198.51.100.4"
		txn, otp := svc.requestOTPFrom(t, newMobile(), ip)
		time.Sleep(5500 * time.Millisecond)
		expectProblem(t, "expired OTP", otpConfirm(t, svc, txn, otp, ip), "otp-expired", http.StatusUnauthorized)
	})
	t.Run("unknown transaction", func(t *testing.T) {
		expectProblem(t, "made-up txn", otpConfirm(t, svc, "8a0b8c3e-6a1f-4c55-9d7e-0a1b2c3d4e5f", "123456", "198.51.100.5"), "otp-txn-unknown", http.StatusUnauthorized)
	})
	t.Run("flood of one mobile", func(t *testing.T) {
		mobile := newMobile()
		sent := 0
		for i := range 10 {
			r := otpStart(t, svc, mobile, fmt.Sprintf("203.0.113.%d", i+1)) // from many IPs
			if r.status == http.StatusOK {
				sent++
				continue
			}
			expectProblem(t, "OTP beyond the mobile cap", r, "otp-mobile-limit", http.StatusTooManyRequests)
			if ra, _ := strconv.Atoi(r.header.Get("Retry-After")); ra <= 0 {
				t.Errorf("no Retry-After on %d", r.status)
			}
		}
		if sent != 4 {
			t.Errorf("%d OTPs sent to one mobile, want the cap of 4", sent)
		}
		if n := smsTo(svc, mobile); n != 4 {
			t.Errorf("%d SMS sent to the flooded mobile, want 4", n)
		}
	})
	t.Run("flood from one client IP", func(t *testing.T) {
		ip := "192.0.2.77"
		sent := 0
		var mobiles []string
		for range 10 {
			m := newMobile()
			mobiles = append(mobiles, m)
			r := otpStart(t, svc, m, ip)
			if r.status == http.StatusOK {
				sent++
				continue
			}
			expectProblem(t, "OTP beyond the IP cap", r, "otp-client-limit", http.StatusTooManyRequests)
		}
		if sent != 6 {
			t.Errorf("%d OTPs sent for one client IP, want the cap of 6", sent)
		}
		n := 0
		for _, m := range mobiles {
			n += smsTo(svc, m)
		}
		if n != 6 {
			t.Errorf("%d SMS sent for the flooding IP, want 6", n)
		}
	})
	t.Run("unknown beneficiary for a certificate OTP", func(t *testing.T) {
		before := len(svc.smsOutbox())
		r, err := svc.client("").do("POST", "/api/v1/certificates/public/otp", map[string]string{"beneficiary_reference_id": "12345678901234"}, "X-Real-IP", "198.51.100.9")
		if err != nil {
			t.Fatal(err)
		}
		// The same answer as for a real reference, so that references cannot
		// be enumerated; and no SMS.
		var out struct {
			TxnID string `json:"txn_id"`
		}
		if r.status != http.StatusOK || json.Unmarshal(r.body, &out) != nil || out.TxnID == "" {
			t.Errorf("unknown reference: %d %s", r.status, r.body)
		}
		if after := len(svc.smsOutbox()); after != before {
			t.Errorf("an SMS was sent for an unknown reference")
		}
	})
}

// TestOTPAbuseDefaults: with the default settings, a client cannot dodge
// the per-IP limits with forwarding headers (none is trusted unless
// configured), a second OTP to one mobile waits for the cooldown, and the
// request rate per IP holds.
func TestOTPAbuseDefaults(t *testing.T) {
	svc := startService(t, serviceOptions{})
	mobile := newMobile()
	if r := otpStart(t, svc, mobile, "198.51.100.1"); r.status != http.StatusOK {
		t.Fatalf("first OTP: %d %s", r.status, r.body)
	}
	expectProblem(t, "second OTP within the cooldown", otpStart(t, svc, mobile, "198.51.100.2"), "otp-cooldown", http.StatusTooManyRequests)
	limited := 0
	for i := range 15 {
		c := svc.client("")
		r, err := c.do("POST", "/api/v1/auth/otp", map[string]string{"mobile": newMobile()},
			"X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i), "X-Real-IP", fmt.Sprintf("203.0.114.%d", i))
		if err != nil {
			t.Fatal(err)
		}
		if r.status == http.StatusTooManyRequests {
			limited++
			if r.header.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
		}
	}
	if limited == 0 {
		t.Error("17 OTP requests in a burst from one address, with spoofed forwarding headers, were never rate limited")
	}
}

// jwtParts splits a compact JWT and decodes its header and claims.
func jwtParts(t *testing.T, token string) (header, claims map[string]any, sig string) {
	t.Helper()
	p := strings.Split(token, ".")
	if len(p) != 3 {
		t.Fatalf("not a JWT: %q", token)
	}
	for i, dst := range []*map[string]any{&header, &claims} {
		b, err := b64u.DecodeString(p[i])
		if err != nil || json.Unmarshal(b, dst) != nil {
			t.Fatalf("JWT part %d: %v", i, err)
		}
	}
	return header, claims, p[2]
}

func encodeJWT(t *testing.T, header, claims map[string]any, sig string) string {
	t.Helper()
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(claims)
	return b64u.EncodeToString(h) + "." + b64u.EncodeToString(c) + "." + sig
}

// signJWT signs header.claims with an ES256 key, as an attacker holding
// some other key would.
func signJWT(t *testing.T, header, claims map[string]any, key *ecdsa.PrivateKey) string {
	t.Helper()
	unsigned := encodeJWT(t, header, claims, "")
	unsigned = strings.TrimSuffix(unsigned, ".")
	d := sha256.Sum256([]byte(unsigned))
	r, s, err := ecdsa.Sign(rand.Reader, key, d[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return unsigned + "." + b64u.EncodeToString(sig)
}

// TestTokenAbuse: tampered, forged, expired and misdirected session tokens
// are refused with 401 problem+json, on a citizen's read and on an admin
// action alike; a certificate-signing key cannot sign a login.
func TestTokenAbuse(t *testing.T) {
	f := newFlow(t)
	data := f.svc.data
	header, claims, sig := jwtParts(t, f.citizenA)
	authKeys, err := keys.OpenFileStore(filepath.Join(data, registration.AuthKeysDir), nil)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := authKeys.ActiveSigner()
	if err != nil {
		t.Fatal(err)
	}
	pub := signer.Public().(*ecdsa.PublicKey)
	der, _ := x509.MarshalPKIXPublicKey(pub)

	attacker, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	asAdmin := func() map[string]any {
		c := map[string]any{}
		for k, v := range claims {
			c[k] = v
		}
		c["role"] = "admin"
		return c
	}
	with := func(h map[string]any, k string, v any) map[string]any {
		out := map[string]any{}
		for kk, vv := range h {
			out[kk] = vv
		}
		out[k] = v
		return out
	}
	hs256 := func(secret []byte) string {
		h := with(header, "alg", "HS256")
		unsigned := strings.TrimSuffix(encodeJWT(t, h, asAdmin(), ""), ".")
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(unsigned))
		return unsigned + "." + b64u.EncodeToString(m.Sum(nil))
	}

	// A token signed with the service's own certificate-signing key.
	certKeys, err := keys.OpenFileStore(filepath.Join(data, "keys"), nil)
	if err != nil {
		t.Fatal(err)
	}
	certSigner, err := certKeys.ActiveSigner()
	if err != nil {
		t.Fatal(err)
	}
	certToken, err := jwt.Sign(mustToken(t, asAdmin()), jwt.WithKey(jwa.ES256(), certSigner, jws.WithProtectedHeaders(kidHeader(t, certSigner.KID()))))
	if err != nil {
		t.Fatal(err)
	}

	// Real keys, wrong claims: expired, another issuer.
	expiredTokens := registration.NewTokens(authKeys, testIssuerURL)
	expiredTokens.SetClock(func() time.Time { return time.Now().Add(-time.Hour) })
	expired, _, err := expiredTokens.Issue(registration.Principal{AccountID: claims["sub"].(string), Role: registration.Citizen})
	if err != nil {
		t.Fatal(err)
	}
	foreign, _, err := registration.NewTokens(authKeys, "https://evil.example").Issue(registration.Principal{AccountID: claims["sub"].(string), Role: registration.Admin})
	if err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name, token, slug string
	}{
		{"role changed to admin, signature kept", encodeJWT(t, header, asAdmin(), sig), "token-invalid"},
		{"subject changed to another account", encodeJWT(t, header, with(claims, "sub", "00000000-0000-0000-0000-000000000000"), sig), "token-invalid"},
		{"alg none", encodeJWT(t, with(header, "alg", "none"), asAdmin(), ""), "token-invalid"},
		{"alg none with the old signature", encodeJWT(t, with(header, "alg", "none"), asAdmin(), sig), "token-invalid"},
		{"HS256 keyed with the public key (DER)", hs256(der), "token-invalid"},
		{"HS256 keyed with the public key (PEM)", hs256(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), "token-invalid"},
		{"signed by another key under the real kid", signJWT(t, header, asAdmin(), attacker), "token-invalid"},
		{"kid with path traversal", signJWT(t, with(header, "kid", "../keys/"+certSigner.KID()), asAdmin(), attacker), "token-invalid"},
		{"jwk header with the attacker's key", signJWT(t, with(with(header, "kid", "attacker"), "jwk", map[string]string{"kty": "EC", "crv": "P-256",
			"x": b64u.EncodeToString(attacker.X.FillBytes(make([]byte, 32))), "y": b64u.EncodeToString(attacker.Y.FillBytes(make([]byte, 32)))}), asAdmin(), attacker), "token-invalid"},
		{"jku header", signJWT(t, with(with(header, "kid", "attacker"), "jku", "http://127.0.0.1:1/jwks.json"), asAdmin(), attacker), "token-invalid"},
		{"signed with the certificate-signing key", string(certToken), "token-invalid"},
		{"expired an hour ago", expired, "token-expired"},
		{"issued for another issuer", foreign, "token-invalid"},
		{"garbage", "not.a.token", "token-invalid"},
		{"oversized", strings.Repeat("A", 5000) + "." + strings.Repeat("B", 5000) + "." + strings.Repeat("C", 100), "token-invalid"},
		{"empty signature", strings.Join(strings.Split(f.citizenA, ".")[:2], ".") + ".", "token-invalid"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, target := range []struct{ method, path string }{
				{"GET", "/api/v1/beneficiaries"},
				{"GET", "/api/v1/admin/certificates"},
			} {
				r, err := f.svc.client(c.token).do(target.method, target.path, nil)
				if err != nil {
					t.Fatal(err)
				}
				expectProblem(t, target.path, r, c.slug, http.StatusUnauthorized)
			}
			// The same token as the web session cookie.
			r, err := f.svc.client("").do("GET", "/api/v1/beneficiaries", nil, "Cookie", "vaxcert_session="+c.token)
			if err != nil {
				t.Fatal(err)
			}
			expectProblem(t, "cookie", r, "", http.StatusUnauthorized)
		})
	}
	// The untampered token still works: the refusals above are about the
	// tampering.
	f.svc.client(f.citizenA).must(t, http.StatusOK, "GET", "/api/v1/beneficiaries", nil)
}

func mustToken(t *testing.T, claims map[string]any) jwt.Token {
	t.Helper()
	tok := jwt.New()
	for k, v := range claims {
		if err := tok.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	return tok
}

func kidHeader(t *testing.T, kid string) jws.Headers {
	t.Helper()
	h := jws.NewHeaders()
	if err := h.Set(jws.KeyIDKey, kid); err != nil {
		t.Fatal(err)
	}
	return h
}

// access is one request that the caller must not be allowed to make.
type access struct {
	who          string
	token        string
	method, path string
	body         any
}

// TestRoleEscalation: citizens cannot act as vaccinators or admins,
// vaccinators not as admins or citizens, admins not as vaccinators; every
// attempt is 401/403 problem+json and changes nothing.
func TestRoleEscalation(t *testing.T) {
	f := newFlow(t)
	dose := doseBody(f.refA, 1, todayIST(), centreA)
	reason := map[string]string{"reason": "escalation test"}
	var cases []access
	adminOnly := []struct {
		method, path string
		body         any
	}{
		{"GET", "/api/v1/admin/certificates", nil},
		{"GET", "/api/v1/admin/certificates/" + f.certB, nil},
		{"POST", "/api/v1/admin/certificates/" + f.certB + "/revoke", reason},
		{"POST", "/api/v1/admin/beneficiaries/" + f.refB + "/corrections", map[string]string{"name": "Mallory", "reason": "x"}},
		{"POST", "/api/v1/admin/beneficiaries/" + f.refB + "/reissue", reason},
		{"PUT", "/api/v1/admin/centres/" + centreA, map[string]any{"name": "Taken Over", "pincode": "411001", "state_id": 21, "state_name": "Maharashtra", "district_id": 2101, "district_name": "Pune"}},
		{"POST", "/api/v1/admin/centres/import", "center_id,name,pincode,state_id,state_name,district_id,district_name\n"},
		{"POST", "/api/v1/admin/sessions", map[string]any{"center_id": centreA, "vaccine": "COVISHIELD"}},
	}
	for _, who := range []struct{ name, token string }{{"citizen", f.citizenA}, {"vaccinator", f.vaxA}} {
		for _, a := range adminOnly {
			cases = append(cases, access{who.name, who.token, a.method, a.path, a.body})
		}
	}
	cases = append(cases,
		access{"citizen", f.citizenA, "POST", "/api/v1/vaccinations", dose},
		access{"citizen", f.citizenA, "GET", "/api/v1/centres/" + centreA + "/appointments", nil},
		access{"admin", f.admin, "POST", "/api/v1/vaccinations", dose},
		access{"vaccinator", f.vaxA, "POST", "/api/v1/beneficiaries", map[string]string{"name": "X Y", "gender": "male", "birth_date": "1980-01-01", "photo_id_type": "aadhaar", "photo_id_number": newAadhaar()}},
		access{"vaccinator", f.vaxA, "GET", "/api/v1/certificates", nil},
		access{"vaccinator", f.vaxA, "GET", "/api/v1/certificates/" + f.certB + ".smart-health-card", nil},
		access{"admin", f.admin, "GET", "/api/v1/certificates/" + f.certB + ".pdf", nil},
		access{"anonymous", "", "GET", "/api/v1/admin/certificates", nil},
		access{"anonymous", "", "POST", "/api/v1/vaccinations", dose},
		access{"anonymous", "", "GET", "/api/v1/certificates/" + f.certB + ".smart-health-card", nil},
	)
	for _, c := range cases {
		r, err := f.svc.client(c.token).do(c.method, c.path, c.body, "Idempotency-Key", newKey())
		if err != nil {
			t.Fatal(err)
		}
		expectProblem(t, c.who+" "+c.method+" "+c.path, r, "", http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound)
	}
	// Nothing changed: the certificate is not revoked, the name is as
	// registered, no dose was recorded for A.
	var cert struct {
		Status string `json:"status"`
	}
	f.svc.client(f.admin).must(t, http.StatusOK, "GET", "/api/v1/admin/certificates/"+f.certB, nil).decode(t, &cert)
	if cert.Status != "issued" {
		t.Errorf("certificate %s is %s after the escalation attempts", f.certB, cert.Status)
	}
	f.checkUnchanged(t)
}

// checkUnchanged checks that B's beneficiaries, B2's appointment and the
// certificate are as newFlow left them, and that A has no dose.
func (f *flow) checkUnchanged(t *testing.T) {
	t.Helper()
	var b struct {
		Name  string `json:"name"`
		Doses []any  `json:"doses"`
	}
	f.svc.client(f.citizenB).must(t, http.StatusOK, "GET", "/api/v1/beneficiaries/"+f.refB, nil).decode(t, &b)
	if b.Name != "Bela Iyer" || len(b.Doses) != 1 {
		t.Errorf("B's beneficiary changed: %+v", b)
	}
	var appt struct {
		Status  string `json:"status"`
		Session string `json:"session_id"`
	}
	f.svc.client(f.citizenB).must(t, http.StatusOK, "GET", "/api/v1/appointments/"+f.apptB2, nil).decode(t, &appt)
	if appt.Status != "booked" || appt.Session != f.sessionA {
		t.Errorf("B's appointment changed: %+v", appt)
	}
	var a struct {
		Doses []any `json:"doses"`
	}
	f.svc.client(f.citizenA).must(t, http.StatusOK, "GET", "/api/v1/beneficiaries/"+f.refA, nil).decode(t, &a)
	if len(a.Doses) != 0 {
		t.Errorf("A's beneficiary has %d doses", len(a.Doses))
	}
	f.svc.client(f.citizenB).must(t, http.StatusOK, "GET", "/api/v1/certificates/"+f.certB+".smart-health-card", nil)
}

// TestObjectLevelAccess: citizen A tries every resource of citizen B
// (beneficiaries, appointments, slips, certificates in every format, the
// certificate list filter, download grants), and vaccinator B the
// appointments and doses of centre A. Every attempt is refused and nothing
// of B's changes; the lists A gets hold only A's own.
func TestObjectLevelAccess(t *testing.T) {
	f := newFlow(t)
	update := map[string]string{"name": "Mallory", "gender": "male", "birth_date": "1970-01-01"}
	move := map[string]string{"session_id": f.sessionA, "slot": f.slot}
	var cases []access
	for _, a := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/api/v1/beneficiaries/" + f.refB, nil},
		{"PUT", "/api/v1/beneficiaries/" + f.refB, update},
		{"DELETE", "/api/v1/beneficiaries/" + f.refB2, nil},
		{"GET", "/api/v1/appointments/" + f.apptB2, nil},
		{"GET", "/api/v1/appointments/" + f.apptB2 + "/slip", nil},
		{"POST", "/api/v1/appointments/" + f.apptB2 + "/reschedule", move},
		{"POST", "/api/v1/appointments/" + f.apptB2 + "/cancel", nil},
		{"POST", "/api/v1/appointments", map[string]string{"beneficiary_reference_id": f.refB, "session_id": f.sessionA, "slot": f.slot}},
		{"GET", "/api/v1/certificates?beneficiary_reference_id=" + f.refB, nil},
		{"GET", "/api/v1/certificates/" + f.certB + ".smart-health-card", nil},
		{"GET", "/api/v1/certificates/" + f.certB + ".pdf", nil},
		{"GET", "/api/v1/certificates/" + f.certB + ".png", nil},
		{"GET", "/api/v1/certificates/" + f.certB + ".fhir.json", nil},
		{"GET", "/api/v1/certificates/" + f.certB + ".pdf?variant=travel", nil},
	} {
		cases = append(cases, access{"citizen A", f.citizenA, a.method, a.path, a.body})
	}
	cases = append(cases,
		access{"vaccinator B", f.vaxB, "POST", "/api/v1/vaccinations", doseBody(f.refA, 1, todayIST(), centreA)},
		access{"vaccinator B", f.vaxB, "GET", "/api/v1/centres/" + centreA + "/appointments", nil},
		access{"vaccinator B", f.vaxB, "GET", "/api/v1/appointments/" + f.apptB2, nil},
		access{"vaccinator B", f.vaxB, "GET", "/api/v1/appointments/" + f.apptB2 + "/slip", nil},
		access{"vaccinator A", f.vaxA, "POST", "/api/v1/vaccinations", doseBody(f.refA, 1, todayIST(), centreB)},
	)
	for _, c := range cases {
		r, err := f.svc.client(c.token).do(c.method, c.path, c.body, "Idempotency-Key", newKey())
		if err != nil {
			t.Fatal(err)
		}
		expectProblem(t, c.who+" "+c.method+" "+c.path, r, "", http.StatusForbidden, http.StatusNotFound)
	}

	// The lists A gets name only A's own.
	for _, path := range []string{"/api/v1/beneficiaries", "/api/v1/appointments", "/api/v1/certificates"} {
		body := f.svc.client(f.citizenA).must(t, http.StatusOK, "GET", path, nil).body
		for _, theirs := range []string{f.refB, f.refB2, f.apptB2, f.certB} {
			if strings.Contains(string(body), theirs) {
				t.Errorf("GET %s as A lists B's %s", path, theirs)
			}
		}
	}
	f.checkUnchanged(t)

	// A download grant for A's own beneficiary (once it has a certificate)
	// does not open B's certificate, and a forged grant opens nothing.
	var recA recordedView
	f.svc.client(f.vaxA).must(t, http.StatusCreated, "POST", "/api/v1/vaccinations", doseBody(f.refA, 1, todayIST(), centreA), "Idempotency-Key", newKey()).decode(t, &recA)
	txn, otp := f.svc.requestOTPForRef(t, f.refA, f.mobileA)
	var grant struct {
		Access string `json:"access"`
	}
	f.svc.client("").must(t, http.StatusOK, "POST", "/api/v1/certificates/public/confirm", map[string]string{"txn_id": txn, "otp": otp}).decode(t, &grant)
	if grant.Access == "" {
		t.Fatal("no download grant for A's own beneficiary")
	}
	// The grant works for what it grants.
	f.svc.client("").must(t, http.StatusOK, "GET", "/api/v1/certificates/"+recA.Certificate.ID+".smart-health-card?access="+grant.Access, nil)
	for _, ext := range []string{".smart-health-card", ".pdf", ".png", ".fhir.json"} {
		r, err := f.svc.client("").do("GET", "/api/v1/certificates/"+f.certB+ext+"?access="+grant.Access, nil)
		if err != nil {
			t.Fatal(err)
		}
		expectProblem(t, "A's grant on B's certificate"+ext, r, "", http.StatusForbidden, http.StatusNotFound)
	}
	forged := []string{"x", strings.Repeat("A", 40) + "." + strings.Repeat("B", 22)}
	if p := strings.Split(grant.Access, "."); len(p) == 2 {
		// A's grant with B's reference swapped in, the MAC kept.
		if raw, err := b64u.DecodeString(p[0]); err == nil {
			forged = append(forged, b64u.EncodeToString([]byte(strings.Replace(string(raw), f.refA, f.refB, 1)))+"."+p[1])
		}
	}
	for _, g := range forged {
		r, err := f.svc.client("").do("GET", "/api/v1/certificates/"+f.certB+".smart-health-card?access="+g, nil)
		if err != nil {
			t.Fatal(err)
		}
		expectProblem(t, "forged grant "+g, r, "", http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound)
	}
}

// requestOTPForRef starts the public certificate-download OTP for a
// beneficiary and returns the OTP sent to its owner's mobile.
func (s *service) requestOTPForRef(t *testing.T, ref, mobile string) (txn, otp string) {
	t.Helper()
	outboxMu.Lock()
	defer outboxMu.Unlock()
	before := len(s.smsOutbox())
	var out struct {
		TxnID string `json:"txn_id"`
	}
	s.client("").must(t, http.StatusOK, "POST", "/api/v1/certificates/public/otp", map[string]string{"beneficiary_reference_id": ref}).decode(t, &out)
	var msg string
	waitFor(t, 30*time.Second, "the certificate OTP SMS", func() bool {
		msgs := s.smsOutbox()
		for _, m := range msgs[min(before, len(msgs)):] {
			if m.To == mobile {
				msg = m.Text
			}
		}
		return msg != ""
	})
	return out.TxnID, otpPattern.FindString(msg)
}

// requestOTPFrom is requestOTP from a given client IP (X-Real-IP).
func (s *service) requestOTPFrom(t *testing.T, mobile, ip string) (txn, otp string) {
	t.Helper()
	outboxMu.Lock()
	defer outboxMu.Unlock()
	before := len(s.smsOutbox())
	r := otpStart(t, s, mobile, ip)
	if r.status != http.StatusOK {
		t.Fatalf("OTP for %s: %d %s", mobile, r.status, r.body)
	}
	var out struct {
		TxnID string `json:"txn_id"`
	}
	r.decode(t, &out)
	var msg string
	waitFor(t, 30*time.Second, "the OTP SMS", func() bool {
		msgs := s.smsOutbox()
		for _, m := range msgs[min(before, len(msgs)):] {
			if m.To == mobile {
				msg = m.Text
			}
		}
		return msg != ""
	})
	return out.TxnID, otpPattern.FindString(msg)
}

// TestOversizedAndMalformedBodies: bodies over the limit are 413
// problem+json whether or not they announce their length, huge headers are
// refused, and deeply nested JSON is a 400.
func TestOversizedAndMalformedBodies(t *testing.T) {
	f := newFlow(t)
	big := `{"name":"` + strings.Repeat("a", 2<<20) + `"}`
	for _, c := range []struct{ token, path string }{
		{f.citizenA, "/api/v1/beneficiaries"},
		{f.vaxA, "/api/v1/vaccinations"},
		{"", "/api/v1/auth/otp"},
		{"", "/api/v1/auth/otp/confirm"},
		{f.admin, "/api/v1/admin/sessions"},
	} {
		r, err := f.svc.client(c.token).do("POST", c.path, big, "Idempotency-Key", newKey())
		if err != nil {
			t.Fatal(err)
		}
		expectProblem(t, "2 MiB body to "+c.path, r, "body-too-large", http.StatusRequestEntityTooLarge)

		// The same without Content-Length (chunked): the limit applies as
		// the body is read.
		req, _ := http.NewRequest("POST", f.svc.url+c.path, struct{ *strings.Reader }{strings.NewReader(big)})
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", newKey())
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("chunked 2 MiB body to %s: status %d, want 413", c.path, resp.StatusCode)
		}
	}
	deep := strings.Repeat("[", 400000) + strings.Repeat("]", 400000)
	r, err := f.svc.client(f.citizenA).do("POST", "/api/v1/beneficiaries", deep)
	if err != nil {
		t.Fatal(err)
	}
	expectProblem(t, "deeply nested JSON", r, "", http.StatusBadRequest)
	r, err = f.svc.client(f.citizenA).do("POST", "/api/v1/beneficiaries", "{\"name\":\"\xff\xfe\",\"gender\":\"male\",\"birth_date\":\"1980-01-01\",\"photo_id_type\":\"aadhaar\",\"photo_id_number\":\""+newAadhaar()+"\"}")
	if err != nil {
		t.Fatal(err)
	}
	expectProblem(t, "malformed UTF-8 in a name", r, "", http.StatusBadRequest)

	// A 100 KB header: refused before any handler runs.
	conn, err := net.Dial("tcp", f.svc.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\n\r\n", strings.Repeat("h", 100<<10))
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	line := make([]byte, 12)
	if _, err := conn.Read(line); err != nil || !strings.Contains(string(line), "431") {
		t.Errorf("100 KB header: %q %v, want 431", line, err)
	}
}
