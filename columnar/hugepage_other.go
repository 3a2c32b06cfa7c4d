//go:build !linux

package columnar

// adviseHugePages is a no-op outside Linux.
func adviseHugePages([]float32) {}
