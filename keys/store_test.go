package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestGeneratePersistReopen(t *testing.T) {
	for _, pass := range [][]byte{nil, []byte("correct horse battery staple")} {
		t.Run("encrypted="+map[bool]string{false: "no", true: "yes"}[pass != nil], func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data", "keys")
			s := openTestStore(t, dir, pass)
			if len(s.List()) != 0 {
				t.Fatalf("new store lists %v", s.List())
			}
			if _, err := s.ActiveSigner(); !errors.Is(err, ErrNoActiveKey) {
				t.Errorf("ActiveSigner on an empty store: %v, want ErrNoActiveKey", err)
			}
			k, created, err := s.EnsureActive()
			if err != nil || !created {
				t.Fatalf("EnsureActive = %v, %v, %v; want a created key", k, created, err)
			}
			if k.State != StateActive || len(k.KID) != 43 || k.KID != Thumbprint(k.Public) || k.Created.IsZero() {
				t.Errorf("new key %+v: want active, kid = 43-character thumbprint, creation time", k)
			}
			again, created, err := s.EnsureActive()
			if err != nil || created || again.KID != k.KID {
				t.Errorf("second EnsureActive = %v, %v, %v; want the same key, not created", again.KID, created, err)
			}

			if runtime.GOOS != "windows" {
				for _, name := range []string{"", k.KID + ".pem", k.KID + ".json"} {
					info, err := os.Stat(filepath.Join(dir, name))
					if err != nil {
						t.Fatal(err)
					}
					want := os.FileMode(0o600)
					if name == "" {
						want = 0o700 | os.ModeDir
					}
					if info.Mode() != want {
						t.Errorf("%s mode %v, want %v", filepath.Join(dir, name), info.Mode(), want)
					}
				}
			}
			keyPEM, _ := os.ReadFile(filepath.Join(dir, k.KID+".pem"))
			wantType := "-----BEGIN PRIVATE KEY-----"
			if pass != nil {
				wantType = "-----BEGIN ENCRYPTED PRIVATE KEY-----"
			}
			if !strings.HasPrefix(string(keyPEM), wantType) {
				t.Errorf("key file starts %.40q, want %s", keyPEM, wantType)
			}

			reopened := openTestStore(t, dir, pass)
			if !slices.Equal(kidsOf(reopened.List()), []string{k.KID}) {
				t.Errorf("after reopen List = %v, want [%s]", kidsOf(reopened.List()), k.KID)
			}
			got, ok := reopened.Lookup(k.KID)
			if !ok || got.State != StateActive || !got.Created.Equal(k.Created) || !got.Public.Equal(k.Public) {
				t.Errorf("after reopen Lookup = %+v, %v; want %+v", got, ok, k)
			}
			if err := reopened.SelfCheck(); err != nil {
				t.Errorf("SelfCheck: %v", err)
			}
			// A signature made before the reopen verifies with the reopened key.
			sg, _ := s.ActiveSigner()
			digest := sha256.Sum256([]byte("persisted"))
			sig, err := sg.Sign(rand.Reader, digest[:], crypto.SHA256)
			if err != nil {
				t.Fatal(err)
			}
			if !ecdsa.VerifyASN1(got.Public, digest[:], sig) {
				t.Error("signature from before the reopen does not verify with the reopened key")
			}
		})
	}
}

