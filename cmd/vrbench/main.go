// Command vrbench measures a ZooKeeper-protocol service: the same load
// against any number of targets in one run, so vrkeeper and Apache ZooKeeper
// are compared side by side on the same machine.
//
//	vrbench --target zookeeper=127.0.0.1:21811 --target vrkeeper=127.0.0.1:2181 \
//	        --clients 32 --window 8 --duration 10s --size 100 --ops create,set,get
//
// Each client is one session that pipelines up to --window requests. For
// each target and operation it prints throughput and latency percentiles.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"
)

type targetFlag []target

type target struct{ name, addrs string }

func (t *targetFlag) String() string { return fmt.Sprint(*t) }

func (t *targetFlag) Set(v string) error {
	name, addrs, ok := strings.Cut(v, "=")
	if !ok {
		name, addrs = v, v
	}
	*t = append(*t, target{name, addrs})
	return nil
}

func main() {
	var targets targetFlag
	flag.Var(&targets, "target", "name=host:port[,host:port...] (repeatable); clients spread over the hosts")
	clients := flag.Int("clients", 32, "sessions")
	window := flag.Int("window", 8, "requests in flight per session")
	duration := flag.Duration("duration", 10*time.Second, "time per operation and target")
	size := flag.Int("size", 100, "bytes of data per node")
	ops := flag.String("ops", "create,set,get", "operations to run, in order: create, set, get, mixed (90% get), connect (sessions opened and closed)")
	flag.Parse()
	if err := setupTLS(); err != nil {
		fmt.Fprintln(os.Stderr, "vrbench:", err)
		os.Exit(2)
	}
	if len(targets) == 0 {
		fmt.Fprintln(os.Stderr, "vrbench: give at least one --target")
		os.Exit(2)
	}
	cfg := loadConfig{clients: *clients, window: *window, duration: *duration, size: *size}
	fmt.Printf("%-12s %-7s %10s %9s %9s %9s %9s %7s\n", "target", "op", "ops/s", "p50(ms)", "p99(ms)", "p999(ms)", "max(ms)", "errors")
	for _, t := range targets {
		for _, op := range strings.Split(*ops, ",") {
			run := runLoad
			if op == "connect" {
				run = func(addrs []string, _ string, cfg loadConfig) (loadResult, error) { return runConnect(addrs, cfg) }
			}
			res, err := run(strings.Split(t.addrs, ","), op, cfg)
			if err != nil {
				fmt.Fprintf(os.Stderr, "vrbench: %s %s: %v\n", t.name, op, err)
				os.Exit(1)
			}
			fmt.Printf("%-12s %-7s %10.0f %9.2f %9.2f %9.2f %9.2f %7d\n", t.name, op, res.throughput,
				ms(res.p50), ms(res.p99), ms(res.p999), ms(res.max), res.errors)
		}
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
