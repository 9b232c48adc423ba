//go:build !race

package scheduler

// raceEnabled reports whether the tests run under the race detector, which
// makes SQLite-heavy tests several times slower: the simulation shrinks.
const raceEnabled = false
