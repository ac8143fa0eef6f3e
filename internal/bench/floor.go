package bench

import (
	"context"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// FloorLabel names the floor in the commands' tables.
const FloorLabel = "floor: `srvr` + `mntr` to every member, all at once"

// Floor sends srvr and mntr to every member, all connections at once, and
// reads every answer whole: the least any exporter that reports what they
// carry must wait for. It parses and exports nothing.
func Floor(ctx context.Context, addresses []string) (time.Duration, error) {
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 2*len(addresses))
	for _, address := range addresses {
		for _, word := range []string{"srvr", "mntr"} {
			wg.Go(func() {
				if err := ask(ctx, address, word); err != nil {
					errs <- fmt.Errorf("%s to %s: %w", word, address, err)
				}
			})
		}
	}
	wg.Wait()
	took := time.Since(start)
	close(errs)
	return took, <-errs
}

func ask(ctx context.Context, address, word string) error {
	var dialer net.Dialer
	conn, err := dialer.DialContext(ctx, "tcp", address)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, word); err != nil {
		return err
	}
	n, err := io.Copy(io.Discard, conn)
	if err == nil && n == 0 {
		err = fmt.Errorf("no answer")
	}
	return err
}
