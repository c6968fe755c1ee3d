package storetest

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vaxcert/vaxcert/booking"
	"github.com/vaxcert/vaxcert/internal/problem"
	"github.com/vaxcert/vaxcert/registration"
)

func testPlaces(t *testing.T, open Opener) {
	ctx := context.Background()
	c := NewCitizens(t, open(t), registration.Limits{})
	if has, err := c.Store.HasPlaces(ctx); err != nil || has {
		t.Fatalf("empty store HasPlaces = %v, %v", has, err)
	}
	c.Places(t)
	if has, err := c.Store.HasPlaces(ctx); err != nil || !has {
		t.Fatalf("HasPlaces = %v, %v", has, err)
	}
	states, err := c.Book.States(ctx)
	if err != nil || len(states) != 1 || states[0] != TestState {
		t.Fatalf("States = %+v, %v", states, err)
	}
	ds, err := c.Book.Districts(ctx, TestState.ID)
	if err != nil || len(ds) != 1 || ds[0] != TestDistrict {
		t.Fatalf("Districts = %+v, %v", ds, err)
	}
	if _, err := c.Book.Districts(ctx, 999); !errors.Is(err, booking.ErrStateNotFound) {
		t.Fatalf("unknown state: %v", err)
	}
	got, err := c.Book.Centre(ctx, TestCentre.ID)
	want := TestCentre
	want.District, want.StateID, want.State = "Pune", 21, "Maharashtra"
	if err != nil || got != want {
		t.Fatalf("Centre = %+v, %v\nwant %+v", got, err, want)
	}
	// Update a centre; an unknown district is refused.
	upd := TestCentre
	upd.Name = "Kamla Nehru Hospital (new wing)"
	if _, err := c.Book.PutCentre(ctx, "test", upd); err != nil {
		t.Fatal(err)
	}
	upd.ID, upd.DistrictID = "600009", 9999
	if _, err := c.Book.PutCentre(ctx, "test", upd); !errors.Is(err, booking.ErrDistrictNotFound) {
		t.Fatalf("unknown district: %v", err)
	}
	if err := c.Store.PutDistrict(ctx, booking.District{ID: 1, StateID: 999, Name: "Nowhere"}); !errors.Is(err, booking.ErrStateNotFound) {
		t.Fatalf("district of unknown state: %v", err)
	}
	bad := TestCentre
	bad.ID = "C-1"
	_, err = c.Book.PutCentre(ctx, "test", bad)
	wantProblem(t, err, problem.Invalid, "centre-invalid")
}

