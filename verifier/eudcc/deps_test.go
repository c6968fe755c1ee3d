package eudcc

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies keeps the offline verifier free of the server: no store,
// HTTP edge, issuer, templates or database driver may be linked in.
func TestDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Skipf("go list unavailable: %v", err)
	}
	forbidden := []string{
		"github.com/vaxcert/vaxcert/store", "github.com/vaxcert/vaxcert/api", "github.com/vaxcert/vaxcert/issuer",
		"github.com/vaxcert/vaxcert/templates", "github.com/jackc/pgx", "modernc.org/sqlite", "database/sql", "net/http",
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, f := range forbidden {
			if dep == f || strings.HasPrefix(dep, f+"/") {
				t.Errorf("verifier/eudcc depends on %s", dep)
			}
		}
	}
}
