package storage

import (
	"encoding/binary"
	"fmt"
)

// ReadEntries returns the durable entries with ops in [lo, hi), read back
// from the segment files and checked against their CRCs. Their Data share
// one freshly allocated buffer. It fails with ErrCompacted if lo is below
// the first retained entry, and with ErrNotDurable if hi-1 is beyond the
// last durable one. It may run concurrently with appends and truncation.
func (w *WAL) ReadEntries(lo, hi uint64) ([]Entry, error) {
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
	locs := append([]indexEntry(nil), w.index[lo-first:hi-first]...)
	segs := w.segs
	w.mu.Unlock()

	total := 0
	for i := range locs {
		total += int(locs[i].size)
	}
	buf := make([]byte, total)
	out := make([]Entry, len(locs))
	for i := range locs {
		l := &locs[i]
		frame := buf[:l.size]
		buf = buf[l.size:]
		seg := segs[l.seg-segs[0].seq]
		if _, err := seg.f.ReadAt(frame, l.off); err != nil {
			return nil, fmt.Errorf("wal: read entry %d from %s at %d: %w", lo+uint64(i), seg.path, l.off, err)
		}
		e, err := decodeEntryFrame(frame, l.seed)
		if err != nil || e.Op != lo+uint64(i) || e.View != l.view {
			return nil, corrupt(seg.path, l.off, "entry %d does not read back as written (%v)", lo+uint64(i), err)
		}
		out[i] = e
	}
	return out, nil
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
