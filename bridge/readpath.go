package bridge

import (
	"sync"
	"time"

	"github.com/vrkeeper/vrkeeper/tree"
)

// The read path. A connection's goroutine may serve a read itself, without
// a hand-off to the apply goroutine: it waits for a read barrier
// (ReadBarrier), then reads the tree under the tree lock (BeginRead,
// EndRead). The apply goroutine holds that lock, for writing, whenever it
// changes the tree (a batch of committed commands with the handler's calls
// for them, a snapshot installed, a step of a live snapshot), so a reader
// sees the tree between two batches: every committed command up to the
// applied zxid applied, their handler calls made (their watch events
// queued), nothing half done. Tasks (Submit), ticks and role changes run
// without it: they only read the tree, as readers do.
//
// A replica that holds a read lease (consensus/lease.go) needs no round:
// a read waits only until the lease's index is applied, which it is
// already unless writes are in flight.
//
// Otherwise read barriers come in rounds: one round asks replication for one
// quorum-confirmed read index and ends once that index is applied here;
// every reader that arrives while a round is in flight joins the next, and
// at most maxBarrierRounds are in flight. So a burst of reads from many
// connections costs one quorum round, and the round's messages ride on
// replication's own.

// maxBarrierRounds is how many read-index rounds may be in flight at once.
// One keeps the rounds few and full; a reader then waits for the round in
// flight to end and for its own. Two let a round start as soon as a reader
// comes, at the price of more messages.
const maxBarrierRounds = 1

// barrierRound is one read-index round: done is closed when it ended, and
// ok says whether it reached an applied index.
type barrierRound struct {
	done  chan struct{}
	ok    bool
	after []func(ok bool) // callbacks to run when it ends
}

// readBarrier collects readers into rounds.
type readBarrier struct {
	mu       sync.Mutex
	next     *barrierRound // the round collecting readers, not yet asked for
	inflight int
	// ask asks replication for one read index; end must be called once it
	// is applied here (or ok false if none can be had).
	ask func(end func(ok bool))
}

// join adds a reader to the round collecting now and returns it, asking
// for it at once if fewer than maxBarrierRounds are in flight. after, if
// not nil, runs when the round ends (on a goroutine of the node's).
func (b *readBarrier) join(after func(ok bool)) *barrierRound {
	b.mu.Lock()
	r := b.next
	if r == nil {
		r = &barrierRound{done: make(chan struct{})}
		b.next = r
	}
	if after != nil {
		r.after = append(r.after, after)
	}
	launch := b.takeLocked()
	b.mu.Unlock()
	b.launch(launch)
	return r
}

// takeLocked takes the collecting round to ask for, if there is one and
// room for it.
func (b *readBarrier) takeLocked() *barrierRound {
	if b.next == nil || b.inflight >= maxBarrierRounds {
		return nil
	}
	r := b.next
	b.next = nil
	b.inflight++
	return r
}

// launch asks for round r (outside b.mu: the answer may come at once).
func (b *readBarrier) launch(r *barrierRound) {
	if r == nil {
		return
	}
	b.ask(func(ok bool) {
		r.ok = ok
		close(r.done)
		for _, fn := range r.after {
			fn(ok)
		}
		b.mu.Lock()
		b.inflight--
		next := b.takeLocked()
		b.mu.Unlock()
		b.launch(next)
	})
}

// ReadBarrier waits until the tree reflects a quorum-confirmed read index
// asked for after the call: a read served after it (under BeginRead) sees
// every write acknowledged before ReadBarrier was called. It reports false
// if no index can be had (no primary, replication stopped) or abort closed
// first. Any goroutine may call it.
func (n *Node) ReadBarrier(abort <-chan struct{}) bool {
	if index, ok := n.leaseIndex(); ok && n.appliedNow.Load() >= index {
		return true
	}
	r := n.barrier.join(nil)
	select {
	case <-r.done:
		return r.ok
	case <-abort:
		return false
	}
}

// askReadIndex asks replication for one read index and calls end once the
// tree has applied it.
func (n *Node) askReadIndex(end func(ok bool)) {
	if index, ok := n.leaseIndex(); ok {
		n.awaitApplied(index, end)
		return
	}
	n.repl.readIndex(func(index int64, ok bool) {
		if !ok {
			end(false)
			return
		}
		n.awaitApplied(index, end)
	})
}

// awaitApplied calls end once the tree has applied index.
func (n *Node) awaitApplied(index int64, end func(ok bool)) {
	if n.appliedNow.Load() >= index {
		end(true)
		return
	}
	n.Submit(func(a *Apply) {
		n.waiters.add(index, func(_ *Apply, ok bool) { end(ok) })
		n.releaseReads()
	})
}

// leaseIndex returns the index a read arriving now may be served at under
// the replica's read lease, if it holds one (consensus/lease.go). The
// clock is read here, after the read arrived, between two loads of the
// published lease: the same lease both times means it was the current one
// when the clock was read (a lease given up when the replica left its
// view is replaced before the replica says so to anyone), so the read
// takes effect at that moment.
func (n *Node) leaseIndex() (int64, bool) {
	l := n.lease.Load()
	if l == nil {
		return 0, false
	}
	now := leaseClock()
	if n.lease.Load() != l || !l.Valid(now) {
		return 0, false
	}
	return int64(l.Index), true
}

// BeginRead locks the tree for reading and returns it with the zxid of the
// last command applied; EndRead unlocks it. Any goroutine but the apply
// goroutine may read so, and must not keep the tree past EndRead.
func (n *Node) BeginRead() (*tree.Tree, int64) {
	n.treeMu.RLock()
	return n.tree, n.appliedNow.Load()
}

// EndRead ends a BeginRead.
func (n *Node) EndRead() { n.treeMu.RUnlock() }

// LeaseRemaining reports how long the server's read lease still holds (0
// if it holds none: linearizable reads then ask the primary).
func (n *Node) LeaseRemaining() time.Duration {
	l := n.lease.Load()
	if l == nil {
		return 0
	}
	return time.Duration(max(l.End-leaseClock(), 0))
}
