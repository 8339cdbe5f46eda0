package bridge

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/vrkeeper/vrkeeper/consensus"
	"github.com/vrkeeper/vrkeeper/storage"
)

// vrReplicator drives a consensus.Replica: one goroutine owns the replica,
// feeds it ticks, peer messages, proposals and reads, and carries out each
// Ready in the order the core's persistence contract requires (log durable,
// then replica state, then the messages that depend on them, then the
// committed entries). Durability comes from storage's group commit: while
// one Ready waits for its fdatasync, new messages and proposals queue up and
// go into the next Ready together.
type vrReplicator struct {
	log   hclog.Logger
	r     *consensus.Replica
	store *storage.Store
	tr    *Transport // nil for a single node
	ids   []uint64   // server id of each ReplicaID
	index map[uint64]consensus.ReplicaID
	self  consensus.ReplicaID
	tick  time.Duration
	// readTimeout fails a read the core never answered (no primary).
	readTimeout time.Duration

	inbox chan consensus.Envelope // decoded peer messages

	mu         sync.Mutex // guards props, reads and snaps, filled by other goroutines
	props      [][]byte
	reads      []func(int64, bool)
	snaps      []storage.SnapshotMeta // snapshots the apply goroutine made durable
	compactTo  uint64                 // log compaction requested up to this op
	compacted  uint64                 // log compaction done up to this op
	compacting bool                   // a compaction goroutine runs
	wake       chan struct{}
	out        chan applyBatch
	roleCh     chan Role
	stop, done chan struct{}
	err        error // why the loop stopped
	// beforeInstall is called on the replica goroutine before a peer's
	// snapshot is stored: the store writes one snapshot at a time, so the
	// node's own one in progress must give way.
	beforeInstall func()

	// Owned by the replica goroutine.
	pending    map[consensus.ReadID]pendingRead
	nextRead   consensus.ReadID
	saved      storage.HardState // replica state last saved
	walNext    uint64            // op the log expects next (0: no position)
	role       Role
	sendBuf    []byte
	walEntries []storage.Entry

	st statusTracker // what Node.Status reports (status.go)
}

// pendingRead is a read registered with the core.
type pendingRead struct {
	done  func(int64, bool)
	since time.Time
}

// applyBatch is what the replica hands the apply goroutine: an optional
// snapshot to install first, then committed entries.
type applyBatch struct {
	snapshot []byte // restore the tree from these bytes first (state transfer)
	snapOp   int64
	snapView uint64
	entries  []Entry
}

// localSnapshot is the handle of a snapshot in this server's store.
type localSnapshot struct{ op uint64 }

// errStopped is returned after the replica loop ended.
var errStopped = errors.New("bridge: replication stopped")

func (v *vrReplicator) propose(cmd []byte) {
	v.mu.Lock()
	v.props = append(v.props, cmd)
	v.mu.Unlock()
	v.signal()
}

func (v *vrReplicator) readIndex(done func(int64, bool)) {
	v.mu.Lock()
	v.reads = append(v.reads, done)
	v.mu.Unlock()
	v.signal()
}

// snapshotTaken tells the replica that a durable snapshot exists.
func (v *vrReplicator) snapshotTaken(meta storage.SnapshotMeta) {
	v.mu.Lock()
	v.snaps = append(v.snaps, meta)
	v.mu.Unlock()
	v.signal()
}

func (v *vrReplicator) signal() {
	select {
	case v.wake <- struct{}{}:
	default:
	}
}

func (v *vrReplicator) batches() <-chan applyBatch { return v.out }
func (v *vrReplicator) stopped() <-chan struct{}   { return v.done }

// failure returns why the replica loop stopped (read after stopped closed).
func (v *vrReplicator) failure() error {
	if v.err == nil {
		return errStopped
	}
	return fmt.Errorf("bridge: replication stopped: %w", v.err)
}
func (v *vrReplicator) roles() <-chan Role { return v.roleCh }

func (v *vrReplicator) close() error {
	select {
	case <-v.stop:
	default:
		close(v.stop)
	}
	<-v.done
	var err error
	if v.tr != nil {
		err = v.tr.Close()
	}
	return errors.Join(err, v.store.Close())
}

// deliver is the transport's callback: decode and queue a peer message.
func (v *vrReplicator) deliver(from uint64, frame []byte) {
	fromID, ok := v.index[from]
	if !ok {
		return
	}
	m, err := decodeMessage(bytes.Clone(frame))
	if err != nil {
		v.log.Warn("dropping a malformed message", "from", from, "error", err)
		return
	}
	select {
	case v.inbox <- consensus.Envelope{From: fromID, To: v.self, Msg: m}:
	case <-v.stop:
	}
}

