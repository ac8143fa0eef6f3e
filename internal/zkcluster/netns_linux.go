package zkcluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// ErrNetNSUnavailable is returned (wrapped) by Start with Options.NetNS when
// network namespaces cannot be made here: not root, or ip or nft missing.
var ErrNetNSUnavailable = errors.New("zkcluster: network namespaces unavailable")

// NetNSSupported reports why Options.NetNS cannot work on this machine, or
// nil if it can. Tests skip on its error.
func NetNSSupported() error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("%w: needs root", ErrNetNSUnavailable)
	}
	for _, tool := range []string{"ip", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%w: %s not found (apt-get install -y iproute2 nftables)", ErrNetNSUnavailable, tool)
		}
	}
	return nil
}

// netNS is a named network namespace of its own, with only a loopback
// interface: the members' traffic and any firewall rules stay inside it.
type netNS struct {
	name string
	fd   *os.File // /run/netns/<name>, for setns(2)
}

func newNetNS() (*netNS, error) {
	if err := NetNSSupported(); err != nil {
		return nil, err
	}
	var r [4]byte
	if _, err := rand.Read(r[:]); err != nil {
		return nil, err
	}
	name := "zkc-" + hex.EncodeToString(r[:])
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("zkcluster: ip netns add %s: %w: %s", name, err, out)
	}
	ns := &netNS{name: name}
	if out, err := exec.Command("ip", "-n", name, "link", "set", "lo", "up").CombinedOutput(); err != nil {
		ns.remove()
		return nil, fmt.Errorf("zkcluster: loopback up in %s: %w: %s", name, err, out)
	}
	fd, err := os.Open("/run/netns/" + name)
	if err != nil {
		ns.remove()
		return nil, fmt.Errorf("zkcluster: opening namespace %s: %w", name, err)
	}
	ns.fd = fd
	return ns, nil
}

// remove deletes the namespace; the caller has stopped every process in it.
func (ns *netNS) remove() error {
	if ns.fd != nil {
		ns.fd.Close()
	}
	if out, err := exec.Command("ip", "netns", "delete", ns.name).CombinedOutput(); err != nil {
		return fmt.Errorf("zkcluster: ip netns delete %s: %w: %s", ns.name, err, out)
	}
	return nil
}

// command runs name inside the namespace. ip netns exec execs the program
// in its own process, so the command's PID is the program's and signals
// (kill, SIGSTOP) reach it directly.
func (ns *netNS) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns.name, name}, args...)...)
}

// do runs f on an OS thread switched into the namespace. Sockets keep the
// namespace they were created in, so a connection or listener made by f
// works from any goroutine afterwards.
//
// The thread is switched back before it is released rather than left to
// die: the kernel sends a member's Pdeathsig when the thread that forked it
// exits, and a dying thread may be one that once started a member.
func (ns *netNS) do(f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("zkcluster: own network namespace: %w", err)
			return
		}
		defer orig.Close()
		if err := unix.Setns(int(ns.fd.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("zkcluster: entering %s: %w", ns.name, err)
			return
		}
		errc <- f()
		if unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		// Otherwise the goroutine ends locked and the runtime discards
		// the thread rather than reuse it in the wrong namespace.
	}()
	return <-errc
}

// startAs starts cmd inside the namespace as user and group uid: forked
// from a thread switched into it, so the child is there from its first
// instruction, with the credentials set before the parent-death signal
// (a change of credentials after it would clear it).
func (ns *netNS) startAs(cmd *exec.Cmd, uid int) error {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(uid), Gid: uint32(uid)}
	return ns.do(cmd.Start)
}

func (ns *netNS) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var conn net.Conn
	err := ns.do(func() error {
		var d net.Dialer
		var err error
		conn, err = d.DialContext(ctx, network, addr)
		return err
	})
	return conn, err
}

func (ns *netNS) listen(network, addr string) (net.Listener, error) {
	var l net.Listener
	err := ns.do(func() error {
		var err error
		l, err = net.Listen(network, addr)
		return err
	})
	return l, err
}

// nftTable holds zkcluster's rules inside the namespace; the host's
// ruleset is never touched.
const nftTable = "zkcluster"

// nft loads script into the namespace's ruleset.
func (ns *netNS) nft(script string) error {
	cmd := exec.Command("ip", "netns", "exec", ns.name, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("zkcluster: nft in %s: %w: %s\n%s", ns.name, err, out, script)
	}
	return nil
}
