package api

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/vaxcert/vaxcert/internal/problem"
	"github.com/vaxcert/vaxcert/verifier"
	"github.com/vaxcert/vaxcert/verifier/verdict"
)

// MaxVerifyBytes bounds one POST /api/v1/verify body: a phone photo of a QR
// or a certificate PDF fits; anything larger is refused before it is read.
const MaxVerifyBytes = 8 << 20

// maxVerifyBatch bounds the inputs of one batch request.
const maxVerifyBatch = 100

// CertificateVerifier verifies untrusted certificate input.
type CertificateVerifier interface {
	Verify(ctx context.Context, input []byte, source string) ([]verdict.Result, error)
}

// verifyBatch is the JSON form for relying parties checking many
// certificates at once: each input is any text form (shc:/…, a JWS, HC1:…,
// a .smart-health-card document).
type verifyBatch struct {
	Inputs []string `json:"inputs"`
}

func (s *Server) mountVerify(r chi.Router, cfg Config) {
	if cfg.Checkpoint == nil {
		return
	}
	// Decoding a large photo costs up to a second of CPU: at most a few run
	// at once, the rest are told to come back rather than queue unbounded.
	slots := make(chan struct{}, 2*runtime.GOMAXPROCS(0))
	r.Post("/api/v1/verify", func(w http.ResponseWriter, r *http.Request) {
		select {
		case slots <- struct{}{}:
			defer func() { <-slots }()
		default:
			s.writeError(w, r, &problem.Error{Kind: problem.TooMany, Slug: "verify-busy",
				Detail: "Too many verifications are running; try again in a moment.", RetryAfter: time.Second})
			return
		}
		s.verify(w, r, cfg.Checkpoint)
	})
}

// verify answers with the same report `vaxverify verify --json` prints. The
// body is one input of any kind (text, file, image, PDF), or a JSON batch
// {"inputs":[…]}. Nothing about the certificate is logged or stored.
func (s *Server) verify(w http.ResponseWriter, r *http.Request, cp CertificateVerifier) {
	body, err := io.ReadAll(r.Body) // bounded by limitBody
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if len(body) == 0 {
		s.writeError(w, r, problem.Invalidf("verify-empty", "Send the certificate as the request body: QR text, JWS, file, image or PDF."))
		return
	}
	inputs := [][]byte{body}
	var batch verifyBatch
	if json.Unmarshal(body, &batch) == nil && batch.Inputs != nil {
		if len(batch.Inputs) == 0 || len(batch.Inputs) > maxVerifyBatch {
			s.writeError(w, r, problem.Invalidf("verify-batch-size", "A batch holds 1 to %d inputs.", maxVerifyBatch))
			return
		}
		inputs = inputs[:0]
		for _, in := range batch.Inputs {
			inputs = append(inputs, []byte(in))
		}
	}
	// The inputs of a batch share one budget, as one input would: a batch
	// of 100 files full of cards must not cost 100 times what one costs.
	ctx := verifier.WithInputBudget(r.Context(), verifier.InputBudget)
	var results []verdict.Result
	for i, in := range inputs {
		rs, err := cp.Verify(ctx, in, "input "+strconv.Itoa(i+1))
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		results = append(results, rs...)
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, verdict.NewReport(time.Now(), results))
}
