package storetest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vaxcert/vaxcert/booking"
	"github.com/vaxcert/vaxcert/registration"
	"github.com/vaxcert/vaxcert/store"
)

// BenchOpener returns a fresh, migrated, empty store for one benchmark.
type BenchOpener func(b *testing.B) store.Store

// BenchmarkBooking measures the booking write path as a citizen's request
// takes it (booking.Service.Schedule: beneficiary, session and dose history
// read, then the one transaction that takes a place and inserts the
// appointment), from parallel clients into one session, and reports
// bookings per second.
func BenchmarkBooking(b *testing.B, open BenchOpener) {
	ctx := context.Background()
	c := NewCitizens(b, open(b), registration.Limits{})
	c.Places(b)
	sess := booking.Session{ID: booking.NewID(), CentreID: TestCentre.ID, Date: c.Book.Today().AddDate(0, 0, 1), Vaccine: "COVISHIELD",
		MinAge: 18, Slots: []string{"FORENOON"}, Capacity: booking.Capacity{Dose1: b.N + 1}}
	sess.Available = sess.Capacity
	if err := c.Store.AddSession(ctx, sess); err != nil {
		b.Fatal(err)
	}
	type who struct {
		p   registration.Principal
		ref string
	}
	people := make([]who, b.N)
	for i := range people {
		if i%4 == 0 {
			people[i].p = c.Account(b, fmt.Sprintf("7%09d", i))
		} else {
			people[i].p = people[i-1].p
		}
		ben, err := c.Reg.AddBeneficiary(ctx, people[i].p, Person("Bench Person", "1980-01-01", 10_000_000+i))
		if err != nil {
			b.Fatal(err)
		}
		people[i].ref = ben.RefID
	}
	var next atomic.Int64
	b.SetParallelism(4)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			w := people[next.Add(1)-1]
			if _, err := c.Book.Schedule(ctx, w.p, w.ref, sess.ID, "FORENOON"); err != nil {
				b.Error(err)
				return
			}
		}
	})
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "bookings/s")
	if s, err := c.Book.Session(ctx, sess.ID); err != nil || s.Available.Dose1 != 1 {
		b.Fatalf("after %d bookings: %d left, %v", b.N, s.Available.Dose1, err)
	}
}
