package reliability

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vaxcert/vaxcert/verifier"
	"github.com/vaxcert/vaxcert/verifier/eudcc"
	"github.com/vaxcert/vaxcert/verifier/eudcc/base45"
)

// BenchmarkHostileAmplification measures what one input full of DEFLATE
// bombs costs the verifier library: each card would inflate up to
// shc.MaxInflatedSize, so without a per-input budget the work grows with the
// number of cards an input holds. Reported per input: cards, bytes
// allocated and time.
//
//	go test ./internal/reliability/ -run '^$' -bench HostileAmplification -benchtime 3x
func BenchmarkHostileAmplification(b *testing.B) {
	w := &hostileWorld{trusted: newCardKey(b)}
	v := &verifier.Verifier{}
	one := w.trusted.sign(b, w.trusted.header(), deflateBomb(b, `{"iss":"`, 1<<20))
	for _, size := range []struct {
		name  string
		bytes int
	}{{"1 card", 0}, {"1 MB file", 1 << 20}, {"10 MB file", 10 << 20}} {
		n := max(1, size.bytes/(len(one)+3))
		input := `{"verifiableCredential":["` + strings.Repeat(one+`","`, n-1) + one + `"]}`
		b.Run(size.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				v.Verify(context.Background(), []byte(input), "bombs")
			}
			b.ReportMetric(float64(n), "cards/op")
		})
	}
}

// BenchmarkHostileVerifyBody posts the worst bodies we know to the real
// service's POST /api/v1/verify, each just under the 8 MiB body limit, and
// reports the CPU time the service spent on each (from /proc, user + system):
// the figure an attacker multiplies by sending several at once.
//
//	go test ./internal/reliability/ -run '^$' -bench HostileVerifyBody -benchtime 1x
func BenchmarkHostileVerifyBody(b *testing.B) {
	svc := startService(b, serviceOptions{args: generousLimits})
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	svc.client("").must(b, http.StatusOK, "GET", "/.well-known/jwks.json", nil).decode(b, &set)
	if len(set.Keys) == 0 {
		b.Fatal("the service publishes no key")
	}
	serviceKid := set.Keys[0].Kid
	att := newCardKey(b)
	underServiceKid := map[string]any{"alg": "ES256", "zip": "DEF", "kid": serviceKid}
	bomb := deflateBomb(b, `{"iss":"`, 1<<20)
	const limit = 8<<20 - 64<<10 // under the body limit, with room for the JSON around the cards
	file := func(card string, size int) string {
		n := max(1, size/(len(card)+3))
		return `{"verifiableCredential":["` + strings.Repeat(card+`","`, n-1) + card + `"]}`
	}
	batch := func(card string) string {
		inputs := make([]string, 100)
		for i := range inputs {
			inputs[i] = file(card, limit/100*9/10) // each file is escaped once more in the batch
		}
		j, _ := json.Marshal(map[string]any{"inputs": inputs})
		return string(j)
	}
	// A PDF of attachments, each an EU DCC whose zlib stream inflates just
	// past that format's 64 KiB cap.
	pdf := func() string {
		var zb bytes.Buffer
		zw, _ := zlib.NewWriterLevel(&zb, zlib.BestCompression)
		zw.Write(make([]byte, eudcc.MaxCOSESize+1))
		zw.Close()
		hc1 := "HC1:" + base45.Encode(zb.Bytes())
		var out strings.Builder
		out.WriteString("%PDF-1.7\n")
		for i := 1; out.Len() < limit; i++ {
			fmt.Fprintf(&out, "%d 0 obj\n<< /Type /EmbeddedFile /Length %d >>\nstream\n%s\nendstream\nendobj\n", i, len(hc1), hc1)
		}
		return out.String()
	}
	bodies := []struct{ name, body string }{
		{"bombs, unknown kid", file(att.sign(b, att.header(), bomb), limit)},
		{"bombs, service kid, forged", file(att.sign(b, underServiceKid, bomb), limit)},
		{"batch of 100 files of bombs", batch(att.sign(b, att.header(), bomb))},
		{"tiny cards, service kid, forged", file(att.sign(b, underServiceKid, deflate(b, []byte(`{"iss":"`+svc.url+`"}`))), limit)},
		{"PDF of EU DCC zlib bombs", pdf()},
	}
	pid := svc.cmd.Process.Pid
	for _, c := range bodies {
		b.Run(c.name, func(b *testing.B) {
			cards := max(strings.Count(c.body, ".")/2, strings.Count(c.body, "HC1:"))
			var cpu time.Duration
			for b.Loop() {
				before := procCPU(b, pid)
				r := svc.client("").must(b, http.StatusOK, "POST", "/api/v1/verify", c.body, "Content-Type", "application/octet-stream")
				cpu += procCPU(b, pid) - before
				if !strings.Contains(string(r.body), `"valid":0`) {
					b.Fatalf("a hostile card came out valid: %.300s", r.body)
				}
			}
			b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
			b.ReportMetric(float64(cards), "cards/op")
			b.ReportMetric(float64(len(c.body))/(1<<20), "MiB/op")
		})
	}
}

// procCPU is a process's CPU time so far (user + system), from /proc.
func procCPU(t testing.TB, pid int) time.Duration {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	// The fields after the command name (which may hold spaces) start
	// with the state; utime and stime are the 12th and 13th of them.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / 100 // USER_HZ, 100 on Linux
}