// run is the replica goroutine.
func (v *vrReplicator) run() {
	defer close(v.done)
	v.publishStatus()
	ticker := time.NewTicker(v.tick)
	defer ticker.Stop()
	for {
		select {
		case <-v.stop:
			return
		case <-ticker.C:
			v.r.Tick()
			v.expireReads()
		case env := <-v.inbox:
			v.step(env)
			for more := true; more; {
				select {
				case env := <-v.inbox:
					v.step(env)
				default:
					more = false
				}
			}
		case <-v.wake:
			v.takeQueued()
		}
		if err := v.drain(); err != nil {
			v.err = err
			v.log.Error("replication stopped", "error", err)
			return
		}
		v.publishStatus()
	}
}

func (v *vrReplicator) step(env consensus.Envelope) {
	v.observe(env)
	if err := v.r.Step(env); err != nil {
		v.log.Debug("message refused", "from", env.From, "error", err)
	}
}

// takeQueued hands the core what other goroutines queued.
func (v *vrReplicator) takeQueued() {
	v.mu.Lock()
	props, reads, snaps := v.props, v.reads, v.snaps
	v.props, v.reads, v.snaps = nil, nil, nil
	v.mu.Unlock()
	for i, cmd := range props {
		if err := v.r.Propose(cmd); err != nil {
			// The queue is full: keep the rest for the next round.
			v.mu.Lock()
			v.props = append(props[i:], v.props...)
			v.mu.Unlock()
			break
		}
	}
	for _, done := range reads {
		v.nextRead++
		if err := v.r.Read(v.nextRead); err != nil {
			done(0, false)
			continue
		}
		v.pending[v.nextRead] = pendingRead{done: done, since: time.Now()}
	}
	for _, s := range snaps {
		v.r.SnapshotTaken(consensus.Snapshot{Op: s.Op, View: s.View, Data: localSnapshot{s.Op}})
	}
}

// expireReads fails reads the core has not answered in time: without a
// primary they would wait for ever.
func (v *vrReplicator) expireReads() {
	now := time.Now()
	for id, p := range v.pending {
		if now.Sub(p.since) > v.readTimeout {
			delete(v.pending, id)
			p.done(0, false)
		}
	}
}

// drain carries out every pending Ready.
func (v *vrReplicator) drain() error {
	for v.r.HasReady() {
		rd := v.r.Ready()
		if err := v.handle(&rd); err != nil {
			return err
		}
		v.r.Advance(rd)
	}
	return nil
}

func (v *vrReplicator) handle(rd *consensus.Ready) error {
	if rd.SoftState != nil {
		v.setRole(rd.SoftState)
	}
	v.send(rd.Messages)
	var install []byte
	if rd.Snapshot != nil {
		b, err := v.installSnapshot(rd.Snapshot)
		if err != nil {
			return err
		}
		install = b
	}
	if rd.LogFrom != 0 {
		seq, err := v.writeLog(rd.LogFrom, rd.Entries)
		if err != nil {
			return err
		}
		if rd.MustSync {
			if err := v.store.WAL.WaitDurable(seq); err != nil {
				return fmt.Errorf("bridge: log sync: %w", err)
			}
		}
	}
	if hs := rd.HardState; hs != nil {
		v.store.WAL.SetCommitted(hs.Commit)
		st := storage.HardState{Epoch: hs.Epoch, View: hs.View, LastNormalView: hs.LastNormalView, Recovering: hs.Recovering}
		if !sameState(st, v.saved) {
			if err := v.store.State.Save(st); err != nil {
				return fmt.Errorf("bridge: save replica state: %w", err)
			}
			v.saved = st
		}
	}
	v.send(rd.MessagesAfterPersist)
	if len(rd.Committed) > 0 || install != nil {
		b := applyBatch{snapshot: install, entries: make([]Entry, len(rd.Committed))}
		if rd.Snapshot != nil {
			b.snapOp, b.snapView = int64(rd.Snapshot.Op), rd.Snapshot.View
		}
		for i, e := range rd.Committed {
			b.entries[i] = Entry{Zxid: int64(e.Op), View: e.View, Cmd: e.Cmd}
		}
		select {
		case v.out <- b:
		case <-v.stop:
			return errStopped
		}
	}
	for _, rs := range rd.Reads {
		if p, ok := v.pending[rs.ID]; ok {
			delete(v.pending, rs.ID)
			p.done(int64(rs.Op), true)
		}
	}
	if rd.CompactTo > 0 {
		v.compact(rd.CompactTo)
	}
	return nil
}

