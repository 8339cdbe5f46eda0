package storage

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/vrkeeper/vrkeeper/storage/vfs"
)

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
