package templates

import (
	"strings"
	"time"
)

// AppointmentSlip is what a beneficiary brings to the vaccination centre.
type AppointmentSlip struct {
	Reference     string    // appointment reference
	Name          string    // beneficiary name
	ReferenceID   string    // beneficiary reference ID (optional)
	CentreName    string    // vaccination centre
	CentreAddress string    // its address (optional)
	Date          time.Time // session date; also the PDF's creation date
	Slot          string    // e.g. "09:00-11:00" or "FORENOON"
	Vaccine       string
	DoseNumber    int
	Lang          string // second language, as Options.Lang ("" = "hi", "en" = English only)
	// Location is the time zone the date is printed in; nil means IST.
	Location *time.Location
}

// RenderAppointmentSlip renders the slip as a one-page A4 PDF in English
// and the second language. Equal input gives byte-identical output.
func RenderAppointmentSlip(s AppointmentSlip) ([]byte, error) {
	langs, err := languages()
	if err != nil {
		return nil, err
	}
	code := s.Lang
	if code == "" {
		code = DefaultLang
	}
	second := langs.byCode[code]
	if second == nil {
		return nil, invalid("unknown language %q (have %s)", s.Lang, strings.Join(langs.codes, ", "))
	}
	en := langs.byCode["en"]
	if second == en {
		second = nil
	}
	if err := s.check(); err != nil {
		return nil, err
	}
	loc := s.Location
	if loc == nil {
		loc = ist
	}
	fonts, err := loadedFonts()
	if err != nil {
		return nil, err
	}
	d := newDoc(fonts, en, second, loc)
	d.pdf.SetTitle(en.Labels.SlipTitle+" "+s.Reference, false)
	d.slip(&s)
	return d.finish(s.Date, nil)
}

func (s *AppointmentSlip) check() error {
	for _, f := range []struct {
		name, v  string
		required bool
		max      int
	}{
		{"Reference", s.Reference, true, 40},
		{"Name", s.Name, true, 120},
		{"ReferenceID", s.ReferenceID, false, 32},
		{"CentreName", s.CentreName, true, 100},
		{"CentreAddress", s.CentreAddress, false, 200},
		{"Slot", s.Slot, true, 40},
		{"Vaccine", s.Vaccine, true, 40},
	} {
		if err := checkText(f.name, f.v, f.required, f.max); err != nil {
			return err
		}
	}
	if s.Date.IsZero() {
		return invalid("Date is required")
	}
	if s.DoseNumber < 1 || s.DoseNumber > 9 {
		return invalid("DoseNumber %d is out of range 1..9", s.DoseNumber)
	}
	return nil
}

func (d *doc) slip(s *AppointmentSlip) {
	en, sec := d.en, d.second
	pick := func(f func(l *labels) string) string {
		if sec == nil {
			return ""
		}
		return f(&sec.Labels)
	}
	d.rect(0, 0, pageW, 2.5, colSaffron)
	y := 16.5
	d.textCenter(pageW/2, y, en.Labels.SlipTitle, stTitle)
	if sec != nil {
		y += 8.5
		d.textCenter(pageW/2, y, sec.Labels.SlipTitle, stTitle2)
	}

	// The reference is what the centre asks for: large, in its own box.
	y += 7
	boxH := 16.0
	d.rect(marginX, y, contentW, boxH, colPanel)
	d.box(marginX, y, contentW, boxH, colRule, 0.25)
	d.text(marginX+4, y+5.5, d.bi(en.Labels.SlipReference, pick(func(l *labels) string { return l.SlipReference })), stLabel)
	d.text(marginX+4, y+12.5, s.Reference, style{size: 16, bold: true, color: colAccent})
	y += boxH + 4

	rows := []kvRow{{en.Labels.Name, pick(func(l *labels) string { return l.Name }), s.Name, ""}}
	if strings.TrimSpace(s.ReferenceID) != "" {
		rows = append(rows, kvRow{en.Labels.ReferenceID, pick(func(l *labels) string { return l.ReferenceID }), s.ReferenceID, ""})
	}
	date := s.Date.In(d.loc)
	rows = append(rows,
		kvRow{en.Labels.SlipCentre, pick(func(l *labels) string { return l.SlipCentre }), s.CentreName, s.CentreAddress},
		kvRow{en.Labels.Date, pick(func(l *labels) string { return l.Date }), date.Format("Monday, 02 January 2006"), ""},
		kvRow{en.Labels.SlipSlot, pick(func(l *labels) string { return l.SlipSlot }), s.Slot, ""},
		kvRow{en.Labels.Vaccine, pick(func(l *labels) string { return l.Vaccine }), s.Vaccine, ""},
		kvRow{en.Labels.Dose, pick(func(l *labels) string { return l.Dose }), itoa(s.DoseNumber), ""},
	)
	y = d.keyValues(y, contentW, rows)
	d.rule(marginX, pageW-marginX, y, colAccent, 0.35)

	y += 8
	for _, ln := range d.wrap(en.Labels.SlipInstruction, stBody, contentW) {
		d.text(marginX, y, ln, stBody)
		y += stBody.lineHeight()
	}
	if sec != nil {
		for _, ln := range d.wrap(sec.Labels.SlipInstruction, stBody2, contentW) {
			d.text(marginX, y, ln, stBody2)
			y += stBody2.lineHeight()
		}
	}
	d.rect(0, pageH-2.5, pageW, 2.5, colGreen)
}
