package consensus

// Ready is the replica's output since the last Advance. The driver handles it
// in this order (the persistence contract):
//
//  1. Send Messages (they depend on nothing unpersisted; may overlap step 2).
//  2. Persist, in this order, each durable before the next is:
//     a. Snapshot (if non-nil): install it into the state machine and store
//     it; the whole stored log is superseded by it.
//     b. The log: if LogFrom != 0, drop every stored entry with op ≥ LogFrom,
//     then append Entries (which start at LogFrom, or are empty when the
//     log only shrank).
//     c. HardState (if non-nil), atomically.
//     One fsync may cover a, b and c when the storage guarantees that c never
//     becomes durable without b (for example one append-only file); with
//     separate files fsync the log before writing the hard state. MustSync
//     says whether a sync is required at all (a changed Commit or
//     GlobalMinAccept alone needs none).
//  3. Send MessagesAfterPersist.
//  4. Apply Committed in order (exactly once; op-numbers are consecutive),
//     then serve Reads (each at or after its Op).
//  5. Optionally drop stored entries with op ≤ CompactTo (a durable snapshot
//     covers them).
//  6. Call Advance(rd). No other method may be called between Ready and Advance.
//
// Pipelining. A Ready with Pipeline set persists nothing but log entries
// appended after every op handed to storage before, and a commit bound
// (no snapshot, no rewrite, no replica state that must be synced). The
// driver may then issue its log write, send Messages, and call
// AdvanceWritten at once, before the write is durable; it holds back
// MessagesAfterPersist and Committed until that write and every earlier
// one is durable (Committed: until its entries are), in order with the
// Readies before and after, and reports durability with Synced. Reads
// depend on nothing persisted and may be served at once. The replica
// counts its own log as durable only through what Synced reported, so the
// primary's own vote, the acknowledgements it sends at once (CommitOk) and
// log compaction wait for the disk, while its loop goes on taking input,
// forwarding, preparing and applying during the sync. A Ready without
// Pipeline must wait for every earlier write too before its second half.
type Ready struct {
	SoftState *SoftState // non-nil when view, status or primary changed
	HardState *HardState // non-nil when the durable state changed
	Snapshot  *Snapshot  // snapshot received from a peer, to install before the log

	LogFrom uint64  // 0: log unchanged; else stored entries ≥ LogFrom are replaced by Entries
	Entries []Entry // entries to store, starting at LogFrom

	CompactTo uint64 // stored entries ≤ CompactTo may be dropped (0: none)
	MustSync  bool   // persistence must be synced before step 3
	Pipeline  bool   // persistence is only appended log entries: see Pipelining above

	Messages             []Envelope // send now
	MessagesAfterPersist []Envelope // send after step 2
	Committed            []Entry    // apply in order
	Reads                []ReadState
}

// HasReady reports whether Ready would return anything.
func (r *Replica) HasReady() bool {
	r.guard("HasReady")
	r.flush()
	return len(r.msgs) > 0 || len(r.msgsAfter) > 0 || r.dirtyFrom != 0 || r.pendingSnap != nil ||
		r.hardState() != r.hard || r.softState() != r.prevSoft || r.commit > r.applied ||
		len(r.readStates) > 0 || r.compactTo > r.compactDone
}

func (r *Replica) flush() {
	if r.status != StatusNormal {
		return
	}
	if r.isPrimary() {
		r.flushPrimary()
	} else {
		r.flushBackup()
	}
}

