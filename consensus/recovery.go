package consensus

// A replica without durable state (no cluster identity: a new server, or a
// server whose disk was lost or replaced) and a replica whose recovery was
// interrupted start here. They take part in nothing: they vote in no view
// change, acknowledge nothing, serve no read. They broadcast Recovery with
// a fresh nonce and decide from the answers:
//
//   - Some replica holds state (a log, a snapshot or a commit-number): the
//     cluster exists and this replica may have lost what it once vouched
//     for. It recovers with VR's protocol: f+1 answers from replicas normal
//     in their view, among them the primary of the latest of those views,
//     whose log (and snapshot) it installs and persists before it writes its
//     identity and becomes a backup. With fewer than f+1 members able to
//     answer (a majority of disks lost, or down) it waits: the cluster stays
//     unavailable rather than serve a state that may lack committed writes.
//   - Every other replica answered and none holds state: this is a new
//     cluster (all disks empty at once; nothing was ever prepared, since
//     preparing needs a view, and a view f+1 members). Replica 0 draws the
//     cluster id; the others adopt it from replica 0 (or any member) once
//     it has one. A new cluster therefore forms only when every member has
//     started.
//   - A replica an operator seeded (vrkeeper reseed, after a majority of
//     disks was lost) answers as the sole source: a recovering replica
//     rebuilds from it alone.
//
// Why "holds no state" suffices for a new cluster even if this replica had
// vouched for something before losing its disk: a committed op is durable
// on f+1 replicas, so on f others besides this one, and a view change
// makes the new view durable on f+1; either leaves state on a peer. A
// stale acknowledgement of the old disk still in flight cannot matter
// either: it names an op a primary prepared before the loss, which that
// primary still holds in memory (then it answers that it holds state) or
// lost in a restart (which moves it to a later view, where the old
// acknowledgement is ignored).

// startRecovery begins (or restarts) recovery: the replica forgets its log,
// persists that it is recovering, and asks the others.
func (r *Replica) startRecovery() {
	r.status = StatusRecovering
	r.entries.reset(0, 0)
	r.snap = nil
	r.commit, r.applied, r.gma, r.stableOp, r.writtenOp = 0, 0, 0, 0, 0
	r.nonce = r.rand.Uint64()
	clear(r.recResp)
	for k := range r.asm {
		clear(r.asm[k])
	}
	r.recWarned, r.recRounds = false, 0
	r.prevSoft = r.softState()
	r.markDirty(1) // storage drops whatever log it still has
	if r.cluster == 0 {
		r.log.Info("no durable state: asking the other servers whether this is a new cluster or a lost disk", "replicas", r.n)
	} else {
		r.log.Info("resuming an interrupted recovery", "cluster", r.cluster)
	}
	if r.n == 1 {
		// Nobody to ask and nothing to recover: a new single-server cluster.
		r.initNewCluster(r.newClusterID())
		return
	}
	r.broadcast(&Recovery{Header: r.hdr(), Nonce: r.nonce, Cluster: r.cluster})
}

func (r *Replica) tickRecovering() {
	r.hbTicks++
	if r.hbTicks >= 2*r.cfg.HeartbeatTicks {
		r.hbTicks = 0
		r.recRounds++
		if r.recRounds%50 == 0 {
			r.reportRecovery()
		}
		r.broadcast(&Recovery{Header: r.hdr(), Nonce: r.nonce, Cluster: r.cluster})
	}
}

// reportRecovery says, now and then, what the recovery waits for.
func (r *Replica) reportRecovery() {
	answered, normal, withState := 0, 0, 0
	for i, m := range r.recResp {
		if m == nil || ReplicaID(i) == r.id {
			continue
		}
		answered++
		if !m.Blank && m.Normal {
			normal++
		}
		if !m.Blank && !m.Pristine {
			withState++
		}
	}
	r.log.Warn("still recovering: waiting for the other servers", "answered", answered,
		"normal_members", normal, "members_with_state", withState, "need_normal", r.f+1,
		"hint", "a recovering server needs f+1 servers that hold the cluster's state; if a majority of disks was lost, see 'vrkeeper reseed'")
}

// onRecovery answers a recovering replica. Every replica answers: one
// without state says so (it helps tell a new cluster from a lost disk), a
// member says whether it holds state and whether it is normal, and the
// primary of a view it is normal in includes its log. The answer leaves
// after persistence: it speaks for the view the responder is in.
func (r *Replica) onRecovery(from ReplicaID, m *Recovery) {
	if m.Cluster != 0 && r.cluster != 0 && m.Cluster != r.cluster {
		r.log.Warn("ignoring recovery request from a server of another cluster", "from", from,
			"its_cluster", m.Cluster, "our_cluster", r.cluster)
		return
	}
	resp := &RecoveryResponse{Header: r.hdr(), Nonce: m.Nonce, Cluster: r.cluster}
	if r.status == StatusRecovering {
		resp.Blank = true
		r.sendAfterPersist(from, resp)
		return
	}
	resp.Normal = r.status == StatusNormal
	resp.Pristine = r.entries.lastOp() == 0 && r.snap == nil && r.commit == 0
	resp.Seed = r.seeded
	if resp.Normal && r.isPrimary() {
		// The state goes to each nonce once per four view-change timeouts:
		// it is the whole log after the snapshot (up to the snapshot byte
		// trigger, tens of MB), and the recovering replica repeats its
		// request every other heartbeat while it fetches the snapshot.
		if a := r.recAnswered[from]; a.nonce == m.Nonce && r.tickCount-a.tick < 4*uint64(r.cfg.ViewChangeTicks) {
			return
		}
		r.recAnswered[from] = answered{nonce: m.Nonce, tick: r.tickCount}
		last := r.entries.lastOp()
		resp.Primary = true
		resp.Op, resp.Commit, resp.GlobalMinAccept = last, r.commit, r.gma
		// The snapshot (fetched apart, in chunks) and the log after it: the
		// log before it may be long when a lagging replica held its
		// compaction back.
		if r.snap != nil {
			resp.Snapshot, resp.After = r.snap, r.snap.Op
		}
		resp.Entries = r.entries.slice(resp.After+1, last)
		// In parts, which the recovering replica installs only once it
		// holds them all (parts.go).
		r.sendSuffix(from, resp, true)
		return
	}
	r.sendAfterPersist(from, resp)
}

