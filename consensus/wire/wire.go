// Package wire is the byte encoding of the consensus messages between
// replicas: one transport frame per message. The server's peer transport
// and the simulator both use it, so every simulated message crosses the
// same encoder and decoder production runs.
package wire

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/vrkeeper/vrkeeper/consensus"
)

// The replication messages travel as one transport frame each:
//
//	byte     message type (msg* below)
//	uint64   epoch, uint64 view (every message's header)
//	...      the type's fields, big-endian; entry runs as
//	         uint32 count, count × (uint64 op, uint64 view, uint32 n, n bytes);
//	         a message carrying a log suffix (DoViewChange, StartView,
//	         NewState, RecoveryResponse) has the suffix's uint64 bytes and
//	         uint64 fingerprint before its entries, which may be one part of
//	         the suffix (see consensus/parts.go);
//	         a snapshot as byte present, then uint64 op, uint64 view (a
//	         reference: the content travels apart, see SnapshotRef)
//
// The sender and receiver are the transport link's ends, not part of the
// frame. Decoding checks every count and length against the bytes left, and
// the entries' commands alias the frame, which the decoder copies once.

const (
	msgPrepare byte = iota + 1
	msgPrepareOk
	msgCommit
	msgCommitOk
	msgStartViewChange
	msgDoViewChange
	msgStartView
	msgGetState
	msgNewState
	msgRecovery
	msgRecoveryResponse
	msgForward
	msgReadIndexRequest
	msgReadIndexResponse
	msgPreViewChange
	msgPreViewChangeOk
)

// ErrMalformed is returned for a frame that is not a well-formed message.
var ErrMalformed = errors.New("wire: malformed replication message")

// SnapshotRef is a snapshot named in a message received from a peer: the
// Data of its consensus.Snapshot. A message never carries a snapshot's
// content: the receiver fetches the body from the sender in chunks, beside
// the replica's loop (package bridge/transfer), before the message reaches
// its consensus core.
type SnapshotRef struct {
	Op, View uint64
}

// EntriesOf returns the log entries a message carries (nil for the types
// that carry none).
func EntriesOf(m consensus.Message) []consensus.Entry {
	switch m := m.(type) {
	case *consensus.Prepare:
		return m.Entries
	case *consensus.DoViewChange:
		return m.Entries
	case *consensus.StartView:
		return m.Entries
	case *consensus.NewState:
		return m.Entries
	case *consensus.RecoveryResponse:
		return m.Entries
	}
	return nil
}

// Size returns about the bytes m's frame takes (its entries' commands and
// fixed fields), so a caller can allocate once for a large message.
func Size(m consensus.Message) int {
	n := 128
	if f, ok := m.(*consensus.Forward); ok {
		for _, c := range f.Cmds {
			n += 4 + len(c)
		}
		return n
	}
	for _, e := range EntriesOf(m) {
		n += 20 + len(e.Cmd)
	}
	return n
}

