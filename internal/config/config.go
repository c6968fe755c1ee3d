// Package config gives every command-line flag an environment variable:
// --issuer-url is also VAXCERT_ISSUER_URL. A flag given on the command line
// wins over the environment, which wins over the default.
package config

import (
	"flag"
	"fmt"
	"os"
	"strings"
)

// EnvName is the environment variable for a flag name.
func EnvName(flagName string) string {
	return "VAXCERT_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// Parse parses args into fs, then fills every flag not given on the command
// line from its environment variable.
func Parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || err != nil {
			return
		}
		if v, ok := os.LookupEnv(EnvName(f.Name)); ok {
			if setErr := fs.Set(f.Name, v); setErr != nil {
				err = fmt.Errorf("%s=%q: %v", EnvName(f.Name), v, setErr)
			}
		}
	})
	return err
}