func testSessionsSearch(t *testing.T, open Opener) {
	ctx := context.Background()
	c := NewCitizens(t, open(t), registration.Limits{})
	c.Places(t)
	today := c.Book.Today()
	s0 := c.Session(t, TestCentre.ID, "COVISHIELD", 0, booking.Capacity{Dose1: 10, Dose2: 5})
	s1 := c.Session(t, TestCentre.ID, "COVAXIN", 1, booking.Capacity{Dose1: 3})
	s6 := c.Session(t, TestCentre2.ID, "COVISHIELD", 6, booking.Capacity{Precaution: 7})
	c.Session(t, TestCentre2.ID, "COVISHIELD", 7, booking.Capacity{Dose1: 1})

	if s0.Available != s0.Capacity || s0.Centre.State != "Maharashtra" || len(s0.Slots) != 2 {
		t.Fatalf("new session: %+v", s0)
	}
	ids := func(ss []booking.SessionAt) []string {
		var out []string
		for _, s := range ss {
			out = append(out, s.ID)
		}
		return out
	}
	cases := []struct {
		name string
		q    booking.SessionQuery
		want []string
	}{
		{"pin, one day", booking.SessionQuery{Pincode: "411011", From: today, To: today}, []string{s0.ID}},
		{"pin, week", booking.SessionQuery{Pincode: "411011", From: today, To: today.AddDate(0, 0, 6)}, []string{s0.ID, s1.ID}},
		{"district, week", booking.SessionQuery{DistrictID: 363, From: today, To: today.AddDate(0, 0, 6)}, []string{s6.ID, s0.ID, s1.ID}},
		{"district, vaccine", booking.SessionQuery{DistrictID: 363, From: today, To: today.AddDate(0, 0, 6), Vaccine: "COVAXIN"}, []string{s1.ID}},
		{"centre", booking.SessionQuery{CentreID: TestCentre2.ID, From: today.AddDate(0, 0, 1), To: today.AddDate(0, 0, 6)}, []string{s6.ID}},
		{"nothing", booking.SessionQuery{Pincode: "110001", From: today, To: today}, nil},
	}
	for _, tc := range cases {
		got, err := c.Book.Search(ctx, tc.q)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if g := ids(got); len(g) != len(tc.want) || (len(g) > 0 && !equal(g, tc.want)) {
			t.Errorf("%s: got %v, want %v", tc.name, g, tc.want)
		}
	}
	for _, q := range []booking.SessionQuery{
		{From: today, To: today},
		{Pincode: "411011", DistrictID: 363, From: today, To: today},
		{Pincode: "41101", From: today, To: today},
		{Pincode: "411011", From: today, To: today.AddDate(0, 0, 7)},
		{Pincode: "411011"},
	} {
		if _, err := c.Book.Search(ctx, q); !problem.Is(err, problem.Invalid) {
			t.Errorf("Search(%+v) = %v, want Invalid", q, err)
		}
	}
	// Planning sessions: bad input is refused.
	for _, in := range []booking.NewSession{
		{CentreID: TestCentre.ID, Date: today.AddDate(0, 0, -1).Format(time.DateOnly), Vaccine: "COVISHIELD", Capacity: booking.Capacity{Dose1: 1}},
		{CentreID: TestCentre.ID, Date: "tomorrow", Vaccine: "COVISHIELD", Capacity: booking.Capacity{Dose1: 1}},
		{CentreID: TestCentre.ID, Date: today.Format(time.DateOnly), Vaccine: "PFIZER", Capacity: booking.Capacity{Dose1: 1}},
		{CentreID: TestCentre.ID, Date: today.Format(time.DateOnly), Vaccine: "COVISHIELD"},
		{CentreID: TestCentre.ID, Date: today.Format(time.DateOnly), Vaccine: "COVISHIELD", Capacity: booking.Capacity{Dose1: -1, Dose2: 5}},
		{CentreID: TestCentre.ID, Date: today.Format(time.DateOnly), Vaccine: "COVISHIELD", MinAge: 45, MaxAge: 18, Capacity: booking.Capacity{Dose1: 1}},
	} {
		if _, err := c.Book.AddSession(ctx, "test", in); !problem.Is(err, problem.Invalid) {
			t.Errorf("AddSession(%+v) = %v, want Invalid", in, err)
		}
	}
	_, err := c.Book.AddSession(ctx, "test", booking.NewSession{CentreID: "999999", Date: today.Format(time.DateOnly), Vaccine: "COVISHIELD", Capacity: booking.Capacity{Dose1: 1}})
	if !errors.Is(err, booking.ErrCentreNotFound) {
		t.Errorf("session at unknown centre: %v", err)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func testBookingFlow(t *testing.T, open Opener) {
	ctx := context.Background()
	c := NewCitizens(t, open(t), registration.Limits{})
	c.Places(t)
	owner := c.Account(t, "9666666666")
	stranger := c.Account(t, "9777777777")
	adult, err := c.Reg.AddBeneficiary(ctx, owner, Person("Ravi Kumar", "1985-04-12", 1))
	if err != nil {
		t.Fatal(err)
	}
	teen, err := c.Reg.AddBeneficiary(ctx, owner, Person("Anu Kumar", c.Book.Today().AddDate(-16, 0, 0).Format(time.DateOnly), 2))
	if err != nil {
		t.Fatal(err)
	}
	spare, err := c.Reg.AddBeneficiary(ctx, stranger, Person("Gopal Rao", "1950-06-06", 5))
	if err != nil {
		t.Fatal(err)
	}
	s1 := c.Session(t, TestCentre.ID, "COVISHIELD", 1, booking.Capacity{Dose1: 2, Dose2: 1})
	s2 := c.Session(t, TestCentre2.ID, "COVISHIELD", 3, booking.Capacity{Dose1: 1})
	full := c.Session(t, TestCentre2.ID, "COVISHIELD", 2, booking.Capacity{Dose2: 1})

	avail := func(id string) booking.Capacity {
		t.Helper()
		s, err := c.Book.Session(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return s.Available
	}

	a, err := c.Book.Schedule(ctx, owner, adult.RefID, s1.ID, "FORENOON")
	if err != nil {
		t.Fatal(err)
	}
	if a.DoseNumber != 1 || a.Status != booking.StatusBooked || a.Centre.Name != TestCentre.Name || a.BeneficiaryName != "Ravi Kumar" ||
		!a.Date.Equal(s1.Date) || a.Vaccine != "COVISHIELD" || a.Slot != "FORENOON" {
		t.Fatalf("appointment: %+v", a)
	}
	if got := avail(s1.ID); got.Dose1 != 1 || got.Dose2 != 1 {
		t.Fatalf("after booking: %+v", got)
	}

	t.Run("refusals write nothing", func(t *testing.T) {
		cases := []struct {
			name            string
			p               registration.Principal
			ref, sess, slot string
			kind            problem.Kind
			slug            string
		}{
			{name: "second open appointment", p: owner, ref: adult.RefID, sess: s2.ID, slot: "FORENOON", kind: problem.Conflict, slug: "appointment-exists"},
			{name: "someone else's beneficiary", p: stranger, ref: teen.RefID, sess: s1.ID, slot: "FORENOON", kind: problem.NotFound, slug: "beneficiary-not-found"},
			{name: "under age", p: owner, ref: teen.RefID, sess: s1.ID, slot: "FORENOON", kind: problem.Conflict, slug: "age-below-limit"},
			{name: "unknown session", p: owner, ref: teen.RefID, sess: booking.NewID(), slot: "FORENOON", kind: problem.NotFound, slug: "session-not-found"},
			{name: "bad slot", p: owner, ref: teen.RefID, sess: s1.ID, slot: "MIDNIGHT", kind: problem.Invalid, slug: "slot-invalid"},
			{name: "no dose-1 place", p: stranger, ref: spare.RefID, sess: full.ID, slot: "FORENOON", kind: problem.Conflict, slug: "session-full"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				var before booking.Capacity
				if tc.slug != "session-not-found" {
					before = avail(tc.sess)
				}
				_, err := c.Book.Schedule(ctx, tc.p, tc.ref, tc.sess, tc.slot)
				wantProblem(t, err, tc.kind, tc.slug)
				if tc.slug != "session-not-found" && avail(tc.sess) != before {
					t.Fatalf("capacity changed: %+v -> %+v", before, avail(tc.sess))
				}
			})
		}
		mine, err := c.Book.Appointments(ctx, owner)
		if err != nil || len(mine) != 1 {
			t.Fatalf("appointments after refusals: %d, %v", len(mine), err)
		}
	})
	t.Run("past session", func(t *testing.T) {
		past := c.Session(t, TestCentre.ID, "COVISHIELD", 0, booking.Capacity{Dose1: 5})
		c.Clock.Advance(24 * time.Hour)
		defer c.Clock.Advance(-24 * time.Hour)
		adult2, err := c.Reg.AddBeneficiary(ctx, stranger, Person("Late Comer", "1970-01-01", 3))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Book.Schedule(ctx, stranger, adult2.RefID, past.ID, "FORENOON")
		wantProblem(t, err, problem.Invalid, "session-past")
	})
	t.Run("owner only", func(t *testing.T) {
		if _, err := c.Book.Appointment(ctx, stranger, a.ID); !errors.Is(err, booking.ErrAppointmentNotFound) {
			t.Fatalf("stranger read: %v", err)
		}
		if err := c.Book.Cancel(ctx, stranger, a.ID); !errors.Is(err, booking.ErrAppointmentNotFound) {
			t.Fatalf("stranger cancel: %v", err)
		}
		if _, err := c.Book.Reschedule(ctx, stranger, a.ID, s2.ID, "FORENOON"); !errors.Is(err, booking.ErrAppointmentNotFound) {
			t.Fatalf("stranger reschedule: %v", err)
		}
		vacc := registration.Principal{AccountID: "v", Role: registration.Vaccinator, Centres: []string{TestCentre.ID}}
		if _, err := c.Book.Appointment(ctx, vacc, a.ID); err != nil {
			t.Fatalf("vaccinator at the centre: %v", err)
		}
		list, err := c.Book.CentreAppointments(ctx, vacc, TestCentre.ID, s1.Date)
		if err != nil || len(list) != 1 || list[0].ID != a.ID {
			t.Fatalf("CentreAppointments = %+v, %v", list, err)
		}
		other := registration.Principal{AccountID: "w", Role: registration.Vaccinator, Centres: []string{TestCentre2.ID}}
		if _, err := c.Book.Appointment(ctx, other, a.ID); !errors.Is(err, booking.ErrAppointmentNotFound) {
			t.Fatalf("vaccinator elsewhere: %v", err)
		}
		if _, err := c.Book.CentreAppointments(ctx, other, TestCentre.ID, s1.Date); !problem.Is(err, problem.Forbidden) {
			t.Fatalf("vaccinator elsewhere lists: %v", err)
		}
	})
	t.Run("reschedule", func(t *testing.T) {
		moved, err := c.Book.Reschedule(ctx, owner, a.ID, s2.ID, "AFTERNOON")
		if err != nil {
			t.Fatal(err)
		}
		if moved.ID != a.ID || moved.SessionID != s2.ID || moved.Slot != "AFTERNOON" || moved.Centre.ID != TestCentre2.ID {
			t.Fatalf("moved: %+v", moved)
		}
		if got := avail(s1.ID); got.Dose1 != 2 {
			t.Fatalf("old session not given back: %+v", got)
		}
		if got := avail(s2.ID); got.Dose1 != 0 {
			t.Fatalf("new session not taken: %+v", got)
		}
		// s2 is now full for dose 1: moving someone else there fails and
		// leaves both sessions as they were.
		other, err := c.Reg.AddBeneficiary(ctx, owner, Person("Sita Kumar", "1960-10-10", 4))
		if err != nil {
			t.Fatal(err)
		}
		b, err := c.Book.Schedule(ctx, owner, other.RefID, s1.ID, "FORENOON")
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Book.Reschedule(ctx, owner, b.ID, s2.ID, "FORENOON")
		wantProblem(t, err, problem.Conflict, "session-full")
		if got := avail(s1.ID); got.Dose1 != 1 {
			t.Fatalf("failed move changed the old session: %+v", got)
		}
		// Same session, another slot: no capacity change.
		if _, err := c.Book.Reschedule(ctx, owner, b.ID, s1.ID, "AFTERNOON"); err != nil {
			t.Fatal(err)
		}
		if got := avail(s1.ID); got.Dose1 != 1 {
			t.Fatalf("slot change moved capacity: %+v", got)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		if err := c.Book.Cancel(ctx, owner, a.ID); err != nil {
			t.Fatal(err)
		}
		if got := avail(s2.ID); got.Dose1 != 1 {
			t.Fatalf("cancel did not give the place back: %+v", got)
		}
		wantProblem(t, c.Book.Cancel(ctx, owner, a.ID), problem.Conflict, "appointment-closed")
		_, err := c.Book.Reschedule(ctx, owner, a.ID, s1.ID, "FORENOON")
		wantProblem(t, err, problem.Conflict, "appointment-closed")
		got, err := c.Book.Appointment(ctx, owner, a.ID)
		if err != nil || got.Status != booking.StatusCancelled {
			t.Fatalf("after cancel: %+v, %v", got, err)
		}
		// A new booking is possible again.
		if _, err := c.Book.Schedule(ctx, owner, adult.RefID, s2.ID, "FORENOON"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("deleting a beneficiary gives the place back", func(t *testing.T) {
		before := avail(s2.ID)
		if err := c.Reg.DeleteBeneficiary(ctx, owner, adult.RefID); err != nil {
			t.Fatal(err)
		}
		if got := avail(s2.ID); got.Dose1 != before.Dose1+1 {
			t.Fatalf("delete: %+v -> %+v", before, got)
		}
	})
}

// testBookingRace is the acceptance test: 500 concurrent bookings for 50
// places give exactly 50 appointments; cancellations give places back.
func testBookingRace(t *testing.T, open Opener) {
	ctx := context.Background()
	c := NewCitizens(t, open(t), registration.Limits{})
	c.Places(t)
	sess := c.Session(t, TestCentre.ID, "COVISHIELD", 1, booking.Capacity{Dose1: 50})
	const racers = 500
	type racer struct {
		p   registration.Principal
		ref string
	}
	rs := make([]racer, racers)
	for i := range racers {
		if i%4 == 0 {
			rs[i].p = c.Account(t, "98"+pad8(i))
		} else {
			rs[i].p = rs[i-i%4].p
		}
		b, err := c.Reg.AddBeneficiary(ctx, rs[i].p, Person("Racer Person", "1980-01-01", 1000+i))
		if err != nil {
			t.Fatal(err)
		}
		rs[i].ref = b.RefID
	}
	var booked, full atomic.Int32
	var mu sync.Mutex
	var won []booking.AppointmentDetail
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, r := range rs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			a, err := c.Book.Schedule(ctx, r.p, r.ref, sess.ID, "FORENOON")
			switch {
			case err == nil:
				booked.Add(1)
				mu.Lock()
				won = append(won, a)
				mu.Unlock()
			case errors.Is(err, booking.ErrSessionFull):
				full.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if booked.Load() != 50 || full.Load() != racers-50 {
		t.Fatalf("%d booked, %d full; want 50 and %d", booked.Load(), full.Load(), racers-50)
	}
	s, err := c.Book.Session(ctx, sess.ID)
	if err != nil || s.Available.Dose1 != 0 {
		t.Fatalf("available after the race: %+v, %v", s.Available, err)
	}
	day, err := c.Book.CentreAppointments(ctx, registration.Principal{Role: registration.Admin}, TestCentre.ID, sess.Date)
	if err != nil || len(day) != 50 {
		t.Fatalf("%d appointments stored, %v", len(day), err)
	}
	// Ten cancellations, concurrently, give exactly ten places back.
	for _, a := range won[:10] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.Book.Cancel(ctx, registration.Principal{Role: registration.Admin}, a.ID); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if s, _ := c.Book.Session(ctx, sess.ID); s.Available.Dose1 != 10 {
		t.Fatalf("available after 10 cancellations: %d", s.Available.Dose1)
	}
	// And a second race for those ten places again books exactly ten.
	booked.Store(0)
	for _, r := range rs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.Book.Schedule(ctx, r.p, r.ref, sess.ID, "AFTERNOON"); err == nil {
				booked.Add(1)
			}
		}()
	}
	wg.Wait()
	if booked.Load() != 10 {
		t.Fatalf("second race booked %d, want 10", booked.Load())
	}
	if s, _ := c.Book.Session(ctx, sess.ID); s.Available.Dose1 != 0 {
		t.Fatalf("available after the second race: %d", s.Available.Dose1)
	}
}

// testBookBatch: one batch takes its places in order; a beneficiary with
// an open appointment (from before, or earlier in the same batch) takes
// none and leaves it to a later one; the rest find the session full.
func testBookBatch(t *testing.T, open Opener) {
	ctx := context.Background()
	c := NewCitizens(t, open(t), registration.Limits{})
	c.Places(t)
	sess := c.Session(t, TestCentre.ID, "COVISHIELD", 1, booking.Capacity{Dose1: 3})
	p := c.Account(t, "9811111111")
	q := c.Account(t, "9822222222")
	var refs []string
	for i, acct := range []registration.Principal{p, p, p, p, q, q} {
		b, err := c.Reg.AddBeneficiary(ctx, acct, Person("Batch Person", "1980-01-01", 2000+i))
		if err != nil {
			t.Fatal(err)
		}
		refs = append(refs, b.RefID)
	}
	// refs[0] already holds a place in another session.
	other := c.Session(t, TestCentre.ID, "COVISHIELD", 2, booking.Capacity{Dose1: 1})
	if _, err := c.Book.Schedule(ctx, p, refs[0], other.ID, "FORENOON"); err != nil {
		t.Fatal(err)
	}
	appointment := func(ref string) booking.Appointment {
		now := time.Now().UTC().Truncate(time.Microsecond)
		return booking.Appointment{ID: booking.NewID(), BeneficiaryRef: ref, SessionID: sess.ID, DoseNumber: 1,
			Bucket: booking.BucketDose1, Slot: "FORENOON", Status: booking.StatusBooked, CreatedAt: now, UpdatedAt: now}
	}
	batch := []booking.Appointment{appointment(refs[1]), appointment(refs[0]), appointment(refs[1]),
		appointment(refs[2]), appointment(refs[3]), appointment(refs[4])}
	outcomes, err := c.Store.Book(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	want := []error{nil, booking.ErrAlreadyBooked, booking.ErrAlreadyBooked, nil, nil, booking.ErrSessionFull}
	for i := range want {
		if !errors.Is(outcomes[i], want[i]) {
			t.Errorf("outcome %d = %v, want %v", i, outcomes[i], want[i])
		}
	}
	if s, err := c.Book.Session(ctx, sess.ID); err != nil || s.Available.Dose1 != 0 {
		t.Fatalf("available after the batch: %+v, %v", s.Available, err)
	}
	day, err := c.Book.CentreAppointments(ctx, registration.Principal{Role: registration.Admin}, TestCentre.ID, sess.Date)
	if err != nil || len(day) != 3 {
		t.Fatalf("%d appointments stored, %v", len(day), err)
	}
	for _, a := range day {
		if !slices.Contains([]string{batch[0].ID, batch[3].ID, batch[4].ID}, a.ID) {
			t.Errorf("stored appointment %s for %s was not a winner", a.ID, a.BeneficiaryRef)
		}
	}
	// A full session is answered from memory for a moment: a place given
	// back by another process (here: straight through the store) is found
	// once that moment has passed; one given back by this process, at once.
	if _, err := c.Book.Schedule(ctx, q, refs[5], sess.ID, "FORENOON"); !errors.Is(err, booking.ErrSessionFull) {
		t.Fatalf("booking a full session: %v", err)
	}
	// The session is checked first: whose beneficiary it is does not matter
	// to a full session (the answer says nothing about the beneficiary).
	if _, err := c.Book.Schedule(ctx, q, refs[0], sess.ID, "FORENOON"); !errors.Is(err, booking.ErrSessionFull) {
		t.Fatalf("another account's beneficiary, full session: %v", err)
	}
	if err := c.Store.CancelAppointment(ctx, batch[0].ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Book.Schedule(ctx, q, refs[5], sess.ID, "FORENOON"); !errors.Is(err, booking.ErrSessionFull) {
		t.Fatalf("booking a session seen full a moment ago: %v", err)
	}
	time.Sleep(300 * time.Millisecond)
	if _, err := c.Book.Schedule(ctx, q, refs[0], sess.ID, "FORENOON"); !errors.Is(err, registration.ErrBeneficiaryNotFound) {
		t.Fatalf("another account's beneficiary, open session: %v", err)
	}
	a5, err := c.Book.Schedule(ctx, q, refs[5], sess.ID, "FORENOON")
	if err != nil {
		t.Fatalf("booking the place given back: %v", err)
	}
	if _, err := c.Book.Schedule(ctx, p, refs[1], sess.ID, "FORENOON"); !errors.Is(err, booking.ErrSessionFull) {
		t.Fatalf("booking a full session: %v", err)
	}
	if err := c.Book.Cancel(ctx, q, a5.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Book.Schedule(ctx, p, refs[1], sess.ID, "FORENOON"); err != nil {
		t.Fatalf("booking a place given back in this process: %v", err)
	}

	// A session that does not exist, and an empty batch.
	gone := appointment(refs[5])
	gone.SessionID = booking.NewID()
	if outcomes, err := c.Store.Book(ctx, []booking.Appointment{gone}); err != nil || !errors.Is(outcomes[0], booking.ErrSessionNotFound) {
		t.Fatalf("unknown session: %v, %v", outcomes, err)
	}
	if outcomes, err := c.Store.Book(ctx, nil); err != nil || len(outcomes) != 0 {
		t.Fatalf("empty batch: %v, %v", outcomes, err)
	}
}

func pad8(i int) string {
	const digits = "0123456789"
	b := []byte("00000000")
	for j := 7; j >= 0 && i > 0; j-- {
		b[j] = digits[i%10]
		i /= 10
	}
	return string(b)
}

// testEligibilityHistory checks the dose rules against doses recorded in
// the store (the issuer's table).
func testEligibilityHistory(t *testing.T, open Opener) {
	ctx := context.Background()
	c := NewCitizens(t, open(t), registration.Limits{})
	dw, ok := c.Store.(DoseWriter)
	if !ok {
		t.Skip("store has no DoseWriter in its test build")
	}
	c.Places(t)
	owner := c.Account(t, "9888888888")
	b, err := c.Reg.AddBeneficiary(ctx, owner, Person("Kiran Das", "1975-03-03", 1))
	if err != nil {
		t.Fatal(err)
	}
	today := c.Book.Today()
	if err := dw.InsertDoseForTest(ctx, b.RefID, 1, "COVISHIELD", today.AddDate(0, 0, -80)); err != nil {
		t.Fatal(err)
	}
	history, err := c.Store.DoseHistory(ctx, b.RefID)
	if err != nil || len(history) != 1 || history[0].Vaccine != "COVISHIELD" || !history[0].Date.Equal(today.AddDate(0, 0, -80)) {
		t.Fatalf("DoseHistory = %+v, %v", history, err)
	}
	early := c.Session(t, TestCentre.ID, "COVISHIELD", 2, booking.Capacity{Dose2: 5})  // day 82 after dose 1
	onTime := c.Session(t, TestCentre.ID, "COVISHIELD", 4, booking.Capacity{Dose2: 5}) // day 84
	wrong := c.Session(t, TestCentre.ID, "COVAXIN", 5, booking.Capacity{Dose2: 5})
	_, err = c.Book.Schedule(ctx, owner, b.RefID, early.ID, "FORENOON")
	wantProblem(t, err, problem.Conflict, "dose-too-early")
	_, err = c.Book.Schedule(ctx, owner, b.RefID, wrong.ID, "FORENOON")
	wantProblem(t, err, problem.Conflict, "vaccine-mismatch")
	a, err := c.Book.Schedule(ctx, owner, b.RefID, onTime.ID, "FORENOON")
	if err != nil {
		t.Fatal(err)
	}
	if a.DoseNumber != 2 || a.Bucket != booking.BucketDose2 {
		t.Fatalf("dose 2 booking: %+v", a)
	}
	if s, _ := c.Book.Session(ctx, onTime.ID); s.Available.Dose2 != 4 || s.Available.Dose1 != 0 {
		t.Fatalf("dose 2 took %+v", s.Available)
	}
}
