// Package benchmarks holds winnow's benchmarks and the synthetic data
// generator they use. Targets are measured here with go test -bench and
// benchstat, never asserted by timed unit tests.
package benchmarks
