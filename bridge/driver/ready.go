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
//
// A Ready that only appends to the log is pipelined (see Pipelining on
// consensus.Ready): its write is issued and the replica goes on; what must
// follow its sync is held until the host reports durability with Synced.
// Pending tells whether any is held.
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
		durable := d.durableOp()
		seq, err := d.persist(&d.rd)
		if err != nil {
			return 0, false, d.fail(err)
		}
		if seq > 0 {
			d.lastSeq = seq
		}
		pending := len(d.tails) > 0
		switch {
		case d.rd.Pipeline && (d.rd.MustSync || pending) && len(d.tails) < maxTails:
			if err := d.pipeline(); err != nil {
				return 0, false, d.fail(err)
			}
		case d.rd.MustSync || pending:
			// Wait for this Ready's writes and every earlier one.
			if err := d.applyEarly(durable); err != nil {
				return 0, false, d.fail(err)
			}
			d.waiting, d.waitSeq = true, d.lastSeq
			if !pending && seq == 0 {
				d.waitSeq = 0 // only the replica state to save
			}
			return d.waitSeq, true, nil
		default:
			if err := d.finish(); err != nil {
				return 0, false, d.fail(err)
			}
		}
	}
	d.publishLease() // a lease extended by a message that asked for no Ready
	return 0, false, nil
}

// maxTails bounds the pipelined Readies held at once; past it a Ready
// waits for the disk as an unpipelined one does.
const maxTails = 64

// tail is what remains of a pipelined Ready once its log write is issued:
// what may happen only once that write and every earlier one is durable.
type tail struct {
	seq       uint64 // the last log mutation issued up to this Ready
	msgs      []consensus.Envelope
	committed []consensus.Entry
	reads     []consensus.ReadState // served after committed is applied
	applied   bool                  // committed applied and reads served (applyTail)
	commit    uint64                // the hard state's commit bounds, for the WAL (0: none)
	gma       uint64
}

// durableOp returns the last op of the log that is durable, as the
// replica holds it: with nothing pipelined, every earlier Ready's log.
func (d *Driver) durableOp() uint64 {
	if len(d.tails) == 0 {
		return d.walNext - 1
	}
	return min(d.store.WAL.Durable().LastOp, d.walNext-1)
}

// pipeline finishes a pipelined Ready before its sync: it hands out its
// compaction, holds what must follow the sync (its reads follow its
// committed entries), and advances the replica.
func (d *Driver) pipeline() error {
	rd := d.rd
	d.rd = consensus.Ready{}
	t := tail{seq: d.lastSeq, msgs: rd.MessagesAfterPersist, committed: rd.Committed, reads: rd.Reads}
	if hs := rd.HardState; hs != nil {
		t.commit, t.gma = hs.Commit, hs.GlobalMinAccept
	}
	d.tails = append(d.tails, t)
	d.pipelined++
	if rd.CompactTo > 0 {
		d.compactor.compact(rd.CompactTo)
	}
	d.r.AdvanceWritten(rd)
	d.inReady = false
	d.replayQueued()
	return d.applyTails(d.durableOp())
}

// Pipelined returns how many Readies were pipelined so far.
func (d *Driver) Pipelined() uint64 { return d.pipelined }

// Pending reports whether pipelined Readies wait for the disk: the host
// calls Synced when the log's durable mark advances.
func (d *Driver) Pending() bool { return len(d.tails) > 0 }

// Synced releases what the pipelined Readies held once their writes are
// durable (WAL.Durable), and tells the replica how far its log is durable.
// The host calls it when the log reports progress, never while a Ready
// waits (Resume releases everything then); Process comes next.
func (d *Driver) Synced() error {
	if d.stopped != nil {
		return d.stopped
	}
	if d.waiting || d.inReady || len(d.tails) == 0 {
		return nil
	}
	if err := d.store.WAL.Err(); err != nil {
		return d.fail(errorf("log sync: %w", err))
	}
	mark := d.store.WAL.Durable()
	durable := min(mark.LastOp, d.walNext-1)
	if err := d.releaseTails(mark.Seq); err != nil {
		return d.fail(err)
	}
	if err := d.applyTails(durable); err != nil {
		return d.fail(err)
	}
	d.r.Synced(durable)
	return nil
}

