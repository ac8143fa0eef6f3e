//go:build unix

package zkcluster

import (
	"os"
	"syscall"
)

// lockFile takes an exclusive lock on path, waiting for other processes
// holding it, and returns its release. The kernel drops the lock if the
// process dies, so a killed fetch never blocks the next one.
func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
