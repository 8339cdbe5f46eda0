package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/vrkeeper/vrkeeper/zkproto"
)

// runFill is `vrbench fill`: it creates a tree of --nodes znodes of --size
// bytes each under --root (/fill), spread over --parents parents
// (/fill/pNNNN/nNNNNNNN),
// with multis of --batch creates pipelined on one session. The memory
// benchmark (scripts/bench-memory) fills ZooKeeper and vrkeeper so and
// compares their resident memory.
func runFill(args []string) error {
	fs := flag.NewFlagSet("fill", flag.ExitOnError)
	addr := fs.String("target", "127.0.0.1:2181", "host:port of one server")
	root := fs.String("root", "/fill", "the tree's root")
	nodes := fs.Int("nodes", 1000000, "znodes to create")
	size := fs.Int("size", 128, "bytes of data per znode")
	parents := fs.Int("parents", 1000, "parents the znodes are spread over")
	batch := fs.Int("batch", 500, "creates per multi")
	window := fs.Int("window", 8, "multis in flight")
	fs.Parse(args)
	c, err := dial(*addr, 60*time.Second, *window)
	if err != nil {
		return err
	}
	defer c.close()
	start := time.Now()
	if code, err := c.call(zkproto.OpCreate, &zkproto.CreateRequest{Path: *root, ACL: openACL}, nil); err != nil || code != zkproto.OK {
		return fmt.Errorf("create %s: %v %v", *root, code, err)
	}
	var (
		mu     sync.Mutex
		failed error
	)
	check := func(what string) replyFunc {
		return func(code zkproto.Code, _ time.Duration, _ []byte) {
			if code != zkproto.OK {
				mu.Lock()
				failed = errors.Join(failed, fmt.Errorf("%s: %v", what, code))
				mu.Unlock()
			}
		}
	}
	for p := range *parents {
		if err := c.send(zkproto.OpCreate, &zkproto.CreateRequest{Path: fmt.Sprintf("%s/p%04d", *root, p), ACL: openACL}, check("parent")); err != nil {
			return err
		}
	}
	data := bytes.Repeat([]byte("v"), *size)
	for i := 0; i < *nodes; i += *batch {
		var m zkproto.MultiRequest
		for j := i; j < min(*nodes, i+*batch); j++ {
			m.Ops = append(m.Ops, zkproto.MultiOp{Type: zkproto.OpCreate, Body: &zkproto.CreateRequest{
				Path: fmt.Sprintf("%s/p%04d/n%08d", *root, j%*parents, j), Data: data, ACL: openACL}})
		}
		if err := c.send(zkproto.OpMulti, &m, check("multi")); err != nil {
			return err
		}
		if i%(100**batch) == 0 && i > 0 {
			fmt.Fprintf(os.Stderr, "  %d znodes sent (%.0f/s)\n", i, float64(i)/time.Since(start).Seconds())
		}
	}
	if _, err := c.call(zkproto.OpSync, &zkproto.SyncRequest{Path: "/"}, nil); err != nil {
		return err
	}
	mu.Lock()
	defer mu.Unlock()
	if failed != nil {
		return failed
	}
	fmt.Printf("created %d znodes of %d bytes under %d parents in %.1f s\n", *nodes, *size, *parents, time.Since(start).Seconds())
	return nil
}

// targetsOf splits a comma-separated address list.
func targetsOf(s string) []string { return strings.Split(s, ",") }
