// Package freeport picks loopback ports for servers that tests and tools
// start, which bind their port later, in another process (ZooKeeper,
// Prometheus, Alertmanager, the exporter).
//
// A port the kernel hands out for 127.0.0.1:0 comes from its ephemeral
// range, the range outgoing connections take their local ports from: on a
// machine busy with tests, a connection can take such a port between the
// pick and the server's bind (it happened to a ZooKeeper election port).
// Ports below that range are never handed out by the kernel, so only
// another pick can collide, and picks are random.
package freeport

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
)

// Listener listens on a free loopback port below the ephemeral range,
// through listen (net.Listen, or a network namespace's). The caller keeps
// it open while picking more ports, so that none repeats, and closes it
// just before its server binds the port.
func Listener(listen func(network, address string) (net.Listener, error)) (net.Listener, error) {
	low, high := pickRange()
	var lastErr error
	for range 64 {
		port := low + rand.IntN(high-low)
		listener, err := listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err == nil {
			return listener, nil
		}
		lastErr = err
	}
	return nil, fmt.Errorf("freeport: no free loopback port in %d-%d: %w", low, high-1, lastErr)
}

// Address returns a loopback address where nothing listened a moment ago.
func Address() (string, error) {
	listener, err := Listener(net.Listen)
	if err != nil {
		return "", err
	}
	defer listener.Close()
	return listener.Addr().String(), nil
}

// pickRange is the range ports are picked from: up to 20,000 ports just
// below the ephemeral range (32768-60999 by default on Linux), not below
// 10000 where well-known services live.
func pickRange() (low, high int) {
	high = 32768
	if data, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if fields := strings.Fields(string(data)); len(fields) == 2 {
			if first, err := strconv.Atoi(fields[0]); err == nil {
				high = first
			}
		}
	}
	if high <= 11000 {
		// The ephemeral range starts low on this machine: pick above it.
		return 61000, 65535
	}
	return max(10000, high-20000), high
}
