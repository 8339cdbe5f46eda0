package tree

import (
	"cmp"
	"encoding/binary"
	"iter"
	"math"
	"slices"
	"strings"
)

// snapMember is what a live snapshot gathers from a set that keeps changing
// while it does: a parent's children, or the sessions.
type snapMember interface{ *node | *session }

// memberKind says how to read and order members of one kind.
type memberKind[V snapMember] struct {
	// birth is the node's czxid or the session's id. Both only grow, so a
	// member born after the snapshot began is above the snapshot's bound
	// (its zxid, or the last session id it saw).
	birth func(V) int64
	// prefix is the start of the member's key as two numbers that order
	// like the key, where they differ: for a node the first 16 bytes of its
	// name, big-endian, zero padded; for a session its id. order compares
	// two members whose prefixes are equal by their whole keys: nodes by
	// name (byte-wise), sessions by id.
	prefix func(V) keyPrefix
	order  func(a, b V) int
}

// keyPrefix is a member's key prefix (memberKind.prefix). Sorting and
// merging compare it first, so that they mostly compare numbers kept beside
// the member rather than reading the member and then its name: at a
// million members each read misses the cache.
type keyPrefix struct{ hi, lo uint64 }

func (a keyPrefix) compare(b keyPrefix) int {
	if a.hi != b.hi {
		return cmp.Compare(a.hi, b.hi)
	}
	return cmp.Compare(a.lo, b.lo)
}

// namePrefix is the prefix of a node's name. If two names' prefixes differ
// at a byte, the names differ there first, or the one that ended there (its
// padding byte, zero, is below the other's) is a prefix of the other: both
// order the names as strings.Compare does. Equal prefixes say nothing of
// the rest.
func namePrefix(name string) keyPrefix {
	var b [16]byte
	copy(b[:], name)
	return keyPrefix{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

var (
	childMembers = &memberKind[*node]{
		birth:  func(n *node) int64 { return n.czxid },
		prefix: func(n *node) keyPrefix { return namePrefix(n.name) },
		order:  func(a, b *node) int { return strings.Compare(a.name, b.name) },
	}
	sessionMembers = &memberKind[*session]{
		birth:  func(s *session) int64 { return s.id },
		prefix: func(s *session) keyPrefix { return keyPrefix{hi: uint64(s.id) ^ 1<<63} },
		order:  func(a, b *session) int { return cmp.Compare(a.id, b.id) },
	}
)

// keyed is a member with its key prefix.
type keyed[V snapMember] struct {
	key keyPrefix
	v   V
}

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
// while it is read. Runs and the heap keep each member's key prefix beside
// it, and compare whole keys only where prefixes are equal.
type gatherer[V snapMember] struct {
	kind  *memberKind[V]
	bound int64

	pull        func() ([]V, bool) // the next batch of a big map; nil once read
	stop        func()
	removed     []V
	nextRemoved int // removed[:nextRemoved] are in runs

	runs   [][]keyed[V] // each sorted; consumed from the front
	heap   []runHead    // the non-empty runs, a min-heap by their heads' keys
	last   keyed[V]     // the member handed out last, valid if handed
	handed bool
}

// runHead is a run in the heap with the key prefix of its first member, kept
// there so that ordering the heap mostly reads no run.
type runHead struct {
	key keyPrefix
	run int
}

// reset prepares g for a new set, keeping its buffers.
func (g *gatherer[V]) reset(kind *memberKind[V], bound int64, removed []V) {
	g.close()
	clear(g.runs)
	clear(g.heap)
	*g = gatherer[V]{kind: kind, bound: bound, removed: removed, runs: g.runs[:0], heap: g.heap[:0]}
}

// close stops a map read still under way.
func (g *gatherer[V]) close() {
	if g.stop != nil {
		g.stop()
		g.pull, g.stop = nil, nil
	}
}

// addSorted adds members already in order (a small child set), copying
// them: the tree changes that slice in place.
func (g *gatherer[V]) addSorted(vs []V) { g.addRun(vs, false) }

// addMap adds the members of m: at once if it holds at most batch of them,
// else batch by batch in later steps.
func addMap[M comparable, V snapMember](g *gatherer[V], m map[M]V, batch int) {
	if len(m) <= batch {
		run := make([]keyed[V], 0, len(m))
		for _, v := range m {
			if g.keeps(v) {
				run = append(run, keyed[V]{g.kind.prefix(v), v})
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
func (g *gatherer[V]) step(batch int) (work int, done bool) {
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
func (g *gatherer[V]) keeps(v V) bool {
	return g.bound == math.MaxInt64 || g.kind.birth(v) <= g.bound
}

// addRun copies the members of vs born by the bound into a new run.
func (g *gatherer[V]) addRun(vs []V, unsorted bool) {
	run := make([]keyed[V], 0, len(vs))
	for _, v := range vs {
		if g.keeps(v) {
			run = append(run, keyed[V]{g.kind.prefix(v), v})
		}
	}
	g.addOwned(run, unsorted)
}

// compare orders two members by key.
func (g *gatherer[V]) compare(a, b keyed[V]) int {
	if c := a.key.compare(b.key); c != 0 {
		return c
	}
	return g.kind.order(a.v, b.v)
}

// addOwned adds run to the runs and the heap.
func (g *gatherer[V]) addOwned(run []keyed[V], unsorted bool) {
	if len(run) == 0 {
		return
	}
	if unsorted {
		slices.SortFunc(run, g.compare)
	}
	g.runs = append(g.runs, run)
	g.heap = append(g.heap, runHead{key: run[0].key, run: len(g.runs) - 1})
	g.up(len(g.heap) - 1)
}

// take hands out the next member in order, or false when none is left.
func (g *gatherer[V]) take() (V, bool) {
	for len(g.heap) > 0 {
		top := &g.heap[0]
		run := g.runs[top.run]
		m := run[0]
		run = run[1:]
		g.runs[top.run] = run
		if len(run) > 0 {
			top.key = run[0].key
		} else {
			last := len(g.heap) - 1
			g.heap[0] = g.heap[last]
			g.heap = g.heap[:last]
		}
		g.down(0)
		if g.handed && g.compare(m, g.last) == 0 {
			continue
		}
		g.last, g.handed = m, true
		return m.v, true
	}
	var zero V
	return zero, false
}

// less orders the heap: by the runs' heads' keys.
func (g *gatherer[V]) less(i, j int) bool {
	a, b := g.heap[i], g.heap[j]
	if c := a.key.compare(b.key); c != 0 {
		return c < 0
	}
	return g.kind.order(g.runs[a.run][0].v, g.runs[b.run][0].v) < 0
}

// up restores the heap order above i.
func (g *gatherer[V]) up(i int) {
	h := g.heap
	for i > 0 {
		parent := (i - 1) / 2
		if !g.less(i, parent) {
			return
		}
		h[i], h[parent] = h[parent], h[i]
		i = parent
	}
}

// down restores the heap order below i.
func (g *gatherer[V]) down(i int) {
	h := g.heap
	for {
		least := i
		if c := 2*i + 1; c < len(h) && g.less(c, least) {
			least = c
		}
		if c := 2*i + 2; c < len(h) && g.less(c, least) {
			least = c
		}
		if least == i {
			return
		}
		h[i], h[least] = h[least], h[i]
		i = least
	}
}
