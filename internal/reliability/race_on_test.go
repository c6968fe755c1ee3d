//go:build race

package reliability

// raceEnabled: the race detector slows CPU-bound work several times over
// and makes sync.Pool drop what it holds, so time- and allocation-heavy
// cases are sized down or bounded more loosely under it.
const raceEnabled = true
