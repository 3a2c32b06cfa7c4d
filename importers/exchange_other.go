//go:build !linux

package importers

// exchange swaps folders a and b; without an atomic exchange, b is
// missing for a moment.
func exchange(a, b string) error { return exchangeByRenames(a, b) }
