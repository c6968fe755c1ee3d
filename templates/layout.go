package templates

import (
	"strings"
)

// Text styles of the certificate.
var (
	stTitle    = style{size: 19, bold: true, color: colAccent}
	stTitle2   = style{size: 15, bold: true, color: colAccent}
	stSubtitle = style{size: 8.5, color: colLabel}
	stSection  = style{size: 10, bold: true, color: colAccent}
	stLabel    = style{size: 8, color: colLabel}
	stValue    = style{size: 10.5, bold: true, color: colInk}
	stValue2   = style{size: 8.5, color: colLabel}
	stCellHead = style{size: 8, bold: true, color: colAccent}
	stCell     = style{size: 9, color: colInk}
	stCellBold = style{size: 9, bold: true, color: colInk}
	stCellNote = style{size: 7.5, color: colLabel}
	stBody     = style{size: 9, color: colInk}
	stBody2    = style{size: 8.5, color: colLabel}
	stFooter   = style{size: 7.5, color: colLabel}
)

// statusColours make the status readable at a glance.
var statusColours = map[string]rgb{
	"provisional": {168, 92, 0},
	"final":       {20, 110, 40},
	"precaution":  {25, 78, 160},
}

// bottomLimit is where content must end to leave room for the footer.
const bottomLimit = 277.5

// QR sizes: the roomy default, and the compact one used when the doses
// would not fit otherwise (still above the 40 mm minimum).
const (
	qrSizeRoomy   = 64.0
	qrSizeCompact = 50.0
)

