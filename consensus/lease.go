package consensus

import (
	"fmt"
	"math"
	"slices"
)

// Read leases let every replica serve linearizable reads from its own
// state, with no message per read, while writes wait for the replicas that
// hold a lease (quorum leases held by all: each replica is a lease holder
// while it keeps up). Time enters in two forms, both injected: ticks
// (Tick), which can only run late (a paused or busy replica ticks less, a
// ticker drops ticks), and Config.Clock, a monotonic clock read in
// nanoseconds. Clock rates differ from true time by at most ρ
// (LeaseDriftPPM); clock offsets do not matter, only durations on one
// clock are compared. shrink(d) = d·(1-ρ)/(1+ρ) turns a duration measured
// on one clock into one that is no longer in true time on any other.
//
// Promise. When a replica receives a Prepare or Commit from the primary of
// its view, it promises to take no part in forming a later view (send a
// DoViewChange, or become primary) for LeaseTicks ticks; so does the
// primary whenever it starts a read round, and every replica when it starts
// (a promise is not durable: a restarted replica keeps every promise it may
// have made by waiting that long), or until every other replica announced
// the view change (see promised). Counted in ticks, which only run late,
// the promise lasts at least (LeaseTicks-2) tick lengths of true time
// divided by (1+ρ) (the tick before the receipt may count, and a ticker
// that fell behind may fire once early).
//
// Primary lease. Each heartbeat starts a read round (reads.go); the
// primary records the Clock time t before the round's messages leave. Once
// f backups echoed round s (or a later one), f+1 replicas, the primary
// included, promised after t: no view after this one can form before
// t + (LeaseTicks-2)·tick/(1+ρ) in true time, because forming one needs
// f+1 replicas that no longer promise. So the primary holds the lease until
// t + shrink((LeaseTicks-2)·TickNanos) on its clock (with every replica
// configured alike; see promise lengths below). Nothing commits in a
// later view before the lease ends, and in this view nothing commits but
// through the primary.
//
// Promise lengths. Replicas may be configured with different LeaseTicks
// and TickNanos (servers with different tickTime or syncLimit, as in a
// rolling change). Every acknowledgement carries its sender's promise length
// P = (LeaseTicks-2)·TickNanos (Config.PromiseNanos); the primary keeps the
// shortest each backup reported in this view and bounds the lease of round
// s by the shortest among its own and those of the backups that echoed s
// (promiseBound): those are the f+1 whose promises the argument above
// counts on. A restarted replica keeps, besides its own, the longest
// promise an earlier incarnation was configured with (Boot.Promised, which
// the driver records in the replica state before the replica runs).
//
// Backup lease. Each PrepareOk and CommitOk carries a lease request, and
// the backup keeps the Clock time a at which it built it (before it left).
// The primary, on taking the request at time g while it holds its lease
// and the backup keeps up (below), grants it: until
// e = min(g + LeaseGrantTicks·TickNanos, its lease end) it commits no op
// the backup has not acknowledged. It tells the backup e-g with its next
// Prepare or Commit, and the backup holds the lease until
// a + shrink(e-g) on its clock: in true time that is no later than e on
// the primary's (a came before g), so no later than the primary's lease,
// and every op committed while the backup holds it was acknowledged by the
// backup first (it is in the backup's log), or was committed before g (the
// message with the grant carries a commit-number at least that: the
// backup's floor).
//
// Reads. A replica with a lease valid at a Clock time read after the
// request arrived serves it once its state machine applied the lease's
// Index: its last op, the ops it acknowledged and its floor. Every write
// acknowledged to any client before then was committed in this view (or an
// earlier one) at or below that index, so the read sees it; what it
// returns is the committed state at an index no lower, hence linearizable.
// A pause after the clock was read changes nothing: the state it then reads
// is at least the one that was current when the lease was checked.
//
// A backup that falls behind would hold every write back: the primary
// grants nothing to a backup more than a batch behind the commit-number,
// and stops renewing, for 4·LeaseTicks ticks, a backup whose
// acknowledgement an op has waited for leaseStallTicks after f backups
// acknowledged it; it commits without it once its grant ended. Whom to
// grant is a matter of speed only: the floor makes any grant safe.

// Lease is what a replica may serve reads with locally: a read that
// arrives before End (Config.Clock) may be served once the state machine
// applied Index. The zero Lease holds nothing.
type Lease struct {
	End   int64
	Index uint64
}

// Valid reports whether the lease holds at now (Config.Clock).
func (l Lease) Valid(now int64) bool { return now < l.End }

// LeaseGrant is the primary's answer to a backup's lease request: request
// Req is granted for Nanos of the primary's clock from when it took it.
type LeaseGrant struct {
	Req   uint64
	Nanos uint64
}

// maxGrantNanos bounds a grant on the wire (a minute: far above any
// configuration).
const maxGrantNanos = uint64(60e9)

func (g LeaseGrant) validate() error {
	if g.Nanos > maxGrantNanos {
		return fmt.Errorf("%w: lease grant of %d ns", ErrBadMessage, g.Nanos)
	}
	return nil
}

