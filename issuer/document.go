package issuer

import (
	"container/list"
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/vaxcert/vaxcert/internal/problem"
	"github.com/vaxcert/vaxcert/shc"
	"github.com/vaxcert/vaxcert/templates"
)

// Certificate returns one certificate, or ErrCertificateNotFound.
func (s *Service) Certificate(ctx context.Context, id string) (Certificate, error) {
	return s.store.Certificate(ctx, id)
}

// Certificates lists certificates, newest first.
func (s *Service) Certificates(ctx context.Context, f CertificateFilter) ([]Certificate, error) {
	return s.store.Certificates(ctx, f)
}

// ErrNoCertificate: the beneficiary has no valid certificate (no dose yet,
// or every card revoked).
var ErrNoCertificate = problem.New(problem.NotFound, "no-certificate", "This beneficiary has no valid certificate: no dose has been recorded yet, or the certificate was revoked.")

// Current is a beneficiary's current certificate: the newest issued one that
// is not revoked.
func (s *Service) Current(ctx context.Context, ref string) (Certificate, error) {
	certs, err := s.store.Certificates(ctx, CertificateFilter{BeneficiaryRef: ref, Status: Issued, Limit: 50})
	if err != nil {
		return Certificate{}, err
	}
	for _, c := range certs {
		if !c.Revoked() {
			return c, nil
		}
	}
	return Certificate{}, ErrNoCertificate
}

// ErrNotIssued: the certificate is still pending.
var ErrNotIssued = problem.New(problem.Conflict, "certificate-pending", "This certificate is still being issued; try again in a minute.")

// SmartHealthCardFile is the .smart-health-card file of an issued certificate.
func SmartHealthCardFile(c Certificate) ([]byte, error) {
	if c.Status != Issued {
		return nil, ErrNotIssued
	}
	return shc.MarshalFile(c.JWS)
}

// QRPNG is the certificate's QR code as a PNG image.
func QRPNG(c Certificate, pixelsPerModule int) ([]byte, error) {
	if c.Status != Issued {
		return nil, ErrNotIssued
	}
	return shc.QRPNG(c.JWS, pixelsPerModule)
}

// FHIRBundle is the FHIR bundle the certificate's card carries, as signed.
func FHIRBundle(c Certificate) ([]byte, error) {
	if c.Status != Issued {
		return nil, ErrNotIssued
	}
	j, err := shc.ParseJWS(c.JWS)
	if err != nil {
		return nil, err
	}
	raw, err := shc.Inflate(j.Deflated, shc.MaxInflatedSize)
	if err != nil {
		return nil, err
	}
	p, err := shc.DecodePayload(raw)
	if err != nil {
		return nil, err
	}
	return json.Marshal(p.VC.CredentialSubject.FHIRBundle)
}

// Document is what the certificate PDF prints. passport is the full passport
// number, needed by the travel variant only.
func (s *Service) Document(c Certificate, passport string) (templates.Certificate, error) {
	if c.Status != Issued {
		return templates.Certificate{}, ErrNotIssued
	}
	qr, err := shc.QRCode(c.JWS)
	if err != nil {
		return templates.Certificate{}, err
	}
	file, err := shc.MarshalFile(c.JWS)
	if err != nil {
		return templates.Certificate{}, err
	}
	d := c.Details
	birth, err := time.Parse(time.DateOnly, d.BirthDate)
	if err != nil {
		return templates.Certificate{}, fmt.Errorf("issuer: certificate %s: birth date %q: %w", c.ID, d.BirthDate, err)
	}
	doc := templates.Certificate{
		ID: c.ID, Status: string(c.Course), IssuedAt: c.IssuedAt,
		Name: d.Name, Gender: d.Gender, BirthDate: birth, IDType: d.IDType, IDMasked: d.IDMasked, Passport: passport,
		ReferenceID: c.BeneficiaryRef, TotalDoses: d.PrimaryDoses, IssuerURL: s.iss,
		QR: qr.Modules, SmartHealthCard: file,
	}
	for _, f := range d.Doses {
		date, err := time.Parse(time.DateOnly, f.Date)
		if err != nil {
			return templates.Certificate{}, fmt.Errorf("issuer: certificate %s: dose date %q: %w", c.ID, f.Date, err)
		}
		doc.Doses = append(doc.Doses, templates.Dose{
			Number: f.Number, Vaccine: f.VaccineName, Manufacturer: f.Manufacturer, Date: date, Batch: f.Lot,
			Centre: f.Centre, District: f.District, State: f.State,
		})
	}
	return doc, nil
}

// PDFOptions choose a certificate PDF's variant and language.
type PDFOptions struct {
	Variant  string // templates.VariantStandard or VariantTravel
	Lang     string // second language; "" for the default
	Passport string // the passport number, for the travel variant
}

// PDF renders (or returns from a bounded in-memory cache) the certificate
// PDF. The rendering is deterministic, so a cached copy is the same bytes.
func (s *Service) PDF(c Certificate, o PDFOptions) ([]byte, error) {
	key := c.ID + "|" + c.JWS[len(c.JWS)-16:] + "|" + o.Variant + "|" + o.Lang + "|" + o.Passport
	if pdf, ok := s.pdfs.get(key); ok {
		return pdf, nil
	}
	doc, err := s.Document(c, o.Passport)
	if err != nil {
		return nil, err
	}
	pdf, err := templates.RenderPDF(doc, templates.Options{Variant: o.Variant, Lang: o.Lang})
	if err != nil {
		return nil, err
	}
	s.pdfs.put(key, pdf)
	return pdf, nil
}

// pdfCacheBytes bounds the PDF cache's memory.
const pdfCacheBytes = 64 << 20

// lru is a byte-bounded least-recently-used cache.
type lru struct {
	mu    sync.Mutex
	max   int
	size  int
	order *list.List // of *lruEntry, most recent first
	items map[string]*list.Element
}

type lruEntry struct {
	key string
	val []byte
}

func (c *lru) get(key string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[key]; ok {
		c.order.MoveToFront(e)
		return e.Value.(*lruEntry).val, true
	}
	return nil, false
}

func (c *lru) put(key string, val []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.items == nil {
		c.items, c.order = map[string]*list.Element{}, list.New()
	}
	if c.max == 0 {
		c.max = pdfCacheBytes
	}
	if len(val) > c.max/8 {
		return
	}
	if e, ok := c.items[key]; ok {
		c.size -= len(e.Value.(*lruEntry).val)
		c.order.Remove(e)
	}
	c.items[key] = c.order.PushFront(&lruEntry{key, val})
	c.size += len(val)
	for c.size > c.max {
		last := c.order.Back()
		ent := last.Value.(*lruEntry)
		c.order.Remove(last)
		delete(c.items, ent.key)
		c.size -= len(ent.val)
	}
}
