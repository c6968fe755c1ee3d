package main

import "flag"

// importFlags are the trust import forms of the other certificate formats
// (EU DCC document signers, CoWIN DID keys), wired in when those verifiers
// are built in.
type importFlags struct{}

func registerImportFlags(fs *flag.FlagSet) *importFlags { return &importFlags{} }

// run handles the other formats' import forms; done is false when the
// arguments are an SHC import.
func (f *importFlags) run(dir, iss, name, vci string, crls, files []string, e env) (done bool, code int, err error) {
	return false, 0, nil
}
