package sim

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

var (
	seedFlag  = flag.Int64("seed", -1, "replay one seed with its whole trace")
	seedsFlag = flag.Int("seeds", 1000, "number of seeds TestSim runs (soak: -seeds 100000)")
	firstFlag = flag.Uint64("first", 0, "first seed of the range")
	traceFlag = flag.Bool("showtrace", false, "with -seed: print the trace even when the seed passes")
)

// TestSim runs many seeds of the simulator in parallel; a failing seed prints
// itself, its fault mix and the tail of its trace. Replay one with
// `go test ./consensus/sim -run Sim -seed N`.
func TestSim(t *testing.T) {
	if *seedFlag >= 0 {
		res := Run(Options{Seed: uint64(*seedFlag), KeepTrace: true})
		if res.Err != nil || *traceFlag {
			var b strings.Builder
			res.PrintTrace(&b)
			t.Logf("seed %d (%s) trace:\n%s", res.Seed, res.Faults, b.String())
		}
		if res.Err != nil {
			t.Fatalf("seed %d (%s): %v", res.Seed, res.Faults, res.Err)
		}
		t.Logf("seed %d (%s): %d ops, %d committed, %d ticks, %d log-suffix parts, %d reads under a lease", res.Seed, res.Faults, res.Ops, res.Committed, res.Ticks, res.Parts, res.LeaseReads)
		return
	}
	var (
		next   atomic.Uint64
		mu     sync.Mutex
		failed []*Result
		ops    int
		xfers  int
		parts  int
		leased int
		piped  int
		mixes  = map[string]int{}
		wg     sync.WaitGroup
	)
	next.Store(*firstFlag)
	end := *firstFlag + uint64(*seedsFlag)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				s := next.Add(1) - 1
				if s >= end {
					return
				}
				res := Run(Options{Seed: s})
				mu.Lock()
				ops += res.Ops
				xfers += res.Fetched
				parts += res.Parts
				leased += res.LeaseReads
				piped += res.Pipelined
				mixes[mixName(res.Faults)]++
				if res.Err != nil {
					failed = append(failed, res)
				}
				stop := len(failed) >= 3
				mu.Unlock()
				if stop {
					return
				}
			}
		}()
	}
	wg.Wait()
	var names []string
	for k := range mixes {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, k := range names {
		fmt.Fprintf(&b, "  %-40s %d seeds\n", k, mixes[k])
	}
	t.Logf("%d seeds from %d, %d client ops, %d snapshot transfers, %d log-suffix parts, %d reads under a lease, %d pipelined Readies, fault mixes:\n%s", *seedsFlag, *firstFlag, ops, xfers, parts, leased, piped, b.String())
	sort.Slice(failed, func(i, j int) bool { return failed[i].Seed < failed[j].Seed })
	for _, res := range failed {
		var tb strings.Builder
		res.PrintTrace(&tb)
		tail := tb.String()
		if lines := strings.Split(tail, "\n"); len(lines) > 200 {
			tail = strings.Join(lines[len(lines)-200:], "\n")
		}
		fmt.Fprintf(os.Stderr, "seed %d (%s) trace tail:\n%s\n", res.Seed, res.Faults, tail)
		t.Errorf("seed %d (%s): %v\n  replay: go test ./consensus/sim -run Sim -seed %d", res.Seed, res.Faults, res.Err, res.Seed)
	}
}

// mixName groups fault mixes coarsely for the report.
func mixName(f Faults) string {
	var parts []string
	parts = append(parts, fmt.Sprintf("n=%d", f.Replicas))
	if f.Drop > 0 {
		parts = append(parts, "drop")
	}
	if f.Dup > 0 {
		parts = append(parts, "dup")
	}
	if f.Partitions {
		parts = append(parts, "part")
	}
	if f.OneWay {
		parts = append(parts, "oneway")
	}
	if f.Crashes {
		parts = append(parts, "crash")
	}
	if f.DiskLoss {
		parts = append(parts, "diskloss")
	}
	if f.Pauses {
		parts = append(parts, "pause")
	}
	if f.Leases {
		parts = append(parts, "lease")
	}
	return strings.Join(parts, "+")
}
