// Package transfer moves snapshots between replicas in chunks, streamed
// from the sender's snapshot file into the receiver's, beside the replica's
// loop: the consensus messages only name a snapshot (wire.SnapshotRef);
// a replica that lacks one fetches it here, and its driver hands the
// message to the core once the snapshot is durable in its own store.
//
// A Transfer is a state machine driven by Handle (a frame from a peer),
// Fetch and Tick; it starts no goroutines and reads no clock, so the
// simulator runs it as the server does (the server on a goroutine of its
// own, so that reading and writing snapshot files never holds up the
// replica's heartbeats).
//
// Flow control: the receiver asks for one chunk at a time, from the offset
// it has durably appended, so at most one chunk per transfer is in flight
// and a lost request or chunk is simply asked for again (a transfer resumes
// where it stopped). The sender serves at most BytesPerTick per tick in
// all, so a catching-up replica cannot starve the healthy ones of disk or
// network. Memory: one chunk buffer per transfer on each side.
package transfer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"maps"
	"slices"

	"github.com/hashicorp/go-hclog"
	"github.com/vrkeeper/vrkeeper/storage"
)

// Frame types: the byte that follows the driver's cluster id in a frame
// (the consensus messages use small numbers; see consensus/wire).
const (
	frameRequest byte = 0xF0
	frameChunk   byte = 0xF1
)

// frameHeader is the sender's cluster id before the type byte.
const frameHeader = 8

// IsFrame reports whether a peer's frame belongs to the transfer (rather
// than to the consensus core).
func IsFrame(frame []byte) bool {
	return len(frame) > frameHeader && (frame[frameHeader] == frameRequest || frame[frameHeader] == frameChunk)
}

// Config configures a Transfer.
type Config struct {
	// Self is this server's id.
	Self uint64
	// Store holds this replica's snapshots.
	Store *storage.SnapshotStore
	// Send hands a frame to the peer transport (it must not block).
	Send func(to uint64, frame []byte)
	// Cluster returns this replica's cluster id, the frames' prefix.
	Cluster func() uint64
	// Fetched is called when a snapshot finished arriving (bytes of body)
	// and is durable in Store.
	Fetched func(meta storage.SnapshotMeta, bytes int64)
	// Abandoned, if set, is called when a fetch is given up before the
	// snapshot arrived (not when the Transfer closes): whoever waits for
	// that snapshot should stop waiting.
	Abandoned func(meta storage.SnapshotMeta)
	// Nonce tells this incarnation's requests from an earlier one's.
	Nonce uint64
	// ChunkBytes is the size of a chunk (default 1 MiB).
	ChunkBytes int
	// BytesPerTick bounds what this server sends per tick, all transfers
	// together (default 2 chunks).
	BytesPerTick int
	// RetryTicks is how long a fetch waits for a chunk before it asks
	// again (default 25).
	RetryTicks int
	// IdleTicks is how long a transfer this server serves may go without
	// a request before its file is closed (default 500).
	IdleTicks int
	// Log is optional.
	Log hclog.Logger
}

// Transfer serves snapshot chunks to peers and fetches snapshots from them.
type Transfer struct {
	cfg     Config
	budget  int
	serving map[uint64]*outgoing // by peer
	fetch   *incoming            // at most one fetch at a time
	seq     uint64               // fetches started
	buf     []byte
}

// outgoing is a snapshot this server streams to one peer.
type outgoing struct {
	op      uint64
	session uint64
	rd      *storage.SnapshotReader
	want    uint64 // offset of the request waiting for budget (valid if waiting)
	waiting bool
	idle    int
}

// incoming is the snapshot this server fetches.
type incoming struct {
	from    uint64
	meta    storage.SnapshotMeta
	session uint64
	part    *storage.SnapshotPart
	idle    int // ticks since the last request
	quiet   int // ticks since the last chunk arrived (or the fetch began)
}

