package api

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/vaxcert/vaxcert/registration"
	"github.com/vaxcert/vaxcert/store/storetest"
)

func TestWebDeskLookup(t *testing.T) {
	env := newCitizenEnv(t, RateLimits{})
	env.places(t)
	ctx := context.Background()
	owner := env.c.Account(t, "9876543210")
	b, err := env.c.Reg.AddBeneficiary(ctx, owner, storetest.Person("Asha Rao", "1980-02-29", 1))
	if err != nil {
		t.Fatal(err)
	}
	session := env.sessions["free"]
	if _, err := env.c.Book.Schedule(ctx, owner, b.RefID, session.ID, session.Slots[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := env.c.Reg.PutStaff(ctx, "9000000001", registration.Vaccinator, []string{storetest.TestCentre.ID}); err != nil {
		t.Fatal(err)
	}
	vaccinator := env.login(t, "9000000001")
	citizen := env.login(t, "9876543210")

	rec := env.call(t, http.MethodGet, "/web/desk/beneficiaries/"+b.RefID, "", vaccinator)
	if rec.Code != http.StatusOK || rec.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("%d %v %s", rec.Code, rec.Header(), rec.Body)
	}
	var v deskView
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatal(err)
	}
	switch {
	case v.Beneficiary.Name != "Asha Rao" || v.Beneficiary.BirthDate != "1980-02-29" || v.Beneficiary.IDMasked == "":
		t.Errorf("beneficiary %+v", v.Beneficiary)
	case v.Appointment == nil || v.Appointment.SessionID != session.ID:
		t.Errorf("appointment %+v, want the one at session %s", v.Appointment, session.ID)
	case v.Next.Dose != 1 || len(v.Doses) != 0:
		t.Errorf("next %+v doses %+v", v.Next, v.Doses)
	case len(v.Centres) != 1 || v.Centres[0].ID != storetest.TestCentre.ID || v.Centres[0].Name != storetest.TestCentre.Name:
		t.Errorf("centres %+v", v.Centres)
	case len(v.Vaccines) == 0 || v.Today == "":
		t.Errorf("vaccines %+v today %q", v.Vaccines, v.Today)
	}
	if v.Beneficiary.Age < 40 {
		t.Errorf("age %d", v.Beneficiary.Age)
	}

	tests := []struct {
		name, ref, token string
		status           int
	}{
		{"citizen", b.RefID, citizen, http.StatusForbidden},
		{"anonymous", b.RefID, "", http.StatusUnauthorized},
		{"unknown reference", "12345678901234", vaccinator, http.StatusNotFound},
		{"malformed reference", "12ab", vaccinator, http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := env.call(t, http.MethodGet, "/web/desk/beneficiaries/"+tt.ref, "", tt.token)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			decodeProblem(t, rec)
		})
	}
}