func TestLifecycle(t *testing.T) {
	s := openTestStore(t, "", nil)
	k1 := mustEnsure(t, s)
	k2 := mustRotate(t, s)
	k3 := mustRotate(t, s)

	type want struct {
		states map[string]State
		jwks   []string
		signer string // kid of ActiveSigner, "" for ErrNoActiveKey
	}
	check := func(t *testing.T, w want) {
		t.Helper()
		for kid, st := range w.states {
			if k, ok := s.Lookup(kid); !ok || k.State != st {
				t.Errorf("%s: state %q, want %q", kid, k.State, st)
			}
		}
		var published []string
		for _, j := range s.JWKS(nil).Keys {
			published = append(published, j.KID)
		}
		if !slices.Equal(published, w.jwks) {
			t.Errorf("JWKS kids %v, want %v", published, w.jwks)
		}
		sg, err := s.ActiveSigner()
		switch {
		case w.signer == "" && !errors.Is(err, ErrNoActiveKey):
			t.Errorf("ActiveSigner: %v, want ErrNoActiveKey", err)
		case w.signer != "" && (err != nil || sg.KID() != w.signer):
			t.Errorf("ActiveSigner = %v, %v; want %s", sg, err, w.signer)
		}
		if !slices.IsSortedFunc(s.List(), func(a, b Key) int { return a.Created.Compare(b.Created) }) {
			t.Errorf("List not oldest first: %v", kidsOf(s.List()))
		}
	}

	check(t, want{
		states: map[string]State{k1.KID: StateRetired, k2.KID: StateRetired, k3.KID: StateActive},
		jwks:   []string{k1.KID, k2.KID, k3.KID}, signer: k3.KID,
	})

	steps := []struct {
		name    string
		op      func() error
		wantErr error
		want    want
	}{
		{"retire the only active key", func() error { return s.Retire(k3.KID) }, ErrLastActiveKey, want{
			states: map[string]State{k3.KID: StateActive}, jwks: []string{k1.KID, k2.KID, k3.KID}, signer: k3.KID}},
		{"retire a retired key", func() error { return s.Retire(k1.KID) }, nil, want{
			states: map[string]State{k1.KID: StateRetired}, jwks: []string{k1.KID, k2.KID, k3.KID}, signer: k3.KID}},
		{"revoke a retired key", func() error { return s.Revoke(k1.KID) }, nil, want{
			states: map[string]State{k1.KID: StateRevoked}, jwks: []string{k2.KID, k3.KID}, signer: k3.KID}},
		{"revoke again", func() error { return s.Revoke(k1.KID) }, nil, want{
			states: map[string]State{k1.KID: StateRevoked}, jwks: []string{k2.KID, k3.KID}, signer: k3.KID}},
		{"retire a revoked key", func() error { return s.Retire(k1.KID) }, ErrKeyRevoked, want{
			states: map[string]State{k1.KID: StateRevoked}, jwks: []string{k2.KID, k3.KID}, signer: k3.KID}},
		{"retire an unknown key", func() error { return s.Retire("nope") }, ErrUnknownKey, want{
			jwks: []string{k2.KID, k3.KID}, signer: k3.KID}},
		{"revoke an unknown key", func() error { return s.Revoke(strings.Repeat("A", 43)) }, ErrUnknownKey, want{
			jwks: []string{k2.KID, k3.KID}, signer: k3.KID}},
		{"revoke the only active key", func() error { return s.Revoke(k3.KID) }, nil, want{
			states: map[string]State{k3.KID: StateRevoked}, jwks: []string{k2.KID}, signer: ""}},
		{"self-check without an active key", s.SelfCheck, ErrNoActiveKey, want{jwks: []string{k2.KID}}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			err := st.op()
			if !errors.Is(err, st.wantErr) || (st.wantErr == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, st.wantErr)
			}
			check(t, st.want)
		})
	}

	t.Run("EnsureActive after everything was revoked or retired", func(t *testing.T) {
		k4, created, err := s.EnsureActive()
		if err != nil || !created {
			t.Fatalf("EnsureActive = %v, %v", created, err)
		}
		check(t, want{states: map[string]State{k4.KID: StateActive, k2.KID: StateRetired}, jwks: []string{k2.KID, k4.KID}, signer: k4.KID})
	})

	t.Run("two active keys (interrupted rotation): newest signs, the other may retire", func(t *testing.T) {
		// Simulate a crash between writing a new key and retiring the old: create without retiring.
		s.mu.Lock()
		k5, err := s.createLocked()
		s.mu.Unlock()
		if err != nil {
			t.Fatal(err)
		}
		k4 := s.List()[len(s.List())-2]
		check(t, want{states: map[string]State{k4.KID: StateActive, k5.KID: StateActive}, signer: k5.KID,
			jwks: []string{k2.KID, k4.KID, k5.KID}})
		if err := s.SelfCheck(); err != nil {
			t.Errorf("SelfCheck: %v", err)
		}
		if err := s.Retire(k4.KID); err != nil {
			t.Fatalf("Retire: %v", err)
		}
		check(t, want{states: map[string]State{k4.KID: StateRetired}, signer: k5.KID, jwks: []string{k2.KID, k4.KID, k5.KID}})
	})
}

