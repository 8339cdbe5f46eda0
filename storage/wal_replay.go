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
	// committed is the highest commit bound seen.
	committed uint64
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
	w.committedWritten = r.committed
	rec.Entries, rec.NextOp, rec.Committed = r.entries, r.next, r.committed
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

// batchFault describes where and why a batch failed validation.
type batchFault struct {
	// at is the offset of the failing frame.
	at int
	// tearFrom and tearTo bound the bytes whose loss in a crash would
	// explain the failure: the length word for an implausible one, the
	// length word, CRC and payload for a CRC mismatch. An empty range means
	// no crash explains the failure (non-zero padding, a consistent but
	// wrong batch).
	tearFrom, tearTo int
	// batchEnd is the batch's end per its marker, or -1 if the marker
	// itself failed.
	batchEnd int
	// pastEOF is set if the failing frame runs past the end of the file.
	pastEOF bool
	// reason says what failed.
	reason string
}

// batchChecker validates one batch; its methods build faults.
type batchChecker struct {
	data     []byte
	batchEnd int
}

// lengthFault is a failure of the length word at pos.
func (c batchChecker) lengthFault(pos int, format string, args ...any) batchFault {
	return batchFault{at: pos, tearFrom: pos, tearTo: pos + 8, batchEnd: c.batchEnd, reason: fmt.Sprintf(format, args...)}
}

// crcFault is a CRC mismatch of the frame at pos with an n-byte payload.
func (c batchChecker) crcFault(pos, n int, format string, args ...any) batchFault {
	return batchFault{at: pos, tearFrom: pos, tearTo: pos + frameHeaderLen + n, batchEnd: c.batchEnd, reason: fmt.Sprintf(format, args...)}
}

// badFault is a failure no crash explains.
func (c batchChecker) badFault(pos int, format string, args ...any) batchFault {
	return batchFault{at: pos, batchEnd: c.batchEnd, reason: fmt.Sprintf(format, args...)}
}

// eofFault is a frame at pos cut by the end of the file.
func (c batchChecker) eofFault(pos int, what string) batchFault {
	return batchFault{at: pos, batchEnd: c.batchEnd, pastEOF: true, reason: what + " runs past the end of the file"}
}

// validateBatch checks the batch starting at off: its marker, then every
// frame's structure and chained CRC from seed, ending with the seal. It
// returns the batch's end and the CRC after its last frame.
func validateBatch(data []byte, off int, seed uint32) (int, uint32, batchFault, bool) {
	c := batchChecker{data: data, batchEnd: -1}
	fail := func(f batchFault) (int, uint32, batchFault, bool) { return 0, 0, f, false }
	if off+batchFrameLen > len(data) {
		return fail(c.eofFault(off, "batch marker"))
	}
	n, typ, _, sane := frameAt(data, off)
	if !sane || typ != recBatch || n != batchPayloadLen {
		return fail(c.lengthFault(off, "no batch marker where a batch begins"))
	}
	if got, want := binary.LittleEndian.Uint32(data[off+8:]), frameCRC(0, data[off:], n); got != want {
		return fail(c.crcFault(off, n, "batch marker CRC %08x, computed %08x", got, want))
	}
	if !allZero(data[off+frameHeaderLen+n : off+batchFrameLen]) {
		return fail(c.badFault(off, "non-zero padding"))
	}
	p := data[off+frameHeaderLen:]
	length, number, records := binary.LittleEndian.Uint64(p), binary.LittleEndian.Uint64(p[8:]), binary.LittleEndian.Uint32(p[16:])
	if length < batchFrameLen || length%frameAlign != 0 || length > maxPayload || binary.LittleEndian.Uint32(p[20:]) != 0 {
		return fail(c.badFault(off, "batch marker has length %d", length))
	}
	end := off + int(length)
	c.batchEnd = end
	crc := seed
	count := uint32(0)
	sealed := false
	for pos := off + batchFrameLen; pos < end; {
		if pos+8 > len(data) {
			return fail(c.eofFault(pos, "length word"))
		}
		n, typ, fl, sane := frameAt(data, pos)
		switch {
		case !sane:
			return fail(c.lengthFault(pos, "invalid length word"))
		case pos+fl > end:
			return fail(c.lengthFault(pos, "record of %d bytes runs past its batch's end %d", fl, end))
		case sealed || (typ != recEntry && typ != recReplace && typ != recCommit && typ != recSeal):
			return fail(c.lengthFault(pos, "record type %d inside a batch", typ))
		case (typ == recEntry && n < entryFixedLen) || (typ != recEntry && n != replacePayloadLen):
			return fail(c.lengthFault(pos, "record of type %d has %d payload bytes", typ, n))
		case pos+fl > len(data):
			return fail(c.eofFault(pos, "record"))
		}
		got, want := binary.LittleEndian.Uint32(data[pos+8:]), frameCRC(crc, data[pos:], n)
		if got != want {
			return fail(c.crcFault(pos, n, "record CRC %08x, computed %08x", got, want))
		}
		if !allZero(data[pos+frameHeaderLen+n : pos+fl]) {
			return fail(c.badFault(pos, "non-zero padding"))
		}
		if typ == recSeal {
			if got := binary.LittleEndian.Uint64(data[pos+frameHeaderLen:]); got != number {
				return fail(c.badFault(pos, "seal of batch %d closes batch %d", got, number))
			}
			sealed = true
		}
		crc = got
		count++
		pos += fl
	}
	if !sealed || count != records {
		return fail(c.badFault(off, "batch marker says %d records, batch holds %d (sealed: %v)", records, count, sealed))
	}
	return end, crc, batchFault{}, true
}

