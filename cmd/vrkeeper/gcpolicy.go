package main

import (
	"context"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// The collector's policy. Go's default (GOGC=100) lets the heap grow to
// twice the live heap before collecting: cheap for a small tree, but for a
// tree of a million znodes (a few hundred MB live) it doubles the resident
// memory. tuneGC keeps the default while the live heap is below
// gcLargeHeap and sets GOGC=50 above it, so a large tree costs about 1.5
// times its size, and the collector runs at most twice as often as by
// default. GOGC in the environment turns the policy off.

// gcLargeHeap is the live heap above which the headroom is halved.
const gcLargeHeap = 128 << 20

// gcPercentFor returns the GOGC value for a live heap of live bytes.
func gcPercentFor(live uint64) int {
	if live <= gcLargeHeap {
		return 100
	}
	return 50
}

// tuneGC adjusts the collector every interval until ctx ends.
func tuneGC(ctx context.Context, interval time.Duration) {
	if os.Getenv("GOGC") != "" {
		return
	}
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	current := 100
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		metrics.Read(sample)
		if sample[0].Value.Kind() != metrics.KindUint64 {
			return
		}
		if p := gcPercentFor(sample[0].Value.Uint64()); p != current {
			debug.SetGCPercent(p)
			current = p
		}
	}
}
