package consensus

// Pre-vote: a replica whose primary went silent (or whose view change does
// not complete) does not raise its view on its own. It first asks the
// others whether they would move too (PreViewChange for the next view),
// changes nothing durable meanwhile, and starts the view change only with f
// grants. A replica grants only if it has no live primary itself: it is in
// a view change, or it is a backup that has not heard from its primary for
// a whole base timeout. So a replica cut off from a healthy group (or from
// a quorum) keeps its view however long it is away, and when it comes back
// it rejoins the view the group is in instead of forcing the group into a
// new one.
//
// Pre-vote messages vouch for nothing and change no durable state; a grant
// is not a promise (the view change proper still needs f StartViewChange
// votes), so granting twice or to several candidates is harmless.

// preVote is the state of this replica's pending pre-vote.
type preVote struct {
	view   uint64 // the view it proposes (0: none pending)
	grants []bool // who granted it
	ticks  int    // ticks since it was asked (retried after a timeout)
}

// startPreVote asks the others whether they would change to view v.
func (r *Replica) startPreVote(v uint64) {
	if r.f == 0 {
		r.startViewChange(v) // a single replica needs nobody's word
		return
	}
	if len(r.pre.grants) != r.n {
		r.pre.grants = make([]bool, r.n)
	}
	clear(r.pre.grants)
	r.pre.view, r.pre.ticks = v, 0
	r.resetElectionTimeout()
	r.log.Debug("primary silent: asking whether the others would change view", "view", v)
	for i := 0; i < r.n; i++ {
		if ReplicaID(i) != r.id {
			r.send(ReplicaID(i), &PreViewChange{Header: Header{Epoch: r.epoch, View: v}})
		}
	}
}

// tickPreVote retries a pre-vote that got no answer (once per timeout).
func (r *Replica) tickPreVote() bool {
	if r.pre.view == 0 {
		return false
	}
	r.pre.ticks++
	if r.pre.ticks >= r.electionTimeout {
		r.startPreVote(r.pre.view)
	}
	return true
}

// clearPreVote drops a pending pre-vote (the view changed, or the primary
// was heard).
func (r *Replica) clearPreVote() { r.pre.view = 0 }

// primaryHeard records a message from the primary of the current view.
func (r *Replica) primaryHeard() {
	r.idleTicks = 0
	r.heardPrimary = true
	r.clearPreVote()
}

// livePrimary reports whether this replica has a primary it hears: it is
// one (normal), or a normal backup that heard from its primary within a
// base timeout.
func (r *Replica) livePrimary() bool {
	if r.status != StatusNormal {
		return false
	}
	return r.isPrimary() || r.idleTicks < r.cfg.ViewChangeTicks
}

func (r *Replica) onPreViewChange(from ReplicaID, m *PreViewChange) {
	if r.status == StatusRecovering || r.livePrimary() {
		return
	}
	if m.View < r.view || (m.View == r.view && r.status != StatusViewChange) {
		return // the sender is behind: heartbeats or StartViewChange will tell it
	}
	r.send(from, &PreViewChangeOk{Header: Header{Epoch: r.epoch, View: m.View}})
}

func (r *Replica) onPreViewChangeOk(from ReplicaID, m *PreViewChangeOk) {
	if r.pre.view == 0 || m.View != r.pre.view || r.status == StatusRecovering {
		return
	}
	r.pre.grants[from] = true
	granted := 0
	for i, g := range r.pre.grants {
		if g && ReplicaID(i) != r.id {
			granted++
		}
	}
	if granted >= r.f {
		v := r.pre.view
		r.clearPreVote()
		if v > r.view {
			r.startViewChange(v)
		}
	}
}
