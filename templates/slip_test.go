package templates

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func sampleSlip() AppointmentSlip {
	return AppointmentSlip{
		Reference:     "APT-5820-7731",
		Name:          "Priya Raghunathan",
		ReferenceID:   "73920184615027",
		CentreName:    "Urban Primary Health Centre Kothrud",
		CentreAddress: "Survey No. 44, Paud Road, Kothrud, Pune, Maharashtra 411038",
		Date:          time.Date(2021, 8, 19, 18, 30, 0, 0, time.UTC), // 20 Aug in India
		Slot:          "09:00-11:00",
		Vaccine:       "COVISHIELD",
		DoseNumber:    2,
	}
}

func TestRenderAppointmentSlip(t *testing.T) {
	for _, lang := range Languages() {
		s := sampleSlip()
		s.Lang = lang
		pdf, err := RenderAppointmentSlip(s)
		if err != nil {
			t.Fatalf("%s: %v", lang, err)
		}
		again, _ := RenderAppointmentSlip(s)
		if !bytes.Equal(pdf, again) {
			t.Errorf("%s: two renders differ", lang)
		}
		p, err := parseTestPDF(pdf)
		if err != nil {
			t.Fatalf("%s: %v", lang, err)
		}
		content, err := p.pageContent()
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"(APT-5820-7731) Tj", "(Priya Raghunathan) Tj", "(Friday, 20 August 2021) Tj",
			"(09:00-11:00) Tj", "(COVISHIELD) Tj", "(2) Tj", "(Urban Primary Health Centre Kothrud) Tj"} {
			if !bytes.Contains(content, []byte(want)) {
				t.Errorf("%s: slip has no %s", lang, want)
			}
		}
		if shaped := bytes.Contains(content, []byte(" Do\n")); shaped != (lang != "en") {
			t.Errorf("%s: Devanagari drawn = %v", lang, shaped)
		}
		if files, err := p.attachments(); err != nil || len(files) != 0 {
			t.Errorf("%s: slip attachments %v, %v; want none", lang, files, err)
		}
	}
}

func TestAppointmentSlipInvalid(t *testing.T) {
	for _, tt := range []struct {
		name   string
		mutate func(*AppointmentSlip)
		want   string
	}{
		{"no reference", func(s *AppointmentSlip) { s.Reference = "" }, "Reference"},
		{"no name", func(s *AppointmentSlip) { s.Name = "" }, "Name"},
		{"no centre", func(s *AppointmentSlip) { s.CentreName = "" }, "CentreName"},
		{"no date", func(s *AppointmentSlip) { s.Date = time.Time{} }, "Date"},
		{"no slot", func(s *AppointmentSlip) { s.Slot = "" }, "Slot"},
		{"dose 0", func(s *AppointmentSlip) { s.DoseNumber = 0 }, "DoseNumber"},
		{"language", func(s *AppointmentSlip) { s.Lang = "xx" }, "unknown language"},
		{"control character", func(s *AppointmentSlip) { s.CentreAddress = "a\rb" }, "control"},
	} {
		s := sampleSlip()
		tt.mutate(&s)
		_, err := RenderAppointmentSlip(s)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want ErrInvalid mentioning %q", tt.name, err, tt.want)
		}
	}
}
