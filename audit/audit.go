// Package audit defines the append-only audit log: who did what, when and why,
// for every issuance, correction, revocation and key event. Entries form a hash
// chain (each carries the hash of the one before), so removing or editing an
// entry in the database is detectable by Verify.
//
// The chain alone cannot show that its newest entries were deleted: what is
// left is still a valid chain. A Head (an entry's sequence number and hash)
// recorded outside the database closes that gap: Verify given the head checks
// that the entry is still there, with exactly that hash.
package audit

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
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
// PrevHash and Hash atomically with the insert. AuditHead reads the newest
// entry's head (the zero Head for an empty log) without walking the log.
type Store interface {
	AppendAudit(ctx context.Context, e Entry) (Entry, error)
	ListAudit(ctx context.Context, afterSeq int64, limit int) ([]Entry, error)
	AuditHead(ctx context.Context) (Head, error)
}

// Head names one entry of the chain by its sequence number and hash. Since
// each hash covers the one before, a head vouches for every entry up to it.
type Head struct {
	Seq  int64     `json:"seq"`
	Hash string    `json:"hash"`
	At   time.Time `json:"at,omitzero"` // the entry's time; not part of what Verify compares
}

// String is the SEQ:HASH form that ParseHead reads.
func (h Head) String() string { return strconv.FormatInt(h.Seq, 10) + ":" + h.Hash }

// ParseHead reads a head written as SEQ:HASH, as `vaxcert audit head` prints
// it.
func ParseHead(s string) (Head, error) {
	seq, hash, ok := strings.Cut(s, ":")
	n, err := strconv.ParseInt(seq, 10, 64)
	if !ok || err != nil || n < 1 {
		return Head{}, fmt.Errorf("head %q: want SEQ:HASH with SEQ a sequence number from 1", s)
	}
	hash = strings.ToLower(hash)
	if _, err := hex.DecodeString(hash); err != nil || len(hash) != 2*sha256.Size {
		return Head{}, fmt.Errorf("head %q: want SEQ:HASH with HASH 64 hexadecimal digits", s)
	}
	return Head{Seq: n, Hash: hash}, nil
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
// breaks the chain, or nil if it is intact. Given recorded heads, it also
// requires each head's entry to be in the log with the recorded hash, so that
// a log whose newest entries were deleted, or rewritten and re-chained, fails
// although what is left forms a valid chain. A head with Seq 0 (an empty log's)
// vouches for nothing and is ignored.
func Verify(ctx context.Context, s Store, heads ...Head) (checked int64, err error) {
	heads = slices.SortedFunc(slices.Values(heads), func(a, b Head) int { return cmp.Compare(a.Seq, b.Seq) })
	for len(heads) > 0 && heads[0].Seq < 1 {
		heads = heads[1:]
	}
	var prev *Entry
	for {
		page, err := s.ListAudit(ctx, lastSeq(prev), 1000)
		if err != nil {
			return checked, err
		}
		if len(page) == 0 {
			if len(heads) > 0 {
				end := "the log is empty"
				if prev != nil {
					end = fmt.Sprintf("the log ends at entry %d", prev.Seq)
				}
				return checked, fmt.Errorf("audit entry %d is missing: %s, but head %s was recorded: its newest entries were deleted", heads[0].Seq, end, heads[0])
			}
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
			for ; len(heads) > 0 && heads[0].Seq == e.Seq; heads = heads[1:] {
				if heads[0].Hash != e.Hash {
					return checked, fmt.Errorf("audit entry %d: hash %s is not the recorded head %s: the log was rewritten at or before entry %d", e.Seq, e.Hash, heads[0], e.Seq)
				}
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
