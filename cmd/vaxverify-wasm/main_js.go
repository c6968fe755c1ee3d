//go:build js && wasm

package main

import (
	"sync"
	"syscall/js"
	"time"

	"github.com/vaxcert/vaxcert/verifier"
)

// The page's contract, on globalThis.vaxverify:
//
//	setTrust(bundleJSON string) -> {ok: true, issuers: n, signers: n, generatedAt} | {ok: false, error}
//	verify(bytes Uint8Array, source string) -> JSON text of []verdict.Result
//	builtinIssuers: [name…], the signers trusted with no bundle (CoWIN's)
//
// Before go.run the page may set globalThis.vaxverifyOnReady, a function
// this module calls once the API is in place.
func main() {
	var (
		mu sync.Mutex
		v  = newVerifier(Trust{})
	)
	api := js.Global().Get("Object").New()
	api.Set("setTrust", js.FuncOf(func(_ js.Value, args []js.Value) any {
		if len(args) != 1 || args[0].Type() != js.TypeString {
			return map[string]any{"ok": false, "error": "setTrust wants one string"}
		}
		t, err := ParseBundle([]byte(args[0].String()))
		if err != nil {
			return map[string]any{"ok": false, "error": err.Error()}
		}
		mu.Lock()
		v = newVerifier(t)
		mu.Unlock()
		return map[string]any{"ok": true, "issuers": len(t.Issuers.Issuers()), "signers": t.Signers.Len(),
			"generatedAt": t.GeneratedAt.Format(time.RFC3339)}
	}))
	api.Set("verify", js.FuncOf(func(_ js.Value, args []js.Value) any {
		if len(args) != 2 || args[0].Type() != js.TypeObject || args[1].Type() != js.TypeString {
			return `[{"format":"unknown","status":"invalid","issuer":{"id":""},"reasons":[{"code":"usage","message":"verify wants (Uint8Array, string)"}]}]`
		}
		n := args[0].Get("length").Int()
		if n > verifier.MaxInputSize {
			n = verifier.MaxInputSize + 1 // the verifier rejects it with its own reason
		}
		input := make([]byte, n)
		js.CopyBytesToGo(input, args[0])
		mu.Lock()
		cur := v
		mu.Unlock()
		return verifyJSON(cur, input, args[1].String())
	}))
	builtin := make([]any, 0, 1)
	for _, name := range builtinIssuers() {
		builtin = append(builtin, name)
	}
	api.Set("builtinIssuers", builtin)
	js.Global().Set("vaxverify", api)
	if ready := js.Global().Get("vaxverifyOnReady"); ready.Type() == js.TypeFunction {
		ready.Invoke()
	}
	select {} // serve calls until the page goes away
}
