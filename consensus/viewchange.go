package consensus

import "slices"

// enterView moves to view v (> current) in StatusViewChange and resets every
// per-view state. The new view reaches HardState in the next Ready; messages
// revealing it go out only after that persistence.
func (r *Replica) enterView(v uint64) {
	if v <= r.view {
		panic("consensus: invariant view-monotonic: enterView to a view not above the current one")
	}
	wasPrimary := r.status == StatusNormal && r.isPrimary()
	r.view = v
	r.status = StatusViewChange
	r.awaitingState = false
	clear(r.svc)
	clear(r.dvc)
	for k := range r.asm {
		if suffixKind(k) != kindRecoveryResponse {
			r.dropAssemblies(suffixKind(k), v)
		}
	}
	r.dvcSent, r.dvcWait = false, 0
	r.ackPending, r.ackGap = false, false
	r.heardPrimary = false
	r.seenRound = 0
	r.idleTicks, r.hbTicks = 0, 0
	r.clearPreVote()
	r.resetElectionTimeout()
	if wasPrimary {
		r.demotePrimaryReads()
	}
	r.resetLease()
	r.dropStaleAcks(v)
	r.resetBackupReadRequests()
}

// dropStaleAcks drops the acknowledgements of views before v that have not
// left yet: built while the replica was normal in its old view, they would
// leave after it moved on in memory, and the log they vouch for may already
// be rewritten there (the rewrite not yet durable). Dropping an
// acknowledgement costs at most a retransmission.
func (r *Replica) dropStaleAcks(v uint64) {
	stale := func(e Envelope) bool {
		switch m := e.Msg.(type) {
		case *CommitOk:
			return m.View < v
		case *PrepareOk:
			return m.View < v
		}
		return false
	}
	r.msgs = slices.DeleteFunc(r.msgs, stale)
	r.msgsAfter = slices.DeleteFunc(r.msgsAfter, stale)
}

// startViewChange begins a view change to v (timeout, or a peer's
// StartViewChange/DoViewChange for a later view).
func (r *Replica) startViewChange(v uint64) {
	r.log.Info("starting view change", "view", v)
	r.enterView(v)
	r.broadcast(&StartViewChange{Header: r.hdr()})
	r.maybeSendDoViewChange()
}

func (r *Replica) onStartViewChange(from ReplicaID, m *StartViewChange) {
	if r.status == StatusRecovering || m.View < r.view {
		return
	}
	if m.View > r.view {
		r.startViewChange(m.View)
	}
	switch {
	case r.status == StatusViewChange && !r.awaitingState:
		r.svc[from] = true
		r.maybeSendDoViewChange()
	case r.status == StatusNormal && r.isPrimary():
		// The sender missed our StartView.
		r.sendStartView(from)
	}
}

// maybeSendDoViewChange sends the DoViewChange once f other replicas announced
// the view change. The new primary counts itself in maybeBecomePrimary.
func (r *Replica) maybeSendDoViewChange() {
	if r.status != StatusViewChange || r.awaitingState || r.dvcSent {
		return
	}
	votes := 0
	for i, ok := range r.svc {
		if ok && ReplicaID(i) != r.id {
			votes++
		}
	}
	if votes < r.f || r.promised() {
		return
	}
	r.dvcSent = true
	if r.isPrimary() {
		r.maybeBecomePrimary()
		return
	}
	r.sendDoViewChange()
}

// dvcResendBytes is how many command bytes of DoViewChange a replica sends
// per heartbeat, on average, while it repeats one: a suffix of tens of MB
// (a backup that lagged held the log back) repeated whole every heartbeat
// would fill the peer link and burn CPU for nothing, and delay the view
// change it serves.
const dvcResendBytes = 4 << 20

// sendDoViewChange sends the DoViewChange to the new view's primary, in
// parts, and sets how many heartbeats pass before it is sent again: one per
// dvcResendBytes of its entries, but never so many that it is not repeated
// at least twice within a view-change timeout.
func (r *Replica) sendDoViewChange() {
	m := r.buildDoViewChange()
	r.sendSuffix(r.primaryOf(r.view), m, true)
	most := max(0, r.cfg.ViewChangeTicks/(2*r.cfg.HeartbeatTicks)-1)
	r.dvcWait = min(int(cmdBytes(m.Entries)/dvcResendBytes), most)
}

func (r *Replica) buildDoViewChange() *DoViewChange {
	last := r.entries.lastOp()
	after := min(max(r.gma, r.entries.start), last)
	av, _ := r.entries.viewAt(after)
	return &DoViewChange{Header: r.hdr(), LastNormalView: r.lastNormalView, Op: last, Commit: r.commit,
		GlobalMinAccept: r.gma, After: after, AfterView: av, Entries: r.entries.slice(after+1, last)}
}

