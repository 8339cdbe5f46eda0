package consensus_test

import (
	"testing"

	"github.com/vrkeeper/vrkeeper/consensus"
)

// leaseTick is a tick's length on the lease tests' clock.
const leaseTick = 1000

// leaseCluster boots three replicas with read leases on one shared clock
// (the tests advance it with ticks) and waits until every replica holds a
// lease.
type leaseCluster struct {
	*harness
	now int64
}

func newLeaseCluster(t *testing.T) *leaseCluster {
	lc := &leaseCluster{}
	lc.harness = newHarnessWith(t, 3, func(c *consensus.Config) {
		c.ViewChangeTicks, c.LeaseTicks, c.LeaseGrantTicks = 10, 6, 3
		c.TickNanos, c.LeaseDriftPPM = leaseTick, 1
		c.Clock = func() int64 { return lc.now }
	}, true)
	return lc
}

// ticks advances the clock and ticks every live replica n times,
// delivering in between.
func (lc *leaseCluster) ticks(n int) {
	for range n {
		lc.now += leaseTick
		lc.tickAll(1)
	}
}

func (lc *leaseCluster) primary() int {
	for i, nd := range lc.nodes {
		if nd.up && nd.r.Info().IsPrimary {
			return i
		}
	}
	return -1
}

// TestLeaseStartWaitsForPromises: a replica keeps, after it starts, every
// promise an earlier incarnation may have made: while one replica is cut
// off (it may hold a lease), no view forms before LeaseTicks ticks, then
// one does, and once it is back every replica holds a lease.
func TestLeaseStartWaitsForPromises(t *testing.T) {
	lc := newLeaseCluster(t)
	lc.isolate(2, true)
	lc.stabilize()
	lc.ticks(5)
	if p := lc.primary(); p >= 0 {
		t.Fatalf("n%d became primary within the promise made at start", p)
	}
	lc.ticks(4)
	p := lc.primary()
	if p < 0 {
		t.Fatal("no primary once the start promises ended")
	}
	lc.isolate(2, false)
	lc.ticks(4)
	for i, nd := range lc.nodes {
		if l := nd.r.Lease(); !l.Valid(lc.now) {
			t.Errorf("n%d holds no lease (%+v at %d)", i, l, lc.now)
		}
	}
}

// TestLeaseReadServedLocally: a backup with a lease releases a read at
// once, at its own index, with no message to the primary.
func TestLeaseReadServedLocally(t *testing.T) {
	lc := newLeaseCluster(t)
	lc.ticks(9)
	p := lc.primary()
	lc.propose(p, "a")
	lc.stabilize()
	lc.ticks(1)
	b := (p + 1) % 3
	lc.read(b, 7)
	lc.process(b)
	for _, e := range lc.queue {
		if _, ok := e.Msg.(*consensus.ReadIndexRequest); ok {
			t.Fatalf("a read under a lease asked the primary: %s", e)
		}
	}
	rs := lc.nodes[b].reads
	if len(rs) != 1 || rs[0].ID != 7 || rs[0].Op < 1 {
		t.Fatalf("reads at n%d = %v, want id 7 at op ≥ 1", b, rs)
	}
}

// TestLeaseCommitWaitsForHolder: the primary commits no op a backup with a
// grant has not acknowledged until that grant ends, and the backup's lease
// ends, on its clock, no later.
func TestLeaseCommitWaitsForHolder(t *testing.T) {
	lc := newLeaseCluster(t)
	lc.ticks(9)
	p := lc.primary()
	lagging := (p + 2) % 3
	held := lc.nodes[lagging].r.Lease()
	if !held.Valid(lc.now) {
		t.Fatalf("n%d holds no lease", lagging)
	}
	lc.isolate(lagging, true)
	lc.propose(p, "w")
	lc.stabilize()
	start := lc.nodes[p].r.Info().Commit
	for lc.nodes[p].r.Info().Commit == start {
		if lc.now > held.End+10*leaseTick {
			t.Fatal("the write never committed without the isolated holder")
		}
		if lc.nodes[lagging].r.Lease().Valid(lc.now) && lc.nodes[p].r.Info().Commit > start {
			t.Fatal("committed while the isolated backup still held its lease")
		}
		lc.ticks(1)
	}
	if lc.now <= held.End {
		t.Fatalf("committed at %d, before the isolated backup's lease ended at %d", lc.now, held.End)
	}
}