// Encode appends m's frame to dst.
func Encode(dst []byte, m consensus.Message) ([]byte, error) {
	u64 := func(v uint64) { dst = binary.BigEndian.AppendUint64(dst, v) }
	hdr := func(t byte, h *consensus.Header) {
		dst = append(dst, t)
		u64(h.Epoch)
		u64(h.View)
	}
	entries := func(es []consensus.Entry) {
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(es)))
		for i := range es {
			u64(es[i].Op)
			u64(es[i].View)
			dst = binary.BigEndian.AppendUint32(dst, uint32(len(es[i].Cmd)))
			dst = append(dst, es[i].Cmd...)
		}
	}
	snap := func(s *consensus.Snapshot) error {
		if s == nil {
			dst = append(dst, 0)
			return nil
		}
		dst = append(dst, 1)
		u64(s.Op)
		u64(s.View)
		return nil
	}
	boolean := func(v bool) {
		if v {
			dst = append(dst, 1)
		} else {
			dst = append(dst, 0)
		}
	}
	switch m := m.(type) {
	case *consensus.Prepare:
		hdr(msgPrepare, &m.Header)
		u64(m.After)
		u64(m.Commit)
		u64(m.GlobalMinAccept)
		u64(m.ReadRound)
		u64(m.Lease.Req)
		u64(m.Lease.Nanos)
		entries(m.Entries)
	case *consensus.PrepareOk:
		hdr(msgPrepareOk, &m.Header)
		u64(m.Op)
		boolean(m.Gap)
		u64(m.ReadRound)
		u64(m.LeaseReq)
		u64(m.Promise)
	case *consensus.Commit:
		hdr(msgCommit, &m.Header)
		u64(m.Commit)
		u64(m.GlobalMinAccept)
		u64(m.ReadRound)
		u64(m.Lease.Req)
		u64(m.Lease.Nanos)
	case *consensus.CommitOk:
		hdr(msgCommitOk, &m.Header)
		u64(m.Op)
		u64(m.Commit)
		u64(m.ReadRound)
		u64(m.LeaseReq)
		u64(m.Promise)
	case *consensus.StartViewChange:
		hdr(msgStartViewChange, &m.Header)
	case *consensus.DoViewChange:
		hdr(msgDoViewChange, &m.Header)
		u64(m.LastNormalView)
		u64(m.Op)
		u64(m.Commit)
		u64(m.GlobalMinAccept)
		u64(m.After)
		u64(m.AfterView)
		u64(m.Bytes)
		u64(m.Sum)
		entries(m.Entries)
	case *consensus.StartView:
		hdr(msgStartView, &m.Header)
		u64(m.Op)
		u64(m.Commit)
		u64(m.GlobalMinAccept)
		u64(m.After)
		u64(m.AfterView)
		u64(m.Bytes)
		u64(m.Sum)
		entries(m.Entries)
	case *consensus.GetState:
		hdr(msgGetState, &m.Header)
		u64(m.Op)
		u64(m.LastNormalView)
	case *consensus.NewState:
		hdr(msgNewState, &m.Header)
		if err := snap(m.Snapshot); err != nil {
			return nil, err
		}
		u64(m.Op)
		u64(m.Commit)
		u64(m.GlobalMinAccept)
		u64(m.After)
		u64(m.AfterView)
		u64(m.Bytes)
		u64(m.Sum)
		entries(m.Entries)
	case *consensus.Recovery:
		hdr(msgRecovery, &m.Header)
		u64(m.Nonce)
		u64(m.Cluster)
	case *consensus.RecoveryResponse:
		hdr(msgRecoveryResponse, &m.Header)
		u64(m.Nonce)
		u64(m.Cluster)
		var flags byte
		for i, on := range []bool{m.Primary, m.Blank, m.Normal, m.Pristine, m.Seed} {
			if on {
				flags |= 1 << i
			}
		}
		dst = append(dst, flags)
		if err := snap(m.Snapshot); err != nil {
			return nil, err
		}
		u64(m.Op)
		u64(m.Commit)
		u64(m.GlobalMinAccept)
		u64(m.After)
		u64(m.Bytes)
		u64(m.Sum)
		entries(m.Entries)
	case *consensus.Forward:
		hdr(msgForward, &m.Header)
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(m.Cmds)))
		for _, c := range m.Cmds {
			dst = binary.BigEndian.AppendUint32(dst, uint32(len(c)))
			dst = append(dst, c...)
		}
	case *consensus.PreViewChange:
		hdr(msgPreViewChange, &m.Header)
	case *consensus.PreViewChangeOk:
		hdr(msgPreViewChangeOk, &m.Header)
	case *consensus.ReadIndexRequest:
		hdr(msgReadIndexRequest, &m.Header)
		u64(m.Session)
		u64(m.Seq)
	case *consensus.ReadIndexResponse:
		hdr(msgReadIndexResponse, &m.Header)
		u64(m.Session)
		u64(m.Seq)
		u64(m.Op)
	default:
		return nil, fmt.Errorf("wire: cannot encode %T", m)
	}
	return dst, nil
}

// wireReader decodes a frame with sticky errors and bounds checks.
type wireReader struct {
	b   []byte
	err error
}