func (r *Replica) onDoViewChange(from ReplicaID, m *DoViewChange) {
	if r.status == StatusRecovering || m.View < r.view {
		return
	}
	if m.View > r.view {
		r.startViewChange(m.View)
	}
	if !r.isPrimary() {
		return
	}
	if r.status == StatusNormal {
		r.sendStartView(from) // the sender missed our StartView
		return
	}
	if r.awaitingState {
		return
	}
	r.svc[from] = true
	r.dvc[from] = m
	r.maybeSendDoViewChange()
	r.maybeBecomePrimary()
}

// maybeBecomePrimary completes the view change at the new primary once it has
// f DoViewChanges from others and its own view is durable: it adopts the log
// with the largest (last-normal-view, op) and the largest commit-number.
func (r *Replica) maybeBecomePrimary() {
	if r.status != StatusViewChange || r.awaitingState || !r.isPrimary() || r.persistedView < r.view || r.promised() {
		return
	}
	if r.seeded {
		// Its log is the cluster's by an operator's decision: no votes.
		r.becomePrimary()
		return
	}
	votes := 0
	var best *DoViewChange
	commit, gma := r.commit, r.gma
	for i, d := range r.dvc {
		if d == nil || ReplicaID(i) == r.id {
			continue
		}
		votes++
		commit, gma = max(commit, d.Commit), max(gma, d.GlobalMinAccept)
		if d.LastNormalView > r.lastNormalView || (d.LastNormalView == r.lastNormalView && d.Op > r.entries.lastOp()) {
			if best == nil || d.LastNormalView > best.LastNormalView || (d.LastNormalView == best.LastNormalView && d.Op > best.Op) {
				best = d
			}
		}
	}
	if votes < r.f {
		return
	}
	if best != nil {
		if !r.canSplice(best.After, best.AfterView) {
			// The chosen log starts beyond what we can prove we share with
			// it (its sender's snapshot is ahead of our log): we cannot
			// assemble it. Let the view change time out so another replica
			// leads.
			r.log.Warn("cannot assemble view-change log", "view", r.view, "after", best.After, "op", r.entries.lastOp())
			return
		}
		r.replaceSuffix(best.After, best.Entries)
	}
	r.commit = max(r.commit, min(commit, r.entries.lastOp()))
	r.gma = max(r.gma, min(gma, r.commit))
	r.becomePrimary()
}

// sendStartView resends the view's StartView to one replica: every part
// (some may have been lost).
func (r *Replica) sendStartView(to ReplicaID) {
	r.sendSuffix(to, r.startViewMessage(), true)
}

// startViewMessage is the view's StartView: the whole log after
// global_min_accept. It cannot be cut short: a replica that installs it
// claims last-normal-view = this view, and VR's view change relies on such a
// replica holding every op committed before the view started. It travels in
// parts, which the receiver installs only once it holds them all (parts.go).
func (r *Replica) startViewMessage() *StartView {
	last := r.entries.lastOp()
	after := min(max(r.gma, r.entries.start), last)
	av, _ := r.entries.viewAt(after)
	return &StartView{Header: r.hdr(), Op: last, Commit: r.commit, GlobalMinAccept: r.gma,
		After: after, AfterView: av, Entries: r.entries.slice(after+1, last)}
}

func (r *Replica) onStartView(from ReplicaID, m *StartView) {
	if r.status == StatusRecovering || m.View < r.view || from != r.primaryOf(m.View) || from == r.id {
		return
	}
	if m.View == r.view && r.status == StatusNormal {
		return
	}
	if m.View > r.view {
		r.enterView(m.View)
	}
	if !r.canSplice(m.After, m.AfterView) {
		r.learnView(m.View)
		return
	}
	r.replaceSuffix(m.After, m.Entries)
	r.becomeBackup(m.Commit, m.GlobalMinAccept)
}

// canSplice reports whether the local log can take a suffix that follows the
// sender's op after: the local log holds op after, and either it is
// committed locally (committed prefixes are equal everywhere) or the entry at
// after has the sender's view there (log matching: equal (op, view) means
// equal prefixes).
func (r *Replica) canSplice(after, afterView uint64) bool {
	if after > r.entries.lastOp() {
		return false
	}
	if after <= r.commit {
		return true
	}
	v, ok := r.entries.viewAt(after)
	return ok && afterView != 0 && v == afterView
}

// becomeBackup starts normal operation as a backup of the current view once
// its log has been installed.
func (r *Replica) becomeBackup(commit, gma uint64) {
	r.dropAssemblies(kindStartView, r.view+1)
	r.dropAssemblies(kindNewState, r.view+1)
	r.status = StatusNormal
	r.lastNormalView = r.view
	r.awaitingState = false
	r.primaryHeard()
	r.seenRound = 0
	r.ackPending = true
	r.advanceCommit(commit, gma)
}
