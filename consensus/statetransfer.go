package consensus

// onGetState: the primary answers with its log after the requester's
// commit-number, or with its snapshot plus log when that part was collected.
func (r *Replica) onGetState(from ReplicaID, m *GetState) {
	if r.status != StatusNormal || !r.isPrimary() || m.View > r.view {
		return
	}
	r.sendNewState(from, m.Op, m.View == r.view && m.LastNormalView == r.view)
}

// sendNewState sends the log after op after (or the snapshot and the log
// after it), in parts (parts.go). bounded: the receiver is normal in this
// view, so a prefix of what it lacks will do: the first part, of at most
// MaxStateOps entries (Prepares bring the rest). Otherwise the receiver
// joins the view with it and needs it whole: every part, which it installs
// only once it holds them all.
func (r *Replica) sendNewState(to ReplicaID, after uint64, bounded bool) {
	last := r.entries.lastOp()
	after = min(after, last)
	var snap *Snapshot
	switch {
	case after < r.entries.start:
		if r.snap == nil || r.snap.Op < r.entries.start {
			panic("consensus: invariant snapshot-covers-log: log compacted without a snapshot")
		}
		snap, after = r.snap, r.snap.Op
	case r.snap != nil && after < r.snap.Op && last-after > uint64(r.cfg.MaxStateOps):
		// Far behind: the snapshot (fetched apart, in chunks) and the log
		// after it beat a long run of entries in one message.
		snap, after = r.snap, r.snap.Op
	}
	av, _ := r.entries.viewAt(after)
	m := &NewState{Header: r.hdr(), Snapshot: snap, Op: last, Commit: r.commit, GlobalMinAccept: r.gma,
		After: after, AfterView: av, Entries: r.entries.slice(after+1, last)}
	if bounded {
		r.send(to, r.suffixParts(m, r.cfg.MaxStateOps)[0])
		return
	}
	r.sendSuffix(to, m, false)
}

// onNewState installs the primary's state. In the view the replica is
// already normal in, it only extends its log (never drops ops it may have
// acknowledged); otherwise it splices the primary's log after its own
// committed prefix and becomes a backup of that view.
func (r *Replica) onNewState(from ReplicaID, m *NewState) {
	if r.status == StatusRecovering || m.View < r.view || from != r.primaryOf(m.View) || from == r.id {
		return
	}
	if m.View == r.view && r.status == StatusNormal {
		// Any part will do here: its entries follow the op before its first
		// (pa), and the log only grows with those that follow the local log.
		r.primaryHeard()
		pa := m.After
		if len(m.Entries) > 0 {
			pa = m.Entries[0].Op - 1
		}
		switch {
		case m.Snapshot != nil && m.Snapshot.Op > r.entries.lastOp() && pa == m.After:
			r.installSnapshot(m.Snapshot)
			r.appendEntries(m.Entries)
		case m.Snapshot != nil && m.Snapshot.Op > r.entries.lastOp():
			// A later part of a state that starts with a snapshot we lack.
		default:
			r.appendFromPrimary(pa, m.Entries)
		}
		r.advanceCommit(m.Commit, m.GlobalMinAccept)
		r.ackPending = true
		r.ackGap = r.ackGap || m.Op > r.entries.lastOp()
		return
	}
	if m.View > r.view {
		r.enterView(m.View)
	}
	if m.After+uint64(len(m.Entries)) < m.Op {
		// A bounded answer cannot make us a member of the view (we would
		// claim last-normal-view = View without the whole log): ask again.
		r.awaitingState = false
		r.learnView(m.View)
		return
	}
	switch {
	case m.Snapshot != nil && m.Snapshot.Op > r.commit:
		r.installSnapshot(m.Snapshot)
		r.appendEntries(m.Entries)
	case r.canSplice(m.After, m.AfterView):
		r.replaceSuffix(m.After, m.Entries)
	default:
		r.awaitingState = false
		r.learnView(m.View) // ask again from the current commit-number
		return
	}
	r.becomeBackup(m.Commit, m.GlobalMinAccept)
}
