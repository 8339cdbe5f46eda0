package consensus

import "fmt"

// maxView bounds views so that view+1 never overflows.
const maxView = 1 << 62

// Step processes one message from a peer. Malformed or misaddressed messages
// return an error and change nothing; stale messages are ignored silently.
func (r *Replica) Step(e Envelope) error {
	r.guard("Step")
	if e.Msg == nil {
		return fmt.Errorf("%w: nil message", ErrBadMessage)
	}
	if e.To != r.id || e.From < 0 || int(e.From) >= r.n || e.From == r.id {
		return fmt.Errorf("%w: envelope %d->%d at replica %d of %d", ErrBadMessage, e.From, e.To, r.id, r.n)
	}
	if err := e.Msg.validate(); err != nil {
		return err
	}
	if e.Msg.header().View > maxView {
		return fmt.Errorf("%w: view %d out of range", ErrBadMessage, e.Msg.header().View)
	}
	if e.Msg.header().Epoch != r.epoch {
		r.log.Debug("ignoring message of another epoch", "from", e.From, "epoch", e.Msg.header().Epoch)
		return nil
	}
	from := e.From
	switch m := e.Msg.(type) {
	case *Prepare:
		r.onPrepare(from, m)
	case *PrepareOk:
		r.onAck(from, m.View, m.Op, m.ReadRound, m.LeaseReq, m.Promise, m.Gap)
	case *Commit:
		r.onCommit(from, m)
	case *CommitOk:
		r.onAck(from, m.View, m.Op, m.ReadRound, m.LeaseReq, m.Promise, false)
	case *StartViewChange:
		r.onStartViewChange(from, m)
	case *DoViewChange:
		if full := r.assemble(from, m); full != nil {
			r.onDoViewChange(from, full.(*DoViewChange))
		}
	case *StartView:
		if full := r.assemble(from, m); full != nil {
			r.onStartView(from, full.(*StartView))
		}
	case *GetState:
		r.onGetState(from, m)
	case *NewState:
		if m.View == r.view && r.status == StatusNormal {
			r.onNewState(from, m) // extends the log part by part (see parts.go)
		} else if full := r.assemble(from, m); full != nil {
			r.onNewState(from, full.(*NewState))
		}
	case *Recovery:
		r.onRecovery(from, m)
	case *RecoveryResponse:
		if full := r.assemble(from, m); full != nil {
			r.onRecoveryResponse(from, full.(*RecoveryResponse))
		}
	case *Forward:
		r.onForward(m)
	case *PreViewChange:
		r.onPreViewChange(from, m)
	case *PreViewChangeOk:
		r.onPreViewChangeOk(from, m)
	case *ReadIndexRequest:
		r.onReadIndexRequest(from, m)
	case *ReadIndexResponse:
		r.onReadIndexResponse(m)
	default:
		return fmt.Errorf("%w: unknown message type %T", ErrBadMessage, e.Msg)
	}
	return nil
}

// Propose queues a command. The primary prepares it at the next Ready; a
// backup forwards it to the primary. The driver learns the outcome only by
// applying the committed entry: a proposal can be lost in a view change, so
// the driver re-submits unapplied commands when SoftState shows a new view
// (commands carry their own ids and the state machine drops duplicates).
func (r *Replica) Propose(cmd []byte) error {
	r.guard("Propose")
	if len(cmd) > r.cfg.MaxCommandBytes {
		return ErrCommandTooLarge
	}
	if len(r.props) >= r.cfg.MaxQueuedProposals || r.propBytes+len(cmd) > r.cfg.MaxQueuedBytes {
		return ErrProposalDropped
	}
	r.props = append(r.props, cmd)
	r.propBytes += len(cmd)
	return nil
}

// Tick advances the replica's logical clock by one tick.
func (r *Replica) Tick() {
	r.guard("Tick")
	r.tickCount++
	switch {
	case r.status == StatusRecovering:
		r.tickRecovering()
	case r.status == StatusViewChange:
		r.tickViewChange()
	case r.isPrimary():
		r.tickPrimary()
	default:
		r.tickBackup()
	}
	r.tickReads()
}

func (r *Replica) tickPrimary() {
	r.hbTicks++
	if r.hbTicks >= r.cfg.HeartbeatTicks {
		r.hbTicks = 0
		if r.leaseReads() {
			r.roundDue = true // every heartbeat renews the leases
			r.maybeCommit()   // grants may have ended
		}
		last := r.entries.lastOp()
		for i := range r.prog {
			if ReplicaID(i) == r.id {
				continue
			}
			p := &r.prog[i]
			if p.match < last {
				p.stall++
				if p.stall >= 2 {
					// Lost Prepares or acks: resend from what is known durable.
					p.stall = 0
					p.next = max(p.match, r.gma) + 1
					p.probing = true
				}
			} else {
				p.stall = 0
			}
			if !p.sent {
				r.sendCommit(ReplicaID(i))
			}
			p.sent = false
		}
	}
	r.qcTicks++
	if r.qcTicks >= r.cfg.ViewChangeTicks {
		r.qcTicks = 0
		heard := 0
		for i := range r.prog {
			if r.prog[i].heard {
				heard++
			}
			r.prog[i].heard = false
		}
		if heard < r.f && !r.seeded {
			// (A seeded primary waits for the others to rebuild from it:
			// it has no quorum to lose until they have.)
			// A primary that cannot hear a quorum steps down, so an
			// asymmetric partition cannot stall the group.
			r.log.Info("primary lost quorum", "view", r.view, "heard", heard)
			r.startViewChange(r.view + 1)
		}
	}
}

func (r *Replica) tickBackup() {
	r.idleTicks++
	if r.tickPreVote() {
		return
	}
	if r.idleTicks >= r.electionTimeout {
		r.startPreVote(r.view + 1)
	}
}

func (r *Replica) tickViewChange() {
	r.idleTicks++
	if r.leases() {
		// A DoViewChange or the new view held back by a promise (lease.go).
		r.maybeSendDoViewChange()
		r.maybeBecomePrimary()
	}
	if !r.tickPreVote() && r.idleTicks >= r.electionTimeout {
		r.startPreVote(r.view + 1)
	}
	r.hbTicks++
	if r.hbTicks < r.cfg.HeartbeatTicks {
		return
	}
	r.hbTicks = 0
	if r.awaitingState {
		r.sendAfterPersist(r.primaryOf(r.view), &GetState{Header: r.hdr(), Op: r.commit, LastNormalView: r.lastNormalView})
		return
	}
	r.broadcast(&StartViewChange{Header: r.hdr()})
	if r.dvcSent && !r.isPrimary() {
		if r.dvcWait > 0 {
			r.dvcWait--
			return
		}
		// Every part again: some may have been lost (see parts.go).
		r.sendDoViewChange()
	}
}
