// Package demo is a realistic demonstration data set: every state and union
// territory of India with some of their districts, about six hundred
// vaccination centres with real-looking names, pincodes and coordinates, and
// sessions for the next seven days, so that a new user can try every
// feature at once (`vaxcert serve --demo`).
//
// states.csv and districts.csv are written by hand. centres.csv is generated
// from them, deterministically, by GenerateCentres (go test ./booking/demo
// -update rewrites it); it is in the format of `vaxcert centres import`, so
// it doubles as an example of that file. Sessions are generated at load time
// for the days from today, deterministically from centre and date.
package demo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/binary"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/vaxcert/vaxcert/booking"
)

//go:embed states.csv districts.csv centres.csv
var files embed.FS

// District is a district with what the generator needs.
type District struct {
	booking.District
	Pincode    string
	Lat, Long  float64
	Localities []string
}

func readCSV(name string) ([][]string, error) {
	data, err := files.ReadFile(name)
	if err != nil {
		return nil, err
	}
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("demo %s: %w", name, err)
	}
	return rows[1:], nil
}

// States are the 28 states and 8 union territories.
func States() ([]booking.State, error) {
	rows, err := readCSV("states.csv")
	if err != nil {
		return nil, err
	}
	out := make([]booking.State, 0, len(rows))
	for _, r := range rows {
		id, err := strconv.Atoi(r[0])
		if err != nil {
			return nil, fmt.Errorf("demo states.csv: %q: %w", r[0], err)
		}
		out = append(out, booking.State{ID: id, Name: r[1]})
	}
	return out, nil
}

// Districts are the demo districts.
func Districts() ([]District, error) {
	rows, err := readCSV("districts.csv")
	if err != nil {
		return nil, err
	}
	out := make([]District, 0, len(rows))
	for _, r := range rows {
		var d District
		var errs []error
		atoi := func(s string) int { n, err := strconv.Atoi(s); errs = append(errs, err); return n }
		atof := func(s string) float64 { f, err := strconv.ParseFloat(s, 64); errs = append(errs, err); return f }
		d.ID, d.StateID, d.Name, d.Pincode = atoi(r[0]), atoi(r[1]), r[2], r[3]
		d.Lat, d.Long, d.Localities = atof(r[4]), atof(r[5]), strings.Split(r[6], "|")
		if err := errors.Join(errs...); err != nil {
			return nil, fmt.Errorf("demo districts.csv: district %s: %w", r[0], err)
		}
		out = append(out, d)
	}
	return out, nil
}

// hash is a deterministic 64-bit number for a string: the generator's only
// source of variety, so the data set is the same on every machine.
func hash(s string) uint64 {
	sum := sha256.Sum256([]byte(s))
	return binary.BigEndian.Uint64(sum[:8])
}

func pick[T any](list []T, key string) T { return list[hash(key)%uint64(len(list))] }

var (
	publicKinds  = []string{"PHC", "CHC", "UPHC", "Sub District Hospital", "Urban Health Centre", "Community Health Centre", "Civil Hospital"}
	privateNames = []string{"Lifeline Multispeciality Hospital", "Sanjeevani Hospital", "Sunrise Hospital", "City Care Hospital",
		"Shree Nursing Home", "Aarogya Hospital", "Care and Cure Hospital", "Green Valley Hospital", "Jeevan Jyoti Hospital", "Sparsh Clinic"}
	streets = []string{"Station Road", "Main Road", "Hospital Road", "Gandhi Chowk", "Nehru Nagar", "MG Road", "Bus Stand Road",
		"Market Yard", "Court Road", "Ambedkar Nagar", "Subhash Marg", "Tilak Road"}
)

// jitter moves a coordinate by up to ±0.12 degrees, deterministically.
func jitter(v float64, key string) float64 {
	off := float64(hash(key)%2401)/10000 - 0.12
	return float64(int((v+off)*10000+0.5)) / 10000
}

// GenerateCentres derives the centres from the districts: a district
// hospital at the headquarters, a public health centre in every locality,
// and a private (paid) hospital in the first locality of larger districts.
func GenerateCentres(districts []District) []booking.Centre {
	var out []booking.Centre
	base := func(d District) int { n, _ := strconv.Atoi(d.Pincode); return n }
	for _, d := range districts {
		n := 0
		add := func(c booking.Centre) {
			n++
			c.ID = strconv.Itoa(d.ID*100 + n)
			c.DistrictID, c.District, c.StateID = d.ID, d.Name, d.StateID
			c.Lat, c.Long = jitter(d.Lat, c.ID+"lat"), jitter(d.Long, c.ID+"long")
			out = append(out, c)
		}
		add(booking.Centre{Name: "District Hospital " + d.Name, Address: pick(streets, d.Name+"dh") + ", " + d.Name,
			Block: d.Name + " Urban", Pincode: d.Pincode, FeeType: booking.Free, From: "08:00", To: "20:00"})
		for i, loc := range d.Localities {
			pin := strconv.Itoa(base(d) + 2*(i+1))
			add(booking.Centre{Name: pick(publicKinds, d.Name+loc) + " " + loc, Address: pick(streets, loc+"street") + ", " + loc,
				Block: loc, Pincode: pin, FeeType: booking.Free, From: "09:00", To: "17:00"})
			if i == 0 && len(d.Localities) >= 3 {
				add(booking.Centre{Name: pick(privateNames, d.Name+loc+"private") + " " + loc, Address: pick(streets, loc+"private") + ", " + loc,
					Block: loc, Pincode: pin, FeeType: booking.Paid, From: "10:00", To: "18:00"})
			}
		}
	}
	return out
}