// certificate lays out the whole page and returns where its content ends;
// past bottomLimit it would run into the footer.
func (d *doc) certificate(c *Certificate, travel bool, qrSize float64) float64 {
	en, sec := d.en, d.second
	s := func(pick func(*lang) string) string { // second-language text, "" if none
		if sec == nil {
			return ""
		}
		return pick(sec)
	}

	// Header: a saffron band, the title in both languages, the subtitle.
	d.rect(0, 0, pageW, 2.5, colSaffron)
	title := en.Labels.Title
	if travel {
		title = en.Labels.TitleTravel
	}
	y := 16.5
	d.textCenter(pageW/2, y, title, stTitle)
	if sec != nil {
		y += 8.5
		d.textCenter(pageW/2, y, sec.Labels.Title, stTitle2)
	}
	y += 6
	d.textCenter(pageW/2, y, d.bi(en.Labels.Subtitle, s(func(l *lang) string { return l.Labels.Subtitle })), stSubtitle)

	// Strip: certificate ID, status, date of issue.
	y += 5
	stripH := 14.5
	if sec != nil {
		stripH = 18.5
	}
	d.rect(marginX, y, contentW, stripH, colPanel)
	d.box(marginX, y, contentW, stripH, colRule, 0.25)
	cellW := contentW / 3
	for i := 1; i < 3; i++ {
		x := marginX + float64(i)*cellW
		d.pdf.SetDrawColor(int(colRule.r), int(colRule.g), int(colRule.b))
		d.pdf.Line(x, y+2.5, x, y+stripH-2.5)
	}
	issued := formatDate(c.IssuedAt.In(d.loc))
	strip := []struct {
		label, label2, value, value2 string
		colour                       rgb
	}{
		{en.Labels.CertificateID, s(func(l *lang) string { return l.Labels.CertificateID }), c.ID, "", colInk},
		{en.Labels.Status, s(func(l *lang) string { return l.Labels.Status }),
			en.Statuses[c.Status], s(func(l *lang) string { return l.Statuses[c.Status] }), statusColours[c.Status]},
		{en.Labels.IssueDate, s(func(l *lang) string { return l.Labels.IssueDate }), issued, "", colInk},
	}
	for i, f := range strip {
		x := marginX + float64(i)*cellW + 4
		d.text(x, y+5, d.bi(f.label, f.label2), stLabel)
		d.text(x, y+11, f.value, style{size: 11.5, bold: true, color: f.colour})
		if f.value2 != "" {
			d.text(x, y+15.3, f.value2, style{size: 8.5, bold: true, color: f.colour})
		}
	}
	y += stripH + 6

	// Beneficiary details on the left, the QR code on the right.
	y = d.section(y, en.Labels.Beneficiary, s(func(l *lang) string { return l.Labels.Beneficiary }))
	qrX := pageW - marginX - qrSize
	tableW := qrX - 6 - marginX
	type row = kvRow
	rows := []row{{en.Labels.Name, s(func(l *lang) string { return l.Labels.Name }), c.Name, ""}}
	birth := c.BirthDate.In(d.loc)
	if travel {
		rows = append(rows,
			row{en.Labels.BirthDate, "", formatDate(birth), ""},
			row{en.Labels.Gender, "", en.Genders[c.Gender], ""},
			row{en.Labels.Passport, "", c.Passport, ""},
		)
	} else {
		years := itoa(ageAt(birth, c.IssuedAt.In(d.loc)))
		rows = append(rows,
			row{en.Labels.Age, s(func(l *lang) string { return l.Labels.Age }),
				fill(en.Labels.AgeValue, "years", years), s(func(l *lang) string { return fill(l.Labels.AgeValue, "years", years) })},
			row{en.Labels.Gender, s(func(l *lang) string { return l.Labels.Gender }),
				en.Genders[c.Gender], s(func(l *lang) string { return l.Genders[c.Gender] })},
			row{en.Labels.IDVerified, s(func(l *lang) string { return l.Labels.IDVerified }),
				en.IDTypes[c.IDType] + " # " + c.IDMasked, s(func(l *lang) string { return l.IDTypes[c.IDType] })},
		)
	}
	rows = append(rows, row{en.Labels.ReferenceID, s(func(l *lang) string { return l.Labels.ReferenceID }), c.ReferenceID, ""})

	ry := d.keyValues(y+1, tableW, rows)
	// Quiet zone: the page around the symbol is blank for more than the
	// four modules the QR specification asks for.
	qrY := y + 2
	d.pen.drawQR(qrX, qrY, qrSize, c.QR)
	d.textCenter(qrX+qrSize/2, qrY+qrSize+4.5, d.bi(en.Labels.ScanToVerify, s(func(l *lang) string { return l.Labels.ScanToVerify })), stFooter)
	y = max(ry, qrY+qrSize+6) + 5

	// Vaccination details: one row per dose.
	y = d.section(y, en.Labels.Vaccination, s(func(l *lang) string { return l.Labels.Vaccination }))
	y = d.doseTable(y+1, c)
	y += 5

	// How to verify.
	y = d.section(y, en.Labels.VerifyTitle, s(func(l *lang) string { return l.Labels.VerifyTitle }))
	file := c.ID + ".smart-health-card"
	steps := []struct{ en, second, extra string }{
		{en.Labels.VerifyScan, s(func(l *lang) string { return l.Labels.VerifyScan }), ""},
		{fill(en.Labels.VerifyFile, "file", file), s(func(l *lang) string { return fill(l.Labels.VerifyFile, "file", file) }), ""},
		{en.Labels.VerifyIssuer, s(func(l *lang) string { return l.Labels.VerifyIssuer }), c.IssuerURL},
	}
	y += 1.5
	textX := marginX + 7
	textW := contentW - 7
	for i, st := range steps {
		y += stBody.lineHeight()
		d.text(marginX+1.5, y, itoa(i+1)+".", style{size: 9, bold: true, color: colAccent})
		for j, ln := range d.wrap(st.en, stBody, textW) {
			if j > 0 {
				y += stBody.lineHeight()
			}
			d.text(textX, y, ln, stBody)
		}
		if st.second != "" {
			for _, ln := range d.wrap(st.second, stBody2, textW) {
				y += stBody2.lineHeight()
				d.text(textX, y, ln, stBody2)
			}
		}
		if st.extra != "" {
			for _, ln := range d.wrap(st.extra, stCellBold, textW) {
				y += stBody.lineHeight()
				d.text(textX, y, ln, style{size: 9, bold: true, color: colAccent})
			}
		}
		y += 1
	}

	// Footer.
	d.rule(marginX, pageW-marginX, 280, colRule, 0.25)
	fy := 284.5
	d.textCenter(pageW/2, fy, en.Labels.Footer, stFooter)
	if sec != nil {
		d.textCenter(pageW/2, fy+4, sec.Labels.Footer, stFooter)
	}
	d.rect(0, pageH-2.5, pageW, 2.5, colGreen)
	return y
}

// kvRow is a labelled value; label2 and value2 are the second language's
// forms, printed smaller beneath.
type kvRow struct{ label, label2, value, value2 string }

// keyValues draws rows of labels and values from the left margin, width
// wide, and returns the y below the last row.
func (d *doc) keyValues(y, width float64, rows []kvRow) float64 {
	const labelW = 44.0
	valueX := marginX + labelW
	valueW := width - labelW - 2
	for i, r := range rows {
		lines := d.wrap(r.value, stValue, valueW)
		lines2 := d.wrap(r.value2, stValue2, valueW)
		h := 4.5 + float64(len(lines)-1)*stValue.lineHeight() + 3.5
		if d.second != nil || len(lines2) > 0 {
			h += 4.2 + float64(max(len(lines2)-1, 0))*stValue2.lineHeight()
		}
		base := y + 5
		d.text(marginX+1, base, r.label, stLabel)
		if r.label2 != "" {
			d.text(marginX+1, base+4.2, r.label2, stLabel)
		}
		vy := base + 0.3
		for _, ln := range lines {
			d.text(valueX, vy, ln, stValue)
			vy += stValue.lineHeight()
		}
		vy += 4.2 - stValue.lineHeight()
		for _, ln := range lines2 {
			d.text(valueX, vy, ln, stValue2)
			vy += stValue2.lineHeight()
		}
		y += h
		if i < len(rows)-1 {
			d.rule(marginX, marginX+width, y, colRule, 0.2)
		}
	}
	return y
}

