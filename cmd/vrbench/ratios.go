package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// result is one measured cell: a target under one load, in one repetition.
type result struct {
	target   string
	client   string
	sessions int
	op       string
	rep      int
	loadResult
}

// cellOf returns the repetitions of one target's cell.
func cellOf(results []result, target, client string, sessions int, op string) []result {
	var out []result
	for _, r := range results {
		if r.target == target && r.client == client && r.sessions == sessions && r.op == op {
			out = append(out, r)
		}
	}
	return out
}

// median returns the median of vs (the lower middle for an even count).
func median[T int | float64 | time.Duration](vs []T) T {
	if len(vs) == 0 {
		return 0
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}

// medianOf returns, for one target's cell, the median of each figure over
// the repetitions.
func medianOf(results []result, target, client string, sessions int, op string) loadResult {
	cell := cellOf(results, target, client, sessions, op)
	pick := func(f func(loadResult) time.Duration) time.Duration {
		var vs []time.Duration
		for _, r := range cell {
			vs = append(vs, f(r.loadResult))
		}
		return median(vs)
	}
	var tp []float64
	var errs []int
	for _, r := range cell {
		tp = append(tp, r.throughput)
		errs = append(errs, r.errors)
	}
	return loadResult{
		throughput: median(tp),
		p50:        pick(func(r loadResult) time.Duration { return r.p50 }),
		p99:        pick(func(r loadResult) time.Duration { return r.p99 }),
		p999:       pick(func(r loadResult) time.Duration { return r.p999 }),
		max:        pick(func(r loadResult) time.Duration { return r.max }),
		errors:     median(errs),
		cpuPerOp:   pick(func(r loadResult) time.Duration { return r.cpuPerOp }),
	}
}

// printRatios prints, for every target other than the baseline and the
// ceiling and every cell, its throughput as a multiple of the baseline's
// and as a fraction of the ceiling's under the same load, and its p99 as a
// fraction of the baseline's. Each ratio is taken within one repetition
// (targets measured minutes apart at most); the table gives the median and,
// with several repetitions, the range.
func printRatios(w io.Writer, results []result, targets []target, baseline, ceiling string) {
	fmt.Fprintf(w, "%-14s %-5s %8s %-7s %20s %20s %20s\n", "target", "client", "sessions", "op",
		"x "+baseline, "p99/"+baseline, "of "+ceiling)
	type key struct {
		client   string
		sessions int
		op       string
	}
	var cells []key
	for _, r := range results {
		k := key{r.client, r.sessions, r.op}
		if !slices.Contains(cells, k) {
			cells = append(cells, k)
		}
	}
	for _, k := range cells {
		for _, t := range targets {
			if t.name == baseline || t.name == ceiling {
				continue
			}
			var vsBase, p99Base, ofCeil []float64
			for _, r := range cellOf(results, t.name, k.client, k.sessions, k.op) {
				for _, b := range cellOf(results, baseline, k.client, k.sessions, k.op) {
					if b.rep == r.rep && b.throughput > 0 && b.p99 > 0 {
						vsBase = append(vsBase, r.throughput/b.throughput)
						p99Base = append(p99Base, float64(r.p99)/float64(b.p99))
					}
				}
				for _, c := range cellOf(results, ceiling, k.client, k.sessions, k.op) {
					if c.rep == r.rep && c.throughput > 0 {
						ofCeil = append(ofCeil, 100*r.throughput/c.throughput)
					}
				}
			}
			fmt.Fprintf(w, "%-14s %-5s %8d %-7s %20s %20s %20s\n", t.name, k.client, k.sessions, k.op,
				ratioCell(vsBase, "%.2fx"), ratioCell(p99Base, "%.2f"), ratioCell(ofCeil, "%.0f%%"))
		}
	}
}

// ratioCell formats a ratio's median and, for several values, its range.
func ratioCell(vs []float64, format string) string {
	if len(vs) == 0 {
		return "-"
	}
	m := fmt.Sprintf(format, median(vs))
	if len(vs) == 1 {
		return m
	}
	lo, hi := slices.Min(vs), slices.Max(vs)
	return m + " (" + strings.TrimSuffix(fmt.Sprintf(format, lo), "%") + ".." + fmt.Sprintf(format, hi) + ")"
}
