package zkcluster

import "syscall"

// sysProcAttr makes the kernel kill a member JVM when the process that
// started it dies, so a crashed or killed test binary leaks no JVMs.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
