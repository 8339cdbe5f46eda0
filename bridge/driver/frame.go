package driver

import (
	"encoding/binary"
	"fmt"
	"maps"
	"slices"

	"github.com/vrkeeper/vrkeeper/consensus"
	"github.com/vrkeeper/vrkeeper/consensus/wire"
	"github.com/vrkeeper/vrkeeper/storage"
)

// A frame between drivers is the sender's cluster id (uint64, big-endian;
// 0 while it has none) followed by the message's wire encoding. The
// cluster id lets a replica drop whatever a server of another cluster
// sends (a data directory from another cluster, or a server an operator
// failed to wipe after a reseed) before it reaches the consensus core.
const frameHeaderLen = 8

// DecodeFrame splits a frame into the sender's cluster id and its message.
// The message may alias frame.
func DecodeFrame(frame []byte) (cluster uint64, m consensus.Message, err error) {
	if len(frame) < frameHeaderLen {
		return 0, nil, fmt.Errorf("%w: frame of %d bytes", wire.ErrMalformed, len(frame))
	}
	m, err = wire.Decode(frame[frameHeaderLen:])
	return binary.BigEndian.Uint64(frame), m, err
}

// encodeFrame encodes m behind this replica's cluster id.
func (d *Driver) encodeFrame(m consensus.Message) ([]byte, error) {
	dst := binary.BigEndian.AppendUint64(make([]byte, 0, frameHeaderLen+wire.Size(m)), d.r.Info().Cluster)
	return wire.Encode(dst, m)
}

// Deliver hands the replica a message a server of cluster sent (see
// DecodeFrame). A message from another cluster is dropped: only a replica
// without an identity (0) talks to anyone, and only to find one.
func (d *Driver) Deliver(cluster uint64, env consensus.Envelope) {
	if mine := d.r.Info().Cluster; cluster != 0 && mine != 0 && cluster != mine {
		if d.foreignWarned[env.From] != cluster {
			if d.foreignWarned == nil {
				d.foreignWarned = map[consensus.ReplicaID]uint64{}
			}
			d.foreignWarned[env.From] = cluster
			d.log.Error("dropping messages from a server of another cluster: its data directory belongs to another cluster "+
				"(or it was not emptied after a reseed); stop it, move its data aside and start it again to rebuild it",
				"server", d.opts.IDs[env.From], "its_cluster", fmt.Sprintf("%x", cluster), "our_cluster", fmt.Sprintf("%x", mine))
		}
		return
	}
	if snap := namedSnapshot(env.Msg); snap != nil {
		// A recovering replica takes RecoveryResponses and nothing else
		// that names a snapshot, and a replica that is not recovering takes
		// no RecoveryResponse (consensus: onNewState, onRecoveryResponse).
		// The snapshot of a message the core drops is not fetched: fetching
		// it costs a transfer, and storage keeps only the newest snapshots,
		// so it could push out the one that the primary's RecoveryResponse
		// the core keeps names, which recovery must then install.
		_, response := env.Msg.(*consensus.RecoveryResponse)
		if recovering := d.r.SoftState().Status == consensus.StatusRecovering; recovering != response {
			return
		}
		d.takeSnapshotMessage(env, snap)
		return
	}
	d.timeAck(env)
	d.Step(env)
}

// timeAck records the round trip of the newest Prepare a backup
// acknowledged.
func (d *Driver) timeAck(env consensus.Envelope) {
	var op uint64
	switch m := env.Msg.(type) {
	case *consensus.PrepareOk:
		op = m.Op
	case *consensus.CommitOk:
		op = m.Op
	default:
		return
	}
	if p, ok := d.prepared[env.From]; ok && op >= p.op {
		delete(d.prepared, env.From)
		d.opts.Metrics.PrepareAcked(d.opts.IDs[env.From], d.clock().Sub(p.at))
	}
}

// namedSnapshot returns the snapshot a peer's message names, if any.
func namedSnapshot(m consensus.Message) *consensus.Snapshot {
	switch m := m.(type) {
	case *consensus.NewState:
		return m.Snapshot
	case *consensus.RecoveryResponse:
		return m.Snapshot
	}
	return nil
}

// heldParts are the parts of one sender's message waiting for the snapshot
// it names (a NewState or RecoveryResponse travels in parts, each naming
// the snapshot: see consensus/parts.go).
type heldParts struct {
	envs  []consensus.Envelope
	bytes int
}

// maxHeldBytes bounds the parts held per sender (about the size of one
// whole message: consensus MaxRetainedBytes plus uncommitted ops); beyond,
// parts are dropped and the sender's next resend brings them.
const maxHeldBytes = 128 << 20

