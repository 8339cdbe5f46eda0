package tree

import (
	"cmp"
	"iter"
	"math"
	"slices"
	"strings"
)

// snapMember is what a live snapshot gathers from a set that keeps changing
// while it does: a parent's children, or the sessions.
type snapMember interface{ *node | *session }

// memberKind says how to read and order members of one kind.
type memberKind[V snapMember, K cmp.Ordered] struct {
	// birth is the node's czxid or the session's id. Both only grow, so a
	// member born after the snapshot began is above the snapshot's bound
	// (its zxid, or the last session id it saw).
	birth func(V) int64
	// key orders members as the snapshot writes them: nodes by name
	// (byte-wise), sessions by id; order compares two by key.
	key   func(V) K
	order func(a, b V) int
}

var (
	childMembers = &memberKind[*node, string]{
		birth: func(n *node) int64 { return n.czxid },
		key:   func(n *node) string { return n.name },
		order: func(a, b *node) int { return strings.Compare(a.name, b.name) },
	}
	sessionMembers = &memberKind[*session, int64]{
		birth: func(s *session) int64 { return s.id },
		key:   func(s *session) int64 { return s.id },
		order: func(a, b *session) int { return cmp.Compare(a.id, b.id) },
	}
)

// gatherer collects the members a set had when the snapshot began, in steps
// of bounded work between which the set changes, and then hands them out
// in order.
//
// The members at the start are the live ones born by the bound plus the
// ones removed since the start, which the tree appends to removed for as
// long as gathering is under way (and, before it starts, keeps in the
// owner's pre-image). A big map is read in batches: Go's map iteration
// survives changes between batches, producing no member removed before it
// was reached (removed has it) and maybe members added meanwhile (the bound
// drops them). Each batch is sorted into a run and the run joins a heap by
// its head's key; take merges the runs through the heap, and hands out once
// a member met twice (read live and then removed, or removed and put back by
// a failed multi: the same member, as a set never holds two members with one
// key). A bound of math.MaxInt64 keeps every member: the set does not change
// while it is read.
type gatherer[V snapMember, K cmp.Ordered] struct {
	kind  *memberKind[V, K]
	bound int64

	pull        func() ([]V, bool) // the next batch of a big map; nil once read
	stop        func()
	removed     []V
	nextRemoved int // removed[:nextRemoved] are in runs

	runs    [][]V        // each sorted; consumed from the front
	heap    []runHead[K] // the non-empty runs, a min-heap by key
	lastKey K            // the key handed out last, valid if handed
	handed  bool
}

// runHead is a run in the heap with the key of its first member, kept there
// so that ordering the heap reads no member.
type runHead[K cmp.Ordered] struct {
	key K
	run int
}

// reset prepares g for a new set, keeping its buffers.
func (g *gatherer[V, K]) reset(kind *memberKind[V, K], bound int64, removed []V) {
	g.close()
	clear(g.runs)
	clear(g.heap)
	*g = gatherer[V, K]{kind: kind, bound: bound, removed: removed, runs: g.runs[:0], heap: g.heap[:0]}
}

// close stops a map read still under way.
func (g *gatherer[V, K]) close() {
	if g.stop != nil {
		g.stop()
		g.pull, g.stop = nil, nil
	}
}

// addSorted adds members already in order (a small child set), copying
// them: the tree changes that slice in place.
func (g *gatherer[V, K]) addSorted(vs []V) { g.addRun(vs, false) }

// addMap adds the members of m: at once if it holds at most batch of them,
// else batch by batch in later steps.
func addMap[M comparable, V snapMember, K cmp.Ordered](g *gatherer[V, K], m map[M]V, batch int) {
	if len(m) <= batch {
		run := make([]V, 0, len(m))
		for _, v := range m {
			if g.keeps(v) {
				run = append(run, v)
			}
		}
		g.addOwned(run, true)
		return
	}
	g.pull, g.stop = iter.Pull(mapBatches(m, batch))
}

// mapBatches yields the values of m in batches of size (the last may be
// shorter); each batch is valid until the next.
func mapBatches[M comparable, V any](m map[M]V, size int) iter.Seq[[]V] {
	return func(yield func([]V) bool) {
		batch := make([]V, 0, size)
		for _, v := range m {
			batch = append(batch, v)
			if len(batch) == size {
				if !yield(batch) {
					return
				}
				batch = batch[:0]
			}
		}
		if len(batch) > 0 {
			yield(batch)
		}
	}
}

// step does one batch of gathering and returns how many members it looked
// at; done reports that gathering is complete and take may be called.
func (g *gatherer[V, K]) step(batch int) (work int, done bool) {
	if g.pull != nil {
		if vs, ok := g.pull(); ok {
			g.addRun(vs, true)
			return len(vs), false
		}
		g.close()
	}
	if g.nextRemoved < len(g.removed) {
		end := min(len(g.removed), g.nextRemoved+batch)
		g.addRun(g.removed[g.nextRemoved:end], true)
		work = end - g.nextRemoved
		g.nextRemoved = end
		return work, false
	}
	g.removed, g.nextRemoved = nil, 0
	return 0, true
}

// keeps reports whether v was born by the bound.
func (g *gatherer[V, K]) keeps(v V) bool {
	return g.bound == math.MaxInt64 || g.kind.birth(v) <= g.bound
}

// addRun copies the members of vs born by the bound into a new run.
func (g *gatherer[V, K]) addRun(vs []V, unsorted bool) {
	run := make([]V, 0, len(vs))
	for _, v := range vs {
		if g.keeps(v) {
			run = append(run, v)
		}
	}
	g.addOwned(run, unsorted)
}

// addOwned adds run to the runs and the heap.
func (g *gatherer[V, K]) addOwned(run []V, unsorted bool) {
	if len(run) == 0 {
		return
	}
	if unsorted {
		slices.SortFunc(run, g.kind.order)
	}
	g.runs = append(g.runs, run)
	g.heap = append(g.heap, runHead[K]{key: g.kind.key(run[0]), run: len(g.runs) - 1})
	g.up(len(g.heap) - 1)
}

// take hands out the next member in order, or false when none is left.
func (g *gatherer[V, K]) take() (V, bool) {
	for len(g.heap) > 0 {
		top := &g.heap[0]
		run := g.runs[top.run]
		v, key := run[0], top.key
		run = run[1:]
		g.runs[top.run] = run
		if len(run) > 0 {
			top.key = g.kind.key(run[0])
		} else {
			last := len(g.heap) - 1
			g.heap[0] = g.heap[last]
			g.heap = g.heap[:last]
		}
		g.down(0)
		if g.handed && key == g.lastKey {
			continue
		}
		g.lastKey, g.handed = key, true
		return v, true
	}
	var zero V
	return zero, false
}

// up restores the heap order above i.
func (g *gatherer[V, K]) up(i int) {
	h := g.heap
	for i > 0 {
		parent := (i - 1) / 2
		if h[i].key >= h[parent].key {
			return
		}
		h[i], h[parent] = h[parent], h[i]
		i = parent
	}
}

// down restores the heap order below i.
func (g *gatherer[V, K]) down(i int) {
	h := g.heap
	for {
		least := i
		if c := 2*i + 1; c < len(h) && h[c].key < h[least].key {
			least = c
		}
		if c := 2*i + 2; c < len(h) && h[c].key < h[least].key {
			least = c
		}
		if least == i {
			return
		}
		h[i], h[least] = h[least], h[i]
		i = least
	}
}
