//go:build !linux

package zkcluster

import (
	"context"
	"errors"
	"net"
	"os/exec"
)

// ErrNetNSUnavailable is returned (wrapped) by Start with Options.NetNS when
// network namespaces cannot be made here.
var ErrNetNSUnavailable = errors.New("zkcluster: network namespaces unavailable")

// NetNSSupported reports why Options.NetNS cannot work: namespaces are
// Linux only.
func NetNSSupported() error { return ErrNetNSUnavailable }

type netNS struct{ name string }

func newNetNS() (*netNS, error) { return nil, ErrNetNSUnavailable }

func (ns *netNS) remove() error { return nil }

func (ns *netNS) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, name, args...)
}

func (ns *netNS) startAs(*exec.Cmd, int) error { return ErrNetNSUnavailable }

func (ns *netNS) dial(context.Context, string, string) (net.Conn, error) {
	return nil, ErrNetNSUnavailable
}

func (ns *netNS) listen(string, string) (net.Listener, error) { return nil, ErrNetNSUnavailable }

const nftTable = "zkcluster"

func (ns *netNS) nft(string) error { return ErrNetNSUnavailable }
