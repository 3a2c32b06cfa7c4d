//go:build !amd64

package strategies

// nativeKernels returns no assembly sets off amd64: the portable kernels run.
func nativeKernels() []*kernelSet { return nil }

func runTileNative(*kernelSet, *tile) bool { return false }

func runMaskNative(*kernelSet, *tile) bool { return false }
