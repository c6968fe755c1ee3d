package verifier

import "github.com/vaxcert/vaxcert/shc"

// vaccineInfo is what the verifier knows about a vaccine code: a display
// name and how many doses make a full primary course (0: unknown, count 2).
type vaccineInfo struct {
	Name  string
	Doses int
}

// vaccineKey is a coding: code system and code.
type vaccineKey struct{ system, code string }

// vaccineCatalog maps codings to the COVID-19 vaccines seen on health
// cards: CVX (CDC), SNOMED CT and ICD-11 MMS. The CVX codes our own issuer
// emits (vaccine/catalog.json) are included.
var vaccineCatalog = map[vaccineKey]vaccineInfo{
	{shc.SystemCVX, "207"}: {"Moderna COVID-19 (Spikevax)", 2},
	{shc.SystemCVX, "208"}: {"Pfizer-BioNTech COVID-19 (Comirnaty)", 2},
	{shc.SystemCVX, "210"}: {"AstraZeneca COVID-19 (Vaxzevria / COVISHIELD)", 2},
	{shc.SystemCVX, "211"}: {"Novavax COVID-19 (Nuvaxovid / COVOVAX)", 2},
	{shc.SystemCVX, "212"}: {"Janssen COVID-19 (J&J)", 1},
	{shc.SystemCVX, "213"}: {"COVID-19 vaccine, unspecified formulation", 0},
	{shc.SystemCVX, "217"}: {"Pfizer-BioNTech COVID-19 (12+, Tris-sucrose)", 2},
	{shc.SystemCVX, "218"}: {"Pfizer-BioNTech COVID-19 (5-11 years)", 2},
	{shc.SystemCVX, "219"}: {"Pfizer-BioNTech COVID-19 (6 months-4 years)", 3},
	{shc.SystemCVX, "221"}: {"Moderna COVID-19 (booster, 50 mcg)", 2},
	{shc.SystemCVX, "228"}: {"Moderna COVID-19 (6 months-5 years)", 2},
	{shc.SystemCVX, "229"}: {"Moderna COVID-19, bivalent", 2},
	{shc.SystemCVX, "230"}: {"Moderna COVID-19, bivalent (6 months-5 years)", 2},
	{shc.SystemCVX, "300"}: {"Pfizer-BioNTech COVID-19, bivalent", 2},
	{shc.SystemCVX, "301"}: {"Pfizer-BioNTech COVID-19, bivalent (5-11 years)", 2},
	{shc.SystemCVX, "500"}: {"COVID-19 vaccine, non-US, product unknown", 0},
	{shc.SystemCVX, "501"}: {"QazCovid-in", 2},
	{shc.SystemCVX, "502"}: {"COVAXIN (Bharat Biotech)", 2},
	{shc.SystemCVX, "503"}: {"CoviVac", 2},
	{shc.SystemCVX, "504"}: {"Sputnik Light", 1},
	{shc.SystemCVX, "505"}: {"Sputnik V", 2},
	{shc.SystemCVX, "506"}: {"CanSino (Convidecia)", 1},
	{shc.SystemCVX, "507"}: {"ZF2001 (Zifivax)", 3},
	{shc.SystemCVX, "508"}: {"Medigen MVC-COV1901", 2},
	{shc.SystemCVX, "509"}: {"EpiVacCorona", 2},
	{shc.SystemCVX, "510"}: {"Sinopharm BIBP (Covilo)", 2},
	{shc.SystemCVX, "511"}: {"Sinovac CoronaVac", 2},
	{shc.SystemCVX, "512"}: {"Medicago Covifenz", 2},
	{shc.SystemCVX, "513"}: {"Valneva VLA2001", 2},
	{shc.SystemCVX, "514"}: {"Sinopharm WIBP", 2},
	{shc.SystemCVX, "515"}: {"COVID-19 vaccine, non-US, product unknown", 0},
	{shc.SystemCVX, "516"}: {"Clover SCB-2019", 2},
	{shc.SystemCVX, "517"}: {"Soberana 02", 2},
	{shc.SystemCVX, "518"}: {"Sanofi VidPrevtyn Beta", 1},
	{shc.SystemCVX, "519"}: {"Abdala", 3},

	{shc.SystemSNOMED, "28531000087107"}: {"COVID-19 vaccine", 0},
	{shc.SystemSNOMED, "1119349007"}:     {"COVID-19 mRNA vaccine", 2},
	{shc.SystemSNOMED, "1119305005"}:     {"COVID-19 antigen vaccine", 2},
	{shc.SystemSNOMED, "29061000087103"}: {"COVID-19 non-replicating viral vector vaccine", 0},
	{shc.SystemSNOMED, "1162643001"}:     {"COVID-19 inactivated virus vaccine", 2},

	{shc.SystemICD11, "XM68M6"}: {"COVID-19 vaccine (ICD-11)", 0},
	{shc.SystemICD11, "XM0GQ8"}: {"COVID-19 mRNA vaccine (ICD-11)", 2},
	{shc.SystemICD11, "XM9QW8"}: {"COVID-19 non-replicating viral vector vaccine (ICD-11)", 0},
	{shc.SystemICD11, "XM1NL1"}: {"COVID-19 inactivated virus vaccine (ICD-11)", 2},
	{shc.SystemICD11, "XM5JC5"}: {"COVID-19 protein subunit vaccine (ICD-11)", 2},
	{shc.SystemICD11, "XM1J92"}: {"COVID-19 virus-like particle vaccine (ICD-11)", 2},
}

// dosesWhenUnknown is the conservative course length for a vaccine whose
// schedule the catalog does not know.
const dosesWhenUnknown = 2

// lookupVaccine returns the display name, the code as shown, and the course
// length for a vaccineCode (the first coding the catalog knows wins).
func lookupVaccine(cc shc.CodeableConcept) (name, code string, doses int) {
	for _, c := range cc.Coding {
		if info, ok := vaccineCatalog[vaccineKey{c.System, c.Code}]; ok {
			doses = info.Doses
			if doses == 0 {
				doses = dosesWhenUnknown
			}
			return info.Name, codeLabel(c), doses
		}
	}
	if len(cc.Coding) > 0 {
		c := cc.Coding[0]
		return "Unknown vaccine (" + codeLabel(c) + ")", codeLabel(c), dosesWhenUnknown
	}
	return "Unknown vaccine", "", dosesWhenUnknown
}

func codeLabel(c shc.Coding) string {
	switch c.System {
	case shc.SystemCVX:
		return "CVX " + c.Code
	case shc.SystemSNOMED:
		return "SNOMED " + c.Code
	case shc.SystemICD11:
		return "ICD-11 " + c.Code
	}
	return c.System + "|" + c.Code
}
