package main

import (
	"flag"
	"fmt"
	"os/exec"
	"slices"
	"sync"
	"time"

	"github.com/vrkeeper/vrkeeper/zkproto"
)

// runSessions is `vrbench sessions`: it opens --sessions sessions spread
// over the servers, has each set --watches data watches on znodes of the
// tree `vrbench fill` made (session i watches nodes i*watches .. on, so
// each node is watched about once), measures the latency of gets from
// --probe further sessions while all of them are connected, then changes
// --fire watched nodes and measures how long until every event arrived.
// The script reads the servers' memory once the watches are set
// (--on-hold).
func runSessions(args []string) error {
	fs := flag.NewFlagSet("sessions", flag.ExitOnError)
	targets := fs.String("target", "127.0.0.1:2181", "host:port[,host:port...]")
	sessions := fs.Int("sessions", 10000, "sessions to open")
	watches := fs.Int("watches", 100, "data watches per session")
	nodes := fs.Int("nodes", 1000000, "znodes `vrbench fill` made")
	parents := fs.Int("parents", 1000, "parents `vrbench fill` spread them over")
	probe := fs.Int("probe", 32, "sessions measuring get latency meanwhile (one request in flight each)")
	probeFor := fs.Duration("probe-for", 5*time.Second, "how long the probe runs")
	fire := fs.Int("fire", 10000, "watched znodes to change at the end")
	hold := fs.Duration("hold", 0, "keep the sessions open this long before the probe")
	onHold := fs.String("on-hold", "", "shell command run once every watch is set (the script reads the servers' memory)")
	fs.Parse(args)
	addrs := targetsOf(*targets)
	nodePath := func(j int) string { j %= *nodes; return fmt.Sprintf("/fill/p%04d/n%08d", j%*parents, j) }

	start := time.Now()
	all := make([]*client, *sessions)
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	const openers = 64
	for o := range openers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := o; i < *sessions; i += openers {
				c, err := dialSized(addrs[i%len(addrs)], 60*time.Second, 16, 4<<10)
				if err != nil {
					mu.Lock()
					firstErr = fmt.Errorf("session %d: %w", i, err)
					mu.Unlock()
					return
				}
				all[i] = c
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	defer closeAll(all)
	opened := time.Since(start)
	fmt.Printf("opened %d sessions in %.2f s (%.0f/s)\n", *sessions, opened.Seconds(), float64(*sessions)/opened.Seconds())

	start = time.Now()
	var failures int
	for o := range openers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := o; i < *sessions; i += openers {
				c := all[i]
				done := make(chan struct{}, *watches)
				for k := range *watches {
					err := c.send(zkproto.OpGetData, &zkproto.GetDataRequest{Path: nodePath(i**watches + k), Watch: true},
						func(code zkproto.Code, _ time.Duration, _ []byte) {
							if code != zkproto.OK {
								mu.Lock()
								failures++
								mu.Unlock()
							}
							done <- struct{}{}
						})
					if err != nil {
						mu.Lock()
						firstErr = err
						mu.Unlock()
						return
					}
				}
				c.flush()
				for range *watches {
					<-done
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	if failures > 0 {
		return fmt.Errorf("%d watched reads failed (did `vrbench fill` make %d znodes?)", failures, *nodes)
	}
	took := time.Since(start)
	total := *sessions * *watches
	fmt.Printf("set %d watches in %.2f s (%.0f/s)\n", total, took.Seconds(), float64(total)/took.Seconds())
	if *onHold != "" {
		out, err := exec.Command("sh", "-c", *onHold).CombinedOutput()
		fmt.Print(string(out))
		if err != nil {
			return fmt.Errorf("--on-hold: %w", err)
		}
	}
	if *hold > 0 {
		time.Sleep(*hold)
	}

	lats, err := probeGets(addrs, *probe, *probeFor, nodePath)
	if err != nil {
		return err
	}
	slices.Sort(lats)
	if len(lats) > 0 {
		pct := func(p float64) float64 { return ms(lats[min(len(lats)-1, int(p*float64(len(lats))))]) }
		fmt.Printf("probe with %d sessions open: %d gets, %.0f/s, p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
			*sessions, len(lats), float64(len(lats))/probeFor.Seconds(), pct(0.5), pct(0.99), ms(lats[len(lats)-1]))
	}

	// Change watched znodes (one session, pipelined) and wait for the events.
	var before int64
	for _, c := range all {
		before += c.events.Load()
	}
	setter, err := dial(addrs[0], 60*time.Second, 64)
	if err != nil {
		return err
	}
	defer setter.close()
	start = time.Now()
	for j := range *fire {
		if err := setter.send(zkproto.OpSetData, &zkproto.SetDataRequest{Path: nodePath(j * *nodes / *fire), Data: []byte("x"), Version: -1},
			func(zkproto.Code, time.Duration, []byte) {}); err != nil {
			return err
		}
	}
	setter.flush()
	// Nodes watched: those some session registered (each node at most once
	// when sessions*watches <= nodes).
	want := int64(0)
	for j := range *fire {
		if n := j * *nodes / *fire; n < total {
			want++
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		var got int64
		for _, c := range all {
			got += c.events.Load()
		}
		if got-before >= want {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("only %d of %d events arrived within 60 s", got-before, want)
		}
		time.Sleep(5 * time.Millisecond) // polling the counters: the events are the measured outcome
	}
	took = time.Since(start)
	fmt.Printf("%d watched znodes changed: every event delivered in %.2f s\n", want, took.Seconds())
	return nil
}

// probeGets runs n sessions doing gets of random filled znodes, one in
// flight each, for d, and returns the latencies.
func probeGets(addrs []string, n int, d time.Duration, nodePath func(int) string) ([]time.Duration, error) {
	var mu sync.Mutex
	var lats []time.Duration
	var wg sync.WaitGroup
	var firstErr error
	deadline := time.Now().Add(d)
	for i := range n {
		c, err := dial(addrs[i%len(addrs)], 60*time.Second, 1)
		if err != nil {
			return nil, err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.close()
			var local []time.Duration
			for k := 0; time.Now().Before(deadline); k++ {
				sent := time.Now()
				code, err := c.call(zkproto.OpGetData, &zkproto.GetDataRequest{Path: nodePath(k*7919 + i)}, nil)
				if err != nil || code != zkproto.OK {
					mu.Lock()
					firstErr = fmt.Errorf("probe get: %v %v", code, err)
					mu.Unlock()
					return
				}
				local = append(local, time.Since(sent))
			}
			mu.Lock()
			lats = append(lats, local...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return lats, firstErr
}

// closeAll closes sessions politely, many at a time.
func closeAll(all []*client) {
	var wg sync.WaitGroup
	const closers = 64
	for o := range closers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := o; i < len(all); i += closers {
				if all[i] != nil {
					all[i].close()
				}
			}
		}()
	}
	wg.Wait()
}
