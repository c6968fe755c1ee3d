package templates

import "embed"

// HTML holds the web pages: html/*.html (html/template sources; layout.html
// is shared by every page) and html/strings.json, the English and Hindi
// interface strings, one entry per key:
//
//	{"login.title": {"en": "Log in", "hi": "लॉग इन"}, …}
//
// The api package parses and serves them; static assets live in web/.
//
//go:embed html/*.html html/strings.json
var HTML embed.FS
