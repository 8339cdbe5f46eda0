package storage

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/vrkeeper/vrkeeper/storage/vfs"
)

// runSyncer is the group-commit loop: take the pending batch, write it with
// one call, fdatasync, publish. It exits on Close (after draining) or on
// the first failure.
func (w *WAL) runSyncer() {
	defer close(w.syncerEnd)
	for {
		w.mu.Lock()
		for w.pendingRecords == 0 && !w.closing && w.stop.err == nil {
			w.work.Wait()
		}
		if w.stop.err != nil || w.pendingRecords == 0 {
			w.mu.Unlock()
			return
		}
		w.syncTakenLocked()
		w.mu.Unlock()
	}
}

// SyncPending writes and syncs the pending batch now, on the caller's
// goroutine, and returns the log's failure if that (or an earlier write)
// failed. It is how a log opened with WALOptions.ManualSync becomes
// durable; with a syncer running it only waits for what is accepted.
func (w *WAL) SyncPending() error {
	if !w.opts.ManualSync {
		return w.Sync()
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stop.err != nil {
		return w.stop.err
	}
	if w.pendingRecords > 0 {
		w.syncTakenLocked()
	}
	return w.stop.err
}

// syncTakenLocked takes the pending batch, makes it durable (releasing mu
// while it writes and syncs) and publishes the new mark. mu is held on
// entry and on return.
func (w *WAL) syncTakenLocked() {
	batch, records, committed, accepted := w.pending, w.pendingRecords, w.committed, w.acceptBound
	mark := Mark{Seq: w.accepted, LastOp: lastOpOf(w.nextOp)}
	next := w.nextOp
	w.inflightSeq = w.accepted
	w.taken++
	w.pending, w.pendingRecords = w.spare[:batchFrameLen], 0
	w.room.Broadcast()
	w.mu.Unlock()

	if committed > w.committedWritten {
		batch = appendCommit(batch, committed)
		records++
	}
	if accepted > w.acceptBoundWritten {
		batch = appendAccepted(batch, accepted)
		records++
	}
	batch, err := w.writeBatch(batch, records)
	if err == nil {
		w.committedWritten = max(w.committedWritten, committed)
		w.acceptBoundWritten = max(w.acceptBoundWritten, accepted)
	}

	w.mu.Lock()
	if err != nil {
		w.failLocked(err)
	} else {
		w.applyUpdatesLocked()
		w.durable, w.durableNext = mark, next
	}
	w.done[w.taken%2].Broadcast()
	w.inflightSeq = 0
	if cap(batch) <= 2*w.opts.MaxBatchBytes {
		w.spare = batch[:0]
	} else {
		// One oversized mutation grew it; do not keep that memory.
		w.spare = make([]byte, 0, 64<<10)
	}
	// A token also on failure, so a driver waiting on Notify wakes and
	// finds Err set.
	select {
	case w.notify <- struct{}{}:
	default:
	}
}

// lastOpOf returns the last op of a log whose next op is next.
func lastOpOf(next uint64) uint64 {
	if next == 0 {
		return 0
	}
	return next - 1
}

// writeBatch makes one batch durable: it seals the batch, rolls to a new
// segment if the batch does not fit, fills in the marker and the chained
// CRCs, writes the batch with one call and syncs it. It records the index
// changes in w.updates for applyUpdatesLocked, and returns the batch
// buffer (which sealing may have grown).
func (w *WAL) writeBatch(batch []byte, records int) ([]byte, error) {
	w.batchNo++
	batch = appendSeal(batch, w.batchNo)
	records++
	if w.writeOff > segmentFrameLen && w.writeOff+int64(len(batch)) > w.opts.SegmentSize {
		if err := w.roll(); err != nil {
			return batch, err
		}
	}
	putBatchMarker(batch[:batchFrameLen], batchMarker{
		length: uint64(len(batch)), number: w.batchNo, records: uint32(records),
	})
	w.updates = w.updates[:0]
	crc := w.chainCRC
	for off := batchFrameLen; off < len(batch); {
		f := batch[off:]
		n, typ, _ := splitLengthWord(binary.LittleEndian.Uint64(f))
		fl := frameLen(n)
		seed := crc
		crc = frameCRC(seed, f, n)
		binary.LittleEndian.PutUint32(f[8:], crc)
		p := f[frameHeaderLen:]
		op := binary.LittleEndian.Uint64(p)
		switch typ {
		case recReplace:
			w.updates = append(w.updates, indexUpdate{cut: true, op: op})
		case recEntry:
			w.updates = append(w.updates, indexUpdate{op: op, entry: indexEntry{
				seg: w.active.seq, off: w.writeOff + int64(off),
				view: binary.LittleEndian.Uint64(p[8:]), size: uint32(fl), seed: seed}})
		}
		off += fl
	}
	if _, err := w.active.f.WriteAt(batch, w.writeOff); err != nil {
		return batch, fmt.Errorf("wal: write %d bytes at %s offset %d: %w", len(batch), w.active.path, w.writeOff, err)
	}
	began := time.Now()
	if err := w.active.f.Sync(); err != nil {
		return batch, fmt.Errorf("wal: sync %s: %w", w.active.path, err)
	}
	if w.opts.OnSync != nil {
		entries := 0
		for _, u := range w.updates {
			if !u.cut {
				entries++
			}
		}
		w.opts.OnSync(time.Since(began), entries)
	}
	w.writeOff += int64(len(batch))
	w.chainCRC = crc
	return batch, nil
}

// roll closes the active segment for writing and makes the next one. The
// active segment is already durable (every batch is synced before the next
// is written), so the new segment starts a clean chain link.
//
// The new segment's firstOp is the op the durable log expects next, before
// this batch (0 if the log has no position yet): every live entry of the
// earlier segments is below it, and a later cut can only remove entries,
// so that stays true (TruncatePrefix relies on it). Replay checks it.
func (w *WAL) roll() error {
	w.mu.Lock()
	firstOp := w.durableNext
	w.mu.Unlock()
	f, err := w.takeSpare()
	if err != nil {
		return err
	}
	seg, err := installSegment(w.fs, w.dir, f, segmentHeader{
		seq: w.active.seq + 1, firstOp: firstOp, prevCRC: w.chainCRC,
	})
	if err != nil {
		return err
	}
	w.mu.Lock()
	w.segs = append(w.segs, seg)
	w.mu.Unlock()
	w.active = seg
	w.writeOff = segmentFrameLen
	w.prepareSpare()
	return nil
}

// spareResult is a prepared spare segment file, or why there is none.
type spareResult struct {
	f   vfs.File
	err error
}

// prepareSpare starts preparing the next segment's file in the background
// (unless spareInline, where takeSpare makes it when needed).
func (w *WAL) prepareSpare() {
	if w.opts.spareInline {
		return
	}
	w.spareBusy = true
	go func() {
		f, err := makeSpare(w.fs, w.dir, w.opts.SegmentSize, w.opts.Preallocate)
		w.spareC <- spareResult{f, err}
	}()
}

// takeSpare returns the prepared spare, waiting for it if needed.
func (w *WAL) takeSpare() (vfs.File, error) {
	if w.opts.spareInline {
		return makeSpare(w.fs, w.dir, w.opts.SegmentSize, w.opts.Preallocate)
	}
	r := <-w.spareC
	w.spareBusy = false
	return r.f, r.err
}

// applyUpdatesLocked applies the index changes of the batch just made
// durable.
func (w *WAL) applyUpdatesLocked() {
	for i := range w.updates {
		u := &w.updates[i]
		if u.cut {
			w.cutIndexLocked(u.op)
			continue
		}
		if len(w.index) == 0 {
			w.indexFirst = u.op
		}
		if len(w.index) == cap(w.index) {
			// Double (append grows large slices by a quarter, which
			// copies the index too often).
			w.index = append(make([]indexEntry, 0, max(2*cap(w.index), 1024)), w.index...)
		}
		w.index = append(w.index, u.entry)
	}
}

// cutIndexLocked drops the index entries from op onwards.
func (w *WAL) cutIndexLocked(op uint64) {
	switch {
	case len(w.index) == 0:
	case op <= w.indexFirst:
		w.index = w.index[:0]
	case op-w.indexFirst < uint64(len(w.index)):
		w.index = w.index[:op-w.indexFirst]
	case op-w.indexFirst > uint64(len(w.index)):
		// A cut beyond the next op leaves the log empty (state transfer).
		w.index = w.index[:0]
	}
}
