package templates

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/go-text/typesetting/language"
)

//go:embed lang/*.json
var langFiles embed.FS

// labels are the printed words of one language. Adding a language is a
// matter of adding lang/<code>.json (and its font, if its script is new):
// every field must be filled, and every key of the value maps that English
// has must be present.
type labels struct {
	Title           string `json:"title"`
	TitleTravel     string `json:"title_travel"`
	Subtitle        string `json:"subtitle"`
	CertificateID   string `json:"certificate_id"`
	Status          string `json:"status"`
	IssueDate       string `json:"issue_date"`
	Beneficiary     string `json:"beneficiary_details"`
	Name            string `json:"name"`
	Age             string `json:"age"`
	AgeValue        string `json:"age_value"` // {years}
	Gender          string `json:"gender"`
	IDVerified      string `json:"id_verified"`
	ReferenceID     string `json:"reference_id"`
	BirthDate       string `json:"birth_date"`
	Passport        string `json:"passport"`
	Vaccination     string `json:"vaccination_details"`
	Vaccine         string `json:"vaccine"`
	Dose            string `json:"dose"`
	DoseOf          string `json:"dose_of"` // {n}, {total}
	PrecautionDose  string `json:"precaution_dose"`
	Date            string `json:"date"`
	Batch           string `json:"batch"`
	VaccinatedBy    string `json:"vaccinated_by"`
	VaccinatedAt    string `json:"vaccinated_at"`
	ScanToVerify    string `json:"scan_to_verify"`
	VerifyTitle     string `json:"verify_title"`
	VerifyScan      string `json:"verify_scan"`
	VerifyFile      string `json:"verify_file"` // {file}
	VerifyIssuer    string `json:"verify_issuer"`
	Footer          string `json:"footer"`
	SlipTitle       string `json:"slip_title"`
	SlipReference   string `json:"slip_reference"`
	SlipCentre      string `json:"slip_centre"`
	SlipSlot        string `json:"slip_slot"`
	SlipInstruction string `json:"slip_instruction"`
}

// lang is one entry of the language table.
type lang struct {
	Code        string `json:"code"`
	Name        string `json:"name"`         // in its own script
	EnglishName string `json:"english_name"` // for people choosing it
	Font        string `json:"font"`         // family in fonts/, "" for Latin-only
	Labels      labels `json:"labels"`
	// Value vocabularies, keyed by the codes used in Certificate.
	Statuses map[string]string `json:"statuses"`
	Genders  map[string]string `json:"genders"`
	IDTypes  map[string]string `json:"id_types"`

	tag language.Language
	fam *family
}

type langTable struct {
	byCode map[string]*lang
	codes  []string
}

var (
	langsOnce sync.Once
	langsVal  *langTable
	langsErr  error
)

// languages loads and checks the embedded language table once.
func languages() (*langTable, error) {
	langsOnce.Do(func() {
		fonts, err := loadedFonts()
		if err != nil {
			langsErr = err
			return
		}
		langsVal, langsErr = parseLangs(langFiles, "lang", fonts)
	})
	return langsVal, langsErr
}

func parseLangs(fsys fs.FS, dir string, fonts *fontSet) (*langTable, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("templates: read languages: %w", err)
	}
	t := &langTable{byCode: map[string]*lang{}}
	for _, e := range entries {
		code, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok {
			continue
		}
		data, err := fs.ReadFile(fsys, dir+"/"+e.Name())
		if err != nil {
			return nil, fmt.Errorf("templates: read language %s: %w", code, err)
		}
		var l lang
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			return nil, fmt.Errorf("templates: language %s: %w", code, err)
		}
		if l.Code != code {
			return nil, fmt.Errorf("templates: language file %s says code %q", e.Name(), l.Code)
		}
		if err := l.checkFilled(); err != nil {
			return nil, fmt.Errorf("templates: language %s: %w", code, err)
		}
		if l.Font != "" {
			l.fam = fonts.families[l.Font]
			if l.fam == nil {
				return nil, fmt.Errorf("templates: language %s: font family %q is not in fonts/", code, l.Font)
			}
		}
		l.tag = language.NewLanguage(code)
		t.byCode[code] = &l
		t.codes = append(t.codes, code)
	}
	en := t.byCode["en"]
	if en == nil {
		return nil, fmt.Errorf("templates: the language table has no English (en.json)")
	}
	for _, l := range t.byCode {
		for _, v := range []struct {
			what     string
			ref, got map[string]string
		}{{"statuses", en.Statuses, l.Statuses}, {"genders", en.Genders, l.Genders}, {"id_types", en.IDTypes, l.IDTypes}} {
			if !slices.Equal(sortedKeys(v.ref), sortedKeys(v.got)) {
				return nil, fmt.Errorf("templates: language %s: %s keys %v differ from English %v",
					l.Code, v.what, sortedKeys(v.got), sortedKeys(v.ref))
			}
			for k, s := range v.got {
				if strings.TrimSpace(s) == "" {
					return nil, fmt.Errorf("templates: language %s: %s %q is empty", l.Code, v.what, k)
				}
			}
		}
	}
	sort.Strings(t.codes)
	return t, nil
}

// checkFilled rejects a language file with a missing or blank label, so a
// half-translated language cannot print a certificate with holes in it.
func (l *lang) checkFilled() error {
	if strings.TrimSpace(l.Name) == "" || strings.TrimSpace(l.EnglishName) == "" {
		return fmt.Errorf("name and english_name are required")
	}
	v := reflect.ValueOf(l.Labels)
	for i := 0; i < v.NumField(); i++ {
		if strings.TrimSpace(v.Field(i).String()) == "" {
			return fmt.Errorf("label %q is missing", v.Type().Field(i).Tag.Get("json"))
		}
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Languages lists the language codes Options.Lang accepts, sorted. "en"
// prints an English-only certificate; any other code prints English plus
// that language.
func Languages() []string {
	t, err := languages()
	if err != nil {
		return nil
	}
	return slices.Clone(t.codes)
}
