// Package testseam holds the points at which winnow's tests stop a running
// program: named moments of a file replacement, where a crash test kills
// the process to check that nothing is lost.
//
// In a normal build every seam compiles to nothing and the program reads no
// test setting. Built with the tag winnowtest (the crash tests build the
// binary so) or with the race detector (as the test suite runs), At
// reports each point to a hook that tests install with Set, and the
// environment variables WINNOW_TEST_PAUSE and WINNOW_TEST_TRACE make the
// process pause at, or print, the named points. This mirrors pebble's
// internal/invariants: checks and seams that cost nothing in a release.
//
// The package holds no test logic itself and nothing outside tests and
// the points it names.
package testseam

// At marks the named point of a program's run (for example "renamed"
// after a file replacement's rename). It does nothing unless Enabled.
func At(point string) {
	if Enabled {
		at(point)
	}
}