// releaseTails finishes, in order, the pipelined Readies whose writes are
// durable (through log mutation seq): their commit bounds go to the WAL,
// their acknowledgements leave, their committed entries are applied.
func (d *Driver) releaseTails(seq uint64) error {
	k := 0
	for ; k < len(d.tails) && d.tails[k].seq <= seq; k++ {
		t := &d.tails[k]
		if t.commit > 0 {
			d.store.WAL.SetCommitted(t.commit)
			d.store.WAL.SetAccepted(t.gma)
		}
		d.send(d.stillTrue(t.msgs))
		if !t.applied {
			if err := d.applyTail(t); err != nil {
				return err
			}
		}
		*t = tail{}
	}
	if k == len(d.tails) {
		d.tails = d.tails[:0]
	} else if k > 0 {
		d.tails = d.tails[:copy(d.tails, d.tails[k:])]
	}
	return nil
}

// stillTrue drops, from a pipelined Ready's held messages, the
// acknowledgements the replica no longer stands behind when they can
// leave: of a view it is no longer normal in (it moved on while the log
// synced), or of an op beyond the read lease it published since (the
// primary may commit on the acknowledgement, and a read served under that
// lease must see the op). Dropping one is a lost message: the primary asks
// again.
func (d *Driver) stillTrue(msgs []consensus.Envelope) []consensus.Envelope {
	ss := d.r.SoftState()
	k := 0
	for _, env := range msgs {
		if ok, isAck := env.Msg.(*consensus.PrepareOk); isAck {
			if ss.Status != consensus.StatusNormal || ss.View != ok.View || (ok.LeaseReq != 0 && d.lease.Index < ok.Op) {
				d.log.Debug("dropped an acknowledgement that no longer holds", "message", ok.String())
				continue
			}
		}
		msgs[k] = env
		k++
	}
	return msgs[:k]
}

// applyTails hands the Applier, ahead of their sync, the held committed
// entries that are durable here already (at or below durable), in order,
// and serves each held Ready's reads after its entries: as applyEarly does
// for a waiting Ready, a write committed while the log syncs the next
// batch need not wait for that sync, nor a read for a sync of unrelated
// writes.
func (d *Driver) applyTails(durable uint64) error {
	for i := range d.tails {
		t := &d.tails[i]
		if t.applied {
			continue
		}
		if n := len(t.committed); n > 0 && t.committed[n-1].Op > durable {
			return nil
		}
		if err := d.applyTail(t); err != nil {
			return err
		}
	}
	return nil
}

// applyTail applies a held Ready's committed entries and serves its reads.
func (d *Driver) applyTail(t *tail) error {
	if len(t.committed) > 0 {
		d.opts.Metrics.Committed(len(t.committed))
		if err := d.opts.Applier.Apply(Batch{Entries: t.committed}); err != nil {
			return err
		}
	}
	for _, rs := range t.reads {
		d.reads.release(rs.ID, rs.Op)
	}
	t.applied = true
	return nil
}

// unappliedTails reports whether a held Ready's committed entries or
// reads wait (a later Ready's must wait behind them).
func (d *Driver) unappliedTails() bool {
	for i := range d.tails {
		if !d.tails[i].applied {
			return true
		}
	}
	return false
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
// up to the mutation Process named. It finishes the pipelined Readies
// before it, then saves the replica state, sends the messages that vouch
// for what was persisted, hands the committed entries to the Applier,
// serves reads and advances the replica; then it hands the replica the
// input that arrived meanwhile. Call Process next.
func (d *Driver) Resume() error {
	if d.stopped != nil {
		return d.stopped
	}
	if !d.waiting {
		panic("driver: invariant resume-after-wait: Resume without a Ready waiting for the disk")
	}
	if err := d.releaseTails(d.waitSeq); err != nil {
		return d.fail(err)
	}
	if len(d.tails) > 0 {
		panic("driver: invariant resume-after-wait: a pipelined Ready outlived the wait that covers it")
	}
	if err := d.finish(); err != nil {
		return d.fail(err)
	}
	return nil
}

// Drain processes every pending Ready, waiting for the log with
// WAL.WaitDurable when one must wait: the server's way of running Process
// and Resume. Pipelined Readies do not wait here: the host calls Synced
// when the log's durable mark advances (WAL.Notify), then Drain again.
func (d *Driver) Drain() error {
	for {
		seq, wait, err := d.Process()
		if err != nil || !wait {
			return err
		}
		if seq > 0 {
			if err := d.store.WAL.WaitDurable(seq); err != nil {
				return d.fail(errorf("log sync: %w", err))
			}
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
	if err := d.applyTails(durable); err != nil {
		return err
	}
	if n := len(rd.Committed); n > 0 {
		last := rd.Committed[n-1].Op
		if last > durable || (rd.LogFrom != 0 && rd.LogFrom <= last) || d.unappliedTails() {
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
	// A newer snapshot fetched while this Ready waits for its sync must
	// not prune the one it installs.
	d.store.Snapshots.Pin(s.Op)
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
