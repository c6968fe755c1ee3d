package divoc

import (
	"os/exec"
	"strings"
	"testing"
)

// The offline verifier links nothing of the server: of this module it may
// use only verifier/verdict (ARCHITECTURE.md: verifier depends only on shc,
// the standard library and its decoding libraries), and no database driver
// or HTTP router.
func TestDependencies(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Skipf("go list unavailable: %v", err)
	}
	const module = "github.com/vaxcert/vaxcert/"
	allowed := map[string]bool{module + "verifier/divoc": true, module + "verifier/verdict": true}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, module) && !allowed[pkg] {
			t.Errorf("imports %s", pkg)
		}
		for _, banned := range []string{"github.com/jackc/pgx", "modernc.org/sqlite", "github.com/go-chi/chi", "database/sql"} {
			if strings.HasPrefix(pkg, banned) {
				t.Errorf("imports %s", pkg)
			}
		}
	}
}