// TestLeasePromiseHoldsBackDoViewChange: a backup that heard from its
// primary sends no DoViewChange, whatever it hears, until its promise ends.
func TestLeasePromiseHoldsBackDoViewChange(t *testing.T) {
	lc := newLeaseCluster(t)
	lc.ticks(9)
	p := lc.primary()
	b := (p + 2) % 3 // not the primary of the next view: it would send its DoViewChange to (p+1)
	v := lc.nodes[b].r.Info().View
	lc.deliverOne(consensus.Envelope{From: consensus.ReplicaID((p + 1) % 3), To: consensus.ReplicaID(b),
		Msg: &consensus.StartViewChange{Header: consensus.Header{Epoch: 1, View: v + 1}}})
	sent := func() bool {
		lc.process(b)
		for _, e := range lc.queue {
			if _, ok := e.Msg.(*consensus.DoViewChange); ok && e.From == consensus.ReplicaID(b) {
				return true
			}
		}
		lc.queue = nil
		return false
	}
	for k := 0; k < 5; k++ {
		if sent() {
			t.Fatalf("DoViewChange sent %d ticks after the primary's last message, within the promise", k)
		}
		lc.nodes[b].r.Tick()
	}
	lc.nodes[b].r.Tick()
	if !sent() {
		t.Fatal("no DoViewChange once the promise ended")
	}
}

// TestLeaseFloorCoversCommitsBeforeGrant: ops the primary committed without
// a backup, before granting it a lease, are covered by the lease's index
// even if the backup has not received them yet.
func TestLeaseFloorCoversCommitsBeforeGrant(t *testing.T) {
	lc := newLeaseCluster(t)
	lc.ticks(9)
	p := lc.primary()
	b := (p + 2) % 3
	lc.isolate(b, true)
	lc.propose(p, "x")
	lc.propose(p, "y")
	lc.stabilize()
	lc.ticks(8)
	commit := lc.nodes[p].r.Info().Commit
	if lc.nodes[b].r.Info().Op >= commit {
		t.Fatalf("n%d has op %d already, commit %d", b, lc.nodes[b].r.Info().Op, commit)
	}
	lc.isolate(b, false)
	// Entries never reach the backup; heartbeats and grants do (a
	// Prepare arrives without its entries).
	for k := 0; k < 40 && !lc.nodes[b].r.Lease().Valid(lc.now); k++ {
		lc.now += leaseTick
		for _, nd := range lc.nodes {
			nd.r.Tick()
		}
		for steps := 0; steps < 100; steps++ {
			for i := range lc.nodes {
				lc.process(i)
			}
			if len(lc.queue) == 0 {
				break
			}
			q := lc.queue
			lc.queue = nil
			for _, e := range q {
				if pr, ok := e.Msg.(*consensus.Prepare); ok && len(pr.Entries) > 0 {
					stripped := *pr
					stripped.Entries = nil
					e.Msg = &stripped
				}
				lc.deliverOne(e)
			}
		}
	}
	l := lc.nodes[b].r.Lease()
	if !l.Valid(lc.now) {
		t.Fatalf("n%d got no lease", b)
	}
	if op := lc.nodes[b].r.Info().Op; op >= commit {
		t.Fatalf("n%d received the entries (op %d); the test needs them missing", b, op)
	}
	if l.Index < commit {
		t.Fatalf("n%d's lease index %d is below commit %d, committed before its grant", b, l.Index, commit)
	}
}

// TestStaleAckDropped: an acknowledgement of a view that has not left when
// the replica moves to a later view never leaves (its log may be rewritten
// in memory before it would).
func TestStaleAckDropped(t *testing.T) {
	h := newHarnessWith(t, 3, nil, true)
	h.stabilize()
	p := -1
	for i, nd := range h.nodes {
		if nd.r.Info().IsPrimary {
			p = i
		}
	}
	b := (p + 2) % 3
	v := h.nodes[b].r.Info().View
	h.deliverOne(consensus.Envelope{From: consensus.ReplicaID(p), To: consensus.ReplicaID(b),
		Msg: &consensus.Commit{Header: consensus.Header{Epoch: 1, View: v}}})
	h.deliverOne(consensus.Envelope{From: consensus.ReplicaID((p + 1) % 3), To: consensus.ReplicaID(b),
		Msg: &consensus.StartViewChange{Header: consensus.Header{Epoch: 1, View: v + 1}}})
	h.process(b)
	for _, e := range h.queue {
		if ok, isOk := e.Msg.(*consensus.CommitOk); isOk && ok.View == v {
			t.Fatalf("n%d acknowledged view %d after moving to view %d: %s", b, v, v+1, e)
		}
	}
}

// TestLeaseViewChangeAnnouncedByAllIsQuick: once every replica announced
// the view change (each left its view, so none reads under a lease), the
// new view forms without waiting for the promises: a primary's restart
// costs no lease time.
func TestLeaseViewChangeAnnouncedByAllIsQuick(t *testing.T) {
	lc := newLeaseCluster(t)
	lc.ticks(9)
	p := lc.primary()
	v := lc.nodes[p].r.Info().View
	lc.crash(p)
	lc.restart(p)
	lc.stabilize()
	q := lc.primary()
	if q < 0 || lc.nodes[q].r.Info().View <= v {
		t.Fatalf("no new view formed at once after the primary's restart (primary n%d)", q)
	}
}

