// Package leakcheck finds goroutines a test left running, as
// go.uber.org/goleak does, without the dependency: it notes the goroutines
// running before the test and, after the code under test was shut down,
// reports the new ones whose stacks run code of the given packages.
//
// A goroutine that was joined (its end awaited through a channel or a
// WaitGroup) may still be on its way out for a moment after the join, so
// Check looks again until a deadline: a leaked goroutine never leaves.
package leakcheck

import (
	"bytes"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Snapshot returns the ids of the goroutines running now.
func Snapshot() map[int]bool {
	ids := map[int]bool{}
	for _, g := range goroutines() {
		ids[g.id] = true
	}
	return ids
}

// Leaked returns the stacks of the goroutines running now that were not
// running at before and whose stacks mention one of pkgs (import path
// prefixes); the calling goroutine is left out.
func Leaked(before map[int]bool, pkgs ...string) []string {
	var out []string
	for i, g := range goroutines() {
		if i == 0 || before[g.id] { // the first is the caller's
			continue
		}
		for _, p := range pkgs {
			if strings.Contains(g.stack, p+".") || strings.Contains(g.stack, p+"/") {
				out = append(out, g.stack)
				break
			}
		}
	}
	return out
}

// Check fails t if goroutines of pkgs started after before are still
// running 10 seconds from now (it returns as soon as none is).
func Check(t testing.TB, before map[int]bool, pkgs ...string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		leaked := Leaked(before, pkgs...)
		if len(leaked) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines left running:\n\n%s", len(leaked), strings.Join(leaked, "\n\n"))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type goroutine struct {
	id    int
	stack string
}

// goroutines returns every goroutine's id and stack, the caller's first.
func goroutines() []goroutine {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var out []goroutine
	for _, block := range bytes.Split(buf, []byte("\n\n")) {
		head, _, _ := bytes.Cut(block, []byte(" ["))
		id, err := strconv.Atoi(string(bytes.TrimPrefix(head, []byte("goroutine "))))
		if err != nil {
			continue
		}
		out = append(out, goroutine{id: id, stack: string(block)})
	}
	return out
}
