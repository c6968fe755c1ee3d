package cose

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/fxamacker/cbor/v2"
)

var (
	p256Key = mustECDSA(elliptic.P256())
	p384Key = mustECDSA(elliptic.P384())
	rsaKey  = mustRSA(2048)
)

func mustECDSA(c elliptic.Curve) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

func mustRSA(bits int) *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		panic(err)
	}
	return k
}

// message describes a COSE_Sign1 to build in a test.
type message struct {
	protected   map[any]any // nil: empty byte string
	unprotected map[any]any
	payload     []byte
	signer      crypto.Signer // nil: a fixed garbage signature
	alg         int64         // how to sign: ES256 raw r‖s or PS256
	tags        []uint64      // outermost first
}

func (m message) encode(t testing.TB) []byte {
	t.Helper()
	prot := []byte{}
	if m.protected != nil {
		var err error
		if prot, err = cbor.Marshal(m.protected); err != nil {
			t.Fatal(err)
		}
	}
	unprot := m.unprotected
	if unprot == nil {
		unprot = map[any]any{}
	}
	sig := bytes.Repeat([]byte{0x42}, 64)
	if m.signer != nil {
		sig = sign(t, m.signer, m.alg, prot, m.payload)
	}
	var item any = []any{prot, unprot, m.payload, sig}
	for i := len(m.tags) - 1; i >= 0; i-- {
		item = cbor.Tag{Number: m.tags[i], Content: item}
	}
	out, err := cbor.Marshal(item)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sign(t testing.TB, signer crypto.Signer, alg int64, prot, payload []byte) []byte {
	t.Helper()
	digest := sha256.Sum256(SigStructure(prot, payload))
	switch alg {
	case AlgES256:
		k := signer.(*ecdsa.PrivateKey)
		r, s, err := ecdsa.Sign(rand.Reader, k, digest[:])
		if err != nil {
			t.Fatal(err)
		}
		size := (k.Curve.Params().BitSize + 7) / 8
		out := make([]byte, 2*size)
		r.FillBytes(out[:size])
		s.FillBytes(out[size:])
		return out
	case AlgPS256:
		sig, err := rsa.SignPSS(rand.Reader, signer.(*rsa.PrivateKey), crypto.SHA256, digest[:], &rsa.PSSOptions{SaltLength: 32})
		if err != nil {
			t.Fatal(err)
		}
		return sig
	}
	t.Fatalf("cannot sign alg %d", alg)
	return nil
}

var kid8 = []byte{1, 2, 3, 4, 5, 6, 7, 8}

func TestParseAndVerify(t *testing.T) {
	payload := []byte{0xa1, 0x01, 0x62, 'A', 'T'} // {1: "AT"}
	tests := []struct {
		name      string
		msg       message
		key       crypto.PublicKey
		parseErr  error // nil: parses
		verifyErr error // nil: verifies
		wantKID   []byte
		protKID   bool
		tagged    int
	}{
		{name: "ES256 tagged 18, kid protected",
			msg: message{protected: map[any]any{1: AlgES256, 4: kid8}, payload: payload, signer: p256Key, alg: AlgES256, tags: []uint64{18}},
			key: &p256Key.PublicKey, wantKID: kid8, protKID: true, tagged: 18},
		{name: "ES256 untagged",
			msg: message{protected: map[any]any{1: AlgES256}, unprotected: map[any]any{4: kid8}, payload: payload, signer: p256Key, alg: AlgES256},
			key: &p256Key.PublicKey, wantKID: kid8},
		{name: "CWT tag around COSE tag (CO28)",
			msg: message{protected: map[any]any{1: AlgES256, 4: kid8}, payload: payload, signer: p256Key, alg: AlgES256, tags: []uint64{61, 18}},
			key: &p256Key.PublicKey, wantKID: kid8, protKID: true, tagged: 61},
		{name: "PS256",
			msg: message{protected: map[any]any{1: AlgPS256, 4: kid8}, payload: payload, signer: rsaKey, alg: AlgPS256, tags: []uint64{18}},
			key: &rsaKey.PublicKey, wantKID: kid8, protKID: true, tagged: 18},
		{name: "empty protected header, alg and kid unprotected (CO20)",
			msg: message{unprotected: map[any]any{1: AlgES256, 4: kid8}, payload: payload, signer: p256Key, alg: AlgES256, tags: []uint64{18}},
			key: &p256Key.PublicKey, wantKID: kid8, tagged: 18},
		{name: "protected kid wins over unprotected (CO21/CO22)",
			msg: message{protected: map[any]any{1: AlgES256, 4: []byte("foo")}, unprotected: map[any]any{4: kid8}, payload: payload, signer: p256Key, alg: AlgES256},
			key: &p256Key.PublicKey, wantKID: []byte("foo"), protKID: true},
		{name: "protected alg wins over unprotected",
			msg: message{protected: map[any]any{1: AlgES256}, unprotected: map[any]any{1: AlgPS256}, payload: payload, signer: p256Key, alg: AlgES256},
			key: &p256Key.PublicKey},
		{name: "text header labels are ignored",
			msg: message{protected: map[any]any{1: AlgES256, "x-private": 1}, unprotected: map[any]any{"note": "hi"}, payload: payload, signer: p256Key, alg: AlgES256},
			key: &p256Key.PublicKey},
		{name: "tampered payload",
			msg: message{protected: map[any]any{1: AlgES256}, payload: payload, signer: nil},
			key: &p256Key.PublicKey, verifyErr: ErrSignature},
		{name: "signature longer than 64 bytes (CO24)",
			msg: message{protected: map[any]any{1: AlgES256}, payload: payload},
			key: &p256Key.PublicKey, verifyErr: ErrSignature},
		{name: "ES256 with an RSA key (CO27)",
			msg: message{protected: map[any]any{1: AlgES256}, payload: payload, signer: p256Key, alg: AlgES256},
			key: &rsaKey.PublicKey, verifyErr: ErrKeyMismatch},
		{name: "PS256 with an EC key (CO27)",
			msg: message{protected: map[any]any{1: AlgPS256}, payload: payload, signer: rsaKey, alg: AlgPS256},
			key: &p256Key.PublicKey, verifyErr: ErrKeyMismatch},
		{name: "ES256 with a P-384 key",
			msg: message{protected: map[any]any{1: AlgES256}, payload: payload, signer: p384Key, alg: AlgES256},
			key: &p384Key.PublicKey, verifyErr: ErrKeyMismatch},
		{name: "ES384 unsupported (CO4)",
			msg: message{protected: map[any]any{1: int64(-35)}, payload: payload},
			key: &p384Key.PublicKey, verifyErr: ErrUnsupportedAlg},
		{name: "text alg", msg: message{protected: map[any]any{1: "ES256"}, payload: payload}, parseErr: ErrMalformed},
		{name: "no alg", msg: message{unprotected: map[any]any{4: kid8}, payload: payload}, parseErr: ErrMalformed},
		{name: "kid not a byte string", msg: message{protected: map[any]any{1: AlgES256, 4: "kid"}, payload: payload}, parseErr: ErrMalformed},
		{name: "critical header", msg: message{protected: map[any]any{1: AlgES256, 2: []any{int64(99)}}, payload: payload}, parseErr: ErrMalformed},
		{name: "wrong tag", msg: message{protected: map[any]any{1: AlgES256}, payload: payload, tags: []uint64{98}}, parseErr: ErrMalformed},
		{name: "CWT tag without COSE tag", msg: message{protected: map[any]any{1: AlgES256}, payload: payload, tags: []uint64{61}}, parseErr: ErrMalformed},
		{name: "tags reversed", msg: message{protected: map[any]any{1: AlgES256}, payload: payload, tags: []uint64{18, 61}}, parseErr: ErrMalformed},
		{name: "tag 18 twice", msg: message{protected: map[any]any{1: AlgES256}, payload: payload, tags: []uint64{18, 18}}, parseErr: ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := tt.msg.encode(t)
			if tt.name == "signature longer than 64 bytes (CO24)" {
				// 72 bytes, as a DER-encoded ECDSA signature might be.
				data = replaceSignature(t, data, bytes.Repeat([]byte{0x30}, 72))
			}
			msg, err := Parse(data)
			if tt.parseErr != nil {
				if !errors.Is(err, tt.parseErr) {
					t.Fatalf("Parse: %v, want %v", err, tt.parseErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !bytes.Equal(msg.KID, tt.wantKID) || msg.KIDProtected != tt.protKID || msg.Tagged != tt.tagged {
				t.Errorf("kid %x (protected %v), tagged %d; want %x (%v), %d", msg.KID, msg.KIDProtected, msg.Tagged, tt.wantKID, tt.protKID, tt.tagged)
			}
			err = msg.Verify(tt.key)
			if tt.verifyErr == nil && err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if tt.verifyErr != nil && !errors.Is(err, tt.verifyErr) {
				t.Fatalf("Verify: %v, want %v", err, tt.verifyErr)
			}
		})
	}
}

func replaceSignature(t *testing.T, data, sig []byte) []byte {
	t.Helper()
	var items []cbor.RawMessage
	if err := cbor.Unmarshal(data, &items); err != nil {
		t.Fatal(err)
	}
	encSig, _ := cbor.Marshal(sig)
	items[3] = encSig
	out, err := cbor.Marshal(items)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestParseRejectsMalformed(t *testing.T) {
	valid := message{protected: map[any]any{1: AlgES256}, payload: []byte{0xa0}, signer: p256Key, alg: AlgES256}
	good := valid.encode(t)
	tests := []struct {
		name string
		hex  string
		data []byte
	}{
		{name: "empty"},
		{name: "not an array (CBO2)", hex: "00"},
		{name: "map", hex: "a0"},
		{name: "three elements", hex: "83404040"},
		{name: "five elements", hex: "854040404040"},
		{name: "unprotected not a map", hex: "8440404040"},
		{name: "protected not a map", hex: "844101a04040"},
		{name: "payload nil (detached)", hex: "8443a10126a0f640"},
		{name: "payload text", hex: "8443a10126a0614140"},
		{name: "signature missing", hex: "8443a10126a040"},
		{name: "duplicate protected label", hex: "8445a201260126a04040"},
		{name: "duplicate unprotected label", hex: "8443a10126a20441010441024040"},
		{name: "truncated", data: good[:len(good)-1]},
		{name: "trailing byte", data: append(bytes.Clone(good), 0x00)},
		{name: "too large", data: append([]byte{0x84}, make([]byte, MaxMessageSize)...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := tt.data
			if tt.hex != "" {
				var err error
				if data, err = hex.DecodeString(tt.hex); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := Parse(data); !errors.Is(err, ErrMalformed) {
				t.Fatalf("Parse(%x) = %v, want ErrMalformed", data, err)
			}
		})
	}
	if _, err := Parse(good); err != nil {
		t.Fatalf("control message: %v", err)
	}
}

// TestProtectedBytesAsReceived signs a protected header in a non-canonical
// encoding (a two-byte length where one would do). A verifier that
// re-encodes the header computes a different Sig_structure and fails: this is
// what broke old go-cose on CO1.
func TestProtectedBytesAsReceived(t *testing.T) {
	prot := []byte{0xa1, 0x01, 0x38, 0x24} // {1: -37}
	prot = append([]byte{0xb8, 0x01}, prot[1:]...)
	payload := []byte{0xa0}
	sig := sign(t, rsaKey, AlgPS256, prot, payload)
	data, err := cbor.Marshal([]any{prot, map[any]any{4: kid8}, payload, sig})
	if err != nil {
		t.Fatal(err)
	}
	msg, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if err := msg.Verify(&rsaKey.PublicKey); err != nil {
		t.Fatalf("Verify: %v", err)
	}
}

func TestSigStructureLayout(t *testing.T) {
	got := SigStructure([]byte{0xa1, 0x01, 0x26}, []byte("hi"))
	want, _ := hex.DecodeString("846a5369676e61747572653143a10126404268" + "69")
	if !bytes.Equal(got, want) {
		t.Fatalf("SigStructure = %x, want %x", got, want)
	}
	big := make([]byte, 300)
	got = SigStructure(nil, big)
	if !bytes.Equal(got[:16], append([]byte{0x84, 0x6a}, []byte("Signature1\x40\x40\x59\x01")...)) || got[16] != 0x2c || len(got) != 17+300 {
		t.Fatalf("SigStructure with 300-byte payload starts %x", got[:17])
	}
}

// FuzzParse feeds arbitrary bytes to Parse: it must never panic, and a
// message it accepts must have exactly the structure it promises.
func FuzzParse(f *testing.F) {
	payload := []byte{0xa1, 0x01, 0x62, 'A', 'T'}
	for _, m := range []message{
		{protected: map[any]any{1: AlgES256, 4: kid8}, payload: payload, signer: p256Key, alg: AlgES256, tags: []uint64{18}},
		{unprotected: map[any]any{1: AlgES256, 4: kid8}, payload: payload, signer: p256Key, alg: AlgES256},
		{protected: map[any]any{1: AlgPS256}, payload: payload, signer: rsaKey, alg: AlgPS256, tags: []uint64{61, 18}},
	} {
		f.Add(m.encode(f))
	}
	for _, h := range []string{"00", "84404040", "d28443a10126a0f640", "d83dd284a0a04040"} {
		b, _ := hex.DecodeString(h)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		msg, err := Parse(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error does not wrap ErrMalformed: %v", err)
			}
			return
		}
		if msg.Payload == nil || msg.Signature == nil {
			t.Fatalf("accepted message without payload or signature")
		}
		// Verification of junk must fail cleanly, never panic.
		_ = msg.Verify(&p256Key.PublicKey)
		_ = msg.Verify(&rsaKey.PublicKey)
	})
}

func BenchmarkVerifyES256(b *testing.B) {
	data := message{protected: map[any]any{1: AlgES256, 4: kid8}, payload: bytes.Repeat([]byte{0x40}, 300), signer: p256Key, alg: AlgES256, tags: []uint64{18}}.encode(b)
	for b.Loop() {
		msg, err := Parse(data)
		if err != nil {
			b.Fatal(err)
		}
		if err := msg.Verify(&p256Key.PublicKey); err != nil {
			b.Fatal(err)
		}
	}
}
