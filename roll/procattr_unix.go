//go:build unix

package roll

import (
	"os/exec"
	"syscall"
)

// ownProcessGroup puts the command in a process group of its own, and
// makes cancelling it kill the whole group.
func ownProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
}
