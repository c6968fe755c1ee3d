package shc

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"testing"
)

// BenchmarkParts times each step of reading a typical card, to see where a
// verification spends what it does not spend in ECDSA.
func BenchmarkParts(b *testing.B) {
	key := newKey(b)
	jws, err := Sign(key, "kid", samplePayload(b, 2))
	if err != nil {
		b.Fatal(err)
	}
	j, _ := ParseJWS(jws)
	raw, _ := Inflate(j.Deflated, MaxInflatedSize)
	p, _ := DecodePayload(raw)
	b.Run("ParseJWS", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			ParseJWS(jws)
		}
	})
	b.Run("Inflate", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			Inflate(j.Deflated, MaxInflatedSize)
		}
	})
	b.Run("DecodePayload", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			DecodePayload(raw)
		}
	})
	b.Run("ReadBundle", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			ReadBundle(p.VC.CredentialSubject.FHIRBundle)
		}
	})
	b.Run("VerifySignature", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			j.VerifySignature(&key.PublicKey)
		}
	})
	digest := sha256.Sum256([]byte(jws))
	sig, _ := ecdsa.SignASN1(nil, key, digest[:])
	b.Run("RawECDSA", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			ecdsa.VerifyASN1(&key.PublicKey, digest[:], sig)
		}
	})
}