// section draws a section heading bar and returns the y below it.
func (d *doc) section(y float64, en, second string) float64 {
	h := 7.5
	d.rect(marginX, y, contentW, h, colTint)
	d.rect(marginX, y, 1.2, h, colAccent)
	d.text(marginX+4, y+5.1, d.bi(en, second), stSection)
	return y + h
}

// doseTable draws the dose rows and returns the y below the table.
func (d *doc) doseTable(y float64, c *Certificate) float64 {
	en, sec := d.en, d.second
	type col struct {
		w           float64
		head, head2 string
	}
	pick := func(f func(l *labels) string) string {
		if sec == nil {
			return ""
		}
		return f(&sec.Labels)
	}
	cols := []col{
		{22, en.Labels.Dose, pick(func(l *labels) string { return l.Dose })},
		{23, en.Labels.Date, pick(func(l *labels) string { return l.Date })},
		{36, en.Labels.Vaccine, pick(func(l *labels) string { return l.Vaccine })},
		{20, en.Labels.Batch, pick(func(l *labels) string { return l.Batch })},
		{32, en.Labels.VaccinatedBy, pick(func(l *labels) string { return l.VaccinatedBy })},
		{47, en.Labels.VaccinatedAt, pick(func(l *labels) string { return l.VaccinatedAt })},
	}
	pad := 2.0
	headH := 7.5
	if sec != nil {
		headH = 11
	}
	d.rect(marginX, y, contentW, headH, colPanel)
	x := marginX
	for _, cl := range cols {
		d.text(x+pad, y+4.8, cl.head, stCellHead)
		if cl.head2 != "" {
			d.text(x+pad, y+9, cl.head2, style{size: 8, color: colLabel})
		}
		x += cl.w
	}
	y += headH
	d.rule(marginX, pageW-marginX, y, colAccent, 0.35)

	lh := stCell.lineHeight()
	for i, dose := range c.Doses {
		date := formatDate(dose.Date.In(d.loc))
		num := fill(en.Labels.DoseOf, "n", itoa(dose.Number), "total", itoa(c.TotalDoses))
		num2 := pick(func(l *labels) string {
			return fill(l.DoseOf, "n", itoa(dose.Number), "total", itoa(c.TotalDoses))
		})
		if dose.Number > c.TotalDoses {
			num = en.Labels.PrecautionDose
			num2 = pick(func(l *labels) string { return l.PrecautionDose })
		}
		place := joinNonEmpty(", ", dose.Centre, dose.District, dose.State)
		type cell struct {
			lines []string
			st    style
			note  []string // smaller, below
		}
		cells := []cell{
			{lines: d.wrap(num, stCellBold, cols[0].w-2*pad), st: stCellBold},
			{lines: []string{date}, st: stCell},
			{lines: d.wrap(dose.Vaccine, stCellBold, cols[2].w-2*pad), st: stCellBold,
				note: d.wrap(dose.Manufacturer, stCellNote, cols[2].w-2*pad)},
			{lines: d.wrap(dose.Batch, stCell, cols[3].w-2*pad), st: stCell},
			{lines: d.wrap(dose.VaccinatedBy, stCell, cols[4].w-2*pad), st: stCell},
			{lines: d.wrap(place, stCell, cols[5].w-2*pad), st: stCell},
		}
		if num2 != "" {
			cells[0].note = d.wrap(num2, stCellNote, cols[0].w-2*pad)
		}
		rows := 0.0
		for _, cl := range cells {
			h := float64(len(cl.lines))*lh + float64(len(cl.note))*stCellNote.lineHeight()
			rows = max(rows, h)
		}
		rowH := rows + 3
		x := marginX
		for j, cl := range cells {
			by := y + 1.5 + 3.4
			for _, ln := range cl.lines {
				d.text(x+pad, by, ln, cl.st)
				by += lh
			}
			for _, ln := range cl.note {
				d.text(x+pad, by-0.4, ln, stCellNote)
				by += stCellNote.lineHeight()
			}
			x += cols[j].w
		}
		y += rowH
		if i < len(c.Doses)-1 {
			d.rule(marginX, pageW-marginX, y, colRule, 0.2)
		}
	}
	d.rule(marginX, pageW-marginX, y, colAccent, 0.35)
	return y
}

func joinNonEmpty(sep string, parts ...string) string {
	var out []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, sep)
}
