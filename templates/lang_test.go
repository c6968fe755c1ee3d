package templates

import (
	"encoding/json"
	"strings"
	"testing"
	"testing/fstest"
)

func TestLanguages(t *testing.T) {
	got := Languages()
	if strings.Join(got, ",") != "en,hi" {
		t.Errorf("Languages() = %v, want [en hi]", got)
	}
	got[0] = "mutated"
	if Languages()[0] != "en" {
		t.Error("Languages() returned the internal slice")
	}
	if ids := IDTypes(); len(ids) < 5 || ids[0] != "aadhaar" {
		t.Errorf("IDTypes() = %v", ids)
	}
}

// langFile builds a language file from the embedded English one with a
// change applied, so the tests cover the real schema.
func langFile(t *testing.T, code, font string, change func(m map[string]any)) []byte {
	t.Helper()
	data, err := langFiles.ReadFile("lang/en.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	m["code"], m["font"] = code, font
	if change != nil {
		change(m)
	}
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// A language is data: a new JSON file (here Marathi-like labels reusing
// the Devanagari font) is picked up without code.
func TestLanguageAddedAsData(t *testing.T) {
	fonts, err := loadedFonts()
	if err != nil {
		t.Fatal(err)
	}
	enData, _ := langFiles.ReadFile("lang/en.json")
	mr := langFile(t, "mr", "NotoSansDevanagari", func(m map[string]any) {
		m["name"], m["english_name"] = "मराठी", "Marathi"
		m["labels"].(map[string]any)["title"] = "लसीकरण प्रमाणपत्र"
	})
	table, err := parseLangs(fstest.MapFS{
		"lang/en.json": {Data: enData},
		"lang/mr.json": {Data: mr},
	}, "lang", fonts)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(table.codes, ",") != "en,mr" {
		t.Fatalf("codes = %v", table.codes)
	}
	l := table.byCode["mr"]
	if l.fam != fonts.families["NotoSansDevanagari"] || l.Labels.Title != "लसीकरण प्रमाणपत्र" {
		t.Errorf("mr loaded as %+v", l)
	}
}

func TestLanguageTableRejects(t *testing.T) {
	fonts, err := loadedFonts()
	if err != nil {
		t.Fatal(err)
	}
	enData, _ := langFiles.ReadFile("lang/en.json")
	for _, tt := range []struct {
		name string
		file []byte
		want string
	}{
		{"missing label", langFile(t, "xx", "", func(m map[string]any) { delete(m["labels"].(map[string]any), "footer") }), `label "footer" is missing`},
		{"blank label", langFile(t, "xx", "", func(m map[string]any) { m["labels"].(map[string]any)["name"] = " " }), `label "name" is missing`},
		{"unknown key", langFile(t, "xx", "", func(m map[string]any) { m["labels"].(map[string]any)["nmae"] = "x" }), "unknown field"},
		{"unknown font", langFile(t, "xx", "NotoSansKlingon", nil), "not in fonts/"},
		{"missing gender", langFile(t, "xx", "", func(m map[string]any) { delete(m["genders"].(map[string]any), "other") }), "genders keys"},
		{"extra ID type", langFile(t, "xx", "", func(m map[string]any) { m["id_types"].(map[string]any)["x"] = "X" }), "id_types keys"},
		{"wrong code", langFile(t, "yy", "", nil), `says code "yy"`},
		{"not JSON", []byte("{"), "language xx"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseLangs(fstest.MapFS{
				"lang/en.json": {Data: enData},
				"lang/xx.json": {Data: tt.file},
			}, "lang", fonts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one mentioning %q", err, tt.want)
			}
		})
	}
	if _, err := parseLangs(fstest.MapFS{"lang/hi.json": {Data: enData}}, "lang", fonts); err == nil {
		t.Error("a table without English was accepted")
	}
}

func TestFontSetRejects(t *testing.T) {
	regular, err := fontFiles.ReadFile("fonts/NotoSansDevanagari-Regular.ttf")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name  string
		files fstest.MapFS
		want  string
	}{
		{"no bold", fstest.MapFS{"f/X-Regular.ttf": {Data: regular}}, "needs both"},
		{"bad name", fstest.MapFS{"f/X-Italic.ttf": {Data: regular}}, "is not named"},
		{"not a font", fstest.MapFS{"f/X-Regular.ttf": {Data: []byte("nope")}, "f/X-Bold.ttf": {Data: regular}}, "parse font"},
	} {
		if _, err := parseFonts(tt.files, "f"); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one mentioning %q", tt.name, err, tt.want)
		}
	}
}

// Every shipped label can be printed with the shipped fonts.
func TestAllLabelsPrintable(t *testing.T) {
	table, err := languages()
	if err != nil {
		t.Fatal(err)
	}
	fonts, _ := loadedFonts()
	for _, code := range table.codes {
		l := table.byCode[code]
		ts := &typeset{fonts: fonts, primary: l.fam, lang: l.tag}
		data, _ := json.Marshal(l.Labels)
		var texts map[string]string
		json.Unmarshal(data, &texts)
		for _, m := range []map[string]string{texts, l.Statuses, l.Genders, l.IDTypes} {
			for k, s := range m {
				for _, bold := range []bool{false, true} {
					if _, err := ts.layout(s, bold); err != nil {
						t.Errorf("%s %s: %v", code, k, err)
					}
				}
			}
		}
	}
}