func TestSigner(t *testing.T) {
	s := openTestStore(t, "", nil)
	k := mustEnsure(t, s)
	sg, err := s.ActiveSigner()
	if err != nil {
		t.Fatal(err)
	}
	if sg.KID() != k.KID || !sg.Public().(*ecdsa.PublicKey).Equal(k.Public) {
		t.Fatalf("signer %s does not match key %s", sg.KID(), k.KID)
	}
	digest := sha256.Sum256([]byte("payload"))
	tests := []struct {
		name   string
		digest []byte
		opts   crypto.SignerOpts
		ok     bool
	}{
		{"SHA-256", digest[:], crypto.SHA256, true},
		{"nil opts", digest[:], nil, false},
		{"SHA-384 opts", digest[:], crypto.SHA384, false},
		{"short digest", digest[:31], crypto.SHA256, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sig, err := sg.Sign(rand.Reader, tt.digest, tt.opts)
			if (err == nil) != tt.ok {
				t.Fatalf("Sign err = %v, want ok=%v", err, tt.ok)
			}
			if tt.ok && !ecdsa.VerifyASN1(k.Public, tt.digest, sig) {
				t.Error("signature does not verify")
			}
		})
	}

	t.Run("a retired key stops signing", func(t *testing.T) {
		mustRotate(t, s)
		if _, err := sg.Sign(rand.Reader, digest[:], crypto.SHA256); !errors.Is(err, ErrKeyNotActive) {
			t.Errorf("Sign with a retired key: %v, want ErrKeyNotActive", err)
		}
	})
}

func TestBadPermissions(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permission bits")
	}
	tests := []struct {
		file string // suffix of the file to loosen
		mode os.FileMode
	}{
		{".pem", 0o640},
		{".pem", 0o604},
		{".pem", 0o620},
		{".pem", 0o644},
		{".json", 0o644},
		{".json", 0o660},
	}
	for _, tt := range tests {
		t.Run(tt.file+"_"+tt.mode.String(), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "keys")
			s := openTestStore(t, dir, nil)
			k := mustEnsure(t, s)
			path := filepath.Join(dir, k.KID+tt.file)
			if err := os.Chmod(path, tt.mode); err != nil {
				t.Fatal(err)
			}
			_, err := OpenFileStore(dir, nil)
			checkOneLineNaming(t, err, path)
			// A running store refuses the change (a chmod changes the file's stamp) and keeps its view.
			err = s.Reload()
			checkOneLineNaming(t, err, path)
			if _, err := s.ActiveSigner(); err != nil {
				t.Errorf("after a refused Reload ActiveSigner: %v", err)
			}
		})
	}
	t.Run("directory writable by others", func(t *testing.T) {
		for _, mode := range []os.FileMode{0o770, 0o707, 0o777} {
			dir := filepath.Join(t.TempDir(), "keys")
			os.Mkdir(dir, 0o700)
			os.Chmod(dir, mode)
			_, err := OpenFileStore(dir, nil)
			checkOneLineNaming(t, err, dir)
			_, err = LoadOrCreateSecret(dir, "x.key")
			checkOneLineNaming(t, err, dir)
		}
	})
	t.Run("secret", func(t *testing.T) {
		dir := t.TempDir()
		if _, err := LoadOrCreateSecret(dir, "otp.key"); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "otp.key")
		os.Chmod(path, 0o640)
		_, err := LoadOrCreateSecret(dir, "otp.key")
		checkOneLineNaming(t, err, path)
	})
}