// frameAt parses the length word at off. sane is false if the word does
// not fit, has reserved bits set, an unknown type or an absurd length.
func frameAt(data []byte, off int) (n int, typ uint8, fl int, sane bool) {
	if off+8 > len(data) {
		return 0, 0, 0, false
	}
	n, typ, ok := splitLengthWord(binary.LittleEndian.Uint64(data[off:]))
	if !ok || typ < recSegment || typ > recSeal || n > maxPayload {
		return 0, 0, 0, false
	}
	return n, typ, frameLen(n), true
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

// checkEnd handles the end of a segment's data at off (an all-zero length
// word or the end of the file). Bytes after it must be zero, except in the
// last segment, where they can only be a torn write whose first sector was
// lost, which is cut off.
func checkEnd(path string, data []byte, off int, last bool) (*tornRegion, error) {
	nz := lastNonZero(data, off)
	if nz < 0 {
		return nil, nil
	}
	if !last {
		return nil, corrupt(path, int64(off), "data after the end of a completed segment")
	}
	// The sector holding off was not written (its part from off on is zero)
	// unless a marker is there; a persisted sector with a zero marker would
	// be corruption, not a crash. A length word cut by the end of the file
	// is a write whose size did not persist.
	if off+8 <= len(data) && !allZero(data[off:min(sectorEnd(off), len(data))]) {
		return nil, corrupt(path, int64(off), "zero length word inside a written sector")
	}
	return &tornRegion{start: off, end: nz + 1}, nil
}

// classifyFault decides whether a batch that failed validation at off is
// the torn final write of the last segment (returned as the region to cut)
// or corruption (returned as an error).
//
// A crash can only leave the last write partly persisted, sector by sector:
// each of its sectors holds either what was written or the zeros that were
// there before. So the fault is a torn write only if (1) the segment is the
// last, (2) nothing was written after the batch (had it been, this batch
// was synced first), and (3) the failing frame's checked bytes run past the
// end of the file or overlap a sector whose bytes within the batch are all
// zero. A batch's first sector holds its marker and its last its seal, both
// non-zero, so only a sector inside the batch holding nothing but zero
// command bytes can look unwritten without being so.
func classifyFault(path string, data []byte, off int, f batchFault, last bool) (*tornRegion, error) {
	if !last {
		return nil, corrupt(path, int64(f.at), "%s", f.reason)
	}
	later := f.batchEnd >= 0 && f.batchEnd < len(data) &&
		!allZero(data[f.batchEnd:min(f.batchEnd+batchFrameLen, len(data))])
	if later {
		return nil, corrupt(path, int64(f.at), "%s (a later write follows at offset %d, so this one had been synced)",
			f.reason, f.batchEnd)
	}
	batchEnd := len(data)
	if f.batchEnd >= 0 {
		batchEnd = min(f.batchEnd, len(data))
	}
	if !f.pastEOF && !hasUnwrittenSector(data, off, batchEnd, f.tearFrom, f.tearTo) {
		return nil, corrupt(path, int64(f.at), "%s", f.reason)
	}
	return &tornRegion{start: off, end: max(lastNonZero(data, off)+1, off)}, nil
}

// hasUnwrittenSector reports whether some sector overlapping [from, to)
// reads as zero within the batch [batchStart, batchEnd), as a sector of the
// last write that was never persisted does.
func hasUnwrittenSector(data []byte, batchStart, batchEnd, from, to int) bool {
	if from >= to {
		return false
	}
	for s := from - from%vfs.SectorSize; s < to; s += vfs.SectorSize {
		lo, hi := max(s, batchStart), min(s+vfs.SectorSize, batchEnd)
		if lo < hi && allZero(data[lo:hi]) {
			return true
		}
	}
	return false
}

// sectorEnd returns the end of the sector holding off.
func sectorEnd(off int) int { return off - off%vfs.SectorSize + vfs.SectorSize }

// allZero reports whether b holds only zeros.
func allZero(b []byte) bool {
	for len(b) >= 8 {
		if binary.LittleEndian.Uint64(b) != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// lastNonZero returns the offset of the last non-zero byte at or after
// from, or -1.
func lastNonZero(data []byte, from int) int {
	i := len(data)
	for i-8 >= from && binary.LittleEndian.Uint64(data[i-8:]) == 0 {
		i -= 8
	}
	for i > from {
		i--
		if data[i] != 0 {
			return i
		}
	}
	return -1
}

// cutTornTail keeps the torn bytes aside in a file and zeroes them in the
// segment, durably, so the log ends cleanly where the torn write began.
func (w *WAL) cutTornTail(seg *segment, data []byte, t *tornRegion) (*TornTail, error) {
	saved := fmt.Sprintf("%s.%016x%s", seg.path, t.start, tornSuffix)
	tmp := saved + tmpSuffix
	f, err := w.fs.Create(tmp)
	if err != nil {
		return nil, fmt.Errorf("wal: keep torn tail of %s: %w", seg.path, err)
	}
	_, err = f.WriteAt(data[t.start:t.end], 0)
	if err == nil {
		err = f.Sync()
	}
	cerr := f.Close()
	if err = errors.Join(err, cerr); err != nil {
		return nil, fmt.Errorf("wal: keep torn tail of %s in %s: %w", seg.path, tmp, err)
	}
	if err := w.fs.Rename(tmp, saved); err != nil {
		return nil, fmt.Errorf("wal: keep torn tail of %s: %w", seg.path, err)
	}
	if err := w.fs.SyncDir(w.dir); err != nil {
		return nil, fmt.Errorf("wal: sync %s: %w", w.dir, err)
	}
	if _, err := seg.f.WriteAt(make([]byte, t.end-t.start), int64(t.start)); err != nil {
		return nil, fmt.Errorf("wal: zero torn tail of %s at %d: %w", seg.path, t.start, err)
	}
	if err := seg.f.Sync(); err != nil {
		return nil, fmt.Errorf("wal: sync %s: %w", seg.path, err)
	}
	clear(data[t.start:t.end])
	return &TornTail{Segment: seg.path, Offset: int64(t.start), Length: int64(t.end - t.start), SavedAs: saved}, nil
}

// arena copies command bytes into large shared chunks, so recovery does
// not allocate per entry. Chunks double from arenaMinChunk to
// arenaMaxChunk, so a small log costs little.
type arena struct {
	chunk []byte
}

const (
	arenaMinChunk = 64 << 10
	arenaMaxChunk = 4 << 20
)

// copy returns a copy of b (nil if b is empty).
func (a *arena) copy(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	if len(b) > arenaMaxChunk/8 {
		return append([]byte(nil), b...)
	}
	if cap(a.chunk)-len(a.chunk) < len(b) {
		size := min(max(2*cap(a.chunk), arenaMinChunk), arenaMaxChunk)
		a.chunk = make([]byte, 0, max(size, len(b)))
	}
	start := len(a.chunk)
	a.chunk = append(a.chunk, b...)
	return a.chunk[start:len(a.chunk):len(a.chunk)]
}
