package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/vrkeeper/vrkeeper/storage/vfs"
)

// replayer rebuilds the live log from the segments, in order.
type replayer struct {
	// entries is the live log so far; idx locates each of its entries.
	entries []Entry
	idx     []indexEntry
	// next is the op the log expects next (0: no position yet).
	next uint64
	// started is set once a segment was replayed (next is then known).
	started bool
	// crc is the chained CRC after the last record replayed.
	crc uint32
	// committed is the highest commit bound seen; accepted the highest
	// accepted bound.
	committed, accepted uint64
	// batchNo is the highest batch number seen.
	batchNo uint64
	// arena holds copies of the entries' command bytes.
	arena arena
}

// recover reads the log directory and rebuilds the WAL's state.
func (w *WAL) recover() (*Recovered, error) {
	names, err := w.fs.ReadDir(w.dir)
	if err != nil {
		return nil, fmt.Errorf("wal: list %s: %w", w.dir, err)
	}
	var segNames []string
	removed := false
	for _, name := range names {
		switch {
		case strings.HasSuffix(name, segmentSuffix+tmpSuffix), strings.HasSuffix(name, tornSuffix+tmpSuffix):
			// A segment (or torn copy) whose creation a crash interrupted.
			if err := w.fs.Remove(filepath.Join(w.dir, name)); err != nil {
				return nil, fmt.Errorf("wal: remove leftover %s: %w", name, err)
			}
			removed = true
		case strings.HasSuffix(name, segmentSuffix):
			if _, _, ok := parseSegmentName(name); !ok {
				return nil, corrupt(filepath.Join(w.dir, name), 0, "not a segment name")
			}
			segNames = append(segNames, name)
		}
	}
	if removed {
		if err := w.fs.SyncDir(w.dir); err != nil {
			return nil, fmt.Errorf("wal: sync %s: %w", w.dir, err)
		}
	}
	if len(segNames) == 0 {
		seg, err := createSegment(w.fs, w.dir, segmentHeader{seq: 1}, w.opts.SegmentSize, w.opts.Preallocate)
		if err != nil {
			return nil, err
		}
		w.segs = []*segment{seg}
		w.active, w.writeOff = seg, segmentFrameLen
		return &Recovered{}, nil
	}
	r := &replayer{}
	var rec Recovered
	var buf []byte
	for i, name := range segNames {
		seq, firstOp, _ := parseSegmentName(name)
		path := filepath.Join(w.dir, name)
		if i > 0 && seq != w.segs[i-1].seq+1 {
			return nil, corrupt(path, 0, "segment %d missing before it", w.segs[i-1].seq+1)
		}
		f, err := w.fs.OpenFile(path)
		if err != nil {
			return nil, fmt.Errorf("wal: open segment %s: %w", path, err)
		}
		seg := &segment{seq: seq, firstOp: firstOp, path: path, f: f}
		w.segs = append(w.segs, seg)
		if buf, err = readWhole(f, buf); err != nil {
			return nil, fmt.Errorf("wal: read segment %s: %w", path, err)
		}
		last := i == len(segNames)-1
		end, torn, err := r.replaySegment(seg, buf, last)
		if err != nil {
			return nil, err
		}
		if torn != nil {
			if rec.Torn, err = w.cutTornTail(seg, buf, torn); err != nil {
				return nil, err
			}
		}
		if last {
			w.active, w.writeOff = seg, int64(end)
		}
	}
	w.chainCRC, w.batchNo = r.crc, r.batchNo
	w.nextOp, w.durableNext = r.next, r.next
	w.durable = Mark{LastOp: lastOpOf(r.next)}
	w.index = r.idx
	if len(r.entries) > 0 {
		w.indexFirst = r.entries[0].Op
	}
	w.committedWritten, w.acceptBoundWritten = r.committed, r.accepted
	rec.Entries, rec.NextOp, rec.Committed, rec.Accepted = r.entries, r.next, r.committed, r.accepted
	return &rec, nil
}

// readWhole reads f into buf (reusing its capacity) and returns it.
func readWhole(f vfs.File, buf []byte) ([]byte, error) {
	size, err := f.Size()
	if err != nil {
		return buf, err
	}
	if int64(cap(buf)) < size {
		buf = make([]byte, size)
	}
	buf = buf[:size]
	n, err := f.ReadAt(buf, 0)
	if err != nil && !(errors.Is(err, io.EOF) && int64(n) == size) {
		return buf, err
	}
	return buf, nil
}

// tornRegion is a torn final write: [start, end) of the last segment.
type tornRegion struct {
	start, end int
}