func (g LeaseGrant) String() string {
	if g.Req == 0 {
		return ""
	}
	return fmt.Sprintf(" grant=%d/%dns", g.Req, g.Nanos)
}

func leaseReqString(req uint64) string {
	if req == 0 {
		return ""
	}
	return fmt.Sprintf(" lease-req=%d", req)
}

const (
	// leaseRequests is how many of its latest requests a backup remembers.
	leaseRequests = 16
	// leaseRounds bounds the unconfirmed rounds whose start the primary keeps.
	leaseRounds = 64
	// leaseStallTicks is how long an op may wait for a lease holder after
	// f backups acknowledged it before that holder's lease is not renewed.
	leaseStallTicks = 2
)

// leaseState is a replica's lease bookkeeping.
type leaseState struct {
	promise uint64 // tick count before which the replica helps form no later view

	// Primary.
	end    int64       // the primary's lease end
	rounds []roundTime // read rounds not yet confirmed, ascending
	// An op that f backups acknowledged but a lease holder did not:
	// gateOp, and the tick at which it was noticed (0: none).
	gateOp, gateTick uint64

	// Backup. Request ids are readings of the lease clock, made strictly
	// increasing (lastReq): never reused, not even by a later incarnation
	// of the replica. A grant queued for an earlier incarnation's request
	// (a peer's transport delivers it after the restart) must not match a
	// request sent since: the lease would be measured from the later send.
	lastReq uint64
	reqNext int // next slot of reqs
	reqs    [leaseRequests]leaseRequest
	held    int64  // the backup's lease end
	floor   uint64 // commit-number carried by its grants
	acked   uint64 // highest op acknowledged in this view
}

type roundTime struct {
	round uint64
	at    int64
}

type leaseRequest struct {
	id uint64
	at int64 // when it was sent (Config.Clock)
}

// leases reports whether this replica keeps promises (LeaseTicks set);
// leaseReads whether it also grants and holds leases for reads. A replica
// that serves no reads under a lease still promises: a primary that does
// may count on it, whatever this replica's configuration says.
func (r *Replica) leases() bool     { return r.cfg.LeaseTicks > 0 }
func (r *Replica) leaseReads() bool { return r.cfg.LeaseTicks > 0 && !r.cfg.NoLeaseReads }

// shrink turns a duration measured on one clock into one that is no longer
// in true time on any other (see above).
func (r *Replica) shrink(d int64) int64 {
	ppm := r.cfg.LeaseDriftPPM
	return int64(float64(d) * float64(1e6-ppm) / float64(1e6+ppm))
}

// bootPromise makes the promise a replica keeps when it starts: its own,
// or the longest an earlier incarnation was configured with (promised ns,
// Boot.Promised), whichever lasts longer. A primary counts on a promise of
// P ns for at most P/(1+ρ) of true time after it was made, which was before
// this start; B = ⌈P/TickNanos⌉+2 ticks of this incarnation last at least
// (B-2)·TickNanos/(1+ρ) ≥ P/(1+ρ) from the start, by the argument above.
func (r *Replica) bootPromise(promised int64) {
	r.promise()
	if promised > 0 && r.cfg.TickNanos > 0 {
		ticks := uint64((promised+r.cfg.TickNanos-1)/r.cfg.TickNanos) + 2
		r.lease.promise = max(r.lease.promise, r.tickCount+ticks)
	}
}

// promise renews this replica's promise (see above).
func (r *Replica) promise() {
	if r.leases() {
		r.lease.promise = max(r.lease.promise, r.tickCount+uint64(r.cfg.LeaseTicks))
	}
}

// promised reports whether a promise still keeps this replica from helping
// to form a later view: until it ends, unless every other replica has
// announced this view change (StartViewChange or DoViewChange of this
// view). A replica announces it only after it left its old view, and so
// after it published that it holds no lease (the driver publishes the
// lease before any message of a Ready leaves): then no replica reads under
// a lease of an earlier view, and no promise protects anything. This is
// what keeps a primary's restart quick: its new incarnation holds nothing,
// announces the view change, and the others follow at once.
func (r *Replica) promised() bool {
	if !r.leases() || r.tickCount >= r.lease.promise {
		return false
	}
	for i, ok := range r.svc {
		if !ok && ReplicaID(i) != r.id {
			return true
		}
	}
	return r.status != StatusViewChange
}

// resetLease drops every lease on entering a view (the promise stays).
func (r *Replica) resetLease() {
	p := r.lease.promise
	r.lease = leaseState{promise: p, rounds: r.lease.rounds[:0]}
}

// noteRound records when read round s started (the primary).
func (r *Replica) noteRound(s uint64) {
	if !r.leases() {
		return
	}
	r.promise()
	if len(r.lease.rounds) == leaseRounds {
		r.lease.rounds = append(r.lease.rounds[:0], r.lease.rounds[1:]...)
	}
	r.lease.rounds = append(r.lease.rounds, roundTime{round: s, at: r.cfg.Clock()})
}

