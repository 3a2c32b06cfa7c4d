//go:build !winnowtest && !race

package testseam

// Enabled reports whether seams and extra checks are compiled in: false in
// a release build.
const Enabled = false

func at(string) {}

// Set installs hook as the receiver of every point and returns a function
// that removes it again. Without seams it installs nothing: tests that
// depend on a hook check Enabled first.
func Set(hook func(point string)) (restore func()) { return func() {} }
