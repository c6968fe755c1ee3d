package main

import (
	"flag"
	"fmt"

	"github.com/vaxcert/vaxcert/verifier/divoc"
	"github.com/vaxcert/vaxcert/verifier/eudcc"
)

// importFlags are the trust import forms of the other certificate formats:
//
//	trust import --dsc FILE…                  EU DCC document signer certificates → <trust>/dsc/
//	trust import --did DID --name NAME KEY.pem  a CoWIN/DIVOC signing key       → <trust>/did/
type importFlags struct {
	dsc bool
	did string
}

func registerImportFlags(fs *flag.FlagSet) *importFlags {
	f := &importFlags{}
	fs.BoolVar(&f.dsc, "dsc", false, "import EU DCC document signer certificates (FILE…)")
	fs.StringVar(&f.did, "did", "", "import a CoWIN/DIVOC public key (PEM) for this DID")
	return f
}

// run handles the other formats' import forms; done is false when the
// arguments are an SHC import.
func (f *importFlags) run(dir, iss, name, vci string, crls, files []string, e env) (done bool, code int, err error) {
	if !f.dsc && f.did == "" {
		return false, 0, nil
	}
	switch {
	case f.dsc && f.did != "":
		return true, exitUsage, usageError{"use either --dsc or --did"}
	case iss != "" || vci != "" || len(crls) > 0:
		return true, exitUsage, usageError{"--dsc and --did do not combine with --iss, --vci or --crl"}
	case f.dsc:
		if len(files) == 0 || name != "" {
			return true, exitUsage, usageError{"trust import --dsc needs one or more certificate files (and no --name)"}
		}
		n, err := eudcc.ImportDSC(dir, files)
		if err != nil {
			return true, exitInvalid, err
		}
		fmt.Fprintf(e.stdout, "trusted %d EU DCC document signer certificate(s)\n", n)
		return true, exitValid, nil
	}
	if len(files) != 1 || name == "" {
		return true, exitUsage, usageError{"trust import --did DID --name NAME needs exactly one KEY.pem"}
	}
	if err := divoc.ImportKey(dir, f.did, name, files[0]); err != nil {
		return true, exitInvalid, err
	}
	fmt.Fprintf(e.stdout, "trusted the key in %s for %s (%s)\n", files[0], f.did, name)
	return true, exitValid, nil
}
