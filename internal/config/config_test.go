package config

import (
	"flag"
	"testing"
)

func TestParse(t *testing.T) {
	t.Setenv("VAXCERT_ISSUER_URL", "https://env.example")
	t.Setenv("VAXCERT_ADDR", "127.0.0.1:9999")
	t.Setenv("VAXCERT_DEMO", "notabool")
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	issuer := fs.String("issuer-url", "", "")
	addr := fs.String("addr", "127.0.0.1:8080", "")
	data := fs.String("data", "./vaxcert-data", "")
	if err := Parse(fs, []string{"--addr", "127.0.0.1:1"}); err != nil {
		t.Fatal(err)
	}
	if *issuer != "https://env.example" || *addr != "127.0.0.1:1" || *data != "./vaxcert-data" {
		t.Fatalf("issuer %q addr %q data %q", *issuer, *addr, *data)
	}

	fs = flag.NewFlagSet("t", flag.ContinueOnError)
	fs.Bool("demo", false, "")
	if err := Parse(fs, nil); err == nil {
		t.Fatal("a malformed environment value was accepted")
	}
}
