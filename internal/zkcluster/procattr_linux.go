package zkcluster

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
	"time"
)

// sysProcAttr makes the kernel kill a member JVM when the process that
// started it dies, so a crashed or killed test binary leaks no JVMs.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// waitStopped waits until the kernel reports the process stopped (SIGSTOP
// delivered to every thread) or running again. kill(2) returns before the
// JVM's threads have all stopped; a probe sent in between would still be
// answered.
func waitStopped(pid int, stopped bool) {
	for range 200 {
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return
		}
		// The state follows the parenthesised command name.
		end := bytes.LastIndexByte(stat, ')')
		if end < 0 || end+2 >= len(stat) {
			return
		}
		if state := stat[end+2]; (state == 'T') == stopped {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}