func (r *wireReader) take(n int) []byte {
	if r.err != nil || n < 0 || n > len(r.b) {
		r.err = ErrMalformed
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *wireReader) u64() uint64 {
	if v := r.take(8); v != nil {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

func (r *wireReader) u32() uint32 {
	if v := r.take(4); v != nil {
		return binary.BigEndian.Uint32(v)
	}
	return 0
}

func (r *wireReader) boolean() bool {
	v := r.take(1)
	return v != nil && v[0] != 0
}

// minEntrySize is the smallest encoding of one entry.
const minEntrySize = 20

func (r *wireReader) entries() []consensus.Entry {
	n := int(r.u32())
	if r.err != nil || n > len(r.b)/minEntrySize {
		r.err = ErrMalformed
		return nil
	}
	es := make([]consensus.Entry, n)
	for i := range es {
		es[i].Op = r.u64()
		es[i].View = r.u64()
		es[i].Cmd = r.take(int(r.u32()))
	}
	return es
}

func (r *wireReader) snapshot() *consensus.Snapshot {
	if !r.boolean() {
		return nil
	}
	op, view := r.u64(), r.u64()
	return &consensus.Snapshot{Op: op, View: view, Data: SnapshotRef{Op: op, View: view}}
}

// Decode decodes one frame. The message may alias frame, which the
// caller must not reuse.
func Decode(frame []byte) (consensus.Message, error) {
	r := wireReader{b: frame}
	typ := r.take(1)
	var h consensus.Header
	h.Epoch = r.u64()
	h.View = r.u64()
	if r.err != nil {
		return nil, ErrMalformed
	}
	var m consensus.Message
	switch typ[0] {
	case msgPrepare:
		p := &consensus.Prepare{Header: h}
		p.After, p.Commit, p.GlobalMinAccept, p.ReadRound = r.u64(), r.u64(), r.u64(), r.u64()
		p.Lease.Req, p.Lease.Nanos = r.u64(), r.u64()
		p.Entries = r.entries()
		m = p
	case msgPrepareOk:
		p := &consensus.PrepareOk{Header: h}
		p.Op, p.Gap, p.ReadRound, p.LeaseReq, p.Promise = r.u64(), r.boolean(), r.u64(), r.u64(), r.u64()
		m = p
	case msgCommit:
		p := &consensus.Commit{Header: h}
		p.Commit, p.GlobalMinAccept, p.ReadRound = r.u64(), r.u64(), r.u64()
		p.Lease.Req, p.Lease.Nanos = r.u64(), r.u64()
		m = p
	case msgCommitOk:
		p := &consensus.CommitOk{Header: h}
		p.Op, p.Commit, p.ReadRound, p.LeaseReq, p.Promise = r.u64(), r.u64(), r.u64(), r.u64(), r.u64()
		m = p
	case msgStartViewChange:
		m = &consensus.StartViewChange{Header: h}
	case msgDoViewChange:
		p := &consensus.DoViewChange{Header: h}
		p.LastNormalView, p.Op, p.Commit, p.GlobalMinAccept, p.After, p.AfterView = r.u64(), r.u64(), r.u64(), r.u64(), r.u64(), r.u64()
		p.Bytes, p.Sum = r.u64(), r.u64()
		p.Entries = r.entries()
		m = p
	case msgStartView:
		p := &consensus.StartView{Header: h}
		p.Op, p.Commit, p.GlobalMinAccept, p.After, p.AfterView = r.u64(), r.u64(), r.u64(), r.u64(), r.u64()
		p.Bytes, p.Sum = r.u64(), r.u64()
		p.Entries = r.entries()
		m = p
	case msgGetState:
		p := &consensus.GetState{Header: h}
		p.Op, p.LastNormalView = r.u64(), r.u64()
		m = p
	case msgNewState:
		p := &consensus.NewState{Header: h}
		p.Snapshot = r.snapshot()
		p.Op, p.Commit, p.GlobalMinAccept, p.After, p.AfterView = r.u64(), r.u64(), r.u64(), r.u64(), r.u64()
		p.Bytes, p.Sum = r.u64(), r.u64()
		p.Entries = r.entries()
		m = p
	case msgRecovery:
		p := &consensus.Recovery{Header: h}
		p.Nonce, p.Cluster = r.u64(), r.u64()
		m = p
	case msgRecoveryResponse:
		p := &consensus.RecoveryResponse{Header: h}
		p.Nonce, p.Cluster = r.u64(), r.u64()
		if f := r.take(1); f != nil {
			if f[0] >= 1<<5 {
				r.err = ErrMalformed
			}
			p.Primary, p.Blank, p.Normal, p.Pristine, p.Seed = f[0]&1 != 0, f[0]&2 != 0, f[0]&4 != 0, f[0]&8 != 0, f[0]&16 != 0
		}
		p.Snapshot = r.snapshot()
		p.Op, p.Commit, p.GlobalMinAccept, p.After = r.u64(), r.u64(), r.u64(), r.u64()
		p.Bytes, p.Sum = r.u64(), r.u64()
		p.Entries = r.entries()
		m = p
	case msgForward:
		p := &consensus.Forward{Header: h}
		n := int(r.u32())
		if r.err == nil && n > len(r.b)/4 {
			r.err = ErrMalformed
		}
		if r.err == nil {
			p.Cmds = make([][]byte, n)
			for i := range p.Cmds {
				p.Cmds[i] = r.take(int(r.u32()))
			}
		}
		m = p
	case msgPreViewChange:
		m = &consensus.PreViewChange{Header: h}
	case msgPreViewChangeOk:
		m = &consensus.PreViewChangeOk{Header: h}
	case msgReadIndexRequest:
		p := &consensus.ReadIndexRequest{Header: h}
		p.Session, p.Seq = r.u64(), r.u64()
		m = p
	case msgReadIndexResponse:
		p := &consensus.ReadIndexResponse{Header: h}
		p.Session, p.Seq, p.Op = r.u64(), r.u64(), r.u64()
		m = p
	default:
		return nil, fmt.Errorf("%w: type %d", ErrMalformed, typ[0])
	}
	if r.err != nil {
		return nil, fmt.Errorf("%w: %T", ErrMalformed, m)
	}
	if len(r.b) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after %T", ErrMalformed, len(r.b), m)
	}
	return m, nil
}