// Ready returns the pending output; the driver must call Advance with it.
func (r *Replica) Ready() Ready {
	r.guard("Ready")
	r.flush()
	var rd Ready
	if ss := r.softState(); ss != r.prevSoft {
		rd.SoftState = &ss
	}
	hardSync := false
	if hs := r.hardState(); hs != r.hard {
		rd.HardState = &hs
		c := r.hard
		c.Commit, c.GlobalMinAccept = hs.Commit, hs.GlobalMinAccept
		hardSync = c != hs
		rd.MustSync = hardSync
	}
	// Only appends after everything written, in normal operation: a
	// rewrite, a snapshot or a durable view change is never overtaken.
	rd.Pipeline = r.status == StatusNormal && !hardSync && r.pendingSnap == nil &&
		(r.dirtyFrom == 0 || r.dirtyFrom > r.writtenOp)
	if r.pendingSnap != nil {
		rd.Snapshot = r.pendingSnap
		rd.MustSync = true
	}
	if r.dirtyFrom != 0 {
		rd.LogFrom = r.dirtyFrom
		if lo, last := max(r.dirtyFrom, r.entries.start+1), r.entries.lastOp(); lo <= last {
			rd.Entries = r.entries.slice(lo, last)
			rd.LogFrom = lo
		}
		rd.MustSync = true
	}
	if r.compactTo > r.compactDone {
		rd.CompactTo = r.compactTo
	}
	rd.Messages, rd.MessagesAfterPersist = r.msgs, r.msgsAfter
	r.msgs, r.msgsAfter = nil, nil
	if r.commit > r.applied {
		hi := min(r.commit, r.applied+uint64(r.cfg.MaxCommittedPerReady))
		rd.Committed = r.entries.slice(r.applied+1, hi)
	}
	rd.Reads = r.readStates
	r.readStates = nil
	r.inReady = true
	return rd
}

// Advance tells the replica that rd was handled per the contract on Ready.
func (r *Replica) Advance(rd Ready) {
	r.takeReady(rd, "Advance")
	if rd.HardState != nil {
		r.persistedView = rd.HardState.View
	}
	if rd.Snapshot != nil {
		r.pendingSnap = nil
	}
	r.stableOp = r.entries.lastOp()
	r.writtenOp = r.stableOp
	for i := range rd.MessagesAfterPersist {
		checkVouch(rd.MessagesAfterPersist[i].Msg, r.hard, r.stableOp)
	}
	r.advanced(rd)
}

// AdvanceWritten tells the replica that rd, a Ready with Pipeline set, was
// handled as far as a pipelined Ready is before its sync (see Pipelining on
// Ready): its log write is issued, not yet durable. The replica takes
// input again at once; Synced later tells it what became durable.
func (r *Replica) AdvanceWritten(rd Ready) {
	if !rd.Pipeline {
		panic("consensus: invariant pipeline-only-appends: AdvanceWritten of a Ready without Pipeline")
	}
	r.takeReady(rd, "AdvanceWritten") // its hard state changed only its commit bounds
	r.writtenOp = r.entries.lastOp()
	// The driver sends these once everything written so far is durable.
	for i := range rd.MessagesAfterPersist {
		checkVouch(rd.MessagesAfterPersist[i].Msg, r.hard, r.writtenOp)
	}
	r.advanced(rd)
}

// takeReady is the bookkeeping Advance and AdvanceWritten share: rd's
// soft and hard state are now the ones handed out, its log changes issued.
func (r *Replica) takeReady(rd Ready, caller string) {
	if !r.inReady {
		panic("consensus: invariant ready-advance: " + caller + " without Ready")
	}
	r.inReady = false
	if rd.SoftState != nil {
		r.prevSoft = *rd.SoftState
	}
	if rd.HardState != nil {
		r.hard = *rd.HardState
	}
	r.dirtyFrom = 0
}

// Synced tells the replica that its log is durable through op, as written
// by the Readies handled so far (ops rewritten since are not covered).
func (r *Replica) Synced(op uint64) {
	r.guard("Synced")
	op = min(op, r.writtenOp)
	if r.dirtyFrom != 0 {
		op = min(op, r.dirtyFrom-1)
	}
	if op <= r.stableOp {
		return
	}
	r.stableOp = op
	if r.status == StatusNormal && r.isPrimary() {
		r.maybeCommit() // the primary's own vote
	} else {
		r.maybeCompact()
	}
}

// advanced is the part of Advance and AdvanceWritten that follows the
// persistence bookkeeping.
func (r *Replica) advanced(rd Ready) {
	if n := len(rd.Committed); n > 0 {
		r.applied = rd.Committed[n-1].Op
	}
	if rd.CompactTo > r.compactDone {
		r.compactDone = rd.CompactTo
	}
	switch {
	case r.status == StatusNormal && r.isPrimary():
		r.maybeCommit()
	case r.status == StatusViewChange:
		r.maybeBecomePrimary()
	}
	r.maybeCompact()
}
