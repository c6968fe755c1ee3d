package divoc

import (
	"strings"
	"unicode"
)

// In the CoWIN contexts vaccine, manufacturer, batch, certificateId and
// icd11Code all map to the one predicate schema:id, so the signature cannot
// tell which value belongs to which field: anyone may swap them without
// breaking it. Requiring the vaccine to be a known vaccine name and the
// manufacturer a known maker turns such swaps into rejections: a batch
// number, a certificate number or a maker is not a vaccine name, and a
// vaccine name is not a maker.

// knownVaccines maps a normalised vaccine name to the normalised
// manufacturer prefixes that make it (for a mismatch warning only; real
// DIVOC test certificates pair vaccines and makers loosely).
var knownVaccines = map[string][]string{
	"covishield":   {"seruminstitute"},
	"covaxin":      {"bharatbiotech"},
	"sputnikv":     {"drreddy", "gamaleya"},
	"sputniklight": {"drreddy", "gamaleya"},
	"zycovd":       {"zydus", "cadila"},
	"corbevax":     {"biologicale"},
	"covovax":      {"seruminstitute", "novavax"},
	"moderna":      {"moderna", "cipla"},
	"spikevax":     {"moderna", "cipla"},
	"janssen":      {"janssen", "johnsonjohnson"},
	"gemcovac":     {"gennova"},
	"gemcovac19":   {"gennova"},
	"gemcovacom":   {"gennova"},
	"incovacc":     {"bharatbiotech"},
	// DIVOC's reference programme ("CoVax" by "COVPharma") used in DIVOC's
	// own signed test certificates. Only certificates signed by a trusted
	// key are ever VALID, and the DIVOC development key is not trusted by
	// default.
	"covax": {"covpharma"},
}

// knownManufacturerPrefixes are normalised prefixes of manufacturer names
// (so "Serum Institute of India Pvt. Ltd." matches "seruminstitute").
var knownManufacturerPrefixes = []string{
	"seruminstitute", "bharatbiotech", "drreddy", "gamaleya", "zydus", "cadila",
	"biologicale", "novavax", "moderna", "cipla", "janssen", "johnsonjohnson",
	"gennova", "covpharma",
}

// normaliseName folds case and drops everything but letters and digits:
// "ZyCoV-D" → "zycovd", "Dr. Reddy's Laboratories" → "drreddyslaboratories".
func normaliseName(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func isKnownVaccine(name string) bool {
	_, ok := knownVaccines[normaliseName(name)]
	return ok
}

func isKnownManufacturer(name string) bool {
	n := normaliseName(name)
	for _, p := range knownManufacturerPrefixes {
		if strings.HasPrefix(n, p) {
			return true
		}
	}
	return false
}

// vaccineMatchesManufacturer reports whether the maker is one expected for
// the vaccine.
func vaccineMatchesManufacturer(vaccine, manufacturer string) bool {
	n := normaliseName(manufacturer)
	for _, p := range knownVaccines[normaliseName(vaccine)] {
		if strings.HasPrefix(n, p) {
			return true
		}
	}
	return false
}