// confirmLease extends the primary's lease by the latest confirmed round.
func (r *Replica) confirmLease() {
	if !r.leases() || len(r.lease.rounds) == 0 {
		return
	}
	cr := r.confirmedRound()
	k := 0
	for k < len(r.lease.rounds) && r.lease.rounds[k].round <= cr {
		k++
	}
	if k == 0 {
		return
	}
	t := r.lease.rounds[k-1].at
	r.lease.end = max(r.lease.end, t+r.shrink(r.promiseBound(r.lease.rounds[k-1].round)))
	r.lease.rounds = append(r.lease.rounds[:0], r.lease.rounds[k:]...)
}

// promiseBound is the promise length (ns) the lease of confirmed round s
// may count on: the shortest among the primary's and those of the backups
// that echoed s (any f of them form the quorum that promised). A backup
// reports its length with each acknowledgement; the shortest it reported
// in this view counts, so an acknowledgement of an earlier incarnation
// (a restart with other settings) cannot lengthen it.
func (r *Replica) promiseBound(s uint64) int64 {
	bound := r.cfg.PromiseNanos()
	for i := range r.prog {
		p := &r.prog[i]
		if ReplicaID(i) == r.id || p.ackRound < s {
			continue
		}
		if !p.promiseKnown {
			return 0
		}
		bound = min(bound, int64(min(p.promise, uint64(math.MaxInt64))))
	}
	return bound
}

// grantLease answers backup from's lease request req (the primary).
func (r *Replica) grantLease(from ReplicaID, req uint64) {
	if !r.leaseReads() || req == 0 {
		return
	}
	p := &r.prog[from]
	now := r.cfg.Clock()
	switch {
	case r.lease.end <= now || r.tickCount < p.barred:
		return
	case r.leaseStalled() && p.match < r.lease.gateOp:
		// It held an op back too long: commit without it for a while.
		p.barred = r.tickCount + uint64(4*r.cfg.LeaseTicks)
		return
	case p.match+uint64(r.cfg.MaxBatchOps) < r.commit:
		return // far behind: catching up first
	}
	end := min(now+int64(r.cfg.LeaseGrantTicks)*r.cfg.TickNanos, r.lease.end)
	p.grantEnd = max(p.grantEnd, end)
	p.grant = LeaseGrant{Req: req, Nanos: uint64(end - now)}
}

// leaseStalled reports whether an op has waited for a lease holder too long.
func (r *Replica) leaseStalled() bool {
	return r.lease.gateOp > r.commit && r.tickCount-r.lease.gateTick >= leaseStallTicks
}

// leaseGate lowers quorum commit-number q to what every backup holding a
// grant acknowledged (the primary), and notes an op held back.
func (r *Replica) leaseGate(q uint64) uint64 {
	if !r.leases() {
		return q
	}
	// The clock matters only for a holder behind q (commonly none: this
	// runs on every acknowledgement), so it is read only then.
	var now int64
	c := q
	for i := range r.prog {
		p := &r.prog[i]
		if ReplicaID(i) == r.id || p.grantEnd == 0 || p.match >= c {
			continue
		}
		if now == 0 {
			now = r.cfg.Clock()
		}
		if p.grantEnd > now {
			c = p.match
		}
	}
	switch {
	case c >= q:
		r.lease.gateOp = 0
	case r.lease.gateOp <= max(c, r.commit):
		r.lease.gateOp, r.lease.gateTick = q, r.tickCount
	}
	return c
}

// leaseRequest starts a lease request to go with an acknowledgement (a
// backup); the acknowledgement covers op.
func (r *Replica) leaseRequest(op uint64) uint64 {
	if !r.leaseReads() {
		return 0
	}
	r.lease.acked = max(r.lease.acked, op)
	at := r.cfg.Clock()
	id := max(uint64(max(at, 0)), r.lease.lastReq+1)
	r.lease.lastReq = id
	r.lease.reqs[r.lease.reqNext] = leaseRequest{id: id, at: at}
	r.lease.reqNext = (r.lease.reqNext + 1) % leaseRequests
	return id
}

// leaseGranted takes the primary's grant g, which came with commit-number
// commit (a backup).
func (r *Replica) leaseGranted(g LeaseGrant, commit uint64) {
	if !r.leaseReads() || g.Req == 0 {
		return
	}
	k := slices.IndexFunc(r.lease.reqs[:], func(q leaseRequest) bool { return q.id == g.Req })
	if k < 0 {
		return
	}
	q := r.lease.reqs[k]
	d := min(int64(g.Nanos), int64(r.cfg.LeaseGrantTicks)*r.cfg.TickNanos)
	r.lease.held = max(r.lease.held, q.at+r.shrink(d))
	r.lease.floor = max(r.lease.floor, commit)
}

// Lease returns the lease the replica holds now: the driver publishes it,
// before the messages of each Ready leave, to whatever serves reads.
func (r *Replica) Lease() Lease {
	if !r.leaseReads() || r.status != StatusNormal {
		return Lease{}
	}
	last := r.entries.lastOp()
	switch {
	case r.n == 1:
		return Lease{End: math.MaxInt64, Index: last}
	case r.isPrimary():
		return Lease{End: r.lease.end, Index: last}
	default:
		return Lease{End: r.lease.held, Index: max(last, r.lease.floor, r.lease.acked)}
	}
}
