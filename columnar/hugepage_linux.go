package columnar

import (
	"syscall"
	"unsafe"
)

// adviseHugePages asks Linux to back the big matrix with transparent huge
// pages where the system leaves that to madvise (the common default).
// Filling a fresh multi-gigabyte matrix otherwise takes one page fault per
// 4 KiB, which costs about as much as decoding the vectors; with 2 MiB
// pages the faults all but vanish. Errors are ignored: this is only
// advice.
func adviseHugePages(data []float32) {
	const huge = 2 << 20
	if len(data)*4 < 2*huge {
		return
	}
	b := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(data))), len(data)*4)
	lo := int((huge - uintptr(unsafe.Pointer(unsafe.SliceData(b)))%huge) % huge)
	hi := lo + (len(b)-lo)/huge*huge
	if hi <= lo {
		return
	}
	_ = syscall.Madvise(b[lo:hi], 14) // MADV_HUGEPAGE
}