// compact drops the log's entries up to op, which a durable snapshot
// covers, on a goroutine of its own: removing a segment takes milliseconds
// the replica loop should not wait for. Only one runs at a time; a later
// request supersedes one that has not started.
func (v *vrReplicator) compact(op uint64) {
	v.mu.Lock()
	v.compactTo = max(v.compactTo, op)
	busy := v.compacting
	v.compacting = true
	v.mu.Unlock()
	if busy {
		return
	}
	go func() {
		for {
			v.mu.Lock()
			to := v.compactTo
			if to <= v.compacted {
				v.compacting = false
				v.mu.Unlock()
				return
			}
			v.mu.Unlock()
			// TruncatePrefix(op) drops the entries below op.
			if err := v.store.WAL.TruncatePrefix(to + 1); err != nil {
				v.log.Error("truncating the log failed", "below", to+1, "error", err)
			}
			v.mu.Lock()
			v.compacted = to
			v.mu.Unlock()
		}
	}()
}

func sameState(a, b storage.HardState) bool {
	return a.Epoch == b.Epoch && a.View == b.View && a.LastNormalView == b.LastNormalView &&
		a.Recovering == b.Recovering
}

// writeLog stores entries from op from on, replacing what the log held
// there; it returns the storage mutation to wait for.
func (v *vrReplicator) writeLog(from uint64, entries []consensus.Entry) (uint64, error) {
	v.walEntries = v.walEntries[:0]
	for _, e := range entries {
		v.walEntries = append(v.walEntries, storage.Entry{Op: e.Op, View: e.View, Data: e.Cmd})
	}
	var seq uint64
	var err error
	if from == v.walNext && len(entries) > 0 {
		seq, err = v.store.WAL.Append(v.walEntries)
	} else {
		seq, err = v.store.WAL.ReplaceFrom(from, v.walEntries)
	}
	if err != nil {
		return 0, fmt.Errorf("bridge: write log from op %d: %w", from, err)
	}
	v.walNext = from + uint64(len(entries))
	return seq, nil
}

// installSnapshot stores a snapshot received from a peer and returns its
// bytes for the apply goroutine to restore.
func (v *vrReplicator) installSnapshot(s *consensus.Snapshot) ([]byte, error) {
	data, ok := s.Data.(snapshotBytes)
	if !ok {
		return nil, fmt.Errorf("bridge: snapshot to install has handle %T", s.Data)
	}
	if v.beforeInstall != nil {
		v.beforeInstall()
	}
	err := v.store.Snapshots.Save(storage.SnapshotMeta{Op: s.Op, View: s.View}, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("bridge: store snapshot at op %d: %w", s.Op, err)
	}
	return data, nil
}

// send encodes and sends messages to peers.
func (v *vrReplicator) send(envs []consensus.Envelope) {
	for _, env := range envs {
		frame, err := encodeMessage(nil, env.Msg, v.snapshotBytes)
		if err != nil {
			v.log.Warn("cannot encode a message", "message", env.Msg.String(), "error", err)
			continue
		}
		if err := v.tr.Send(v.ids[env.To], frame); err != nil {
			v.log.Debug("send failed", "to", v.ids[env.To], "error", err)
		}
	}
}

// snapshotBytes reads a local snapshot for a peer that needs it.
func (v *vrReplicator) snapshotBytes(s *consensus.Snapshot) ([]byte, error) {
	switch d := s.Data.(type) {
	case snapshotBytes:
		return d, nil
	case localSnapshot:
		var out []byte
		err := v.store.Snapshots.Load(d.op, func(_ storage.SnapshotMeta, r io.Reader) error {
			var err error
			out, err = io.ReadAll(r)
			return err
		})
		return out, err
	}
	return nil, fmt.Errorf("bridge: unknown snapshot handle %T", s.Data)
}

// setRole publishes the role a soft state implies.
func (v *vrReplicator) setRole(ss *consensus.SoftState) {
	role := RoleNone
	switch {
	case ss.Status != consensus.StatusNormal:
	case len(v.ids) == 1:
		role = RoleStandalone
	case ss.IsPrimary:
		role = RolePrimary
	default:
		role = RoleBackup
	}
	if role == v.role {
		return
	}
	v.role = role
	v.log.Info("role changed", "role", role.String(), "view", ss.View, "primary", v.ids[ss.Primary])
	for {
		select {
		case v.roleCh <- role:
			return
		default:
			select { // replace a role the apply goroutine has not taken yet
			case <-v.roleCh:
			default:
			}
		}
	}
}

// newRand returns the seeded source the core needs; a server seeds it from
// the clock, its id and the process.
func newRand(id uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), id))
}
