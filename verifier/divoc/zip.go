package divoc

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Size caps. A QR code carries at most 2,953 bytes in byte mode and a real
// CoWIN certificate.json is about 2 KB, so these leave ample room while
// bounding everything a hostile input can make us allocate or parse.
const (
	// MaxZIPSize is the largest ZIP archive accepted.
	MaxZIPSize = 8 << 10
	// MaxCertificateSize is the largest certificate.json accepted, whether
	// given directly or unzipped (this is what defuses zip bombs: we never
	// inflate more than this many bytes).
	MaxCertificateSize = 16 << 10
)

// certificateEntry is the one file a CoWIN QR archive holds.
const certificateEntry = "certificate.json"

var zipMagic = []byte("PK\x03\x04")

// ErrZIPTooLarge reports an archive, or the file inside it, over the caps.
var ErrZIPTooLarge = errors.New("zip too large")

// ExtractCertificate returns certificate.json from the raw bytes of a CoWIN
// QR archive. It accepts exactly one regular, unencrypted, stored or
// deflated entry named certificate.json whose local header starts the
// archive, and inflates at most MaxCertificateSize bytes. Errors wrap
// ErrZIPTooLarge when a size cap is the reason.
func ExtractCertificate(archive []byte) ([]byte, error) {
	if len(archive) > MaxZIPSize {
		return nil, fmt.Errorf("%w: archive is %d bytes, the limit is %d", ErrZIPTooLarge, len(archive), MaxZIPSize)
	}
	if !bytes.HasPrefix(archive, zipMagic) {
		return nil, errors.New("not a ZIP archive (no local file header at the start)")
	}
	zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
	if err != nil {
		return nil, fmt.Errorf("unreadable ZIP archive: %v", err)
	}
	if len(zr.File) != 1 {
		return nil, fmt.Errorf("the archive holds %d entries; a CoWIN certificate holds exactly one", len(zr.File))
	}
	f := zr.File[0]
	if f.Name != certificateEntry {
		return nil, fmt.Errorf("the archive holds %q; expected %q", f.Name, certificateEntry)
	}
	if f.Mode().IsDir() || !f.Mode().IsRegular() {
		return nil, errors.New("certificate.json is not a regular file")
	}
	if f.Flags&0x1 != 0 {
		return nil, errors.New("certificate.json is encrypted")
	}
	if f.Method != zip.Store && f.Method != zip.Deflate {
		return nil, fmt.Errorf("unsupported compression method %d", f.Method)
	}
	if f.UncompressedSize64 > MaxCertificateSize {
		return nil, fmt.Errorf("%w: certificate.json declares %d bytes, the limit is %d", ErrZIPTooLarge, f.UncompressedSize64, MaxCertificateSize)
	}
	// The central directory and the local header must describe the same
	// file: otherwise readers that walk local headers (as some QR apps do)
	// and readers that trust the directory (as archive/zip does) could be
	// shown different certificates.
	offset, err := f.DataOffset()
	if err != nil {
		return nil, fmt.Errorf("unreadable ZIP entry: %v", err)
	}
	name, dataStart, ok := localHeader(archive)
	if !ok || name != certificateEntry || int64(dataStart) != offset {
		return nil, errors.New("the local file header does not match the central directory")
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("cannot open certificate.json: %v", err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, MaxCertificateSize+1))
	if err != nil {
		// archive/zip reports a CRC mismatch here.
		return nil, fmt.Errorf("cannot inflate certificate.json: %v", err)
	}
	if len(data) > MaxCertificateSize {
		return nil, fmt.Errorf("%w: certificate.json inflates past %d bytes", ErrZIPTooLarge, MaxCertificateSize)
	}
	if uint64(len(data)) != f.UncompressedSize64 {
		return nil, fmt.Errorf("certificate.json inflates to %d bytes but declares %d", len(data), f.UncompressedSize64)
	}
	return data, nil
}

// localHeader parses the local file header at the start of a ZIP archive
// and returns the entry name and where its data begins.
func localHeader(archive []byte) (name string, dataStart int, ok bool) {
	const fixed = 30
	if len(archive) < fixed || !bytes.HasPrefix(archive, zipMagic) {
		return "", 0, false
	}
	nameLen := int(binary.LittleEndian.Uint16(archive[26:28]))
	extraLen := int(binary.LittleEndian.Uint16(archive[28:30]))
	if len(archive) < fixed+nameLen+extraLen {
		return "", 0, false
	}
	return string(archive[fixed : fixed+nameLen]), fixed + nameLen + extraLen, true
}
