// Package strategies is winnow's selection engine: pure kernels and the
// greedy loop of shared/spec/selection.md over plain slices. It does no I/O
// and its API holds no Arrow types.
package strategies
