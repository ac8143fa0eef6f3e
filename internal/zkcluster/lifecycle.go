package zkcluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// launch starts m's JVM. The caller must ensure m is not running.
func (c *Cluster) launch(m *Member) error {
	logf, err := os.OpenFile(m.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	args := []string{
		"-Xmx128m", "-XX:+UseSerialGC",
		// Members are short-lived: the C1 compiler alone starts
		// them faster and leaves more CPU to the code under test.
		"-XX:TieredStopAtLevel=1",
		"-Djava.net.preferIPv4Stack=true",
		// A member that cannot reach its peers backs off up to 60 s
		// between election notifications by default, which makes
		// restarted members rejoin slowly.
		"-Dzookeeper.fastleader.maxNotificationInterval=1000",
		"-Dorg.slf4j.simpleLogger.showDateTime=true",
		// Every four-letter word is logged at INFO; polling would bury
		// everything else in the log tails.
		"-Dorg.slf4j.simpleLogger.log.org.apache.zookeeper.server.NIOServerCnxn=warn",
		"-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS",
	}
	if c.opts.Reconfig {
		// reconfig needs a superuser unless ACLs are skipped. As a JVM
		// property it is set before any server class reads it.
		args = append(args, "-Dzookeeper.skipACL=yes")
	}
	args = append(args, c.opts.JVMArgs...)
	if !m.Release.HasAdminServer() {
		// 3.4 registers log4j's MBeans, and log4j has no configuration
		// here (slf4j-simple logs).
		args = append(args, "-Dzookeeper.jmx.log4j.disable=true")
	}
	inst := c.installOf(m)
	classpath := strings.Join(append([]string{inst.classpath}, c.opts.ExtraClasspath...), string(os.PathListSeparator))
	args = append(args, "-cp", classpath, "org.apache.zookeeper.server.quorum.QuorumPeerMain", m.ConfigPath)
	cmd := c.commandContext(context.Background(), inst.java, args...)
	start := cmd.Start
	if c.opts.SeparateUsers {
		if err := chownTree(m.Dir, m.UID()); err != nil {
			logf.Close()
			return err
		}
		// Forked inside the namespace as the member's user rather than
		// through ip netns exec and a setuid step, which would clear
		// the parent-death signal.
		cmd = exec.Command(inst.java, args...)
		start = func() error { return c.ns.startAs(cmd, m.UID()) }
	}
	cmd.Dir = m.Dir
	cmd.Env = append(os.Environ(), "JAVA_TOOL_OPTIONS=") // keep stray JVM options out
	cmd.SysProcAttr = sysProcAttr()
	var out io.Writer = logf
	if c.opts.LogOutput != nil {
		out = io.MultiWriter(logf, &prefixWriter{w: c.opts.LogOutput, prefix: fmt.Sprintf("zk%d ", m.ID)})
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := start(); err != nil {
		logf.Close()
		return fmt.Errorf("zkcluster: starting member %d: %w", m.ID, err)
	}
	p := &process{cmd: cmd, log: logf, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	c.mu.Lock()
	m.proc, m.frozen = p, false
	c.mu.Unlock()
	return nil
}

// runningProc returns id's process, or an error if it is not running.
func (c *Cluster) runningProc(id int) (*Member, *process, error) {
	m, err := c.member(id)
	if err != nil {
		return nil, nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, nil, errors.New("zkcluster: cluster closed")
	}
	p := m.proc
	if p == nil || p.exited() {
		return nil, nil, fmt.Errorf("zkcluster: member %d is not running", id)
	}
	return m, p, nil
}

// Stop sends SIGTERM to member id and waits for it to exit, killing it if
// it takes longer than 15 s. A frozen member is thawed so it can exit.
func (c *Cluster) Stop(id int) error {
	m, p, err := c.runningProc(id)
	if err != nil {
		return err
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !p.exited() {
		return err
	}
	c.thawForExit(m, p)
	select {
	case <-p.done:
		return nil
	case <-time.After(stopTimeout):
	}
	return c.kill(p)
}

// Kill sends SIGKILL to member id and waits for it to exit.
func (c *Cluster) Kill(id int) error {
	m, p, err := c.runningProc(id)
	if err != nil {
		return err
	}
	err = c.kill(p)
	c.thawForExit(m, p)
	return err
}

func (c *Cluster) kill(p *process) error {
	if err := p.cmd.Process.Kill(); err != nil && !p.exited() {
		return err
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(stopTimeout):
		return fmt.Errorf("zkcluster: pid %d did not exit after SIGKILL", p.cmd.Process.Pid)
	}
}

func (c *Cluster) thawForExit(m *Member, p *process) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if m.frozen {
		_ = p.cmd.Process.Signal(syscall.SIGCONT)
		m.frozen = false
	}
}

// Freeze stops member id with SIGSTOP. A frozen member still accepts TCP
// connections (the kernel completes the handshake) but answers nothing.
func (c *Cluster) Freeze(id int) error { return c.signalFreeze(id, true) }

// Thaw resumes a frozen member with SIGCONT.
func (c *Cluster) Thaw(id int) error { return c.signalFreeze(id, false) }

func (c *Cluster) signalFreeze(id int, freeze bool) error {
	m, p, err := c.runningProc(id)
	if err != nil {
		return err
	}
	sig := syscall.SIGCONT
	if freeze {
		sig = syscall.SIGSTOP
	}
	if err := p.cmd.Process.Signal(sig); err != nil {
		return err
	}
	waitStopped(p.cmd.Process.Pid, freeze)
	c.mu.Lock()
	m.frozen = freeze
	c.mu.Unlock()
	return nil
}

// Restart starts a stopped or killed member again with its configuration
// and data. It returns once the JVM is started, not once it serves; use
// WaitServing for that.
func (c *Cluster) Restart(id int) error {
	m, err := c.member(id)
	if err != nil {
		return err
	}
	c.mu.Lock()
	closed, p := c.closed, m.proc
	c.mu.Unlock()
	if closed {
		return errors.New("zkcluster: cluster closed")
	}
	if p != nil && !p.exited() {
		return fmt.Errorf("zkcluster: member %d is still running", id)
	}
	return c.launch(m)
}

// PIDs returns the process ids of the member JVMs that have not exited.
func (c *Cluster) PIDs() []int {
	var pids []int
	for _, m := range c.snapshot() {
		if pid := m.PID(); pid != 0 {
			pids = append(pids, pid)
		}
	}
	return pids
}

// Close kills every member JVM (thawing frozen ones so they die), waits for
// them and removes the temporary directories. It is safe to call more than
// once; later calls do nothing.
func (c *Cluster) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	var procs []*process
	for _, m := range c.members {
		if p := m.proc; p != nil && !p.exited() {
			_ = p.cmd.Process.Signal(syscall.SIGCONT)
			m.frozen = false
			procs = append(procs, p)
		}
	}
	c.mu.Unlock()
	var errs []error
	for _, p := range procs {
		errs = append(errs, c.kill(p))
	}
	if c.ns != nil {
		errs = append(errs, c.ns.remove())
	}
	errs = append(errs, os.RemoveAll(c.baseDir))
	return errors.Join(errs...)
}

// MemberUIDBase plus a member's id is the user a member runs as with
// Options.SeparateUsers.
const MemberUIDBase = 61000

// UID is the user m runs as with Options.SeparateUsers, else 0 (root's, or
// whoever started the cluster).
func (m *Member) UID() int {
	if !m.cluster.opts.SeparateUsers {
		return 0
	}
	return MemberUIDBase + m.ID
}

// chownTree gives dir and everything in it to uid, so a member running as
// its own user can write its data directory and dynamic configuration.
func chownTree(dir string, uid int) error {
	return filepath.WalkDir(dir, func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := os.Lchown(path, uid, uid); err != nil {
			return fmt.Errorf("zkcluster: chown %s: %w", path, err)
		}
		return nil
	})
}
