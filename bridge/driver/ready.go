package driver

import (
	"time"

	"github.com/vrkeeper/vrkeeper/consensus"
	"github.com/vrkeeper/vrkeeper/storage"
)

// Process carries out the replica's pending Readies until it has none
// (wait false) or until one must wait for the disk (wait true): then seq is
// the log mutation to wait for (0 when only the replica state is to be
// saved), and the host calls Resume once WAL.Durable().Seq ≥ seq, or
// whenever it likes if seq is 0. Called while waiting, it reports the same
// wait again.
func (d *Driver) Process() (seq uint64, wait bool, err error) {
	if d.stopped != nil {
		return 0, false, d.stopped
	}
	if d.waiting {
		return d.waitSeq, true, nil
	}
	for d.r.HasReady() {
		d.rd = d.r.Ready()
		d.inReady = true
		durable := d.walNext - 1 // every earlier Ready's log is durable
		seq, err := d.persist(&d.rd)
		if err != nil {
			return 0, false, d.fail(err)
		}
		if d.rd.MustSync {
			if err := d.applyEarly(durable); err != nil {
				return 0, false, d.fail(err)
			}
			d.waiting, d.waitSeq = true, seq
			return seq, true, nil
		}
		if err := d.finish(); err != nil {
			return 0, false, d.fail(err)
		}
	}
	d.publishLease() // a lease extended by a message that asked for no Ready
	return 0, false, nil
}

// publishLease hands OnLease the replica's lease if it changed. Before a
// Ready's messages leave it must (see Options.OnLease); elsewhere it only
// makes an extension known sooner.
func (d *Driver) publishLease() {
	if d.opts.OnLease == nil {
		return
	}
	if l := d.r.Lease(); l != d.lease {
		d.lease = l
		d.opts.OnLease(l)
	}
}

// Resume finishes the Ready that waited for the disk: the log is durable
// up to the mutation Process named. It saves the replica state, sends the
// messages that vouch for what was persisted, hands the committed entries
// to the Applier, serves reads and advances the replica; then it hands the
// replica the input that arrived meanwhile. Call Process next.
func (d *Driver) Resume() error {
	if d.stopped != nil {
		return d.stopped
	}
	if !d.waiting {
		panic("driver: invariant resume-after-wait: Resume without a Ready waiting for the disk")
	}
	if err := d.finish(); err != nil {
		return d.fail(err)
	}
	return nil
}

// Drain processes every pending Ready, waiting for the log with
// WAL.WaitDurable: the server's way of running Process and Resume.
func (d *Driver) Drain() error {
	for {
		seq, wait, err := d.Process()
		if err != nil || !wait {
			return err
		}
		if seq > 0 {
			start := d.clock()
			if err := d.store.WAL.WaitDurable(seq); err != nil {
				return d.fail(errorf("log sync: %w", err))
			}
			d.opts.Metrics.Fsync(d.clock().Sub(start), len(d.rd.Entries))
		}
		if err := d.Resume(); err != nil {
			return err
		}
	}
}

// persist is the first half of a Ready: publish the soft state, send the
// messages that depend on nothing unpersisted, store a peer's snapshot and
// hand the log changes to the WAL. It returns the WAL mutation that must
// be durable before the second half.
func (d *Driver) persist(rd *consensus.Ready) (uint64, error) {
	d.publishLease()
	if rd.SoftState != nil {
		d.noteStatus(rd.SoftState.Status)
		if d.opts.OnSoftState != nil {
			d.opts.OnSoftState(*rd.SoftState)
		}
	}
	d.send(rd.Messages)
	if rd.Snapshot != nil {
		if err := d.storeSnapshot(rd.Snapshot); err != nil {
			return 0, err
		}
	}
	var seq uint64
	if rd.LogFrom != 0 {
		s, err := d.writeLog(rd.LogFrom, rd.Entries)
		if err != nil {
			return 0, err
		}
		seq = s
	}
	return seq, nil
}

// applyEarly hands the Applier, before the Ready's sync, its committed
// entries if they are durable here already (at or below durable, the log
// before this Ready, which does not rewrite them) and no snapshot comes
// first, and serves its reads: neither depends on what this Ready persists.
// A committed entry is durable on a quorum, this replica included, so
// applying it (and answering its client) now is what finish would do one
// sync later; a read state was confirmed by a quorum's messages, and is
// served by the host only once its op is applied. Without this, a write
// committed while the log syncs the next batch would wait for that sync
// too, and a read for a sync of unrelated writes. The contract's other
// steps keep their order.
func (d *Driver) applyEarly(durable uint64) error {
	rd := &d.rd
	if rd.Snapshot != nil {
		return nil
	}
	if n := len(rd.Committed); n > 0 {
		last := rd.Committed[n-1].Op
		if last > durable || (rd.LogFrom != 0 && rd.LogFrom <= last) {
			return nil
		}
		d.opts.Metrics.Committed(n)
		if err := d.opts.Applier.Apply(Batch{Entries: rd.Committed}); err != nil {
			return err
		}
		d.appliedEarly = true
	}
	for _, rs := range rd.Reads {
		d.reads.release(rs.ID, rs.Op)
	}
	d.readEarly = true
	return nil
}

