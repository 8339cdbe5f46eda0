package storage

import (
	"encoding/binary"
	"fmt"
)

// ReadEntries returns the durable entries with ops in [lo, hi), read back
// from the segment files and checked against their CRCs. If maxBytes > 0 it
// stops before the entries' size on disk (command bytes plus 28 to 35 bytes
// of framing each) would exceed maxBytes, but always returns at least one
// entry; page through a long range by calling again
// from the last op returned plus one. The entries' Data share freshly
// allocated buffers. It fails with ErrCompacted if lo is below the first
// retained entry, and with ErrNotDurable if hi-1 is beyond the last durable
// one. It may run concurrently with appends and truncation.
func (w *WAL) ReadEntries(lo, hi uint64, maxBytes int) ([]Entry, error) {
	if hi <= lo {
		return nil, nil
	}
	w.segMu.RLock()
	defer w.segMu.RUnlock()
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil, ErrClosed
	}
	first, n := w.indexFirst, uint64(len(w.index))
	if n > 0 && lo < first {
		w.mu.Unlock()
		return nil, fmt.Errorf("wal: read [%d,%d): first retained entry is %d: %w", lo, hi, first, ErrCompacted)
	}
	if n == 0 || hi > first+n {
		w.mu.Unlock()
		return nil, fmt.Errorf("wal: read [%d,%d): durable entries are [%d,%d): %w", lo, hi, first, first+n, ErrNotDurable)
	}
	locs := w.index[lo-first : hi-first]
	if maxBytes > 0 {
		size, k := 0, 0
		for k < len(locs) && (k == 0 || size+int(locs[k].size) <= maxBytes) {
			size += int(locs[k].size)
			k++
		}
		locs = locs[:k]
	}
	locs = append([]indexEntry(nil), locs...)
	segs := w.segs
	w.mu.Unlock()

	out := make([]Entry, len(locs))
	for _, r := range readRuns(locs) {
		seg := segs[r.seg-segs[0].seq]
		buf := make([]byte, r.end-r.off)
		if _, err := seg.f.ReadAt(buf, r.off); err != nil {
			return nil, fmt.Errorf("wal: read entries from %s at %d: %w", seg.path, r.off, err)
		}
		for i := r.from; i < r.to; i++ {
			l := &locs[i]
			op := lo + uint64(i)
			e, err := decodeEntryFrame(buf[l.off-r.off:l.off-r.off+int64(l.size)], l.seed)
			if err != nil || e.Op != op || e.View != l.view {
				return nil, corrupt(seg.path, l.off, "entry %d does not read back as written (%v)", op, err)
			}
			out[i] = e
		}
	}
	return out, nil
}

// readRun is one read covering the frames of locs[from:to], all in one
// segment, at [off, end).
type readRun struct {
	seg      uint64
	off, end int64
	from, to int
}

// maxReadGap is the most bytes between two frames (batch seals, markers,
// commit bounds) that one read spans rather than splitting in two.
const maxReadGap = 4 << 10

// readRuns groups the frames of locs into reads.
func readRuns(locs []indexEntry) []readRun {
	var runs []readRun
	for i := range locs {
		l := &locs[i]
		end := l.off + int64(l.size)
		if k := len(runs) - 1; k >= 0 && runs[k].seg == l.seg && l.off >= runs[k].end && l.off-runs[k].end <= maxReadGap {
			runs[k].end, runs[k].to = end, i+1
			continue
		}
		runs = append(runs, readRun{seg: l.seg, off: l.off, end: end, from: i, to: i + 1})
	}
	return runs
}

// decodeEntryFrame checks and decodes one entry frame whose chain seed is
// known.
func decodeEntryFrame(frame []byte, seed uint32) (Entry, error) {
	n, typ, fl, sane := frameAt(frame, 0)
	if !sane || typ != recEntry || fl != len(frame) || n < entryFixedLen {
		return Entry{}, fmt.Errorf("not an entry frame")
	}
	if got, want := binary.LittleEndian.Uint32(frame[8:]), frameCRC(seed, frame, n); got != want {
		return Entry{}, fmt.Errorf("CRC %08x, computed %08x", got, want)
	}
	p := frame[frameHeaderLen : frameHeaderLen+n]
	e := Entry{Op: binary.LittleEndian.Uint64(p), View: binary.LittleEndian.Uint64(p[8:])}
	if n > entryFixedLen {
		e.Data = p[entryFixedLen:n:n]
	}
	return e, nil
}

// DurableView returns the view of the durable entry at op, and false if
// the log holds no durable entry there (never written, not yet durable, or
// truncated away). It reads only the in-memory index.
func (w *WAL) DurableView(op uint64) (uint64, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.index) == 0 || op < w.indexFirst || op-w.indexFirst >= uint64(len(w.index)) {
		return 0, false
	}
	return w.index[op-w.indexFirst].view, true
}
