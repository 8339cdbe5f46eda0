package consensus

// Quorum reads never enter the log. The primary records its op-number when a
// read arrives, confirms with one quorum round that it is still the primary of
// its view (read round: carried by Prepare and Commit, echoed by PrepareOk and
// CommitOk of the same view), and releases the read once that op is
// committed in the same view. One round serves every read registered before it
// was issued. A backup asks the primary for a read op-number and releases its
// reads once its own commit-number reaches it.
//
// A deposed primary never releases a read: it cannot collect f acks of its
// view from replicas that moved on, and its pending reads fall back to the
// backup path when its view ends. Because release waits for commit ≥ the
// recorded op in the recording view, inherited uncommitted ops are covered.
//
// A backup's ReadIndexRequest is itself one of the f confirmations its
// reads need. The requester sent it after those reads arrived (a read
// takes the sequence number of the next request), in the primary's view v
// (the request's view must be v). A write acknowledged before the reads
// arrived was committed in a view ≤ v, and is then in the primary's log, or
// in a later view, which needed f+1 replicas to have moved past v before
// then: not the primary (still in v when the request arrives) and not the
// requester (in v when it sent the request, later). So with f = 1 the
// primary answers a backup at once, once its recorded op is committed, and
// with f > 1 it needs f-1 acks of a round from the other backups. This
// halves the messages of a backup's read: request and answer.

// primaryRead is a read waiting at the primary.
type primaryRead struct {
	from  ReplicaID // requester; the primary itself for a local read
	id    ReadID    // local read
	seq   uint64    // backup's request sequence number
	sess  uint64    // backup's read session
	op    uint64    // primary's op-number when the read arrived
	round uint64    // read round that confirms it
	// requested: a backup's request of the primary's view, which confirms
	// the view for its reads on the requester's behalf (see above).
	requested bool
}

// backupRead is a read waiting at a backup (or any replica not primary).
type backupRead struct {
	id    ReadID
	seq   uint64 // request that carries it now; 0: to be requested (again)
	first uint64 // first request that carried it (0: none yet)
	op    uint64 // read op-number from the primary (valid when hasOp)
	hasOp bool
}

// Read registers a linearizable read. Once it may be served the replica hands
// back ReadState{ID: id, Op} in a Ready; the driver serves it after applying
// the committed entries of that Ready, and the host once it applied Op (a
// read served under a lease may name an op not yet committed). A read that never comes back (lost
// primary) is the driver's to time out.
func (r *Replica) Read(id ReadID) error {
	r.guard("Read")
	if r.leaseReads() {
		if l := r.Lease(); l.Valid(r.cfg.Clock()) {
			// Served locally once l.Index is applied (lease.go).
			r.readStates = append(r.readStates, ReadState{ID: id, Op: l.Index})
			return nil
		}
	}
	if len(r.preads)+len(r.breads) >= r.cfg.MaxPendingReads {
		return ErrReadDropped
	}
	if r.status == StatusNormal && r.isPrimary() {
		r.preads = append(r.preads, primaryRead{from: r.id, id: id, op: r.entries.lastOp(), round: r.readRound + 1})
		r.roundDue = true
		return nil
	}
	r.breads = append(r.breads, backupRead{id: id})
	return nil
}

func (r *Replica) onReadIndexRequest(from ReplicaID, m *ReadIndexRequest) {
	if r.status != StatusNormal || !r.isPrimary() || len(r.preads)+len(r.breads) >= r.cfg.MaxPendingReads {
		return
	}
	p := primaryRead{from: from, seq: m.Seq, sess: m.Session, op: r.entries.lastOp(), round: r.readRound + 1,
		requested: m.View == r.view}
	r.preads = append(r.preads, p)
	if !p.requested || r.f > 1 {
		r.roundDue = true
	}
	r.releaseReads()
}

func (r *Replica) onReadIndexResponse(m *ReadIndexResponse) {
	if m.Session != r.readSession {
		return
	}
	// The answer to request Seq serves every read registered before that
	// request left, whatever request carries it now: one asked again (its
	// answer was slow to come) must not starve while answers to its
	// earlier requests arrive.
	for i := range r.breads {
		b := &r.breads[i]
		if b.first != 0 && b.first <= m.Seq && !b.hasOp {
			b.op, b.hasOp = m.Op, true
		}
	}
	r.releaseReads()
}

// confirmedRound is the highest read round acknowledged by f backups of the
// current view.
func (r *Replica) confirmedRound() uint64 {
	if r.f == 0 {
		return r.readRound
	}
	var buf [64]uint64
	rs := buf[:0]
	for i := range r.prog {
		if ReplicaID(i) != r.id {
			rs = append(rs, r.prog[i].ackRound)
		}
	}
	// f-th largest.
	for k := 0; k < r.f; k++ {
		m := k
		for j := k + 1; j < len(rs); j++ {
			if rs[j] > rs[m] {
				m = j
			}
		}
		rs[k], rs[m] = rs[m], rs[k]
	}
	return rs[r.f-1]
}

