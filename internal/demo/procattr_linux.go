package main

import "syscall"

// sysProcAttr puts a server in its own process group, so that Ctrl-C
// reaches only the demo, which stops the servers in order; and makes the
// kernel kill it if the demo dies without cleaning up.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
