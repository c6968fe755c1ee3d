package booking

import (
	"sync"
	"time"
)

// fullFor is how long a session seen with no place left is answered full
// from memory. A place given back in this process clears it at once; one
// given back through another process is found at most this much later.
const fullFor = 250 * time.Millisecond

// fullSessions remembers sessions recently read with no place left in any
// bucket. In a rush, the thousands who lose then cost no query instead of
// three.
type fullSessions struct {
	mu   sync.Mutex
	seen map[string]fullSession
}

type fullSession struct {
	SessionAt
	at time.Time
}

// get returns the session if it was seen full less than fullFor ago.
func (f *fullSessions) get(id string, now time.Time) (SessionAt, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.seen[id]
	return s.SessionAt, ok && now.Sub(s.at) < fullFor
}

func (f *fullSessions) put(s SessionAt, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.seen == nil || len(f.seen) > 10_000 { // forget them all rather than grow without bound
		f.seen = map[string]fullSession{}
	}
	f.seen[s.ID] = fullSession{s, now}
}

func (f *fullSessions) forget(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.seen, id)
}
