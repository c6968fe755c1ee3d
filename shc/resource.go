package shc

import "errors"

// resourceFacts is what ReadBundle learns from one resource in a single
// pass: its type, the members health cards leave out, every reference at any
// depth, and the typed Patient or Immunization.
type resourceFacts struct {
	resourceType string
	hasID        bool
	hasText      bool
	metaOther    bool // meta present with more than "security"
	refs         []string
	patient      *Patient
	immunization *Immunization
}

// readResource decodes one bundle entry's resource.
func readResource(raw []byte, refs []string) (resourceFacts, error) {
	r := &jreader{b: raw}
	f, err := readResourceAt(r, refs)
	if err == nil {
		err = r.end()
	}
	return f, err
}

// readResourceAt decodes the resource object at r's position.
func readResourceAt(r *jreader, refs []string) (resourceFacts, error) {
	f := resourceFacts{refs: refs}
	r.ws()
	rest := &jreader{b: r.b[r.i:]}
	if r.s != "" {
		rest.s = r.s[r.i:]
	}
	rt, err := peekResourceType(rest)
	if err != nil {
		return f, err
	}
	f.resourceType = rt
	switch rt {
	case "Patient":
		f.patient = &Patient{}
	case "Immunization":
		f.immunization = &Immunization{}
	}
	err = r.object(func(k []byte) error {
		switch string(k) {
		case "id":
			f.hasID = true
		case "text":
			f.hasText = true
		case "meta":
			if r.peek() != '{' {
				f.metaOther = true
				return f.walk(r)
			}
			empty := true
			err := r.object(func(k []byte) error {
				empty = false
				if string(k) != "security" {
					f.metaOther = true
				}
				return f.walk(r)
			})
			if empty {
				f.metaOther = true
			}
			return err
		}
		if p := f.patient; p != nil {
			switch string(k) {
			case "name":
				return f.names(r, &p.Name)
			case "birthDate":
				var err error
				p.BirthDate, err = r.optStr()
				return err
			}
		}
		if im := f.immunization; im != nil {
			var err error
			switch string(k) {
			case "status":
				im.Status, err = r.optStr()
				return err
			case "occurrenceDateTime":
				im.OccurrenceDateTime, err = r.optStr()
				return err
			case "lotNumber":
				im.LotNumber, err = r.optStr()
				return err
			case "isSubpotent":
				if r.null() {
					return nil
				}
				im.IsSubpotent, err = r.boolean()
				return err
			case "patient":
				return f.reference(r, &im.Patient)
			case "vaccineCode":
				return f.codeableConcept(r, &im.VaccineCode)
			case "performer":
				return f.performers(r, &im.Performer)
			}
		}
		return f.walk(r)
	})
	return f, err
}

var errFound = errors.New("found")

// peekResourceType finds the top-level resourceType, usually the first
// member, and stops reading there (the full pass validates the rest).
func peekResourceType(r *jreader) (string, error) {
	rt := ""
	err := r.object(func(k []byte) error {
		if string(k) == "resourceType" {
			s, err := r.optStr()
			rt = s
			if err != nil {
				return err
			}
			return errFound
		}
		return r.skip()
	})
	if err == errFound {
		err = nil
	}
	return rt, err
}

// walk consumes any value, collecting "reference" strings at any depth.
func (f *resourceFacts) walk(r *jreader) error {
	switch r.peek() {
	case '{':
		return r.object(func(k []byte) error {
			if string(k) == "reference" && r.peek() == '"' {
				s, err := r.str()
				f.refs = append(f.refs, s)
				return err
			}
			return f.walk(r)
		})
	case '[':
		return r.array(func() error { return f.walk(r) })
	}
	return r.skip()
}

func (f *resourceFacts) reference(r *jreader, ref *Reference) error {
	if r.null() {
		return nil
	}
	return r.object(func(k []byte) error {
		if string(k) == "reference" && r.peek() == '"' {
			s, err := r.str()
			ref.Reference = s
			f.refs = append(f.refs, s)
			return err
		}
		return f.walk(r)
	})
}

func (f *resourceFacts) names(r *jreader, out *[]HumanName) error {
	if r.null() {
		return nil
	}
	return r.array(func() error {
		var n HumanName
		err := r.object(func(k []byte) error {
			var err error
			switch string(k) {
			case "family":
				n.Family, err = r.optStr()
			case "given":
				n.Given, err = r.stringArray()
			case "text":
				n.Text, err = r.optStr()
			default:
				err = f.walk(r)
			}
			return err
		})
		*out = append(*out, n)
		return err
	})
}

func (f *resourceFacts) codeableConcept(r *jreader, cc *CodeableConcept) error {
	if r.null() {
		return nil
	}
	return r.object(func(k []byte) error {
		if string(k) != "coding" || r.null() {
			return f.walk(r)
		}
		return r.array(func() error {
			var c Coding
			err := r.object(func(k []byte) error {
				var err error
				switch string(k) {
				case "system":
					c.System, err = r.optStr()
				case "code":
					c.Code, err = r.optStr()
				default:
					err = f.walk(r)
				}
				return err
			})
			cc.Coding = append(cc.Coding, c)
			return err
		})
	})
}

func (f *resourceFacts) performers(r *jreader, out *[]Performer) error {
	if r.null() {
		return nil
	}
	return r.array(func() error {
		var p Performer
		err := r.object(func(k []byte) error {
			if string(k) != "actor" || r.null() {
				return f.walk(r)
			}
			return r.object(func(k []byte) error {
				if string(k) == "display" {
					var err error
					p.Actor.Display, err = r.optStr()
					return err
				}
				if string(k) == "reference" && r.peek() == '"' {
					s, err := r.str()
					f.refs = append(f.refs, s)
					return err
				}
				return f.walk(r)
			})
		})
		*out = append(*out, p)
		return err
	})
}
