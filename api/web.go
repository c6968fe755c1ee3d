package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"sort"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/vaxcert/vaxcert/registration"
	"github.com/vaxcert/vaxcert/templates"
)

// The web pages are thin: server-rendered shells (templates/html) in the
// reader's language, whose small scripts (web/static/js) call the same JSON
// API as every other client. Business rules live in the domain packages
// behind that API, never in the pages.

// webLangs are the interface languages; the first is the default.
var webLangs = []webLang{{Code: "en", Name: "English"}, {Code: "hi", Name: "हिन्दी"}}

type webLang struct{ Code, Name string }

// webPageNames are the pages; each is templates/html/<name>.html.
var webPageNames = []string{"home", "login", "portal", "desk", "verify"}

// webUI renders the pages and serves their assets.
type webUI struct {
	s       *Server
	assets  webAssets
	pages   map[string]*template.Template // by language + "/" + page name
	strings map[string]map[string]string  // language → key → text
	// stringsJSON is each language's table as JSON for the page scripts,
	// marshalled once (json.Marshal escapes <, > and &, so it is safe
	// inside a <script> element).
	stringsJSON map[string]template.JS
	sw          []byte // the service worker, with its precache list filled in

	// clearSeconds is how long /verify shows a result before clearing it.
	clearSeconds int
	// iss is the issuer URL of this service's certificates ("" if it
	// issues none): the one issuer the browser verifier trusts.
	iss string
	// signers are the EU DCC document signers the bundle carries (nil: none).
	signers documentSigners
}

// mountWeb registers the web pages, their static assets, the browser
// verifier's trust bundle and the web login, and the CSRF guard that every
// cookie-authenticated request passes. It must be called before the first
// route is added to r.
func (s *Server) mountWeb(r chi.Router, cfg Config) {
	ui, err := newWebUI(s)
	if err != nil {
		// Everything it reads is embedded in the binary and checked by
		// tests: failing here is a build defect, not an operating condition.
		panic(err)
	}
	ui.iss = issuerURLOf(cfg)
	ui.signers, _ = cfg.Checkpoint.(documentSigners)
	r.Use(s.csrfGuard)
	r.Group(func(r chi.Router) {
		r.Use(webSecurityHeaders(cspPages, permissionsPages))
		r.Get("/", ui.page("home", "home.title"))
		r.Get("/login", ui.page("login", "login.title"))
		r.Get("/portal", ui.page("portal", "portal.title"))
		r.Get("/desk", ui.page("desk", "desk.title"))
		r.Post("/web/session", ui.login)
		r.Post("/web/logout", ui.logout)
	})
	if cfg.Registration != nil && cfg.Booking != nil {
		d := &deskLookup{s: s, reg: cfg.Registration, book: cfg.Booking}
		r.With(s.require(registration.Vaccinator, registration.Admin)).Get("/web/desk/beneficiaries/{ref}", d.beneficiary)
	}
	r.Group(func(r chi.Router) {
		r.Use(webSecurityHeaders(cspVerify, permissionsVerify))
		r.Get("/verify", ui.page("verify", "verify.title"))
		r.Get("/verify/trust.json", ui.trustBundle)
	})
	r.Group(func(r chi.Router) {
		r.Use(webSecurityHeaders(cspWorker, permissionsPages))
		r.Get("/verify/sw.js", ui.serviceWorker)
	})
	r.Get("/static/*", ui.assets.serveStaticAsset)
	r.Head("/static/*", ui.assets.serveStaticAsset)
}

func newWebUI(s *Server) (*webUI, error) {
	assets, err := loadWebAssets()
	if err != nil {
		return nil, err
	}
	ui := &webUI{s: s, assets: assets, pages: map[string]*template.Template{}, clearSeconds: 30}
	if ui.strings, err = loadWebStrings(); err != nil {
		return nil, err
	}
	ui.stringsJSON = map[string]template.JS{}
	for lang, table := range ui.strings {
		b, err := json.Marshal(table)
		if err != nil {
			return nil, err
		}
		ui.stringsJSON[lang] = template.JS(b)
	}
	// One parsed set per language and page, each with t bound to its
	// language's table, so a request only executes a template.
	for _, l := range webLangs {
		table := ui.strings[l.Code]
		for _, name := range webPageNames {
			funcs := template.FuncMap{
				"t": func(key string) (string, error) {
					text, ok := table[key]
					if !ok {
						return "", fmt.Errorf("web page %s: no string %q", name, key)
					}
					return text, nil
				},
				"asset": ui.assets.url,
			}
			t, err := template.New(name).Funcs(funcs).ParseFS(templates.HTML, "html/layout.html", "html/"+name+".html")
			if err != nil {
				return nil, fmt.Errorf("web page %s: %w", name, err)
			}
			ui.pages[l.Code+"/"+name] = t
		}
	}
	if ui.sw, err = ui.buildServiceWorker(); err != nil {
		return nil, err
	}
	return ui, nil
}