// New makes a Transfer.
func New(cfg Config) *Transfer {
	if cfg.ChunkBytes <= 0 {
		cfg.ChunkBytes = 1 << 20
	}
	if cfg.BytesPerTick <= 0 {
		cfg.BytesPerTick = 2 * cfg.ChunkBytes
	}
	if cfg.RetryTicks <= 0 {
		cfg.RetryTicks = 25
	}
	if cfg.IdleTicks <= 0 {
		cfg.IdleTicks = 500
	}
	if cfg.Log == nil {
		cfg.Log = hclog.NewNullLogger()
	}
	return &Transfer{cfg: cfg, budget: cfg.BytesPerTick, serving: map[uint64]*outgoing{}}
}

// Fetching reports the snapshot being fetched, if any.
func (t *Transfer) Fetching() (storage.SnapshotMeta, bool) {
	if t.fetch == nil {
		return storage.SnapshotMeta{}, false
	}
	return t.fetch.meta, true
}

// Fetch fetches the snapshot meta names from server from, unless it is in
// the store already (then Fetched runs at once) or being fetched.
//
// A fetch under way is kept when a newer snapshot is asked for, as long as
// chunks keep coming from the same source: under steady writes the source
// takes a newer snapshot more often than a large one can travel, and a fetch
// restarted for each would never end (a wiped server would never rejoin).
// The older snapshot still serves: the one who named it repeats its message
// until this replica caught up, and the log after it comes next. A fetch
// from another source (a new primary) or one that stalled gives way.
func (t *Transfer) Fetch(from uint64, meta storage.SnapshotMeta) error {
	if f := t.fetch; f != nil {
		if f.meta.Op >= meta.Op {
			if f.meta.Op == meta.Op && f.from != from {
				f.from = from // the named source may have changed (a new primary)
			}
			return nil
		}
		if f.from == from && f.quiet < t.cfg.RetryTicks {
			return nil
		}
		t.abortFetch("a newer snapshot is wanted and this one stalled or its source changed")
	}
	has, err := t.cfg.Store.Has(meta.Op)
	if err != nil {
		return fmt.Errorf("transfer: %w", err)
	}
	if has {
		t.cfg.Fetched(meta, 0)
		return nil
	}
	part, err := t.cfg.Store.NewPart(meta)
	if err != nil {
		return fmt.Errorf("transfer: %w", err)
	}
	t.seq++
	t.fetch = &incoming{from: from, meta: meta, session: t.cfg.Nonce ^ t.seq, part: part}
	t.cfg.Log.Info("state transfer: fetching a snapshot", "from", from, "op", meta.Op)
	t.request()
	return nil
}

// request asks for the next chunk of the fetch.
func (t *Transfer) request() {
	f := t.fetch
	f.idle = 0
	b := t.header(frameRequest)
	b = binary.BigEndian.AppendUint64(b, f.meta.Op)
	b = binary.BigEndian.AppendUint64(b, uint64(f.part.Size()))
	b = binary.BigEndian.AppendUint64(b, f.session)
	t.cfg.Send(f.from, b)
}

func (t *Transfer) header(typ byte) []byte {
	b := make([]byte, 0, 64)
	b = binary.BigEndian.AppendUint64(b, t.cfg.Cluster())
	return append(b, typ)
}

// abortFetch gives the fetch up.
func (t *Transfer) abortFetch(why string) {
	f := t.fetch
	t.fetch = nil
	t.cfg.Log.Info("gave up fetching a snapshot", "from", f.from, "op", f.meta.Op, "reason", why)
	if err := f.part.Abort(); err != nil {
		t.cfg.Log.Error("discarding a snapshot part failed", "error", err)
	}
	if why != closing && t.cfg.Abandoned != nil {
		t.cfg.Abandoned(f.meta)
	}
}

// closing is abortFetch's reason when the Transfer closes.
const closing = "closing"