// writeOtherKey writes a valid key file for a different key, for the mismatch test.
func otherKeyPEM(t *testing.T) []byte {
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(priv)
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func TestCorruptFiles(t *testing.T) {
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p384DER, _ := x509.MarshalPKCS8PrivateKey(p384)
	sec1DER, _ := x509.MarshalECPrivateKey(p384)
	tests := []struct {
		name   string
		file   string // "pem", "json", or a file name to create
		mutate func(t *testing.T, kid string, old []byte) []byte
	}{
		{"garbage key", "pem", func(*testing.T, string, []byte) []byte { return []byte("not a key\n") }},
		{"empty key", "pem", func(*testing.T, string, []byte) []byte { return nil }},
		{"truncated key", "pem", func(_ *testing.T, _ string, old []byte) []byte { return old[:len(old)/2] }},
		{"flipped DER byte", "pem", func(t *testing.T, _ string, old []byte) []byte {
			b, _ := pem.Decode(old)
			b.Bytes[10] ^= 0xff
			return pem.EncodeToMemory(b)
		}},
		{"another key", "pem", func(t *testing.T, _ string, _ []byte) []byte { return otherKeyPEM(t) }},
		{"P-384 key", "pem", func(*testing.T, string, []byte) []byte {
			return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p384DER})
		}},
		{"SEC1 PEM type", "pem", func(*testing.T, string, []byte) []byte {
			return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1DER})
		}},
		{"trailing data", "pem", func(_ *testing.T, _ string, old []byte) []byte { return append(old, "junk"...) }},
		{"garbage metadata", "json", func(*testing.T, string, []byte) []byte { return []byte("{") }},
		{"unknown state", "json", func(_ *testing.T, kid string, _ []byte) []byte {
			return []byte(`{"kid":"` + kid + `","state":"paused","created":"2026-01-01T00:00:00Z"}`)
		}},
		{"no creation time", "json", func(_ *testing.T, kid string, _ []byte) []byte {
			return []byte(`{"kid":"` + kid + `","state":"active"}`)
		}},
		{"metadata kid mismatch", "json", func(*testing.T, string, []byte) []byte {
			return []byte(`{"kid":"` + strings.Repeat("B", 43) + `","state":"active","created":"2026-01-01T00:00:00Z"}`)
		}},
		{"metadata without key file", strings.Repeat("C", 43) + ".json", func(*testing.T, string, []byte) []byte {
			return []byte(`{"kid":"` + strings.Repeat("C", 43) + `","state":"active","created":"2026-01-01T00:00:00Z"}`)
		}},
		{"key file not named by kid", "imported.pem", func(t *testing.T, _ string, _ []byte) []byte { return otherKeyPEM(t) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "keys")
			s := openTestStore(t, dir, nil)
			k := mustEnsure(t, s)
			name := tt.file
			if name == "pem" || name == "json" {
				name = k.KID + "." + name
			}
			path := filepath.Join(dir, name)
			old, _ := os.ReadFile(path)
			if err := os.WriteFile(path, tt.mutate(t, k.KID, old), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := OpenFileStore(dir, nil)
			checkOneLineNaming(t, err, path)

			err = s.Reload()
			checkOneLineNaming(t, err, path)
			if sg, err := s.ActiveSigner(); err != nil || sg.KID() != k.KID {
				t.Errorf("after a refused Reload the store lost its view: %v", err)
			}
		})
	}
}

