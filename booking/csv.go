package booking

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/vaxcert/vaxcert/internal/problem"
)

// CSVColumns are the columns of a centres file, in the order `vaxcert
// centres export` would write them; a file may order them freely and must
// have a header row naming them. block_name, address, lat, long, fee_type,
// from and to may be left out.
var CSVColumns = []string{"center_id", "name", "address", "block_name", "pincode", "state_id", "state_name",
	"district_id", "district_name", "lat", "long", "fee_type", "from", "to"}

var requiredCSV = []string{"center_id", "name", "pincode", "state_id", "state_name", "district_id", "district_name"}

// MaxCSVRows bounds one import.
const MaxCSVRows = 100000

// Places is a set of states, districts and centres to import.
type Places struct {
	States    []State
	Districts []District
	Centres   []Centre
}

// ParseCentresCSV reads a centres file. Every row is checked (ValidateCentre)
// and the state and district names must agree between rows; an error names
// the line and column.
func ParseCentresCSV(r io.Reader) (Places, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = false
	cr.FieldsPerRecord = 0
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return Places{}, problem.Invalidf("csv-invalid", "The file is empty: it needs a header row (%s).", strings.Join(CSVColumns, ","))
		}
		return Places{}, csvError(err)
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if _, dup := col[h]; dup {
			return Places{}, problem.Invalidf("csv-invalid", "Column %q appears twice in the header.", h)
		}
		col[h] = i
	}
	for _, name := range requiredCSV {
		if _, ok := col[name]; !ok {
			return Places{}, problem.Invalidf("csv-invalid", "The header has no %q column; required: %s.", name, strings.Join(requiredCSV, ", "))
		}
	}
	var p Places
	states := map[int]string{}
	districts := map[int]District{}
	seen := map[string]int{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Places{}, csvError(err)
		}
		line, _ := cr.FieldPos(0)
		if len(p.Centres) >= MaxCSVRows {
			return Places{}, problem.Invalidf("csv-invalid", "More than %d centres in one file; split it.", MaxCSVRows)
		}
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		bad := func(format string, args ...any) error {
			return problem.Invalidf("csv-invalid", "Line %d: %s", line, fmt.Sprintf(format, args...))
		}
		num := func(name string) (int, error) {
			n, err := strconv.Atoi(get(name))
			if err != nil || n <= 0 || n > 1e9 {
				return 0, bad("%s must be a positive whole number.", name)
			}
			return n, nil
		}
		float := func(name string) (float64, error) {
			v := get(name)
			if v == "" {
				return 0, nil
			}
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return 0, bad("%s must be a number.", name)
			}
			return f, nil
		}
		stateID, err := num("state_id")
		if err != nil {
			return Places{}, err
		}
		districtID, err := num("district_id")
		if err != nil {
			return Places{}, err
		}
		stateName, districtName := get("state_name"), get("district_name")
		if stateName == "" || districtName == "" || len(stateName) > 100 || len(districtName) > 100 {
			return Places{}, bad("state_name and district_name are required (at most 100 characters).")
		}
		if prev, ok := states[stateID]; ok && prev != stateName {
			return Places{}, bad("state %d is named %q here but %q above.", stateID, stateName, prev)
		}
		if prev, ok := districts[districtID]; ok && (prev.Name != districtName || prev.StateID != stateID) {
			return Places{}, bad("district %d is %q in state %d here but %q in state %d above.", districtID, districtName, stateID, prev.Name, prev.StateID)
		}
		if _, ok := states[stateID]; !ok {
			states[stateID] = stateName
			p.States = append(p.States, State{ID: stateID, Name: stateName})
		}
		if _, ok := districts[districtID]; !ok {
			d := District{ID: districtID, StateID: stateID, Name: districtName}
			districts[districtID] = d
			p.Districts = append(p.Districts, d)
		}
		lat, err := float("lat")
		if err != nil {
			return Places{}, err
		}
		long, err := float("long")
		if err != nil {
			return Places{}, err
		}
		c, err := ValidateCentre(Centre{ID: get("center_id"), Name: get("name"), Address: get("address"), Block: get("block_name"),
			Pincode: get("pincode"), DistrictID: districtID, Lat: lat, Long: long, FeeType: get("fee_type"), From: get("from"), To: get("to")})
		if err != nil {
			pe, _ := problem.As(err)
			return Places{}, bad("%s", pe.Detail)
		}
		if first, dup := seen[c.ID]; dup {
			return Places{}, bad("centre %s is also on line %d.", c.ID, first)
		}
		seen[c.ID] = line
		c.District, c.StateID, c.State = districtName, stateID, stateName
		p.Centres = append(p.Centres, c)
	}
	if len(p.Centres) == 0 {
		return Places{}, problem.Invalidf("csv-invalid", "The file has a header but no centres.")
	}
	return p, nil
}

func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return problem.Invalidf("csv-invalid", "Line %d, column %d: %s.", pe.Line, pe.Column, pe.Err)
	}
	return err
}

// ImportResult counts what an import wrote.
type ImportResult struct {
	States    int `json:"states"`
	Districts int `json:"districts"`
	Centres   int `json:"centres"`
}

func (r ImportResult) String() string {
	return fmt.Sprintf("%d states, %d districts, %d centres", r.States, r.Districts, r.Centres)
}

// ImportCSV reads a centres file and writes it in one transaction: all rows
// or, on any error, none.
func (s *Service) ImportCSV(ctx context.Context, actor string, r io.Reader) (ImportResult, error) {
	p, err := ParseCentresCSV(r)
	if err != nil {
		return ImportResult{}, err
	}
	if err := s.store.Import(ctx, p.States, p.Districts, p.Centres, nil); err != nil {
		return ImportResult{}, err
	}
	res := ImportResult{States: len(p.States), Districts: len(p.Districts), Centres: len(p.Centres)}
	return res, s.record(ctx, actor, "centres.imported", "", res.String())
}
