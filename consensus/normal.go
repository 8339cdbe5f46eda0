package consensus

import "slices"

// onPrepare: a backup appends the primary's batch if it holds every earlier op.
func (r *Replica) onPrepare(from ReplicaID, m *Prepare) {
	if !r.fromCurrentPrimary(from, m.View) {
		return
	}
	r.primaryHeard()
	r.promise()
	r.appendFromPrimary(m.After, m.Entries)
	r.advanceCommit(m.Commit, m.GlobalMinAccept)
	r.leaseGranted(m.Lease, m.Commit)
	r.seenRound = max(r.seenRound, m.ReadRound)
	r.ackPending = true
}

// onCommit: the primary's heartbeat, answered with the durable op: at once
// if being normal in this view is already durable (the common case, which
// keeps read rounds off the disk's latency), else by the PrepareOk that
// follows the Ready making it durable (the view was installed in this same
// batch). That acknowledgement is built when the Ready is, so a view change
// later in the batch cancels it: an ack of a view must never leave after the
// replica durably moved past that view.
func (r *Replica) onCommit(from ReplicaID, m *Commit) {
	if !r.fromCurrentPrimary(from, m.View) {
		return
	}
	r.primaryHeard()
	r.promise()
	r.advanceCommit(m.Commit, m.GlobalMinAccept)
	r.leaseGranted(m.Lease, m.Commit)
	r.seenRound = max(r.seenRound, m.ReadRound)
	if r.hard.View == r.view && r.hard.LastNormalView == r.view {
		r.send(from, &CommitOk{Header: r.hdr(), Op: r.stableOp, Commit: r.commit, ReadRound: r.seenRound,
			LeaseReq: r.leaseRequest(r.stableOp), Promise: uint64(r.cfg.PromiseNanos())})
	} else {
		r.ackPending = true
	}
}

// fromCurrentPrimary filters normal-operation messages of the primary of
// view v. A message of a view the replica is not normal in makes it fetch that
// view's state first (it must not accept ops onto a log of another view).
func (r *Replica) fromCurrentPrimary(from ReplicaID, v uint64) bool {
	if r.status == StatusRecovering || v < r.view || from != r.primaryOf(v) || r.primaryOf(v) == r.id {
		return false
	}
	if v > r.view || r.status != StatusNormal {
		r.learnView(v)
		return false
	}
	return true
}

// learnView moves to view v, which is already established, and asks its
// primary for the log instead of voting in it.
func (r *Replica) learnView(v uint64) {
	if v > r.view {
		r.enterView(v)
	}
	if r.awaitingState {
		return // a GetState is outstanding; the heartbeat repeats it
	}
	r.awaitingState = true
	r.sendAfterPersist(r.primaryOf(v), &GetState{Header: r.hdr(), Op: r.commit, LastNormalView: r.lastNormalView})
}

// appendFromPrimary appends the entries after the local last op. Within one
// view the local log is a prefix of the primary's, so overlapping entries are
// identical; a peer violating that is reported and ignored.
func (r *Replica) appendFromPrimary(after uint64, es []Entry) {
	last := r.entries.lastOp()
	if after > last {
		r.ackGap = true
		return
	}
	for i := range es {
		op := es[i].Op
		if op > last {
			r.appendEntries(es[i:])
			return
		}
		if v, ok := r.entries.viewAt(op); ok && op > r.entries.start && v != es[i].View {
			r.log.Warn(InvariantViolated+": log-prefix: primary sent an entry that differs from ours", "view", r.view, "op", op, "ours", v, "theirs", es[i].View)
			return
		}
	}
}

// onAck handles PrepareOk and CommitOk at the primary.
func (r *Replica) onAck(from ReplicaID, v, op, round, leaseReq, promise uint64, gap bool) {
	if r.status != StatusNormal || !r.isPrimary() || v != r.view {
		return
	}
	last := r.entries.lastOp()
	if op > last {
		r.log.Warn(InvariantViolated+": log-prefix: backup acknowledged an op beyond our log", "from", from, "op", op, "last", last, "view", v)
		return
	}
	p := &r.prog[from]
	p.heard = true
	if r.seeded && !p.joined {
		p.joined = true
		r.maybeEndSeed()
	}
	if op > p.match {
		p.match = op
		p.stall = 0
		p.probing = false
	}
	if gap {
		if p.next > op+1 {
			p.next = op + 1
		}
		p.probing = true
	}
	if p.next <= p.match {
		p.next = p.match + 1
	}
	p.ackRound = max(p.ackRound, round)
	if !p.promiseKnown || promise < p.promise {
		p.promise, p.promiseKnown = promise, true
	}
	r.confirmLease()
	r.grantLease(from, leaseReq)
	r.maybeCommit()
	r.releaseReads()
}