func TestPassphrase(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	pass := []byte("s3cret passphrase")
	s := openTestStore(t, dir, pass)
	k := mustEnsure(t, s)
	keyPath := filepath.Join(dir, k.KID+".pem")

	tests := []struct {
		name    string
		pass    []byte
		wantErr string
	}{
		{"right passphrase", pass, ""},
		{"no passphrase", nil, "no passphrase"},
		{"wrong passphrase", []byte("s3cret passphrasE"), "wrong passphrase"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := OpenFileStore(dir, tt.pass)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if err := got.SelfCheck(); err != nil {
					t.Error(err)
				}
				return
			}
			checkOneLineNaming(t, err, keyPath)
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not say %q", err, tt.wantErr)
			}
		})
	}

	t.Run("unencrypted keys still load after a passphrase is introduced", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "keys")
		plain := mustEnsure(t, openTestStore(t, dir, nil))
		s := openTestStore(t, dir, pass)
		if k, ok := s.Lookup(plain.KID); !ok || k.State != StateActive {
			t.Fatalf("unencrypted key not loaded: %+v %v", k, ok)
		}
		fresh := mustRotate(t, s)
		data, _ := os.ReadFile(filepath.Join(dir, fresh.KID+".pem"))
		if !strings.HasPrefix(string(data), "-----BEGIN ENCRYPTED PRIVATE KEY-----") {
			t.Error("a key created with a passphrase is not encrypted")
		}
	})
}

