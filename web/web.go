// Package web holds the static assets of the web pages, embedded in the
// binary: the stylesheet, the small page scripts, the verifier's
// WebAssembly module and its loader, the service worker of /verify and the
// vendored third-party files (see static/vendor/README.md).
package web

import "embed"

// Static is the static/ tree, served under /static/.
//
//go:embed static
var Static embed.FS

// VerifierWasmGz is the browser verifier (cmd/vaxverify-wasm) compiled with
// GOOS=js GOARCH=wasm and gzipped. It is committed so that the service needs
// no build step; TestWasmUpToDate fails when it no longer matches its
// sources.
//
//go:embed wasm/verify.wasm.gz
var VerifierWasmGz []byte

//go:generate go run ./internal/genwasm
