package main

import (
	"fmt"
	"io"
)

// result is one measured cell: a target under one load.
type result struct {
	target   string
	client   string
	sessions int
	op       string
	loadResult
}

// printRatios prints, for every result of a target other than the
// baseline and the ceiling, its throughput as a multiple of the baseline's
// and as a fraction of the ceiling's under the same load, and its p99 as a
// fraction of the baseline's.
func printRatios(w io.Writer, results []result, baseline, ceiling string) {
	find := func(name string, r result) (loadResult, bool) {
		for _, x := range results {
			if x.target == name && x.client == r.client && x.sessions == r.sessions && x.op == r.op {
				return x.loadResult, true
			}
		}
		return loadResult{}, false
	}
	fmt.Fprintf(w, "%-14s %-5s %8s %-7s %14s %14s %14s\n", "target", "client", "sessions", "op",
		"x "+baseline, "p99/"+baseline, "of "+ceiling)
	for _, r := range results {
		if r.target == baseline || r.target == ceiling {
			continue
		}
		cell := func(ok bool, v float64, format string) string {
			if !ok || v != v {
				return "-"
			}
			return fmt.Sprintf(format, v)
		}
		b, okB := find(baseline, r)
		c, okC := find(ceiling, r)
		fmt.Fprintf(w, "%-14s %-5s %8d %-7s %14s %14s %14s\n", r.target, r.client, r.sessions, r.op,
			cell(okB && b.throughput > 0, r.throughput/b.throughput, "%.2fx"),
			cell(okB && b.p99 > 0, float64(r.p99)/float64(b.p99), "%.2f"),
			cell(okC && c.throughput > 0, 100*r.throughput/c.throughput, "%.0f%%"))
	}
}
