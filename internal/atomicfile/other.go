//go:build !unix && !windows

package atomicfile

import "os"

func inode(os.FileInfo) uint64 { return 0 }

// lockFile cannot lock on this system: winnow processes writing one
// dataset at once are not serialised here.
func lockFile(*os.File) error   { return nil }
func unlockFile(*os.File) error { return nil }

// SyncDir does nothing where folders cannot be synced.
func SyncDir(string) error { return nil }