// finish is the second half of a Ready, once its log changes are durable:
// save the replica state (after the log: a last-normal-view it names is a
// claim about the log), send the messages that vouch for both, apply,
// serve reads, compact, advance.
func (d *Driver) finish() error {
	rd := d.rd
	d.rd = consensus.Ready{}
	d.waiting, d.waitSeq = false, 0
	if hs := rd.HardState; hs != nil {
		d.store.WAL.SetCommitted(hs.Commit)
		d.store.WAL.SetAccepted(hs.GlobalMinAccept)
		st := storage.HardState{Epoch: hs.Epoch, View: hs.View, LastNormalView: hs.LastNormalView,
			Recovering: hs.Recovering, Cluster: hs.Cluster, Incarnation: hs.Incarnation, Seeded: hs.Seeded,
			Config: d.membership, Extra: d.saved.Extra}
		if !sameState(st, d.saved) {
			if err := d.store.State.Save(st); err != nil {
				return errorf("save replica state: %w", err)
			}
			d.saved = st
		}
	}
	d.send(rd.MessagesAfterPersist)
	early, readEarly := d.appliedEarly, d.readEarly
	d.appliedEarly, d.readEarly = false, false
	if (len(rd.Committed) > 0 && !early) || rd.Snapshot != nil {
		d.opts.Metrics.Committed(len(rd.Committed))
		b := Batch{Entries: rd.Committed}
		if rd.Snapshot != nil {
			b.Install, b.SnapOp, b.SnapView = true, rd.Snapshot.Op, rd.Snapshot.View
		}
		if err := d.opts.Applier.Apply(b); err != nil {
			return err
		}
	}
	if !readEarly {
		for _, rs := range rd.Reads {
			d.reads.release(rs.ID, rs.Op)
		}
	}
	if rd.CompactTo > 0 {
		d.compactor.compact(rd.CompactTo)
	}
	d.r.Advance(rd)
	d.inReady = false
	d.replayQueued()
	return nil
}

func sameState(a, b storage.HardState) bool {
	return a.Epoch == b.Epoch && a.View == b.View && a.LastNormalView == b.LastNormalView &&
		a.Recovering == b.Recovering && a.Cluster == b.Cluster && a.Incarnation == b.Incarnation &&
		a.Seeded == b.Seeded && string(a.Config) == string(b.Config)
}

// writeLog stores entries from op from on, replacing what the log held
// there; it returns the storage mutation to wait for.
func (d *Driver) writeLog(from uint64, entries []consensus.Entry) (uint64, error) {
	d.walEntries = d.walEntries[:0]
	for _, e := range entries {
		d.walEntries = append(d.walEntries, storage.Entry{Op: e.Op, View: e.View, Data: e.Cmd})
	}
	var seq uint64
	var err error
	if from == d.walNext && len(entries) > 0 {
		seq, err = d.store.WAL.Append(d.walEntries)
	} else {
		seq, err = d.store.WAL.ReplaceFrom(from, d.walEntries)
	}
	clear(d.walEntries)
	if err != nil {
		return 0, errorf("write log from op %d: %w", from, err)
	}
	d.walNext = from + uint64(len(entries))
	return seq, nil
}

// storeSnapshot makes sure the snapshot a peer's message named is durable
// here before the log below it is dropped: the driver hands such a message
// to the core only once the snapshot was fetched into the store (see
// Deliver), so it is there already.
func (d *Driver) storeSnapshot(s *consensus.Snapshot) error {
	h, ok := s.Data.(LocalSnapshot)
	if !ok || h.Op != s.Op {
		return errorf("snapshot to install at op %d has handle %T", s.Op, s.Data)
	}
	if d.opts.BeforeInstall != nil {
		d.opts.BeforeInstall()
	}
	has, err := d.store.Snapshots.Has(s.Op)
	if err != nil {
		return errorf("snapshot at op %d: %w", s.Op, err)
	}
	if !has {
		return errorf("snapshot at op %d to install is not in the store", s.Op)
	}
	return nil
}

// noteStatus records view changes in the metrics.
func (d *Driver) noteStatus(s consensus.Status) {
	switch {
	case s != consensus.StatusNormal && d.viewLeft.IsZero():
		d.viewLeft = d.clock()
		d.opts.Metrics.ViewChangeStarted()
	case s == consensus.StatusNormal && !d.viewLeft.IsZero():
		d.opts.Metrics.ViewChangeDone(d.clock().Sub(d.viewLeft))
		d.viewLeft = time.Time{}
	}
}

// send encodes messages and hands them to the transport.
func (d *Driver) send(envs []consensus.Envelope) {
	for _, env := range envs {
		if p, ok := env.Msg.(*consensus.Prepare); ok && len(p.Entries) > 0 && d.opts.Metrics != nil {
			d.opts.Metrics.Prepared(len(p.Entries))
			if d.prepared == nil {
				d.prepared = map[consensus.ReplicaID]sentPrepare{}
			}
			d.prepared[env.To] = sentPrepare{op: p.Entries[len(p.Entries)-1].Op, at: d.clock()}
		}
		frame, err := d.encodeFrame(env.Msg)
		if err != nil {
			d.log.Warn("cannot encode a message", "message", env.Msg.String(), "error", err)
			continue
		}
		if err := d.opts.Transport.Send(d.opts.IDs[env.To], frame); err != nil {
			d.log.Debug("send failed", "to", d.opts.IDs[env.To], "error", err)
		}
	}
}
