package main

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"slices"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/vrkeeper/vrkeeper/zkproto"
)

// The go-zookeeper load is what most users run: a real client library, one
// request in flight per session (each session is one goroutine calling
// Get, Set or Create and waiting for the answer). Session i talks to
// addrs[i % len(addrs)] only, so the sessions spread evenly over the servers
// as the pipelined load's do.

// gozkOpen opens n go-zookeeper sessions spread over addrs and waits until
// each has its session.
func gozkOpen(addrs []string, n int) ([]*zk.Conn, error) {
	quiet := zk.WithLogger(log.New(io.Discard, "", 0))
	conns := make([]*zk.Conn, 0, n)
	for i := range n {
		c, events, err := zk.Connect([]string{addrs[i%len(addrs)]}, 30*time.Second, quiet)
		if err != nil {
			gozkClose(conns)
			return nil, fmt.Errorf("go-zookeeper connect to %s: %w", addrs[i%len(addrs)], err)
		}
		conns = append(conns, c)
		if err := waitSession(events, 30*time.Second); err != nil {
			gozkClose(conns)
			return nil, fmt.Errorf("go-zookeeper session with %s: %w", addrs[i%len(addrs)], err)
		}
	}
	return conns, nil
}

// waitSession waits for a connection's first session.
func waitSession(events <-chan zk.Event, within time.Duration) error {
	timeout := time.After(within)
	for {
		select {
		case ev := <-events:
			if ev.Type == zk.EventSession && ev.State == zk.StateHasSession {
				return nil
			}
		case <-timeout:
			return fmt.Errorf("no session within %v", within)
		}
	}
}

func gozkClose(conns []*zk.Conn) {
	for _, c := range conns {
		c.Close()
	}
}

// runGozkLoad runs one operation with cfg.clients go-zookeeper sessions,
// one request in flight each. Nodes live under /vrbench-<time>, removed
// afterwards (by the pipelined client, which is quicker at it).
func runGozkLoad(addrs []string, op string, cfg loadConfig) (loadResult, error) {
	root := fmt.Sprintf("/vrbench-%d", time.Now().UnixNano())
	setup, err := dial(addrs[0], 30*time.Second, 64)
	if err != nil {
		return loadResult{}, err
	}
	defer setup.close()
	conns, err := gozkOpen(addrs, cfg.clients)
	if err != nil {
		return loadResult{}, err
	}
	defer gozkClose(conns)
	data := bytes.Repeat([]byte("x"), cfg.size)
	acl := zk.WorldACL(zk.PermAll)
	if _, err := conns[0].Create(root, nil, 0, acl); err != nil {
		return loadResult{}, fmt.Errorf("create %s: %w", root, err)
	}
	for i, c := range conns {
		if _, err := c.Create(fmt.Sprintf("%s/s%d", root, i), data, 0, acl); err != nil {
			return loadResult{}, fmt.Errorf("create %s/s%d: %w", root, i, err)
		}
	}
	var (
		mu        sync.Mutex
		latencies []time.Duration
		errCount  int
		wg        sync.WaitGroup
		made      = make([]int, len(conns)) // creates sent by each session
	)
	cpuDone := cpuWindow(cfg)
	start := time.Now()
	deadline := start.Add(cfg.duration)
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			own := fmt.Sprintf("%s/s%d", root, i)
			local := make([]time.Duration, 0, 1<<14)
			errs := 0
			for n := 0; ; n++ {
				sent := time.Now()
				if !sent.Before(deadline) {
					break
				}
				var err error
				switch op {
				case "create":
					_, err = c.Create(fmt.Sprintf("%s/c%d-%d", root, i, n), data, 0, acl)
				case "set":
					_, err = c.Set(own, data, -1)
				case "get":
					_, _, err = c.Get(own)
				case "mixed":
					if n%10 == 0 {
						_, err = c.Set(own, data, -1)
					} else {
						_, _, err = c.Get(own)
					}
				default:
					err = fmt.Errorf("unknown op %q", op)
				}
				local = append(local, time.Since(sent))
				made[i] = n + 1
				if err != nil {
					errs++
					if errs > 1000 {
						break
					}
				}
			}
			mu.Lock()
			latencies = append(latencies, local...)
			errCount += errs
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if op == "create" {
		// Remove the nodes made, pipelined, outside the measured time.
		for i, n := range made {
			for k := range n {
				p := fmt.Sprintf("%s/c%d-%d", root, i, k)
				if err := setup.send(zkproto.OpDelete, &zkproto.DeleteRequest{Path: p, Version: -1},
					func(zkproto.Code, time.Duration, []byte) {}); err != nil {
					return loadResult{}, fmt.Errorf("clean up: %w", err)
				}
			}
		}
		if _, err := setup.call(zkproto.OpSync, &zkproto.SyncRequest{Path: "/"}, nil); err != nil {
			return loadResult{}, fmt.Errorf("clean up: %w", err)
		}
	}
	if err := deleteTree(setup, root); err != nil {
		return loadResult{}, fmt.Errorf("clean up: %w", err)
	}
	if len(latencies) == 0 {
		return loadResult{}, fmt.Errorf("no operation completed")
	}
	return cpuDone(summarize(latencies, elapsed, errCount)), nil
}

// summarize computes throughput and percentiles.
func summarize(latencies []time.Duration, elapsed time.Duration, errs int) loadResult {
	slices.Sort(latencies)
	pct := func(p float64) time.Duration { return latencies[min(len(latencies)-1, int(p*float64(len(latencies))))] }
	return loadResult{
		throughput: float64(len(latencies)) / elapsed.Seconds(),
		p50:        pct(0.50), p99: pct(0.99), p999: pct(0.999), max: latencies[len(latencies)-1],
		errors: errs,
	}
}
