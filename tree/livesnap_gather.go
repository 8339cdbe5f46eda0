package tree

import (
	"cmp"
	"iter"
	"slices"
	"strings"
)

// snapMember is what a live snapshot gathers from a set that keeps changing
// while it does: a parent's children, or the sessions.
type snapMember[V any] interface {
	// snapBirth is the node's czxid or the session's id. Both only grow, so
	// a member born after the snapshot began is above the snapshot's bound
	// (its zxid, or the last session id it saw).
	snapBirth() int64
	// snapCompare orders members as the snapshot writes them: nodes by
	// name (byte-wise), sessions by id.
	snapCompare(V) int
}

func (n *node) snapBirth() int64              { return n.czxid }
func (n *node) snapCompare(o *node) int       { return strings.Compare(n.name, o.name) }
func (s *session) snapBirth() int64           { return s.id }
func (s *session) snapCompare(o *session) int { return cmp.Compare(s.id, o.id) }

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
// drops them). Each batch is sorted into a run; take merges the runs
// through a heap, and hands out once a member met twice (read live and then
// removed, or removed and put back by a failed multi: the same member, as a
// set never holds two members with one name or id).
type gatherer[V snapMember[V]] struct {
	bound int64

	pull        func() ([]V, bool) // the next batch of a big map; nil once read
	stop        func()
	removed     []V
	nextRemoved int // removed[:nextRemoved] are in runs

	runs   [][]V // each sorted; consumed from the front
	heap   []int // indexes of the non-empty runs, a min-heap by head
	last   V     // the member handed out last, valid if handed
	handed bool
}

// reset prepares g for a new set, keeping its buffers.
func (g *gatherer[V]) reset(bound int64, removed []V) {
	g.close()
	clear(g.runs)
	var zero V
	*g = gatherer[V]{bound: bound, removed: removed, runs: g.runs[:0], heap: g.heap[:0], last: zero}
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
func addMap[K comparable, V snapMember[V]](g *gatherer[V], m map[K]V, batch int) {
	if len(m) <= batch {
		run := make([]V, 0, len(m))
		for _, v := range m {
			if v.snapBirth() <= g.bound {
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
func mapBatches[K comparable, V any](m map[K]V, size int) iter.Seq[[]V] {
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
	for i := range g.runs {
		g.heap = append(g.heap, i)
	}
	for i := len(g.heap)/2 - 1; i >= 0; i-- {
		g.down(i)
	}
	return 0, true
}

// addRun copies the members of vs born by the bound into a new run.
func (g *gatherer[V]) addRun(vs []V, unsorted bool) {
	run := make([]V, 0, len(vs))
	for _, v := range vs {
		if v.snapBirth() <= g.bound {
			run = append(run, v)
		}
	}
	g.addOwned(run, unsorted)
}

func (g *gatherer[V]) addOwned(run []V, unsorted bool) {
	if len(run) == 0 {
		return
	}
	if unsorted {
		slices.SortFunc(run, func(a, b V) int { return a.snapCompare(b) })
	}
	g.runs = append(g.runs, run)
}

// take hands out the next member in order, or false when none is left.
func (g *gatherer[V]) take() (V, bool) {
	for len(g.heap) > 0 {
		r := g.heap[0]
		v := g.runs[r][0]
		g.runs[r] = g.runs[r][1:]
		if len(g.runs[r]) == 0 {
			last := len(g.heap) - 1
			g.heap[0] = g.heap[last]
			g.heap = g.heap[:last]
		}
		g.down(0)
		if g.handed && v.snapCompare(g.last) == 0 {
			continue
		}
		g.last, g.handed = v, true
		return v, true
	}
	var zero V
	return zero, false
}

// down restores the heap order below i.
func (g *gatherer[V]) down(i int) {
	h := g.heap
	for {
		least := i
		for _, c := range [2]int{2*i + 1, 2*i + 2} {
			if c < len(h) && g.runs[h[c]][0].snapCompare(g.runs[h[least]][0]) < 0 {
				least = c
			}
		}
		if least == i {
			return
		}
		h[i], h[least] = h[least], h[i]
		i = least
	}
}