// maybeCommit advances commit to the highest op durable on f+1 replicas (the
// primary's own entry counts only once it is durable) and global_min_accept
// to the lowest op durable on all.
func (r *Replica) maybeCommit() {
	r.prog[r.id].match = r.stableOp
	if r.hard.Seeded {
		// A seeded primary commits nothing until f backups joined it and
		// the end of the seed is durable: until then a restart makes it
		// lead a later view from its own durable log alone, which must not
		// drop anything committed.
		return
	}
	var buf [64]uint64
	ms := buf[:0]
	for i := range r.prog {
		ms = append(ms, r.prog[i].match)
	}
	slices.Sort(ms)
	if c := r.leaseGate(ms[len(ms)-1-r.f]); c > r.commit {
		r.commit = c
	}
	if g := min(ms[0], r.commit); g > r.gma {
		r.gma = g
	}
	r.maybeCompact()
	r.releaseReads()
}

// maybeEndSeed clears the seed once f backups acknowledged this view: from
// then on the ordinary quorum rules hold (the flag's end is persisted
// before anything commits).
func (r *Replica) maybeEndSeed() {
	joined := 0
	for i := range r.prog {
		if r.prog[i].joined && ReplicaID(i) != r.id {
			joined++
		}
	}
	if joined >= r.f {
		r.seeded = false
		r.log.Info("seed complete: enough servers joined", "view", r.view, "joined", joined)
	}
}

// becomePrimary starts normal operation as the primary of the current view.
func (r *Replica) becomePrimary() {
	r.status = StatusNormal
	r.lastNormalView = r.view
	r.awaitingState = false
	last := r.entries.lastOp()
	for i := range r.prog {
		r.prog[i] = progress{next: last + 1}
	}
	r.hbTicks, r.qcTicks = 0, 0
	r.log.Info("became primary", "view", r.view, "op", last, "commit", r.commit)
	r.dropAssemblies(kindDoViewChange, r.view+1)
	sv := r.suffixParts(r.startViewMessage(), 0)
	for i := 0; i < r.n; i++ {
		if ReplicaID(i) != r.id {
			r.sendParts(ReplicaID(i), sv, true)
		}
	}
	r.adoptBackupReads()
	r.maybeCommit()
}

// flushPrimary prepares queued proposals in one batch and sends Prepares,
// read rounds and commit notifications.
func (r *Replica) flushPrimary() {
	room := r.cfg.MaxUncommittedOps - int(r.entries.lastOp()-r.commit)
	if k := min(room, len(r.props)); k > 0 {
		es := make([]Entry, k)
		op := r.entries.lastOp()
		for i := range es {
			op++
			cmd := r.props[i]
			r.propBytes -= len(cmd)
			if r.cfg.Stamp != nil {
				cmd = r.cfg.Stamp(cmd)
			}
			es[i] = Entry{Op: op, View: r.view, Cmd: cmd}
		}
		r.popProps(k)
		r.appendEntries(es)
	}
	round := r.roundDue
	if round {
		r.readRound++
		r.roundDue = false
		r.noteRound(r.readRound)
	}
	for i := range r.prog {
		to := ReplicaID(i)
		if to == r.id {
			continue
		}
		// (A grant waits for the next message: sent alone, it would be
		// answered by a new request at once, and that by a new grant.)
		if !r.sendEntries(to) && (round || r.prog[i].commitSent < r.commit) {
			r.sendCommit(to)
		}
	}
	if r.n == 1 {
		r.maybeCommit()
	}
	r.releaseReads()
}

func (r *Replica) popProps(k int) {
	if k == len(r.props) {
		r.props = nil
		return
	}
	clear(r.props[:k])
	r.props = r.props[k:]
}