// Tick spends the budget of one tick on requests that waited for it, asks
// again for a chunk that did not come, and closes idle transfers.
func (t *Transfer) Tick() {
	t.budget = t.cfg.BytesPerTick
	// In peer order, so that a run is the same every time (the simulator
	// replays seeds); the budget goes round peers as their requests come.
	for _, peer := range slices.Sorted(maps.Keys(t.serving)) {
		o := t.serving[peer]
		if o.waiting {
			t.serve(peer, o)
		}
		if o.idle++; o.idle > t.cfg.IdleTicks {
			o.rd.Close()
			delete(t.serving, peer)
		}
	}
	if f := t.fetch; f != nil {
		f.quiet++
		if f.idle++; f.idle >= t.cfg.RetryTicks {
			t.request()
		}
	}
}

// Close releases every file.
func (t *Transfer) Close() {
	for peer, o := range t.serving {
		o.rd.Close()
		delete(t.serving, peer)
	}
	if t.fetch != nil {
		t.abortFetch(closing)
	}
}

// Handle takes a transfer frame from peer from.
func (t *Transfer) Handle(from uint64, frame []byte) error {
	if !IsFrame(frame) {
		return errMalformed
	}
	p := frame[frameHeader+1:]
	switch frame[frameHeader] {
	case frameRequest:
		if len(p) != 24 {
			return errMalformed
		}
		t.onRequest(from, binary.BigEndian.Uint64(p), binary.BigEndian.Uint64(p[8:]), binary.BigEndian.Uint64(p[16:]))
	case frameChunk:
		c, err := decodeChunk(p)
		if err != nil {
			return err
		}
		t.onChunk(from, c)
	}
	return nil
}

var errMalformed = errors.New("transfer: malformed frame")

// onRequest serves a chunk request, now if the budget allows, else at a
// later tick.
func (t *Transfer) onRequest(from, op, offset, session uint64) {
	o := t.serving[from]
	if o != nil && (o.op != op || o.session != session || uint64(o.rd.Offset()) > offset) {
		o.rd.Close() // another snapshot, a restarted fetch, or a chunk asked for again
		delete(t.serving, from)
		o = nil
	}
	if o == nil {
		rd, err := t.cfg.Store.Open(op)
		if err != nil {
			t.cfg.Log.Debug("a peer asked for a snapshot this server does not have", "peer", from, "op", op, "error", err)
			t.send(from, chunk{op: op, session: session, offset: offset, missing: true})
			return
		}
		o = &outgoing{op: op, session: session, rd: rd}
		t.serving[from] = o
	}
	o.want, o.waiting, o.idle = offset, true, 0
	t.serve(from, o)
}

// serve sends the chunk o waits for if the budget allows.
func (t *Transfer) serve(peer uint64, o *outgoing) {
	if t.budget <= 0 {
		return
	}
	// Skip to the offset asked for (a fetch that resumes after a restart
	// of this side's file, or of the receiver).
	if skip := int64(o.want) - o.rd.Offset(); skip > 0 {
		if _, err := io.CopyN(io.Discard, o.rd, skip); err != nil {
			t.failServe(peer, o, err)
			return
		}
	}
	if cap(t.buf) < t.cfg.ChunkBytes {
		t.buf = make([]byte, t.cfg.ChunkBytes)
	}
	n, err := io.ReadFull(o.rd, t.buf[:t.cfg.ChunkBytes])
	last := errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
	if last {
		// The body ended: read on to have its CRC checked, so a damaged
		// file is never passed on as a whole snapshot.
		if _, cerr := o.rd.Read(make([]byte, 1)); !errors.Is(cerr, io.EOF) {
			t.failServe(peer, o, cerr)
			return
		}
	} else if err != nil {
		t.failServe(peer, o, err)
		return
	}
	o.waiting = false
	t.budget -= n
	t.send(peer, chunk{op: o.op, view: o.rd.Meta.View, session: o.session, offset: o.want, total: uint64(o.rd.Size()),
		data: t.buf[:n], last: last})
	if last {
		o.rd.Close()
		delete(t.serving, peer)
	}
}