// confirmedFor reports whether read p is confirmed: the round that covers
// it was acknowledged by f backups, or p is a backup's request of this
// view and f-1 backups besides the requester acknowledged the round.
func (r *Replica) confirmedFor(p *primaryRead, cr uint64) bool {
	if p.round <= cr {
		return true
	}
	if !p.requested {
		return false
	}
	if r.f == 1 {
		return true
	}
	acks := 0
	for i := range r.prog {
		if id := ReplicaID(i); id != r.id && id != p.from && r.prog[i].ackRound >= p.round {
			acks++
		}
	}
	return acks >= r.f-1
}

// releaseReads hands out every read that may now be served. A backup's
// reads may be released before the primary's own that came earlier (they
// need no round); each backup gets one answer, for its latest request
// released.
func (r *Replica) releaseReads() {
	if len(r.preads) > 0 && r.status == StatusNormal && r.isPrimary() {
		cr := r.confirmedRound()
		k := 0
		var answer primaryRead // a backup's answer not yet sent (from != r.id)
		answer.from = r.id
		for i := range r.preads {
			p := r.preads[i]
			if p.op > r.commit || !r.confirmedFor(&p, cr) {
				r.preads[k] = p
				k++
				continue
			}
			if p.from == r.id {
				r.readStates = append(r.readStates, ReadState{ID: p.id, Op: p.op})
				continue
			}
			if answer.from != r.id && (answer.from != p.from || answer.sess != p.sess) {
				r.answerRead(&answer)
			}
			answer = p
		}
		if answer.from != r.id {
			r.answerRead(&answer)
		}
		clear(r.preads[k:])
		r.preads = r.preads[:k]
	}
	k := 0
	for k < len(r.breads) && r.breads[k].hasOp && r.breads[k].op <= r.commit {
		r.readStates = append(r.readStates, ReadState{ID: r.breads[k].id, Op: r.breads[k].op})
		k++
	}
	r.breads = dropFront(r.breads, k)
}

// answerRead sends a backup the read op-number of its requests up to p's.
func (r *Replica) answerRead(p *primaryRead) {
	r.send(p.from, &ReadIndexResponse{Header: r.hdr(), Session: p.sess, Seq: p.seq, Op: p.op})
}

func dropFront[T any](s []T, k int) []T {
	if k == 0 {
		return s
	}
	if k == len(s) {
		return s[:0]
	}
	return append(s[:0], s[k:]...)
}

// requestReadIndex asks the primary for a read op-number covering every read
// not yet requested.
func (r *Replica) requestReadIndex() {
	due := false
	for i := range r.breads {
		if r.breads[i].seq == 0 && !r.breads[i].hasOp {
			due = true
			break
		}
	}
	if !due {
		return
	}
	r.readSeq++
	for i := range r.breads {
		if r.breads[i].seq == 0 {
			r.breads[i].seq = r.readSeq
			if r.breads[i].first == 0 {
				r.breads[i].first = r.readSeq
			}
		}
	}
	r.readWaiting = 0
	r.send(r.primaryOf(r.view), &ReadIndexRequest{Header: r.hdr(), Session: r.readSession, Seq: r.readSeq})
}

// tickReads re-requests read op-numbers whose answer was lost.
func (r *Replica) tickReads() {
	r.readWaiting++
	if r.readWaiting >= max(3*r.cfg.HeartbeatTicks, r.cfg.ViewChangeTicks/2) {
		r.resetBackupReadRequests()
	}
}

// resetBackupReadRequests marks unanswered backup reads as not yet requested,
// so the next flush asks the current primary again.
func (r *Replica) resetBackupReadRequests() {
	r.readWaiting = 0
	for i := range r.breads {
		if !r.breads[i].hasOp {
			r.breads[i].seq = 0
		}
	}
}

// demotePrimaryReads: a primary leaving its view turns its own waiting reads
// into backup reads (to be confirmed by the next primary) and forgets the
// backups' requests (they ask again).
func (r *Replica) demotePrimaryReads() {
	var local []backupRead
	for _, p := range r.preads {
		if p.from == r.id {
			local = append(local, backupRead{id: p.id})
		}
	}
	r.preads = r.preads[:0]
	r.roundDue = false
	r.breads = append(r.breads, local...)
}

// adoptBackupReads: a new primary registers its waiting unanswered reads as
// primary reads of its view.
func (r *Replica) adoptBackupReads() {
	k := 0
	for _, b := range r.breads {
		if b.hasOp {
			r.breads[k] = b
			k++
			continue
		}
		r.preads = append(r.preads, primaryRead{from: r.id, id: b.id, op: r.entries.lastOp(), round: r.readRound + 1})
		r.roundDue = true
	}
	r.breads = r.breads[:k]
}
