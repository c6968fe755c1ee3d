package divoc

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"crypto/rand"
	"errors"
	"hash/crc32"
	"testing"

	"github.com/vaxcert/vaxcert/verifier/verdict"
)

// rawZIP builds a one-entry archive with a hand-set header, writing data
// as given (already compressed when method is Deflate).
func rawZIP(t *testing.T, fh zip.FileHeader, data []byte) []byte {
	t.Helper()
	fh.CompressedSize64 = uint64(len(data))
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateRaw(&fh)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func deflate(t *testing.T, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	fw, _ := flate.NewWriter(&buf, flate.BestCompression)
	fw.Write(data)
	fw.Close()
	return buf.Bytes()
}

func TestExtractCertificate(t *testing.T) {
	cert := readSample(t, "third-march-user-one.certificate.json")
	bomb := bytes.Repeat([]byte(" "), 1<<20)
	noise := make([]byte, MaxZIPSize)
	rand.Read(noise)

	stored := func() []byte {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		w, _ := zw.CreateHeader(&zip.FileHeader{Name: "certificate.json", Method: zip.Store})
		w.Write(cert)
		zw.Close()
		return buf.Bytes()
	}()
	renamedLocal := bytes.Clone(zipOf(t, map[string][]byte{"certificate.json": cert}))
	copy(renamedLocal[30:], "certificatX")
	corrupted := bytes.Clone(zipOf(t, map[string][]byte{"certificate.json": cert}))
	corrupted[60] ^= 0xff
	encrypted := rawZIP(t, zip.FileHeader{Name: "certificate.json", Method: zip.Deflate, Flags: 0x1,
		CRC32: crc32.ChecksumIEEE(cert), UncompressedSize64: uint64(len(cert))}, deflate(t, cert))
	lyingSize := rawZIP(t, zip.FileHeader{Name: "certificate.json", Method: zip.Deflate,
		CRC32: crc32.ChecksumIEEE(bomb), UncompressedSize64: 100}, deflate(t, bomb))
	var emptyArchive bytes.Buffer
	zip.NewWriter(&emptyArchive).Close()

	tests := []struct {
		name    string
		archive []byte
		ok      bool
		tooBig  bool
	}{
		{"real QR archive", readSample(t, "third-march-user-one.qr.zip"), true, false},
		{"stored, not deflated", stored, true, false},
		{"deflated by Go", zipOf(t, map[string][]byte{"certificate.json": cert}), true, false},
		{"two entries", zipOf(t, map[string][]byte{"certificate.json": cert, "extra.json": cert}), false, false},
		{"same name twice", func() []byte {
			var buf bytes.Buffer
			zw := zip.NewWriter(&buf)
			for range 2 {
				w, _ := zw.Create("certificate.json")
				w.Write(cert)
			}
			zw.Close()
			return buf.Bytes()
		}(), false, false},
		{"other name", zipOf(t, map[string][]byte{"cert.json": cert}), false, false},
		{"path traversal", zipOf(t, map[string][]byte{"../certificate.json": cert}), false, false},
		{"in a folder", zipOf(t, map[string][]byte{"a/certificate.json": cert}), false, false},
		{"absolute path", zipOf(t, map[string][]byte{"/certificate.json": cert}), false, false},
		{"directory", zipOf(t, map[string][]byte{"certificate.json/": nil}), false, false},
		{"no entries", emptyArchive.Bytes(), false, false},
		{"zip bomb (declared size)", zipOf(t, map[string][]byte{"certificate.json": bomb}), false, true},
		{"zip bomb (size understated)", lyingSize, false, false},
		{"archive over the cap", zipOf(t, map[string][]byte{"certificate.json": noise}), false, true},
		{"encrypted", encrypted, false, false},
		{"local header differs from directory", renamedLocal, false, false},
		{"compressed data corrupted", corrupted, false, false},
		{"truncated", readSample(t, "third-march-user-one.qr.zip")[:600], false, false},
		{"junk before the archive", append([]byte("xx"), readSample(t, "third-march-user-one.qr.zip")...), false, false},
		{"not a ZIP", []byte("PK\x03\x04 but nothing else"), false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ExtractCertificate(tt.archive)
			if tt.ok {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if !bytes.Equal(got, cert) {
					t.Fatalf("extracted %d bytes differing from certificate.json", len(got))
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted: %d bytes", len(got))
			}
			if errors.Is(err, ErrZIPTooLarge) != tt.tooBig {
				t.Errorf("error %v: ErrZIPTooLarge = %v, want %v", err, !tt.tooBig, tt.tooBig)
			}
			if bytes.HasPrefix(tt.archive, zipMagic) {
				res := Verify(tt.archive, "", checkAt)
				want := "zip_invalid"
				if tt.tooBig {
					want = "zip_too_large"
				}
				if res.Status != verdict.Invalid || res.Reasons[0].Code != want {
					t.Errorf("Verify: %s %v, want %s", res.Status, res.Reasons, want)
				}
			}
		})
	}
}