// WriteCentresCSV writes centres (with their state names) in the import format.
func WriteCentresCSV(w io.Writer, centres []booking.Centre, states []booking.State) error {
	names := map[int]string{}
	for _, s := range states {
		names[s.ID] = s.Name
	}
	cw := csv.NewWriter(w)
	cw.Write(booking.CSVColumns)
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	for _, c := range centres {
		cw.Write([]string{c.ID, c.Name, c.Address, c.Block, c.Pincode, strconv.Itoa(c.StateID), names[c.StateID],
			strconv.Itoa(c.DistrictID), c.District, f(c.Lat), f(c.Long), c.FeeType, c.From, c.To})
	}
	cw.Flush()
	return cw.Error()
}

// CentresCSV is the embedded centres file.
func CentresCSV() []byte {
	data, _ := files.ReadFile("centres.csv")
	return data
}

// Places are the states, districts and centres of the data set, read from
// centres.csv through the same parser as `vaxcert centres import`.
func Places() (booking.Places, error) {
	return booking.ParseCentresCSV(bytes.NewReader(CentresCSV()))
}

// Vaccines offered, with the private price per dose (the 2021 caps).
var privatePrice = map[string]int{"COVISHIELD": 780, "COVAXIN": 1410}

// Sessions plans days of sessions from first (a day at 00:00 UTC) at every
// centre: public centres offer one vaccine a day (and children's CORBEVAX at
// district hospitals on some days) and close on Sundays except district
// hospitals; private ones sell two vaccines. Everything is derived from
// centre and date, so the same day gives the same sessions.
func Sessions(centres []booking.Centre, first time.Time, days int) []booking.Session {
	var out []booking.Session
	for day := range days {
		date := first.AddDate(0, 0, day)
		ds := date.Format(time.DateOnly)
		for _, c := range centres {
			key := c.ID + ds
			h := hash(key)
			districtHospital := strings.HasPrefix(c.Name, "District Hospital")
			if c.FeeType == booking.Free && date.Weekday() == time.Sunday && !districtHospital {
				continue
			}
			add := func(vaccine string, minAge, maxAge, fee int, cap booking.Capacity) {
				out = append(out, booking.Session{ID: sessionID(key + vaccine), CentreID: c.ID, Date: date, Vaccine: vaccine,
					MinAge: minAge, MaxAge: maxAge, Fee: fee, Slots: booking.DefaultSlots, Capacity: cap, Available: cap})
			}
			capacity := func(salt uint64, scale int) booking.Capacity {
				return booking.Capacity{Dose1: scale * int(2+(h>>salt)%8), Dose2: scale * int(2+(h>>(salt+8))%8), Precaution: scale * int(1+(h>>(salt+16))%5)}
			}
			switch {
			case c.FeeType == booking.Paid:
				add("COVISHIELD", 18, 0, privatePrice["COVISHIELD"], capacity(0, 5))
				if h%3 != 0 {
					add("COVAXIN", 18, 0, privatePrice["COVAXIN"], capacity(24, 5))
				}
			default:
				vaccine, minAge := "COVISHIELD", 18
				if h%10 < 3 {
					vaccine, minAge = "COVAXIN", 15
				}
				scale := 10
				if districtHospital {
					scale = 20
				}
				add(vaccine, minAge, 0, 0, capacity(0, scale))
				if districtHospital && h%2 == 0 {
					add("CORBEVAX", 12, 14, 0, booking.Capacity{Dose1: 50, Dose2: 30})
				}
			}
		}
	}
	return out
}

// sessionID is a version-4-shaped UUID derived from key.
func sessionID(key string) string {
	b := sha256.Sum256([]byte("vaxcert-demo-session\x00" + key))
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// Days of sessions Load plans.
const Days = 7

// Summary counts what Load wrote.
type Summary struct {
	States, Districts, Centres, Sessions int
}

func (s Summary) String() string {
	return fmt.Sprintf("%d states and union territories, %d districts, %d centres, %d sessions", s.States, s.Districts, s.Centres, s.Sessions)
}

// ErrNotEmpty: the store already has places; the demo loads only into an
// empty store, so it never mixes with real data.
var ErrNotEmpty = errors.New("demo: the store already has states and centres; the demo data set loads only into an empty store")

// Load writes the data set, with sessions from today (a day at 00:00 UTC,
// see booking.Today) for Days days, in one transaction.
func Load(ctx context.Context, st booking.Store, today time.Time) (Summary, error) {
	has, err := st.HasPlaces(ctx)
	if err != nil {
		return Summary{}, err
	}
	if has {
		return Summary{}, ErrNotEmpty
	}
	states, err := States()
	if err != nil {
		return Summary{}, err
	}
	p, err := Places()
	if err != nil {
		return Summary{}, err
	}
	sessions := Sessions(p.Centres, today, Days)
	if err := st.Import(ctx, states, p.Districts, p.Centres, sessions); err != nil {
		return Summary{}, fmt.Errorf("demo: %w", err)
	}
	return Summary{States: len(states), Districts: len(p.Districts), Centres: len(p.Centres), Sessions: len(sessions)}, nil
}