// answered is the last recovery request a primary answered with its state.
type answered struct {
	nonce uint64
	tick  uint64
}

// onRecoveryResponse collects the answers to the current nonce and decides.
func (r *Replica) onRecoveryResponse(from ReplicaID, m *RecoveryResponse) {
	if r.status != StatusRecovering || m.Nonce != r.nonce {
		return
	}
	if !m.Blank && r.cluster != 0 && m.Cluster != r.cluster {
		r.warnRecovery("ignoring a member of another cluster", "from", from, "its_cluster", m.Cluster, "our_cluster", r.cluster)
		return
	}
	r.recResp[from] = m
	r.decideRecovery()
}

// decideRecovery completes the recovery, starts a new cluster, or waits.
func (r *Replica) decideRecovery() {
	var cluster, maxView uint64
	answered, withState := 0, false
	for i, m := range r.recResp {
		if m == nil || ReplicaID(i) == r.id {
			continue
		}
		answered++
		maxView = max(maxView, m.View)
		if m.Blank {
			continue
		}
		if m.Seed && m.Primary {
			r.completeRecovery(m, "seeded server")
			return
		}
		if cluster != 0 && m.Cluster != cluster {
			r.warnRecovery("the other servers belong to different clusters; not joining either",
				"cluster", cluster, "other_cluster", m.Cluster)
			return
		}
		cluster = m.Cluster
		withState = withState || !m.Pristine
	}
	if withState {
		r.tryRecover()
		return
	}
	if answered < r.n-1 {
		return // a new cluster needs every member's word
	}
	// Join at the latest view any member is in. A view this replica led in
	// an earlier life (it lost its disk since) is at most that: leading it
	// took f members durably into it, and they answered after that life
	// ended. startMember never leads its durable view again, so the ops a
	// lost life may have prepared in it can never be assigned twice.
	r.view = max(r.view, maxView)
	switch {
	case cluster != 0:
		r.log.Info("joining a new cluster: no server holds any state", "cluster", cluster)
		r.initNewCluster(cluster)
	case r.cluster != 0:
		r.initNewCluster(r.cluster)
	case r.id == 0:
		cluster = r.newClusterID()
		r.log.Info("starting a new cluster: every server is empty", "cluster", cluster, "replicas", r.n)
		r.initNewCluster(cluster)
	}
	// Otherwise wait for replica 0 to draw the cluster id.
}

// tryRecover completes VR's recovery once f+1 members normal in their view
// answered, the primary of the latest of those views among them.
func (r *Replica) tryRecover() {
	count := 0
	var latest uint64
	for i, m := range r.recResp {
		if m == nil || m.Blank || !m.Normal || ReplicaID(i) == r.id {
			continue
		}
		count++
		latest = max(latest, m.View)
	}
	p := r.recResp[r.primaryOf(latest)]
	if count < r.f+1 || p == nil || p.Blank || !p.Primary || p.View != latest {
		return
	}
	r.completeRecovery(p, "primary")
}

// completeRecovery installs the state p (a primary's answer) carries and
// becomes a backup of p's view with a new identity in p's cluster. The
// identity reaches the disk after the log and snapshot (the state file is
// written last), so a crash before leaves a replica that recovers again.
func (r *Replica) completeRecovery(p *RecoveryResponse, source string) {
	if p.View > r.view {
		r.view = p.View
	}
	r.status = StatusViewChange // leaves StatusRecovering; becomeBackup makes it normal
	r.cluster, r.incarnation = p.Cluster, r.newIncarnation()
	r.entries.reset(0, 0)
	if p.Snapshot != nil {
		r.installSnapshot(p.Snapshot)
	}
	r.appendEntries(p.Entries)
	r.markDirty(1)
	r.log.Info("recovered from the cluster", "source", source, "cluster", r.cluster, "view", r.view,
		"op", r.entries.lastOp(), "commit", p.Commit)
	clear(r.recResp)
	clear(r.asm[kindRecoveryResponse])
	r.becomeBackup(p.Commit, p.GlobalMinAccept)
}

// initNewCluster makes this replica a member of a new cluster with an empty
// log.
func (r *Replica) initNewCluster(cluster uint64) {
	r.cluster, r.incarnation = cluster, r.newIncarnation()
	clear(r.recResp)
	r.hbTicks, r.idleTicks = 0, 0
	r.prevSoft = SoftState{}
	r.startMember()
}

func (r *Replica) newClusterID() uint64 {
	for {
		if id := r.rand.Uint64(); id != 0 {
			return id
		}
	}
}

func (r *Replica) newIncarnation() uint64 { return r.rand.Uint64() | 1 }

// warnRecovery logs a recovery problem once per attempt.
func (r *Replica) warnRecovery(msg string, args ...any) {
	if r.recWarned {
		return
	}
	r.recWarned = true
	r.log.Warn(msg, args...)
}
