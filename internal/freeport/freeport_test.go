package freeport

import (
	"net"
	"testing"
)

// TestListenerBelowEphemeralRange: the ports picked are never ones the
// kernel hands out to connections, and stay distinct while held.
func TestListenerBelowEphemeralRange(t *testing.T) {
	low, high := pickRange()
	seen := map[int]bool{}
	for range 50 {
		listener, err := Listener(net.Listen)
		if err != nil {
			t.Fatal(err)
		}
		defer listener.Close()
		port := listener.Addr().(*net.TCPAddr).Port
		if port < low || port >= high {
			t.Errorf("port %d outside %d-%d", port, low, high-1)
		}
		if seen[port] {
			t.Errorf("port %d picked twice while held", port)
		}
		seen[port] = true
	}
	address, err := Address()
	if err != nil {
		t.Fatal(err)
	}
	listener, err := net.Listen("tcp", address)
	if err != nil {
		t.Fatalf("Address() = %s, which cannot be listened on: %v", address, err)
	}
	listener.Close()
}
