package driver

import (
	"encoding/binary"
	"fmt"

	"github.com/vrkeeper/vrkeeper/consensus"
	"github.com/vrkeeper/vrkeeper/consensus/wire"
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
	dst := binary.BigEndian.AppendUint64(make([]byte, 0, 64), d.r.Info().Cluster)
	return wire.Encode(dst, m, d.snapshotBytes)
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
	d.Step(env)
}
