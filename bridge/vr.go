package bridge

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/vrkeeper/vrkeeper/bridge/driver"
	"github.com/vrkeeper/vrkeeper/bridge/peer"
	"github.com/vrkeeper/vrkeeper/bridge/transfer"
	"github.com/vrkeeper/vrkeeper/consensus"
	"github.com/vrkeeper/vrkeeper/internal/budget"
	"github.com/vrkeeper/vrkeeper/metrics"
	"github.com/vrkeeper/vrkeeper/storage"
)

// vrReplicator runs a driver.Driver on one goroutine: it feeds the replica
// ticks, peer messages, proposals and reads, and lets the driver carry out
// each Ready (log durable, then replica state, then the messages that
// depend on them, then the committed entries). Durability comes from
// storage's group commit: while one Ready waits for its fdatasync, new
// messages and proposals queue up and go into the next Ready together.
type vrReplicator struct {
	log   hclog.Logger
	d     *driver.Driver
	store *storage.Store
	tr    *peer.Transport // nil for a single node
	ids   []uint64        // server id of each ReplicaID
	index map[uint64]consensus.ReplicaID
	self  consensus.ReplicaID
	tick  time.Duration
	lim   Limits

	inbox      chan inbound   // decoded peer messages
	inboxBytes *budget.Budget // bytes of the messages in inbox (lim.PeerInboxBytes)

	mu        sync.Mutex // guards props, reads and snaps, filled by other goroutines
	props     [][]byte   // bounded by lim.QueuedProposals and lim.QueuedProposalBytes
	propBytes int
	reads     []func(int64, bool)    // bounded by lim.QueuedReads
	snaps     []storage.SnapshotMeta // snapshots the apply goroutine made durable
	wake      chan struct{}
	out       chan applyBatch
	roleCh    chan Role
	stop      chan struct{}
	done      chan struct{}
	err       error // why the loop stopped

	// xfer moves snapshots beside the replica loop (nil for one server);
	// fetched brings the ones it fetched back to the loop.
	xfer    *transferLoop
	fetched chan fetchOutcome

	// Owned by the replica goroutine.
	role  Role
	retry bool // proposals were put back for want of room in the core

	st      statusTracker     // what Node.Status reports (status.go)
	metrics *metrics.Registry // nil: none
}

// inbound is a decoded peer message and its sender's cluster id.
type inbound struct {
	cluster uint64
	env     consensus.Envelope
	size    int // the frame's bytes, taken from inboxBytes
}

// applyBatch is what the replica hands the apply goroutine: an optional
// snapshot to install first, then committed entries.
type applyBatch struct {
	install  bool // restore the tree from the store's snapshot at snapOp first (state transfer)
	snapOp   int64
	snapView uint64
	entries  []Entry
}

// errStopped is returned after the replica loop ended.
var errStopped = errors.New("bridge: replication stopped")

func (v *vrReplicator) propose(cmd []byte) error {
	if len(cmd) > v.lim.Command {
		return fmt.Errorf("bridge: command of %d bytes, limit %d: %w", len(cmd), v.lim.Command, ErrTooLarge)
	}
	v.mu.Lock()
	if len(v.props) >= v.lim.QueuedProposals || (len(v.props) > 0 && v.propBytes+len(cmd) > v.lim.QueuedProposalBytes) {
		v.mu.Unlock()
		return ErrBusy
	}
	v.props = append(v.props, cmd)
	v.propBytes += len(cmd)
	v.mu.Unlock()
	v.signal()
	return nil
}

func (v *vrReplicator) readIndex(done func(int64, bool)) {
	v.mu.Lock()
	if len(v.reads) >= v.lim.QueuedReads {
		v.mu.Unlock()
		done(0, false)
		return
	}
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
	if v.xfer != nil {
		v.xfer.close()
	}
	var err error
	if v.tr != nil {
		err = v.tr.Close()
	}
	v.d.Close()
	return errors.Join(err, v.store.Close())
}

