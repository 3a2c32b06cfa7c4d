//go:build !linux

package main

import "time"

var start = time.Now()

// threadCPU falls back to wall time where there is no per-thread CPU
// clock: the figures then hold only on an otherwise idle machine.
func threadCPU() time.Duration { return time.Since(start) }
