package storage

import (
	"fmt"
)

// TruncatePrefix declares the entries below op no longer needed (a durable
// snapshot covers them) and deletes every whole segment that holds only
// such entries. Entries below op in the remaining segments stay readable
// and are returned again by the next OpenWAL. Segments are removed oldest
// first, each removal made durable before the next, so a crash leaves the
// log a contiguous run of segments. The active segment is never removed.
func (w *WAL) TruncatePrefix(op uint64) error {
	w.gcMu.Lock()
	defer w.gcMu.Unlock()
	w.mu.Lock()
	if err := w.usableLocked(); err != nil {
		w.mu.Unlock()
		return err
	}
	// Segment i may go if segment i+1 exists and begins at or below op:
	// every live entry of segment i is below segment i+1's firstOp.
	drop := 0
	for drop+1 < len(w.segs) && w.segs[drop+1].firstOp != 0 && w.segs[drop+1].firstOp <= op {
		drop++
	}
	if drop == 0 {
		w.mu.Unlock()
		return nil
	}
	victims := append([]*segment(nil), w.segs[:drop]...)
	w.segs = append([]*segment(nil), w.segs[drop:]...)
	lastGone := victims[drop-1].seq
	k := 0
	for k < len(w.index) && w.index[k].seg <= lastGone {
		k++
	}
	w.index = w.index[k:]
	w.indexFirst += uint64(k)
	w.mu.Unlock()

	// Wait for readers of the victims, then close them.
	w.segMu.Lock()
	for _, s := range victims {
		s.f.Close()
	}
	w.segMu.Unlock()
	for _, s := range victims {
		err := w.fs.Remove(s.path)
		if err == nil {
			err = w.fs.SyncDir(w.dir)
		}
		if err != nil {
			w.mu.Lock()
			defer w.mu.Unlock()
			return w.failLocked(fmt.Errorf("wal: remove truncated segment %s: %w", s.path, err))
		}
	}
	return nil
}
