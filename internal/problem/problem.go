// Package problem is the error vocabulary shared by the domain packages and the
// HTTP edge. A domain package says what kind of failure happened and gives it a
// stable slug; only api/ turns a Kind into an HTTP status and an RFC 9457
// problem document. Errors that are not *Error are internal: their text is
// logged, never shown.
package problem

import (
	"errors"
	"fmt"
	"time"
)

// Kind classifies a failure the way a client needs to react to it.
type Kind int

const (
	Internal     Kind = iota // a bug or an outage: the client may retry later
	Invalid                  // the request itself is wrong
	Unauthorized             // no or bad credentials
	Forbidden                // authenticated, but not allowed
	NotFound                 // no such resource (or not the caller's to see)
	Conflict                 // the resource's state forbids it
	TooMany                  // rate limited: see RetryAfter
	Unavailable              // a dependency (the database) is down
	TooLarge                 // the request body is over the limit
)

// Error is a failure a client may be told about.
type Error struct {
	Kind       Kind
	Slug       string        // stable, becomes the problem "type": e.g. "otp-expired"
	Detail     string        // for people: what was wrong and, where useful, how to fix it
	RetryAfter time.Duration // with TooMany or Unavailable
	Err        error         // an underlying cause, logged but never shown
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Slug, e.Detail, e.Err)
	}
	return e.Slug + ": " + e.Detail
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an *Error of the given kind.
func New(kind Kind, slug, format string, args ...any) *Error {
	return &Error{Kind: kind, Slug: slug, Detail: fmt.Sprintf(format, args...)}
}

// Invalid is shorthand for New(Invalid, …): the most common client error.
func Invalidf(slug, format string, args ...any) *Error {
	return New(Invalid, slug, format, args...)
}

// As returns the *Error in err's chain, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Is reports whether err carries a problem of the given kind.
func Is(err error, kind Kind) bool {
	e, ok := As(err)
	return ok && e.Kind == kind
}
