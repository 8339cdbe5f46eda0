package consensus

// startRecovery begins nonce-based Recovery after disk loss: the replica
// forgets its log, persists that it is recovering, and takes part in nothing
// until the primary of the latest view gave it the whole log.
func (r *Replica) startRecovery() {
	r.status = StatusRecovering
	r.entries.reset(0, 0)
	r.snap = nil
	r.commit, r.applied, r.gma, r.stableOp = 0, 0, 0, 0
	r.nonce = r.rand.Uint64()
	clear(r.recResp)
	r.hard = HardState{Epoch: r.epoch, View: r.view, LastNormalView: r.lastNormalView}
	r.prevSoft = r.softState()
	r.markDirty(1) // storage drops whatever log it still has
	r.broadcast(&Recovery{Header: r.hdr(), Nonce: r.nonce})
}

// onRecovery: a normal replica answers; the primary includes its state.
func (r *Replica) onRecovery(from ReplicaID, m *Recovery) {
	if r.status != StatusNormal {
		return
	}
	resp := &RecoveryResponse{Header: r.hdr(), Nonce: m.Nonce}
	if r.isPrimary() {
		last := r.entries.lastOp()
		resp.Primary = true
		resp.Op, resp.Commit, resp.GlobalMinAccept = last, r.commit, r.gma
		if r.entries.start > 0 {
			resp.Snapshot, resp.After = r.snap, r.snap.Op
		}
		resp.Entries = r.entries.slice(resp.After+1, last)
	}
	r.sendAfterPersist(from, resp)
}

// onRecoveryResponse completes recovery with f+1 responses to the current
// nonce, including one from the primary of the latest view among them.
func (r *Replica) onRecoveryResponse(from ReplicaID, m *RecoveryResponse) {
	if r.status != StatusRecovering || m.Nonce != r.nonce || m.View < r.view {
		return
	}
	r.recResp[from] = m
	count := 0
	var latest uint64
	for _, x := range r.recResp {
		if x != nil {
			count++
			latest = max(latest, x.View)
		}
	}
	p := r.recResp[r.primaryOf(latest)]
	if count < r.f+1 || p == nil || !p.Primary || p.View != latest {
		return
	}
	if latest > r.view {
		r.view = latest
	}
	r.status = StatusViewChange // leaves StatusRecovering; becomeBackup makes it normal
	r.entries.reset(0, 0)
	if p.Snapshot != nil {
		r.installSnapshot(p.Snapshot)
	}
	r.appendEntries(p.Entries)
	r.markDirty(1)
	r.log.Info("recovered", "view", r.view, "op", r.entries.lastOp(), "commit", p.Commit)
	clear(r.recResp)
	r.becomeBackup(p.Commit, p.GlobalMinAccept)
}