// deliver is the transport's callback: decode and queue a peer message
// (a snapshot transfer's frame goes to the transfer's goroutine).
func (v *vrReplicator) deliver(from uint64, frame []byte) {
	fromID, ok := v.index[from]
	if !ok {
		return
	}
	if transfer.IsFrame(frame) {
		v.xfer.deliver(from, frame, v.stop)
		return
	}
	cluster, m, err := driver.DecodeFrame(bytes.Clone(frame))
	if err != nil {
		v.log.Warn("dropping a malformed message", "from", from, "error", err)
		return
	}
	// Wait for room: the peer's connection is not read meanwhile.
	if !v.inboxBytes.Take(len(frame), v.stop) {
		return
	}
	select {
	case v.inbox <- inbound{cluster: cluster, env: consensus.Envelope{From: fromID, To: v.self, Msg: m}, size: len(frame)}:
	case <-v.stop:
		v.inboxBytes.Give(len(frame))
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
			v.d.Tick()
			if v.retry { // proposals the core had no room for
				v.takeQueued()
			}
			v.sampleQueues()
		case in := <-v.inbox:
			v.observe(in.env)
			v.d.Deliver(in.cluster, in.env)
			v.inboxBytes.Give(in.size)
			for more := true; more; {
				select {
				case in := <-v.inbox:
					v.observe(in.env)
					v.d.Deliver(in.cluster, in.env)
					v.inboxBytes.Give(in.size)
				default:
					more = false
				}
			}
		case <-v.wake:
			v.takeQueued()
		case o := <-v.fetched:
			if o.done {
				v.d.SnapshotFetched(o.meta)
			} else {
				v.d.SnapshotAbandoned(o.meta)
			}
		case <-v.store.WAL.Notify():
			// The log's group sync ended: release what pipelined Readies
			// held (acknowledgements, applies) and count the log durable.
		}
		err := v.d.Synced()
		if err == nil {
			err = v.d.Drain()
		}
		if err != nil {
			if !errors.Is(err, errStopped) {
				v.err = err
				v.log.Error("replication stopped", "error", err)
			}
			return
		}
		if v.xfer != nil {
			v.xfer.cluster.Store(v.d.Replica().Info().Cluster)
		}
		v.publishStatus()
	}
}

// sampleQueues records the queues' depths, once a tick: a gauge set on
// every turn of the loop cost the Prometheus sink a lock and a map lookup
// per message.
func (v *vrReplicator) sampleQueues() {
	m := v.metrics
	if m == nil {
		return
	}
	m.QueueDepth("inbox", len(v.inbox))
	m.QueueDepth("apply", len(v.out))
	v.mu.Lock()
	props, reads := len(v.props), len(v.reads)
	v.mu.Unlock()
	m.QueueDepth("proposals", props)
	m.QueueDepth("reads", reads)
}

// takeQueued hands the driver what other goroutines queued.
func (v *vrReplicator) takeQueued() {
	v.mu.Lock()
	props, reads, snaps := v.props, v.reads, v.snaps
	v.props, v.reads, v.snaps, v.propBytes = nil, nil, nil, 0
	v.mu.Unlock()
	v.retry = false
	for i, cmd := range props {
		err := v.d.Propose(cmd)
		if errors.Is(err, consensus.ErrProposalDropped) {
			// The queue is full: keep the rest for the next round.
			v.mu.Lock()
			v.props = append(props[i:], v.props...)
			for _, c := range props[i:] {
				v.propBytes += len(c)
			}
			v.mu.Unlock()
			v.retry = true
			break
		}
		if err != nil {
			// Never put back what can never be taken (a command over the
			// size limit): it would hold up every write behind it.
			v.log.Warn("dropped a proposal", "bytes", len(cmd), "error", err)
		}
	}
	for _, done := range reads {
		v.d.Read(func(op uint64, ok bool) { done(int64(op), ok) })
	}
	for _, s := range snaps {
		v.d.SnapshotTaken(s)
	}
}

// Apply is the driver's Applier: it hands committed entries (and a peer's
// snapshot) to the apply goroutine.
func (v *vrReplicator) Apply(b driver.Batch) error {
	ab := applyBatch{install: b.Install, entries: make([]Entry, len(b.Entries))}
	if b.Install {
		ab.snapOp, ab.snapView = int64(b.SnapOp), b.SnapView
	}
	for i, e := range b.Entries {
		ab.entries[i] = Entry{Zxid: int64(e.Op), View: e.View, Cmd: e.Cmd}
	}
	select {
	case v.out <- ab:
		return nil
	case <-v.stop:
		return errStopped
	}
}

// Send is the driver's Transport.
func (v *vrReplicator) Send(to uint64, frame []byte) error { return v.tr.Send(to, frame) }

// setRole publishes the role a soft state implies.
func (v *vrReplicator) setRole(ss consensus.SoftState) {
	role := RoleNone
	switch {
	case ss.Status != consensus.StatusNormal, ss.PrimarySilent:
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
