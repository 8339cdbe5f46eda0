package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/vrkeeper/vrkeeper/zkproto"
)

type loadConfig struct {
	clients, window, size int
	duration              time.Duration
	// cpu, if set, reads the target's servers' CPU time so far: a cell
	// reports the servers' CPU per operation over its measured window.
	cpu func() time.Duration
}

type loadResult struct {
	throughput          float64
	p50, p99, p999, max time.Duration
	errors              int
	cpuPerOp            time.Duration // the target's servers' CPU per op (0: not measured)
}

// cpuWindow samples cfg.cpu now and when the measured window ends; done
// returns the servers' CPU per operation at the throughput measured.
func cpuWindow(cfg loadConfig) (done func(loadResult) loadResult) {
	if cfg.cpu == nil {
		return func(r loadResult) loadResult { return r }
	}
	start := cfg.cpu()
	end := make(chan time.Duration, 1)
	time.AfterFunc(cfg.duration, func() { end <- cfg.cpu() })
	return func(r loadResult) loadResult {
		if ops := r.throughput * cfg.duration.Seconds(); ops > 0 {
			r.cpuPerOp = time.Duration(float64(<-end-start) / ops)
		}
		return r
	}
}

var openACL = []zkproto.ACL{{Perms: zkproto.PermAll, ID: zkproto.Id{Scheme: "world", ID: "anyone"}}}

// runLoad runs one operation against one target with the configured number
// of sessions, each pipelining up to the window, and reports what it saw.
// Nodes live under /vrbench-<time>, removed afterwards.
func runLoad(addrs []string, op string, cfg loadConfig) (loadResult, error) {
	root := fmt.Sprintf("/vrbench-%d", time.Now().UnixNano())
	setup, err := dial(addrs[0], 30*time.Second, 1)
	if err != nil {
		return loadResult{}, err
	}
	defer setup.close()
	if code, err := setup.call(zkproto.OpCreate, &zkproto.CreateRequest{Path: root, ACL: openACL}, nil); err != nil || code != zkproto.OK {
		return loadResult{}, fmt.Errorf("create %s: %v %v", root, code, err)
	}
	data := bytes.Repeat([]byte("x"), cfg.size)
	sessions := make([]*client, cfg.clients)
	for i := range sessions {
		c, err := dial(addrs[i%len(addrs)], 30*time.Second, cfg.window)
		if err != nil {
			return loadResult{}, err
		}
		sessions[i] = c
		own := fmt.Sprintf("%s/s%d", root, i)
		if code, err := c.call(zkproto.OpCreate, &zkproto.CreateRequest{Path: own, Data: data, ACL: openACL}, nil); err != nil || code != zkproto.OK {
			return loadResult{}, fmt.Errorf("create %s: %v %v", own, code, err)
		}
	}
	var (
		mu        sync.Mutex
		latencies []time.Duration
		errCount  int
		wg        sync.WaitGroup
	)
	cpuDone := cpuWindow(cfg)
	start := time.Now()
	deadline := start.Add(cfg.duration)
	for i, c := range sessions {
		wg.Add(1)
		go func(i int, c *client) {
			defer wg.Done()
			var local []time.Duration
			var localErrs int
			var lmu sync.Mutex
			record := func(code zkproto.Code, lat time.Duration, _ []byte) {
				lmu.Lock()
				local = append(local, lat)
				if code != zkproto.OK {
					localErrs++
				}
				lmu.Unlock()
			}
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			own := fmt.Sprintf("%s/s%d", root, i)
			for n := 0; time.Now().Before(deadline); n++ {
				var err error
				switch op {
				case "create":
					err = c.send(zkproto.OpCreate, &zkproto.CreateRequest{Path: fmt.Sprintf("%s/c%d-%d", root, i, n), Data: data, ACL: openACL}, record)
				case "set":
					err = c.send(zkproto.OpSetData, &zkproto.SetDataRequest{Path: own, Data: data, Version: -1}, record)
				case "get":
					err = c.send(zkproto.OpGetData, &zkproto.GetDataRequest{Path: own}, record)
				case "mixed":
					if rng.IntN(10) == 0 {
						err = c.send(zkproto.OpSetData, &zkproto.SetDataRequest{Path: own, Data: data, Version: -1}, record)
					} else {
						err = c.send(zkproto.OpGetData, &zkproto.GetDataRequest{Path: own}, record)
					}
				default:
					err = fmt.Errorf("unknown op %q", op)
				}
				if err != nil {
					lmu.Lock()
					localErrs++
					lmu.Unlock()
					return
				}
			}
			c.call(zkproto.OpSync, &zkproto.SyncRequest{Path: "/"}, nil) // drain the pipeline
			if op == "create" {
				// Remove this session's nodes, pipelined, outside the
				// measured time: listing them all at once can exceed what a
				// server answers in one reply.
				lmu.Lock()
				made := len(local)
				lmu.Unlock()
				for n := range made {
					c.send(zkproto.OpDelete, &zkproto.DeleteRequest{Path: fmt.Sprintf("%s/c%d-%d", root, i, n), Version: -1},
						func(zkproto.Code, time.Duration, []byte) {})
				}
				c.call(zkproto.OpSync, &zkproto.SyncRequest{Path: "/"}, nil)
			}
			lmu.Lock()
			mu.Lock()
			latencies = append(latencies, local...)
			errCount += localErrs
			mu.Unlock()
			lmu.Unlock()
		}(i, c)
	}
	wg.Wait()
	elapsed := time.Since(start)
	// The create sessions spent time deleting after their last measured
	// request; measure to the deadline instead.
	if op == "create" {
		elapsed = cfg.duration
	}
	for _, c := range sessions {
		c.close()
	}
	if err := deleteTree(setup, root); err != nil {
		return loadResult{}, fmt.Errorf("clean up: %w", err)
	}
	if len(latencies) == 0 {
		return loadResult{}, fmt.Errorf("no operation completed")
	}
	return cpuDone(summarize(latencies, elapsed, errCount)), nil
}

// deleteTree removes root and its children (the benchmark makes no deeper
// nodes), pipelining the deletes.
func deleteTree(c *client, root string) error {
	var children zkproto.GetChildrenResponse
	if code, err := c.call(zkproto.OpGetChildren, &zkproto.GetChildrenRequest{Path: root}, &children); err != nil || code != zkproto.OK {
		return fmt.Errorf("list %s: %v %v", root, code, err)
	}
	for _, name := range children.Children {
		if err := c.send(zkproto.OpDelete, &zkproto.DeleteRequest{Path: root + "/" + name, Version: -1}, func(zkproto.Code, time.Duration, []byte) {}); err != nil {
			return err
		}
	}
	_, err := c.call(zkproto.OpDelete, &zkproto.DeleteRequest{Path: root, Version: -1}, nil)
	return err
}
