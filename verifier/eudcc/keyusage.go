package eudcc

import (
	"crypto/x509"
	"encoding/asn1"
)

// Extended key usage OIDs that restrict what a DSC may sign (hcert spec
// Appendix A.4). The legacy spellings, with an extra ".0" arc, were issued in
// the first weeks and are still accepted.
var keyUsageOIDs = map[Kind][]asn1.ObjectIdentifier{
	KindTest:        {{1, 3, 6, 1, 4, 1, 1847, 2021, 1, 1}, {1, 3, 6, 1, 4, 1, 0, 1847, 2021, 1, 1}},
	KindVaccination: {{1, 3, 6, 1, 4, 1, 1847, 2021, 1, 2}, {1, 3, 6, 1, 4, 1, 0, 1847, 2021, 1, 2}},
	KindRecovery:    {{1, 3, 6, 1, 4, 1, 1847, 2021, 1, 3}, {1, 3, 6, 1, 4, 1, 0, 1847, 2021, 1, 3}},
}

// KeyUsageAllows reports whether the DSC may sign a certificate of this
// kind. A DSC without an extended key usage, or with an empty one, may sign
// every kind. Otherwise the kind's OID, in either spelling, must be listed;
// a DSC listing only unrelated usages (e.g. TLS server) may sign none.
// anyExtendedKeyUsage allows every kind.
//
// crypto/x509 files these private OIDs under UnknownExtKeyUsage.
func KeyUsageAllows(cert *x509.Certificate, kind Kind) bool {
	if len(cert.ExtKeyUsage) == 0 && len(cert.UnknownExtKeyUsage) == 0 {
		return true
	}
	for _, u := range cert.ExtKeyUsage {
		if u == x509.ExtKeyUsageAny {
			return true
		}
	}
	for _, have := range cert.UnknownExtKeyUsage {
		for _, want := range keyUsageOIDs[kind] {
			if have.Equal(want) {
				return true
			}
		}
	}
	return false
}