// sameHeld reports whether m is a part of the message whose parts h holds:
// same type, view, snapshot and last op.
func sameHeld(h heldParts, m consensus.Message) bool {
	if len(h.envs) == 0 {
		return false
	}
	switch a := h.envs[0].Msg.(type) {
	case *consensus.NewState:
		b, ok := m.(*consensus.NewState)
		return ok && a.View == b.View && a.Snapshot.Op == b.Snapshot.Op && a.After == b.After && a.Op == b.Op
	case *consensus.RecoveryResponse:
		b, ok := m.(*consensus.RecoveryResponse)
		return ok && a.View == b.View && a.Nonce == b.Nonce && a.Snapshot.Op == b.Snapshot.Op && a.Op == b.Op
	}
	return false
}

// takeSnapshotMessage hands the core a message that names a snapshot only
// once that snapshot is durable in this replica's store: then the message
// names the local copy. Until then the snapshot is fetched beside the
// replica's loop and the parts of the latest such message of each sender
// are held (the sender repeats it anyway while this replica lags). A
// message naming a newer snapshot than the held one does not replace it
// while that one is still being fetched: the fetch goes on (see
// transfer.Fetch), and only a message naming it can use it when it arrives.
// SnapshotAbandoned lets the next message in.
func (d *Driver) takeSnapshotMessage(env consensus.Envelope, snap *consensus.Snapshot) {
	ref, ok := snap.Data.(wire.SnapshotRef)
	if !ok {
		d.log.Warn("dropping a message that names a snapshot without a reference", "message", env.Msg.String())
		return
	}
	has, err := d.store.Snapshots.Has(ref.Op)
	if err != nil {
		d.log.Error("listing snapshots failed", "error", err)
		return
	}
	if has {
		d.Step(withLocalSnapshot(env, snap))
		return
	}
	if d.held == nil {
		d.held = map[consensus.ReplicaID]heldParts{}
	}
	h := d.held[env.From]
	// A message naming a newer snapshot than the held one is only asked
	// for: the held one stays until its fetch ends.
	if len(h.envs) == 0 || namedSnapshot(h.envs[0].Msg).Op >= ref.Op {
		if !sameHeld(h, env.Msg) {
			h = heldParts{}
		}
		if size := wire.Size(env.Msg); len(h.envs) == 0 || h.bytes+size <= maxHeldBytes {
			h.envs = append(h.envs, env)
			h.bytes += size
		}
		d.held[env.From] = h
	}
	if d.opts.Fetcher == nil {
		d.log.Error("a peer's message needs a snapshot and this replica cannot fetch one", "op", ref.Op)
		return
	}
	d.opts.Fetcher.Fetch(d.opts.IDs[env.From], storage.SnapshotMeta{Op: ref.Op, View: ref.View})
}

// SnapshotFetched tells the driver that the snapshot at meta.Op is now
// durable in the store: the held messages that name it reach the core, and
// those naming an older one are dropped (their senders repeat what still
// matters).
func (d *Driver) SnapshotFetched(meta storage.SnapshotMeta) {
	for _, from := range slices.Sorted(maps.Keys(d.held)) {
		h := d.held[from]
		switch snap := namedSnapshot(h.envs[0].Msg); {
		case snap.Op == meta.Op:
			delete(d.held, from)
			for _, env := range h.envs {
				d.Step(withLocalSnapshot(env, namedSnapshot(env.Msg)))
			}
		case snap.Op < meta.Op:
			delete(d.held, from)
		}
	}
}

// SnapshotAbandoned tells the driver that the fetch of the snapshot at
// meta.Op was given up: the messages held for it are dropped, so that the
// senders' next ones (naming a snapshot that can be fetched) are held.
func (d *Driver) SnapshotAbandoned(meta storage.SnapshotMeta) {
	for _, from := range slices.Sorted(maps.Keys(d.held)) {
		if namedSnapshot(d.held[from].envs[0].Msg).Op == meta.Op {
			delete(d.held, from)
		}
	}
}

// withLocalSnapshot returns env whose message names the local copy of snap
// (messages are shared: the copy is shallow and the original unchanged).
func withLocalSnapshot(env consensus.Envelope, snap *consensus.Snapshot) consensus.Envelope {
	local := &consensus.Snapshot{Op: snap.Op, View: snap.View, Data: LocalSnapshot{Op: snap.Op}}
	switch m := env.Msg.(type) {
	case *consensus.NewState:
		c := *m
		c.Snapshot = local
		env.Msg = &c
	case *consensus.RecoveryResponse:
		c := *m
		c.Snapshot = local
		env.Msg = &c
	}
	return env
}
