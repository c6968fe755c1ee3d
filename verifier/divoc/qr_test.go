package divoc

import (
	"bytes"
	"testing"

	"github.com/makiuchi-d/gozxing"
	zxingqr "github.com/makiuchi-d/gozxing/qrcode"
	"github.com/skip2/go-qrcode"

	"github.com/vaxcert/vaxcert/verifier/verdict"
)

// textToBytes maps QR text decoded as ISO-8859-1 back to the bytes it
// came from (one rune per byte), as a reader that returns text must.
func textToBytes(t *testing.T, text string) []byte {
	t.Helper()
	out := make([]byte, 0, len(text))
	for _, r := range text {
		if r > 0xff {
			t.Fatalf("rune %U is not ISO-8859-1: the reader decoded the bytes with another charset", r)
		}
		out = append(out, byte(r))
	}
	return out
}

// A QR image made from the raw ZIP bytes, as CoWIN prints it (byte mode,
// ECC M), scanned back, verifies.
func TestVerifyQRImage(t *testing.T) {
	archive := readSample(t, "third-march-user-one.qr.zip")
	code, err := qrcode.New(string(archive), qrcode.Medium)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("QR version %d for %d bytes", code.VersionNumber, len(archive))
	img := code.Image(-4) // 4 pixels per module

	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	hints := map[gozxing.DecodeHintType]any{
		gozxing.DecodeHintType_CHARACTER_SET: "ISO-8859-1",
		// gozxing's finder-pattern detector misses this clean version-28
		// symbol (with or without TRY_HARDER); the pure-barcode path reads it.
		gozxing.DecodeHintType_PURE_BARCODE: true,
	}
	result, err := zxingqr.NewQRCodeReader().Decode(bmp, hints)
	if err != nil {
		t.Fatal(err)
	}
	scanned := textToBytes(t, result.GetText())
	if !bytes.Equal(scanned, archive) {
		t.Fatalf("scanned %d bytes differing from the %d-byte archive", len(scanned), len(archive))
	}
	if segs, ok := result.GetResultMetadata()[gozxing.ResultMetadataType_BYTE_SEGMENTS].([][]byte); ok {
		if !bytes.Equal(bytes.Join(segs, nil), archive) {
			t.Error("the byte segments differ from the archive")
		}
	}
	if !Detect(scanned) {
		t.Error("Detect does not recognise the scanned bytes")
	}
	res := Verify(scanned, "", checkAt)
	if res.Status != verdict.Valid {
		t.Fatalf("got %s %v", res.Status, res.Reasons)
	}
}
