package api

import "net/http"

// Content-Security-Policies of the web pages. No page runs inline script or
// style, so neither needs 'unsafe-inline' nor a nonce; only /verify may
// compile WebAssembly ('wasm-unsafe-eval' allows exactly that, not eval).
const (
	cspPages = "default-src 'none'; script-src 'self'; style-src 'self'; font-src 'self'; img-src 'self' data:; " +
		"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
	cspVerify = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; style-src 'self'; font-src 'self'; " +
		"img-src 'self' data: blob:; media-src 'self' blob: mediastream:; connect-src 'self'; " +
		"manifest-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
	// cspWorker governs the service worker script itself.
	cspWorker = "default-src 'none'; connect-src 'self'"
)

// Permissions-Policy: only the verifier may use the camera.
const (
	permissionsPages  = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
	permissionsVerify = "camera=(self), microphone=(), geolocation=(), payment=(), usb=()"
)

// webSecurityHeaders sets the headers every HTML page carries.
func webSecurityHeaders(csp, permissions string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("Content-Security-Policy", csp)
			h.Set("Permissions-Policy", permissions)
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("X-Frame-Options", "DENY")
			h.Set("Referrer-Policy", "same-origin")
			h.Set("Cross-Origin-Opener-Policy", "same-origin")
			h.Set("Cross-Origin-Resource-Policy", "same-origin")
			next.ServeHTTP(w, r)
		})
	}
}
