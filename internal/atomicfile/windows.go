//go:build windows

package atomicfile

import (
	"os"

	"golang.org/x/sys/windows"
)

// inode is 0: os.FileInfo carries no file index on Windows, so stamps rely
// on size and modification time alone.
func inode(os.FileInfo) uint64 { return 0 }

// lockFile takes an exclusive lock on the first byte of f without waiting.
func lockFile(f *os.File) error {
	var ol windows.Overlapped
	return windows.LockFileEx(windows.Handle(f.Fd()),
		windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &ol)
}

func unlockFile(f *os.File) error {
	var ol windows.Overlapped
	return windows.UnlockFileEx(windows.Handle(f.Fd()), 0, 1, 0, &ol)
}

// SyncDir does nothing on Windows, which cannot sync a folder: a rename's
// durability rests on NTFS's metadata journal.
func SyncDir(string) error { return nil }