// loadWebStrings reads the string table and checks that every key has
// every language, so a missing translation fails the tests, not a page.
func loadWebStrings() (map[string]map[string]string, error) {
	b, err := fs.ReadFile(templates.HTML, "html/strings.json")
	if err != nil {
		return nil, err
	}
	var table map[string]map[string]string
	if err := json.Unmarshal(b, &table); err != nil {
		return nil, fmt.Errorf("web strings: %w", err)
	}
	out := map[string]map[string]string{}
	for _, l := range webLangs {
		out[l.Code] = map[string]string{}
	}
	for key, byLang := range table {
		for _, l := range webLangs {
			text, ok := byLang[l.Code]
			if !ok || strings.TrimSpace(text) == "" {
				return nil, fmt.Errorf("web strings: %q has no %s text", key, l.Code)
			}
			out[l.Code][key] = text
		}
		if len(byLang) != len(webLangs) {
			return nil, fmt.Errorf("web strings: %q has a language the pages do not offer", key)
		}
	}
	return out, nil
}

// webPage is what a page template sees.
type webPage struct {
	Page      string
	Title     string // a string key
	Lang      string
	OtherLang webLang
	CSRF      string
	Role      registration.Role // "" when not logged in
	Scripts   []string
	// Strings is the whole table in the page's language, for the scripts.
	Strings      template.JS
	ClearSeconds int
}

// page renders one page. The shells carry no personal data (the scripts
// fetch it), but they carry a CSRF token and the caller's role, so they are
// never stored by shared caches.
func (ui *webUI) page(name, title string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		lang := ui.lang(w, r)
		p := webPage{
			Page: name, Title: title, Lang: lang, CSRF: csrfToken(w, r),
			Strings: ui.stringsJSON[lang], ClearSeconds: ui.clearSeconds,
		}
		if _, ok := ui.assets["js/"+name+".js"]; ok {
			p.Scripts = []string{"js/" + name + ".js"}
		}
		for _, l := range webLangs {
			if l.Code != lang {
				p.OtherLang = l
				break
			}
		}
		if pr, ok := ui.s.webPrincipal(r); ok {
			p.Role = pr.Role
		}
		if name == "verify" {
			p.Scripts = []string{"vendor/wasm_exec.js", "vendor/jsQR.js", "js/verify.js"}
		}
		var buf bytes.Buffer
		if err := ui.render(&buf, name, p); err != nil {
			ui.s.writeError(w, r, err)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		h.Set("Vary", "Cookie, Accept-Language")
		h.Set("Content-Language", lang)
		w.Write(buf.Bytes())
	}
}

func (ui *webUI) render(buf *bytes.Buffer, name string, p webPage) error {
	return ui.pages[p.Lang+"/"+name].ExecuteTemplate(buf, "layout", p)
}

// lang picks the page language: ?lang= (remembered in a cookie), then the
// cookie, then Accept-Language, then English.
func (ui *webUI) lang(w http.ResponseWriter, r *http.Request) string {
	if q := r.URL.Query().Get("lang"); knownLang(q) {
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: q, Path: "/", MaxAge: 365 * 24 * 3600,
			HttpOnly: true, Secure: cookieSecure(r), SameSite: http.SameSiteLaxMode})
		return q
	}
	if c, err := r.Cookie(langCookie); err == nil && knownLang(c.Value) {
		return c.Value
	}
	return preferredLang(r.Header.Get("Accept-Language"))
}

func knownLang(code string) bool {
	for _, l := range webLangs {
		if l.Code == code {
			return true
		}
	}
	return false
}

// preferredLang returns the offered language with the highest q in an
// Accept-Language header, ties going to the earlier entry.
func preferredLang(header string) string {
	type pref struct {
		code string
		q    float64
		pos  int
	}
	var prefs []pref
	for i, part := range strings.Split(header, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		primary, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
		if !knownLang(primary) {
			continue
		}
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if _, err := fmt.Sscanf(v, "%g", &q); err != nil || q < 0 || q > 1 {
				continue
			}
		}
		if q > 0 {
			prefs = append(prefs, pref{primary, q, i})
		}
	}
	sort.SliceStable(prefs, func(i, j int) bool { return prefs[i].q > prefs[j].q })
	if len(prefs) > 0 {
		return prefs[0].code
	}
	return webLangs[0].Code
}
