package ensemble

import (
	"fmt"
	"syscall"
)

// reservedFiles are descriptors kept for everything but probes: the
// listener, scrapes in flight, logs.
const reservedFiles = 128

// CheckFileLimit returns an error when the process may not open enough
// files to probe this many members at once, two connections each.
func CheckFileLimit(probes int) error {
	var limit syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &limit); err != nil {
		return nil // cannot tell: let the probes say
	}
	need := uint64(2*probes + reservedFiles)
	if limit.Cur < need {
		return fmt.Errorf("probing %d members at once needs %d file descriptors, the limit (ulimit -n) is %d: raise it (LimitNOFILE= in a systemd unit) or lower --zookeeper.max-concurrent-probes", probes, need, limit.Cur)
	}
	return nil
}
