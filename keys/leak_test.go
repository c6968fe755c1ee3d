package keys

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Private key material and the passphrase must not show in any JSON, log, error or fmt output.
func TestNoPrivateMaterialInOutput(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	pass := []byte("hunter2-passphrase")
	s := openTestStore(t, dir, pass)
	k := mustEnsure(t, s)
	sg, _ := s.ActiveSigner()

	data, _ := os.ReadFile(filepath.Join(dir, k.KID+".pem"))
	priv, err := decodeKeyPEM(data, pass, maxPBKDF2Iterations)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := priv.Bytes()
	forbidden := []string{
		hex.EncodeToString(d), strings.ToUpper(hex.EncodeToString(d)),
		base64.StdEncoding.EncodeToString(d), base64.RawURLEncoding.EncodeToString(d),
		string(d), priv.D.String(), // decimal, as fmt prints a big.Int
		string(pass), hex.EncodeToString(pass), fmt.Sprint(pass), // fmt prints []byte as [104 117 …]
	}
	// A smaller window too: any 8-byte slice of the scalar in hex would betray it.
	for i := 0; i+8 <= len(d); i += 8 {
		forbidden = append(forbidden, hex.EncodeToString(d[i:i+8]))
	}

	var out bytes.Buffer
	values := []any{s, sg, k, s.List(), s.JWKS(nil), &k, s.passphrase, struct{ P redacted }{s.passphrase}}
	for _, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
			fmt.Fprintf(&out, verb+"\n", v)
		}
		j, _ := json.Marshal(v)
		out.Write(j)
		out.WriteByte('\n')
	}
	logger := slog.New(slog.NewJSONHandler(&out, nil))
	logger.Info("keys", "store", s, "signer", sg, "key", k, "list", s.List())
	slog.New(slog.NewTextHandler(&out, nil)).Info("keys", "store", s, "signer", sg, "key", k)

	// Errors: wrong passphrase, corrupt file, and a signer misuse.
	if _, err := OpenFileStore(dir, []byte("wrong")); err != nil {
		out.WriteString(err.Error())
	}
	if _, err := sg.Sign(nil, []byte("short"), nil); err != nil {
		out.WriteString(err.Error())
	}
	dump := out.String()
	if !strings.Contains(dump, k.KID) {
		t.Fatal("the output does not even contain the kid; the test is not looking at anything")
	}
	for _, f := range forbidden {
		if strings.Contains(dump, f) {
			t.Errorf("output contains private material %q", f)
		}
	}
	if strings.Contains(dump, `"d"`) {
		t.Error(`output contains a "d" member`)
	}
}
