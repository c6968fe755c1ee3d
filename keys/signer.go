package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
)

// Signer is a signing key with its kid. Sign takes a SHA-256 digest and returns an ASN.1 DER ECDSA
// signature, as crypto.Signer does for ECDSA keys (a JWS needs r||s; converting is the caller's
// job). File keys implement it today; an HSM or cloud KMS can implement it later without changes
// to the issuer.
type Signer interface {
	crypto.Signer
	KID() string
}

// ErrKeyNotActive: the Signer's key was retired or revoked after the Signer was handed out.
var ErrKeyNotActive = errors.New("keys: key is no longer active")

// fileSigner signs with a key of a FileStore. It checks the store's current view before each
// signature, so a key revoked through the CLI stops signing at the server's next Reload even if a
// caller still holds the Signer. Printing it shows only the kid.
type fileSigner struct {
	store *FileStore
	kid   string
	pub   *ecdsa.PublicKey
	priv  *ecdsa.PrivateKey
}

func newFileSigner(s *FileStore, kid string, priv *ecdsa.PrivateKey) *fileSigner {
	pub := priv.PublicKey
	return &fileSigner{store: s, kid: kid, pub: &pub, priv: priv}
}

func (k *fileSigner) KID() string { return k.kid }

// Public returns the *ecdsa.PublicKey.
func (k *fileSigner) Public() crypto.PublicKey { return k.pub }

// Sign signs a SHA-256 digest (ES256). The key must still be active in the store.
func (k *fileSigner) Sign(rnd io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if opts == nil || opts.HashFunc() != crypto.SHA256 || len(digest) != sha256.Size {
		return nil, fmt.Errorf("keys: %s: ES256 signs a 32-byte SHA-256 digest", k.kid)
	}
	if e := k.store.snap.Load().byKID[k.kid]; e == nil || e.key.State != StateActive {
		return nil, fmt.Errorf("%w: %s", ErrKeyNotActive, k.kid)
	}
	return k.priv.Sign(rnd, digest, opts)
}

func (k *fileSigner) String() string             { return "keys.Signer(ES256, kid=" + k.kid + ")" }
func (k *fileSigner) GoString() string           { return k.String() }
func (k *fileSigner) Format(f fmt.State, _ rune) { fmt.Fprint(f, k.String()) }
func (k *fileSigner) LogValue() slog.Value       { return slog.StringValue(k.String()) }

// probe signs a fresh random digest with sg and verifies the signature with sg's public key, which
// must also match kid.
func probe(sg crypto.Signer, kid string) error {
	pub, ok := sg.Public().(*ecdsa.PublicKey)
	if !ok {
		return fmt.Errorf("public key is %T, not ECDSA", sg.Public())
	}
	if got := Thumbprint(pub); got != kid {
		return fmt.Errorf("kid %s does not match the public key (thumbprint %s)", kid, got)
	}
	var msg [32]byte
	if _, err := rand.Read(msg[:]); err != nil {
		return err
	}
	digest := sha256.Sum256(msg[:])
	sig, err := sg.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		return fmt.Errorf("signing a probe: %v", err)
	}
	if !ecdsa.VerifyASN1(pub, digest[:], sig) {
		return errors.New("the probe signature does not verify")
	}
	digest[0] ^= 1
	if ecdsa.VerifyASN1(pub, digest[:], sig) {
		return errors.New("the probe signature verifies a different digest")
	}
	return nil
}