// replaySegment checks one segment and applies its batches. It returns
// where the valid data ends and, for the last segment, the torn region to
// cut off (if any).
func (r *replayer) replaySegment(seg *segment, data []byte, last bool) (int, *tornRegion, error) {
	if err := r.checkHeader(seg, data); err != nil {
		return 0, nil, err
	}
	off := segmentFrameLen
	for {
		if off+8 > len(data) || binary.LittleEndian.Uint64(data[off:]) == 0 {
			torn, err := checkEnd(seg.path, data, off, last)
			return off, torn, err
		}
		end, crc, fault, ok := validateBatch(data, off, r.crc)
		if !ok {
			torn, err := classifyFault(seg.path, data, off, fault, last)
			return off, torn, err
		}
		if err := r.applyBatch(seg, data, off, end); err != nil {
			return 0, nil, err
		}
		r.crc = crc
		off = end
	}
}

// checkHeader validates a segment's header frame and links its chain.
func (r *replayer) checkHeader(seg *segment, data []byte) error {
	if len(data) < segmentFrameLen {
		return corrupt(seg.path, 0, "file of %d bytes is shorter than a segment header", len(data))
	}
	n, typ, ok := splitLengthWord(binary.LittleEndian.Uint64(data))
	if !ok || typ != recSegment || n != segmentPayloadLen {
		return corrupt(seg.path, 0, "no segment header")
	}
	if got, want := binary.LittleEndian.Uint32(data[8:]), frameCRC(0, data, n); got != want {
		return corrupt(seg.path, 0, "segment header CRC %08x, computed %08x", got, want)
	}
	if !allZero(data[frameHeaderLen+n : segmentFrameLen]) {
		return corrupt(seg.path, frameHeaderLen+int64(n), "non-zero padding")
	}
	p := data[frameHeaderLen:]
	if [8]byte(p[:8]) != segmentMagic {
		return corrupt(seg.path, 0, "bad magic %q", p[:8])
	}
	if v := binary.LittleEndian.Uint32(p[8:]); v != walVersion {
		return corrupt(seg.path, 8, "unknown format version %d", v)
	}
	h := segmentHeader{
		seq:     binary.LittleEndian.Uint64(p[16:]),
		firstOp: binary.LittleEndian.Uint64(p[24:]),
		prevCRC: binary.LittleEndian.Uint32(p[32:]),
	}
	if h.seq != seg.seq || h.firstOp != seg.firstOp {
		return corrupt(seg.path, 0, "header says segment %d first op %d, name says %d and %d",
			h.seq, h.firstOp, seg.seq, seg.firstOp)
	}
	if !r.started {
		r.started, r.crc, r.next = true, h.prevCRC, h.firstOp
		return nil
	}
	if h.prevCRC != r.crc {
		return corrupt(seg.path, 0, "CRC chain broken: header continues from %08x, previous segment ended with %08x",
			h.prevCRC, r.crc)
	}
	if h.firstOp != r.next {
		return corrupt(seg.path, 0, "header says the log continues at op %d, previous segments end before op %d",
			h.firstOp, r.next)
	}
	return nil
}

// applyBatch applies a validated batch's records to the live log.
func (r *replayer) applyBatch(seg *segment, data []byte, off, end int) error {
	r.batchNo = max(r.batchNo, binary.LittleEndian.Uint64(data[off+frameHeaderLen+8:]))
	seed := r.crc
	for pos := off + batchFrameLen; pos < end; {
		n, typ, fl, _ := frameAt(data, pos)
		p := data[pos+frameHeaderLen : pos+frameHeaderLen+n]
		op := binary.LittleEndian.Uint64(p)
		if op == 0 {
			return corrupt(seg.path, int64(pos), "record names op 0")
		}
		switch typ {
		case recSeal:
		case recCommit:
			r.committed = max(r.committed, op)
		case recAccepted:
			r.accepted = max(r.accepted, op)
		case recReplace:
			r.cut(op)
		default:
			if r.next != 0 && op != r.next {
				return corrupt(seg.path, int64(pos), "entry has op %d, the log continues at op %d", op, r.next)
			}
			view := binary.LittleEndian.Uint64(p[8:])
			r.entries = append(r.entries, Entry{Op: op, View: view, Data: r.arena.copy(p[entryFixedLen:])})
			r.idx = append(r.idx, indexEntry{seg: seg.seq, off: int64(pos), view: view, size: uint32(fl), seed: seed})
			r.next = op + 1
		}
		seed = binary.LittleEndian.Uint32(data[pos+8:])
		pos += fl
	}
	return nil
}

// cut drops the entries from op onwards and positions the log at op.
func (r *replayer) cut(op uint64) {
	keep := 0
	if len(r.entries) > 0 && op > r.entries[0].Op && op <= r.next {
		keep = int(op - r.entries[0].Op)
	}
	clear(r.entries[keep:])
	r.entries, r.idx = r.entries[:keep], r.idx[:keep]
	r.next = op
}