// newMixedLeaseCluster is newLeaseCluster with LeaseTicks per replica and
// the promise length each replica's earlier incarnations had (Boot.Promised).
func newMixedLeaseCluster(t *testing.T, leaseTicks [3]int, promised [3]int64) *leaseCluster {
	lc := &leaseCluster{}
	lc.harness = newHarnessWith(t, 3, func(c *consensus.Config) {
		c.ViewChangeTicks, c.LeaseTicks, c.LeaseGrantTicks = 10, leaseTicks[c.ID], 1
		c.TickNanos, c.LeaseDriftPPM = leaseTick, 1
		c.Clock = func() int64 { return lc.now }
	}, true)
	for i, nd := range lc.nodes {
		b := memberBoot(nd.id)
		b.Promised = promised[i]
		lc.boot(nd, b)
	}
	return lc
}

// TestLeaseBoundedByShortestPromise: servers configured with different
// promise lengths (tickTime or syncLimit differ): the primary's lease lasts
// no longer than the shortest promise among the backups that confirmed it,
// not its own: a backup that promised less may help form a later view
// sooner.
func TestLeaseBoundedByShortestPromise(t *testing.T) {
	lc := newMixedLeaseCluster(t, [3]int{3, 8, 3}, [3]int64{})
	lc.ticks(12)
	p := lc.primary()
	if p != 1 {
		t.Fatalf("n%d is primary; the test wants n1, the one with the long promise", p)
	}
	for range 5 {
		lc.ticks(1)
		l := lc.nodes[p].r.Lease()
		// The backups promised (3-2) ticks from the round's start, which
		// was at most a tick ago.
		if limit := lc.now + 1*leaseTick; l.End > limit {
			t.Fatalf("primary's lease ends at %d, beyond its backups' promises (%d)", l.End, limit)
		}
	}
}

// TestLeaseBootKeepsLongerPromise: a replica restarted with a shorter
// promise than an earlier incarnation had (tickTime lowered) keeps the
// longer one after it starts: no view forms before it ends.
func TestLeaseBootKeepsLongerPromise(t *testing.T) {
	lc := newMixedLeaseCluster(t, [3]int{6, 6, 6}, [3]int64{10 * leaseTick, 10 * leaseTick, 10 * leaseTick})
	lc.isolate(2, true)
	lc.stabilize()
	lc.ticks(10) // own promise: 6 ticks; the earlier one: 10+2
	if p := lc.primary(); p >= 0 {
		t.Fatalf("n%d became primary within the promise an earlier incarnation made", p)
	}
	for i := 0; i < 20 && lc.primary() < 0; i++ {
		lc.ticks(1)
	}
	if p := lc.primary(); p < 0 {
		t.Fatal("no primary once the earlier promises ended")
	}
}

// TestLeaseGrantForEarlierIncarnationIgnored: a grant that answers a lease
// request of the replica's previous incarnation (queued for it by the
// primary's transport, delivered after the restart) gives the restarted
// replica no lease, however many requests it sent since: the request it
// would be taken for was sent later, so the lease would outlast the
// primary's grant.
func TestLeaseGrantForEarlierIncarnationIgnored(t *testing.T) {
	lc := newLeaseCluster(t)
	lc.ticks(9)
	p := lc.primary()
	if p < 0 {
		t.Fatal("no primary")
	}
	b := (p + 1) % 3
	v := lc.nodes[b].r.Info().View
	commit := lc.nodes[p].r.Info().Commit
	lc.queue = nil
	// askLease hands b a heartbeat without a grant and returns the lease
	// request its CommitOk carries.
	askLease := func() uint64 {
		t.Helper()
		lc.deliverOne(consensus.Envelope{From: consensus.ReplicaID(p), To: consensus.ReplicaID(b),
			Msg: &consensus.Commit{Header: consensus.Header{Epoch: 1, View: v}, Commit: commit}})
		lc.process(b)
		q := lc.queue
		lc.queue = nil
		for _, e := range q {
			if ok, isOk := e.Msg.(*consensus.CommitOk); isOk && e.From == consensus.ReplicaID(b) && ok.LeaseReq != 0 {
				return ok.LeaseReq
			}
		}
		t.Fatalf("n%d sent no lease request: %v", b, q)
		return 0
	}
	old := askLease()
	lc.crash(b)
	lc.now += 20 * leaseTick // the restart takes a while
	lc.restart(b)
	lc.process(b)
	lc.queue = nil
	for k := 0; k < 1000; k++ {
		if askLease() >= old {
			break
		}
	}
	lc.deliverOne(consensus.Envelope{From: consensus.ReplicaID(p), To: consensus.ReplicaID(b),
		Msg: &consensus.Commit{Header: consensus.Header{Epoch: 1, View: v}, Commit: commit,
			Lease: consensus.LeaseGrant{Req: old, Nanos: 3 * leaseTick}}})
	if l := lc.nodes[b].r.Lease(); l.Valid(lc.now) {
		t.Fatalf("n%d holds a lease until %d (now %d) on a grant for its previous incarnation's request %d", b, l.End, lc.now, old)
	}
}
