//go:build unix

package zkcluster

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestLockFile: while one holder has the lock nobody else gets it, as a
// second test process waits for the first one's fetch; once released, the
// next one does.
func TestLockFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".lock")
	unlock, err := lockFile(path)
	if err != nil {
		t.Fatal(err)
	}
	other, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := syscall.Flock(int(other.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); !errors.Is(err, syscall.EWOULDBLOCK) {
		t.Fatalf("a second lock while the first is held: %v, want EWOULDBLOCK", err)
	}
	unlock()
	again, err := lockFile(path)
	if err != nil {
		t.Fatal(err)
	}
	again()
}
