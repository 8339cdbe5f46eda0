// Command vrbench measures a ZooKeeper-protocol service: the same load
// against any number of targets in one run, so vrkeeper and Apache ZooKeeper
// are compared side by side on the same machine.
//
//	vrbench --target zookeeper=127.0.0.1:21811 --target vrkeeper=127.0.0.1:2181 \
//	        --client raw,gozk --clients 32,128 --window 8 --duration 10s --size 128 \
//	        --ops create,set,get --baseline zookeeper --ceiling stub
//
// Two clients drive the load. raw is vrbench's own: each session pipelines
// up to --window requests. gozk is the go-zookeeper library as applications
// use it: each session has one request in flight. For each client, number
// of sessions and operation, every target runs in turn (so targets compared
// are measured minutes apart at most), and the table gives throughput and
// latency percentiles. With --baseline and --ceiling, a second table gives
// each target's throughput and p99 as ratios to those targets'.
//
//	vrbench stub --addr 127.0.0.1:24700 --size 128
//
// serves the instant-answer stub: every request answered at once with a
// reply of the right shape, the ceiling a client reaches on this machine.
//
//	vrbench fill --target 127.0.0.1:2181 --nodes 1000000 --size 128
//	vrbench sessions --target h1:p,h2:p,h3:p --sessions 10000 --watches 100
//	vrbench storm --target h1:p,h2:p,h3:p --sessions 10000 --kill 'kill -9 PID'
//
// fill a tree (for memory), hold many sessions and watches, and measure a
// reconnect storm: see scripts/bench-memory and scripts/bench-scale.
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
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
	if len(os.Args) > 1 {
		if run, ok := subcommands[os.Args[1]]; ok {
			if err := run(os.Args[2:]); err != nil {
				fmt.Fprintln(os.Stderr, "vrbench:", err)
				os.Exit(1)
			}
			return
		}
	}
	var targets targetFlag
	flag.Var(&targets, "target", "name=host:port[,host:port...] (repeatable); clients spread over the hosts")
	clientKinds := flag.String("client", "raw", "clients to drive the load with: raw (pipelined), gozk (go-zookeeper, one request in flight)")
	clients := flag.String("clients", "32", "sessions (a comma-separated list runs each)")
	window := flag.Int("window", 8, "requests in flight per session of the raw client")
	duration := flag.Duration("duration", 10*time.Second, "time per operation and target")
	size := flag.Int("size", 100, "bytes of data per node")
	ops := flag.String("ops", "create,set,get", "operations to run, in order: create, set, get, mixed (90% get), connect (sessions opened and closed, raw client)")
	warmup := flag.Duration("warmup", 0, "time each target is loaded (creates, then mixed, pipelined) before any measurement: the JVM compiles ZooKeeper's hot paths")
	repeat := flag.Int("repeat", 1, "runs of every cell, the targets in turn each time; the tables give medians")
	baseline := flag.String("baseline", "", "target the others are compared with (zookeeper)")
	ceiling := flag.String("ceiling", "", "target that gives the ceiling (the stub)")
	pids := pidsFlag{}
	flag.Var(pids, "pids", "name=pid[,pid...] (repeatable): the target's server processes, whose CPU time per operation each cell reports (srv-us/op)")
	flag.Parse()
	if err := setupTLS(); err != nil {
		fmt.Fprintln(os.Stderr, "vrbench:", err)
		os.Exit(2)
	}
	if len(targets) == 0 {
		fmt.Fprintln(os.Stderr, "vrbench: give at least one --target")
		os.Exit(2)
	}
	var counts []int
	for _, s := range strings.Split(*clients, ",") {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			fmt.Fprintf(os.Stderr, "vrbench: bad --clients %q\n", *clients)
			os.Exit(2)
		}
		counts = append(counts, n)
	}
	if *warmup > 0 {
		for _, t := range targets {
			cfg := loadConfig{clients: counts[len(counts)-1], window: *window, duration: *warmup / 2, size: *size}
			for _, op := range []string{"create", "mixed"} {
				if _, err := runLoad(strings.Split(t.addrs, ","), op, cfg); err != nil {
					fmt.Fprintf(os.Stderr, "vrbench: warm-up of %s: %v\n", t.name, err)
					os.Exit(1)
				}
			}
		}
	}
	var results []result
	fmt.Printf("%-14s %-5s %8s %-7s %10s %9s %9s %9s %9s %7s %11s\n",
		"target", "client", "sessions", "op", "ops/s", "p50(ms)", "p99(ms)", "p999(ms)", "max(ms)", "errors", "srv-us/op")
	for _, kind := range strings.Split(*clientKinds, ",") {
		for _, n := range counts {
			for _, op := range strings.Split(*ops, ",") {
				for rep := range *repeat {
					for _, t := range targets {
						cfg := loadConfig{clients: n, window: *window, duration: *duration, size: *size}
						if ps, ok := pids[t.name]; ok {
							cfg.cpu = cpuOf(ps)
						}
						settle(pids)
						var res loadResult
						var err error
						switch {
						case kind == "raw" && op == "connect":
							res, err = runConnect(strings.Split(t.addrs, ","), cfg)
						case kind == "raw":
							res, err = runLoad(strings.Split(t.addrs, ","), op, cfg)
						case kind == "gozk":
							res, err = runGozkLoad(strings.Split(t.addrs, ","), op, cfg)
						default:
							err = fmt.Errorf("unknown client %q", kind)
						}
						if err != nil {
							fmt.Fprintf(os.Stderr, "vrbench: %s %s %s: %v\n", t.name, kind, op, err)
							os.Exit(1)
						}
						results = append(results, result{target: t.name, client: kind, sessions: n, op: op, rep: rep, loadResult: res})
						if *repeat > 1 {
							fmt.Fprintf(os.Stderr, "  run %d: %-14s %-5s %5d %-7s %10.0f ops/s  p50 %.2f  p99 %.2f ms\n",
								rep+1, t.name, kind, n, op, res.throughput, ms(res.p50), ms(res.p99))
						}
					}
				}
				for _, t := range targets {
					res := medianOf(results, t.name, kind, n, op)
					cpu := "-"
					if res.cpuPerOp > 0 {
						cpu = fmt.Sprintf("%.1f", float64(res.cpuPerOp)/float64(time.Microsecond))
					}
					fmt.Printf("%-14s %-5s %8d %-7s %10.0f %9.2f %9.2f %9.2f %9.2f %7d %11s\n", t.name, kind, n, op, res.throughput,
						ms(res.p50), ms(res.p99), ms(res.p999), ms(res.max), res.errors, cpu)
				}
			}
		}
	}
	if *baseline != "" || *ceiling != "" {
		fmt.Println()
		printRatios(os.Stdout, results, targets, *baseline, *ceiling)
	}
}

// subcommands are vrbench's tools besides the load.
var subcommands = map[string]func(args []string) error{
	"stub": func(args []string) error {
		fs := flag.NewFlagSet("stub", flag.ExitOnError)
		addr := fs.String("addr", "127.0.0.1:2181", "address to serve on")
		size := fs.Int("size", 128, "bytes of data a getData answers")
		fs.Parse(args)
		return runStub(*addr, *size)
	},
	"fill":     runFill,
	"sessions": runSessions,
	"storm":    runStorm,
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