func (t *Transfer) failServe(peer uint64, o *outgoing, err error) {
	t.cfg.Log.Error("cannot send a snapshot", "peer", peer, "op", o.op, "error", err)
	o.rd.Close()
	delete(t.serving, peer)
	t.send(peer, chunk{op: o.op, session: o.session, offset: o.want, missing: true})
}

// onChunk appends a chunk of the fetch and asks for the next, or commits
// the snapshot after the last.
func (t *Transfer) onChunk(from uint64, c chunk) {
	f := t.fetch
	if f == nil || c.session != f.session || c.op != f.meta.Op || c.offset != uint64(f.part.Size()) {
		return // stale, or asked for again and already here
	}
	if c.missing {
		t.abortFetch("the source does not have it (any more)")
		return
	}
	f.quiet = 0
	if crc32.Checksum(c.data, castagnoli) != c.crc {
		t.cfg.Log.Warn("a snapshot chunk arrived damaged: asking again", "from", from, "op", c.op, "offset", c.offset)
		t.request()
		return
	}
	if _, err := f.part.Write(c.data); err != nil {
		t.cfg.Log.Error("storing a snapshot chunk failed", "error", err)
		t.fetch = nil
		if t.cfg.Abandoned != nil {
			t.cfg.Abandoned(f.meta)
		}
		return
	}
	if !c.last {
		// Progress of a long transfer, at each tenth.
		if c.total >= 16<<20 {
			done := uint64(f.part.Size())
			if (done-uint64(len(c.data)))*10/c.total != done*10/c.total {
				t.cfg.Log.Info("state transfer in progress", "op", f.meta.Op, "bytes", done, "of", c.total,
					"percent", done*100/c.total)
			}
		}
		t.request()
		return
	}
	t.fetch = nil
	if err := f.part.Commit(); err != nil {
		t.cfg.Log.Error("storing a snapshot failed", "op", f.meta.Op, "error", err)
		if t.cfg.Abandoned != nil {
			t.cfg.Abandoned(f.meta)
		}
		return
	}
	meta := f.meta
	meta.View = c.view
	t.cfg.Fetched(meta, f.part.Size())
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// chunk is a piece of a snapshot's body, or the news that the source does
// not have it.
type chunk struct {
	op, view, session, offset uint64
	total                     uint64 // the body's size
	data                      []byte
	crc                       uint32
	last, missing             bool
}

func (t *Transfer) send(to uint64, c chunk) {
	b := t.header(frameChunk)
	b = binary.BigEndian.AppendUint64(b, c.op)
	b = binary.BigEndian.AppendUint64(b, c.view)
	b = binary.BigEndian.AppendUint64(b, c.session)
	b = binary.BigEndian.AppendUint64(b, c.offset)
	b = binary.BigEndian.AppendUint64(b, c.total)
	var flags byte
	if c.last {
		flags |= 1
	}
	if c.missing {
		flags |= 2
	}
	b = append(b, flags)
	b = binary.BigEndian.AppendUint32(b, crc32.Checksum(c.data, castagnoli))
	b = append(b, c.data...)
	t.cfg.Send(to, b)
}

// chunkHeader is a chunk frame's payload before the data.
const chunkHeader = 45

func decodeChunk(p []byte) (chunk, error) {
	if len(p) < chunkHeader {
		return chunk{}, errMalformed
	}
	c := chunk{op: binary.BigEndian.Uint64(p), view: binary.BigEndian.Uint64(p[8:]),
		session: binary.BigEndian.Uint64(p[16:]), offset: binary.BigEndian.Uint64(p[24:]),
		total: binary.BigEndian.Uint64(p[32:])}
	flags := p[40]
	if flags&^3 != 0 {
		return chunk{}, errMalformed
	}
	c.last, c.missing = flags&1 != 0, flags&2 != 0
	c.crc = binary.BigEndian.Uint32(p[41:])
	c.data = p[chunkHeader:]
	return c, nil
}
