package booking

import (
	"bytes"
	"fmt"
	"strings"

	"codeberg.org/go-pdf/fpdf"
)

// Slip renders an appointment slip: what to show at the centre. Text is in
// the PDF core font (WinAnsi); names are registered in Latin script, so
// nothing is lost.
func Slip(a AppointmentDetail) ([]byte, error) {
	pdf := fpdf.New("P", "mm", "A5", "")
	pdf.SetTitle("Vaccination appointment slip", true)
	pdf.SetCreator("vaxcert", true)
	pdf.SetMargins(14, 14, 14)
	pdf.SetAutoPageBreak(false, 10)
	tr := pdf.UnicodeTranslatorFromDescriptor("")
	pdf.AddPage()

	pdf.SetFillColor(19, 78, 94)
	pdf.Rect(0, 0, 148, 26, "F")
	pdf.SetTextColor(255, 255, 255)
	pdf.SetFont("Helvetica", "B", 16)
	pdf.SetXY(14, 8)
	pdf.CellFormat(120, 8, "Vaccination appointment slip", "", 1, "L", false, 0, "")
	pdf.SetFont("Helvetica", "", 9)
	pdf.SetX(14)
	pdf.CellFormat(120, 5, "Show this slip and the photo ID you registered with.", "", 1, "L", false, 0, "")

	pdf.SetTextColor(0, 0, 0)
	pdf.SetY(34)
	status := map[string]string{StatusBooked: "Booked", StatusCancelled: "CANCELLED", StatusCompleted: "Completed (dose given)"}[a.Status]
	rows := [][2]string{
		{"Appointment", a.ID},
		{"Status", status},
		{"Beneficiary", a.BeneficiaryName},
		{"Beneficiary reference ID", a.BeneficiaryRef},
		{"Dose", fmt.Sprintf("%d", a.DoseNumber)},
		{"Vaccine", a.Vaccine},
		{"Date", a.Date.Format("Monday, 2 January 2006")},
		{"Time slot", a.Slot},
		{"Centre", a.Centre.Name},
		{"Address", joinNonEmpty(a.Centre.Address, a.Centre.Block)},
		{"", joinNonEmpty(a.Centre.District, a.Centre.State+" "+a.Centre.Pincode)},
		{"Opening hours", a.Centre.From + " to " + a.Centre.To},
		{"Fee", a.Centre.FeeType},
	}
	for _, row := range rows {
		pdf.SetFont("Helvetica", "", 9)
		pdf.SetTextColor(90, 90, 90)
		pdf.SetX(14)
		pdf.CellFormat(44, 7, tr(row[0]), "", 0, "L", false, 0, "")
		size := 11.0
		if row[0] == "Appointment" {
			size = 8.5 // a UUID: keep it on one line
		}
		pdf.SetFont("Helvetica", "B", size)
		pdf.SetTextColor(0, 0, 0)
		pdf.MultiCell(76, 7, tr(row[1]), "", "L", false)
	}
	pdf.Ln(6)
	pdf.SetFont("Helvetica", "", 8)
	pdf.SetTextColor(90, 90, 90)
	pdf.SetX(14)
	pdf.MultiCell(120, 4.5, tr("Cancel or reschedule before the day if you cannot come, so that someone else can take the place. "+
		"After the dose, the certificate is available in your account."), "", "L", false)
	if err := pdf.Error(); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func joinNonEmpty(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, ", ")
}