func TestReloadSeesExternalChanges(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	server := openTestStore(t, dir, []byte("pw"))
	k1 := mustEnsure(t, server)
	signer1, _ := server.ActiveSigner()

	cli := openTestStore(t, dir, []byte("pw"))
	parsed := server.keyFilesParsed.Load()
	if err := server.Reload(); err != nil {
		t.Fatal(err)
	}
	if server.keyFilesParsed.Load() != parsed {
		t.Error("Reload with nothing changed on disk parsed key files again")
	}

	k2 := mustRotate(t, cli)
	if sg, _ := server.ActiveSigner(); sg.KID() != k1.KID {
		t.Fatal("the server saw the rotation before Reload")
	}
	if err := server.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := server.keyFilesParsed.Load() - parsed; got != 1 {
		t.Errorf("Reload after a rotation parsed %d key files, want only the new one", got)
	}
	if sg, _ := server.ActiveSigner(); sg.KID() != k2.KID {
		t.Errorf("after Reload ActiveSigner = %s, want %s", sg.KID(), k2.KID)
	}
	if k, _ := server.Lookup(k1.KID); k.State != StateRetired {
		t.Errorf("after Reload %s is %s, want retired", k1.KID, k.State)
	}
	digest := sha256.Sum256([]byte("x"))
	if _, err := signer1.Sign(rand.Reader, digest[:], crypto.SHA256); !errors.Is(err, ErrKeyNotActive) {
		t.Errorf("old signer after an external rotation: %v, want ErrKeyNotActive", err)
	}

	if err := cli.Revoke(k1.KID); err != nil {
		t.Fatal(err)
	}
	if err := server.Reload(); err != nil {
		t.Fatal(err)
	}
	if jwks := server.JWKS(nil); len(jwks.Keys) != 1 || jwks.Keys[0].KID != k2.KID {
		t.Errorf("after an external revocation JWKS = %+v, want only %s", jwks, k2.KID)
	}

	// A key file without metadata is a creation in progress: Reload must not fail on it.
	inProgress := otherKeyPEM(t)
	priv, _ := decodeKeyPEM(inProgress, nil, 1)
	if err := os.WriteFile(filepath.Join(dir, Thumbprint(&priv.PublicKey)+".pem"), inProgress, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, tempPrefix+"123"), []byte("partial"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := server.Reload(); err != nil {
		t.Errorf("Reload with a creation in progress: %v", err)
	}
	if len(server.List()) != 2 {
		t.Errorf("List = %v, want the two complete keys", kidsOf(server.List()))
	}
}

// Readers, signers, rotations and reloads at once: run with -race.
func TestConcurrentUse(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	s := openTestStore(t, dir, nil)
	mustEnsure(t, s)
	other := openTestStore(t, dir, nil)
	digest := sha256.Sum256([]byte("concurrent"))

	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, 100)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				sg, err := s.ActiveSigner()
				if err != nil {
					errs <- err
					return
				}
				sig, err := sg.Sign(rand.Reader, digest[:], crypto.SHA256)
				if errors.Is(err, ErrKeyNotActive) {
					continue // rotated between ActiveSigner and Sign
				}
				if err != nil || !ecdsa.VerifyASN1(sg.Public().(*ecdsa.PublicKey), digest[:], sig) {
					errs <- errors.New("bad signature")
					return
				}
				_ = s.JWKS(nil)
				_ = s.List()
			}
		}()
	}
	for range 5 {
		mustRotate(t, s)
		mustRotate(t, other)
		if err := s.Reload(); err != nil {
			t.Error(err)
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if err := s.SelfCheck(); err != nil {
		t.Error(err)
	}
	active := 0
	for _, k := range s.List() {
		if k.State == StateActive {
			active++
		}
	}
	if active != 1 || len(s.List()) != 11 {
		t.Errorf("after 10 rotations: %d keys, %d active; want 11 and 1", len(s.List()), active)
	}
}

func TestSecrets(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "secrets")
	a, err := LoadOrCreateSecret(dir, "otp.key")
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != SecretSize {
		t.Fatalf("secret is %d bytes", len(a))
	}
	if info, _ := os.Stat(filepath.Join(dir, "otp.key")); runtime.GOOS != "windows" && info.Mode() != 0o600 {
		t.Errorf("secret mode %v, want 0600", info.Mode())
	}
	again, err := LoadOrCreateSecret(dir, "otp.key")
	if err != nil || string(again) != string(a) {
		t.Errorf("second load = %x, %v; want the same secret", again, err)
	}
	b, err := LoadOrCreateSecret(dir, "rid.key")
	if err != nil || string(b) == string(a) {
		t.Errorf("another name gave %x, %v; want a different secret", b, err)
	}

	t.Run("bad names", func(t *testing.T) {
		for _, name := range []string{"", ".", "..", "a/b", `a\b`, "../x", tempPrefix + "x"} {
			if _, err := LoadOrCreateSecret(dir, name); err == nil {
				t.Errorf("name %q accepted", name)
			}
		}
	})
	t.Run("wrong length", func(t *testing.T) {
		path := filepath.Join(dir, "short.key")
		os.WriteFile(path, []byte("short"), 0o600)
		_, err := LoadOrCreateSecret(dir, "short.key")
		checkOneLineNaming(t, err, path)
	})
	t.Run("concurrent creation agrees", func(t *testing.T) {
		const n = 8
		got := make([][]byte, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var err error
				if got[i], err = LoadOrCreateSecret(dir, "race.key"); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		for i := 1; i < n; i++ {
			if string(got[i]) != string(got[0]) {
				t.Fatalf("creators disagree: %x vs %x", got[i], got[0])
			}
		}
	})
}

// The clock matters only for ordering; make sure real time works too (no fake clock).
func TestRealClockOrdering(t *testing.T) {
	s, err := OpenFileStore(filepath.Join(t.TempDir(), "k"), nil)
	if err != nil {
		t.Fatal(err)
	}
	var kids []string
	for range 3 {
		k, err := s.Rotate()
		if err != nil {
			t.Fatal(err)
		}
		kids = append(kids, k.KID)
		time.Sleep(time.Millisecond)
	}
	if !slices.Equal(kidsOf(s.List()), kids) {
		t.Errorf("List %v, want creation order %v", kidsOf(s.List()), kids)
	}
}