func (r *Replica) sendCommit(to ReplicaID) {
	p := &r.prog[to]
	p.sent = true
	p.commitSent = r.commit
	r.send(to, &Commit{Header: r.hdr(), Commit: r.commit, GlobalMinAccept: r.gma, ReadRound: r.readRound, Lease: p.grant})
	p.grant = LeaseGrant{}
}

// sendEntries sends the ops a backup has not been sent yet, in batches, while
// the pipeline allows; it reports whether it sent anything.
func (r *Replica) sendEntries(to ReplicaID) bool {
	p := &r.prog[to]
	last := r.entries.lastOp()
	if p.next <= r.entries.start {
		// The backup needs ops that were garbage collected: ship the snapshot.
		r.sendNewState(to, p.next-1, true)
		p.next = last + 1
		p.probing = true
		p.sent = true
		p.commitSent = r.commit
		return true
	}
	sent := false
	for p.next <= last {
		if p.probing && p.next-1 > p.match {
			break
		}
		if p.next-1-p.match >= uint64(r.cfg.MaxUncommittedOps) || r.inflightBytes(p) >= uint64(r.cfg.MaxInflightBytes) {
			break
		}
		hi := r.batchEnd(p.next, last)
		r.send(to, &Prepare{Header: r.hdr(), After: p.next - 1, Entries: r.entries.slice(p.next, hi),
			Commit: r.commit, GlobalMinAccept: r.gma, ReadRound: r.readRound, Lease: p.grant})
		p.grant = LeaseGrant{}
		p.next = hi + 1
		p.sent = true
		p.commitSent = r.commit
		sent = true
	}
	return sent
}

// inflightBytes returns the command bytes sent to a backup and not yet
// acknowledged (ops match+1 .. next-1).
func (r *Replica) inflightBytes(p *progress) uint64 {
	hi := p.next - 1
	if hi <= p.match || hi <= r.entries.start {
		return 0
	}
	return r.entries.bytesThrough(hi) - r.entries.bytesThrough(max(p.match, r.entries.start))
}

// batchEnd returns the last op of a batch starting at lo, bounded by ops and bytes.
func (r *Replica) batchEnd(lo, last uint64) uint64 {
	hi := min(last, lo+uint64(r.cfg.MaxBatchOps)-1)
	bytes := 0
	for op := lo; op <= hi; op++ {
		bytes += len(r.entries.entries[op-r.entries.start-1].Cmd)
		if bytes > r.cfg.MaxBatchBytes && op > lo {
			return op - 1
		}
	}
	return hi
}

// flushBackup sends the owed acknowledgement, forwards proposals and asks for
// read op-numbers.
func (r *Replica) flushBackup() {
	p := r.primaryOf(r.view)
	if r.ackPending {
		last := r.entries.lastOp()
		r.sendAfterPersist(p, &PrepareOk{Header: r.hdr(), Op: last, Gap: r.ackGap, ReadRound: r.seenRound,
			LeaseReq: r.leaseRequest(last), Promise: uint64(r.cfg.PromiseNanos())})
		r.ackPending, r.ackGap = false, false
	}
	for len(r.props) > 0 {
		k, bytes := 0, 0
		for k < len(r.props) && k < r.cfg.MaxBatchOps && (k == 0 || bytes+len(r.props[k]) <= r.cfg.MaxBatchBytes) {
			bytes += len(r.props[k])
			k++
		}
		r.send(p, &Forward{Header: r.hdr(), Cmds: r.props[:k:k]})
		r.propBytes -= bytes
		if k == len(r.props) {
			r.props = nil
		} else {
			r.props = r.props[k:]
		}
	}
	r.requestReadIndex()
}

// onForward: the primary queues commands forwarded by a backup; overflow is
// dropped (the driver retries).
func (r *Replica) onForward(m *Forward) {
	if r.status != StatusNormal || !r.isPrimary() {
		return
	}
	for _, c := range m.Cmds {
		if len(c) > r.cfg.MaxCommandBytes || len(r.props) >= r.cfg.MaxQueuedProposals || r.propBytes+len(c) > r.cfg.MaxQueuedBytes {
			return
		}
		r.props = append(r.props, c)
		r.propBytes += len(c)
	}
}
