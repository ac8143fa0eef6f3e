//go:build !linux

package zkcluster

import "syscall"

func sysProcAttr() *syscall.SysProcAttr { return nil }

func waitStopped(int, bool) {}
