package importers

import (
	"errors"

	"golang.org/x/sys/unix"
)

// exchange swaps folders a and b atomically where the file system allows
// it (renameat2 with RENAME_EXCHANGE, Linux 3.15 and later, most local
// file systems), and with two renames otherwise.
func exchange(a, b string) error {
	err := unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE)
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EOPNOTSUPP) {
		return exchangeByRenames(a, b)
	}
	return err
}
