package zkcluster

import (
	"context"
	"testing"
)

// StartT starts an ensemble for a test and closes it in t.Cleanup. It skips
// the test under -short, fails it if ZooKeeper cannot start (including when
// it is not installed), and logs the members' log tails if the test failed.
func StartT(t testing.TB, opts Options) *Cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("zkcluster: skipping real ZooKeeper ensemble in -short mode")
	}
	c, err := Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("zkcluster member logs:\n%s", c.logTails(30))
		}
		if err := c.Close(); err != nil {
			t.Errorf("zkcluster: close: %v", err)
		}
	})
	return c
}

// LeaderT waits for a leader and returns it, failing the test on timeout.
func (c *Cluster) LeaderT(t testing.TB) *Member {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), DefaultStartTimeout)
	defer cancel()
	m, err := c.WaitLeader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
