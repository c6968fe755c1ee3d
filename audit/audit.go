// Package audit defines the append-only audit log: who did what, when and why,
// for every issuance, correction, revocation and key event. Entries form a hash
// chain (each carries the hash of the one before), so removing or editing an
// entry in the database is detectable by Verify.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// Entry is one audit record. Seq, PrevHash and Hash are assigned by the store
// when the entry is appended.
type Entry struct {
	Seq      int64     `json:"seq"`
	At       time.Time `json:"at"`
	Actor    string    `json:"actor"`   // "user:<id>", "system", "cli:<os user>"
	Action   string    `json:"action"`  // e.g. "certificate.issued", "key.rotated"
	Subject  string    `json:"subject"` // the resource acted on, e.g. a certificate ID or kid
	Detail   string    `json:"detail,omitempty"`
	PrevHash string    `json:"prev_hash"`
	Hash     string    `json:"hash"`
}

// Store appends entries and reads them back in order. Append assigns Seq,
// PrevHash and Hash atomically with the insert.
type Store interface {
	AppendAudit(ctx context.Context, e Entry) (Entry, error)
	ListAudit(ctx context.Context, afterSeq int64, limit int) ([]Entry, error)
}

// Hash is the chain hash of e given the previous entry's hash: SHA-256 over a
// canonical encoding of every field but Hash itself.
func Hash(e Entry) string {
	canonical, _ := json.Marshal([]any{e.Seq, e.At.UTC().Format(time.RFC3339Nano), e.Actor, e.Action, e.Subject, e.Detail, e.PrevHash})
	sum := sha256.Sum256(canonical)
	return hex.EncodeToString(sum[:])
}

// Seal fills in the chain fields of e as the entry following prev (nil for the
// first entry).
func Seal(e Entry, prev *Entry) Entry {
	e.At = e.At.UTC().Truncate(time.Microsecond)
	e.Seq, e.PrevHash = 1, ""
	if prev != nil {
		e.Seq, e.PrevHash = prev.Seq+1, prev.Hash
	}
	e.Hash = Hash(e)
	return e
}

// Verify walks the whole log and returns an error naming the first entry that
// breaks the chain, or nil if it is intact.
func Verify(ctx context.Context, s Store) (checked int64, err error) {
	var prev *Entry
	for {
		page, err := s.ListAudit(ctx, lastSeq(prev), 1000)
		if err != nil {
			return checked, err
		}
		if len(page) == 0 {
			return checked, nil
		}
		for i := range page {
			e := page[i]
			wantSeq, wantPrev := int64(1), ""
			if prev != nil {
				wantSeq, wantPrev = prev.Seq+1, prev.Hash
			}
			switch {
			case e.Seq != wantSeq:
				return checked, fmt.Errorf("audit entry %d: expected sequence %d: an entry is missing", e.Seq, wantSeq)
			case e.PrevHash != wantPrev:
				return checked, fmt.Errorf("audit entry %d: previous-hash does not match entry %d", e.Seq, wantSeq-1)
			case Hash(e) != e.Hash:
				return checked, fmt.Errorf("audit entry %d: contents do not match its hash: it was altered", e.Seq)
			}
			prev = &page[i]
			checked++
		}
	}
}

func lastSeq(e *Entry) int64 {
	if e == nil {
		return 0
	}
	return e.Seq
}
