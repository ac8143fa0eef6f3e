//go:build !linux

package main

import "syscall"

// sysProcAttr puts a server in its own process group, so that Ctrl-C
// reaches only the demo, which stops the servers in order.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
