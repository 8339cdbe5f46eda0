package main

import (
	"sync"
	"time"
)

// runConnect measures connections: each client in a loop connects (TCP,
// TLS if asked, ZooKeeper's handshake opening a session), closes its
// session and disconnects. Throughput is sessions opened per second;
// latencies are from dial to the session's answer.
func runConnect(addrs []string, cfg loadConfig) (loadResult, error) {
	var (
		mu        sync.Mutex
		latencies []time.Duration
		errCount  int
		wg        sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(cfg.duration)
	for i := 0; i < cfg.clients; i++ {
		wg.Add(1)
		go func(addr string) {
			defer wg.Done()
			var mine []time.Duration
			errs := 0
			for time.Now().Before(deadline) {
				t0 := time.Now()
				c, err := dial(addr, 30*time.Second, 1)
				if err != nil {
					errs++
					continue
				}
				mine = append(mine, time.Since(t0))
				c.close() // closes the session too
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			errCount += errs
			mu.Unlock()
		}(addrs[i%len(addrs)])
	}
	wg.Wait()
	elapsed := time.Since(start)
	if len(latencies) == 0 {
		return loadResult{errors: errCount}, nil
	}
	return summarize(latencies, elapsed, errCount), nil // gozk.go
}
