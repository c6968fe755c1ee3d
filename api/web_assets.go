package api

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"regexp"
	"strings"
	"sync"

	"github.com/go-chi/chi/v5"

	"github.com/vaxcert/vaxcert/templates"
	"github.com/vaxcert/vaxcert/web"
)

// webAsset is one static file, read once at start.
type webAsset struct {
	body        []byte // identity encoding; nil for the wasm until first needed
	gz          []byte // gzip encoding, when it saves space
	contentType string
	version     string // content hash: the ?v= of versioned URLs
	etag        string

	inflate func() ([]byte, error) // the wasm ships gzipped only
	once    sync.Once
	err     error
}

// webAssets is the static tree by path below /static/.
type webAssets map[string]*webAsset

// wasmAssetName is the browser verifier's path below /static/.
const wasmAssetName = "verify.wasm"

// loadWebAssets reads web.Static and the gzipped verifier module. Text files
// above a kilobyte are compressed once here so every response is a copy.
func loadWebAssets() (webAssets, error) {
	assets := webAssets{}
	err := fs.WalkDir(web.Static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(web.Static, p)
		if err != nil {
			return err
		}
		assets.put(strings.TrimPrefix(p, "static/"), body)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("web assets: %w", err)
	}
	if err := addWebFonts(assets); err != nil {
		return nil, fmt.Errorf("web assets: %w", err)
	}
	gz := web.VerifierWasmGz
	if !bytes.HasPrefix(gz, []byte{0x1f, 0x8b}) {
		return nil, fmt.Errorf("web assets: the verifier module is not gzipped")
	}
	w := &webAsset{gz: gz, contentType: "application/wasm"}
	w.version, w.etag = assetHash(gz)
	w.inflate = func() ([]byte, error) {
		zr, err := gzip.NewReader(bytes.NewReader(gz))
		if err != nil {
			return nil, err
		}
		return io.ReadAll(zr)
	}
	assets[wasmAssetName] = w
	return assets, nil
}

// put adds a static file, compressed once when that saves space.
func (as webAssets) put(name string, body []byte) {
	a := &webAsset{body: body, contentType: webContentType(name)}
	a.version, a.etag = assetHash(body)
	if len(body) > 1024 && compressible(a.contentType) {
		if gz, err := gzipBytes(body); err == nil && len(gz) < len(body)*9/10 {
			a.gz = gz
		}
	}
	as[name] = a
}

// stylesheet is the one stylesheet; it names the web fonts.
const stylesheet = "css/site.css"

// addWebFonts serves the certificate's Devanagari faces under fonts/ and
// versions their URLs in the stylesheet, so that they are cached for a year
// like every other asset. site.css names them first, for Devanagari only:
// Hindi renders on devices with no Devanagari font, Latin text keeps the
// system font.
func addWebFonts(as webAssets) error {
	fonts, err := templates.WebFonts()
	if err != nil {
		return err
	}
	css, ok := as[stylesheet]
	if !ok {
		return fmt.Errorf("%s is missing", stylesheet)
	}
	body := css.body
	for file, font := range fonts {
		name := "fonts/" + file
		as.put(name, font)
		unversioned := []byte(`url("/static/` + name + `")`)
		body = bytes.ReplaceAll(body, unversioned, []byte(`url("/static/`+name+`?v=`+as[name].version+`")`))
	}
	as.put(stylesheet, body)
	return nil
}

// fontsOf lists the fonts the stylesheet names (asset names below /static/).
func (as webAssets) fontsOf() []string {
	var names []string
	for _, m := range fontURL.FindAllSubmatch(as[stylesheet].body, -1) {
		names = append(names, string(m[1]))
	}
	return names
}

var fontURL = regexp.MustCompile(`url\("/static/(fonts/[^"?]+)\?v=[0-9a-f]+"\)`)

func assetHash(b []byte) (version, etag string) {
	sum := sha256.Sum256(b)
	version = hex.EncodeToString(sum[:6])
	return version, `"` + hex.EncodeToString(sum[:12]) + `"`
}

func webContentType(name string) string {
	switch path.Ext(name) {
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".json", ".webmanifest":
		return "application/json"
	case ".wasm":
		return "application/wasm"
	case ".ttf":
		return "font/ttf"
	case ".txt", ".md", ".LICENSE":
		return "text/plain; charset=utf-8"
	}
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return "application/octet-stream"
}

func compressible(contentType string) bool {
	return strings.HasPrefix(contentType, "text/") || strings.HasPrefix(contentType, "application/json") ||
		strings.HasPrefix(contentType, "image/svg") || contentType == "application/wasm" || contentType == "font/ttf"
}

func gzipBytes(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(b); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// url is the versioned URL pages link to: it changes whenever the content
// does, so it can be cached for a year.
func (as webAssets) url(name string) (string, error) {
	a, ok := as[name]
	if !ok {
		return "", fmt.Errorf("no static asset %q", name)
	}
	return "/static/" + name + "?v=" + a.version, nil
}

// identity returns the uncompressed body, inflating the wasm on first use.
func (a *webAsset) identity() ([]byte, error) {
	if a.inflate == nil {
		return a.body, nil
	}
	a.once.Do(func() { a.body, a.err = a.inflate() })
	return a.body, a.err
}

// serveStaticAsset serves /static/*: a versioned request (the current ?v=)
// is immutable for a year; any other is revalidated by ETag.
func (as webAssets) serveStaticAsset(w http.ResponseWriter, r *http.Request) {
	name := chi.URLParam(r, "*")
	a, ok := as[name]
	if !ok {
		writeProblem(w, r, http.StatusNotFound, "not-found", "There is no static file at this path.")
		return
	}
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Vary", "Accept-Encoding")
	h.Set("ETag", a.etag)
	if v := r.URL.Query().Get("v"); v != "" && v == a.version {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	if match := r.Header.Get("If-None-Match"); match != "" && strings.Contains(match, a.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", a.contentType)
	body := a.gz
	if body != nil && acceptsGzip(r) {
		h.Set("Content-Encoding", "gzip")
	} else {
		var err error
		if body, err = a.identity(); err != nil {
			writeProblem(w, r, http.StatusInternalServerError, "internal", "The static file could not be read.")
			return
		}
	}
	h.Set("Content-Length", fmt.Sprint(len(body)))
	if r.Method == http.MethodHead {
		return
	}
	w.Write(body)
}

// acceptsGzip reads Accept-Encoding well enough for the browsers we serve:
// gzip listed without q=0.
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(coding), "gzip") || strings.TrimSpace(coding) == "*" {
			q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}
