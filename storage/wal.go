package storage

import (
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"time"

	"github.com/vrkeeper/vrkeeper/storage/vfs"
)

// Entry is one log entry: a command prepared at op-number Op in view View.
// Op 0 is never an entry's op.
type Entry struct {
	// Op is the entry's op-number.
	Op uint64
	// View is the view in which the entry was prepared.
	View uint64
	// Data is the opaque command.
	Data []byte
}

// Mark says how far the log is durable. Mutations (Append and ReplaceFrom
// calls that changed the log) are numbered from 1 in the order they were
// accepted since Open.
type Mark struct {
	// Seq is the number of the last durable mutation: it and every earlier
	// one survive any crash.
	Seq uint64
	// LastOp is the log's last op-number once those mutations are applied
	// (the op before the next one to append; 0 for a log that never had a
	// position).
	LastOp uint64
}

// WALOptions configures a WAL. Zero fields take the defaults.
type WALOptions struct {
	// FS is the file system; default vfs.OS{}.
	FS vfs.FS
	// SegmentSize is the size segments are preallocated to; a segment is
	// closed once the next write would pass it (a single large batch may
	// still overflow it). Default 64 MiB, minimum 4 KiB.
	SegmentSize int64
	// MaxEntrySize bounds an entry's command bytes. Default 16 MiB, at
	// most 256 MiB.
	MaxEntrySize int
	// MaxBatchBytes bounds the bytes waiting for the next group write;
	// appenders block while it is full (a single larger mutation is still
	// taken alone, up to maxMutation). Default 8 MiB, at most 256 MiB.
	MaxBatchBytes int
	// Preallocate says how segment space is reserved; default PreallocZeros.
	Preallocate Prealloc
	// ManualSync runs no syncer goroutine: the pending batch is written and
	// synced only when SyncPending is called (or a WaitDurable needs it),
	// on the caller's goroutine, and the next segment's file is made at the
	// roll that needs it. Every file operation then happens at a point the
	// caller chose, which is what the deterministic simulator needs to
	// crash a replica between sending and persisting. Servers leave it off.
	ManualSync bool
	// OnSync, if set, is called after each group sync with the time the
	// sync took and the entries it made durable (metrics: fsynctime,
	// sync_processor_batch_size). It runs on the syncer's goroutine and must
	// not call the WAL.
	OnSync func(d time.Duration, entries int)

	// spareInline makes the next segment's file at the roll that needs it,
	// on the syncer, instead of ahead of time on a goroutine of its own:
	// slower, but every file operation then happens in a deterministic
	// order, which the crash tests need.
	spareInline bool
}

func (o *WALOptions) setDefaults() {
	if o.FS == nil {
		o.FS = vfs.OS{}
	}
	if o.SegmentSize == 0 {
		o.SegmentSize = 64 << 20
	}
	o.SegmentSize = max(o.SegmentSize, 4<<10)
	if o.MaxEntrySize == 0 {
		o.MaxEntrySize = 16 << 20
	}
	if o.MaxBatchBytes == 0 {
		o.MaxBatchBytes = 8 << 20
	}
	// Keep every batch well below the largest length replay accepts.
	o.MaxEntrySize = min(o.MaxEntrySize, maxMutation/2)
	o.MaxBatchBytes = min(o.MaxBatchBytes, maxMutation/2)
}

// maxMutation bounds the encoded size of one Append or ReplaceFrom, so that
// a batch (at most MaxBatchBytes plus one mutation) stays below maxPayload.
const maxMutation = maxPayload / 2

// WAL is the write-ahead log: a sequence of entries with consecutive op
// numbers, durable through group commit. It is safe for concurrent use.
//
// One goroutine (the syncer) takes whatever was appended since its last
// write, writes it with one write call, fdatasyncs it, and then publishes
// the new Mark; appenders meanwhile fill the next batch. See the package
// documentation for the durability contract.
type WAL struct {
	// fs, dir and opts are what the log was opened with.
	fs   vfs.FS
	dir  string
	opts WALOptions
	// lock holds the log directory.
	lock io.Closer

	// mu guards every field below up to the syncer's private state.
	mu sync.Mutex
	// room is signalled when the syncer takes the pending batch.
	room sync.Cond
	// work is signalled when pending gets records, and on close or failure.
	work sync.Cond
	// pending holds the frames of the next group write; its first
	// batchFrameLen bytes are reserved for the batch marker.
	pending []byte
	// pendingRecords counts the frames in pending after the marker.
	pendingRecords int
	// taken counts the batches the syncer has taken; the one it is writing
	// (if inflightSeq > 0) is number taken, the pending one taken+1.
	taken uint64
	// done[n%2] is broadcast when batch n is durable, and both on failure:
	// waiters of the in-flight batch and of the pending one sleep apart,
	// and waiting allocates nothing.
	done [2]sync.Cond
	// inflightSeq is the last mutation in the batch being written (0: none).
	inflightSeq uint64
	// accepted is the number of the last accepted mutation.
	accepted uint64
	// nextOp is the op the next appended entry must carry; 0 while the log
	// has no position (no entry and no cut ever).
	nextOp uint64
	// committed and acceptBound are the latest bounds given to
	// SetCommitted and SetAccepted.
	committed, acceptBound uint64
	// stop records the first I/O failure (fail-stop).
	stop failStop
	// closing is set by Close; closed once Close finished.
	closing, closed bool
	// durable is how far the log is durable.
	durable Mark
	// durableNext is the next op of the durable log (0: no position).
	durableNext uint64
	// notify gets a token (without blocking) whenever durable advances.
	notify chan struct{}
	// index locates each durable live entry: index[i] has op indexFirst+i.
	index []indexEntry
	// indexFirst is the op of index[0].
	indexFirst uint64
	// segs are the retained segments, oldest first; the last is active.
	segs []*segment

	// segMu is held for reading while entries are read from segment files,
	// and for writing while truncation closes them. Lock order: segMu, mu.
	segMu sync.RWMutex
	// gcMu serialises TruncatePrefix calls.
	gcMu sync.Mutex

	// Syncer state, touched only by the syncer goroutine after Open (and
	// by Close once the syncer has ended).

	// active is the segment batches are written to.
	active *segment
	// writeOff is where the next batch goes in active.
	writeOff int64
	// chainCRC is the chained CRC of the last frame written.
	chainCRC uint32
	// batchNo is the number of the last batch written.
	batchNo uint64
	// committedWritten and acceptedWritten are the bounds last written to
	// the log.
	committedWritten, acceptBoundWritten uint64
	// spare is the batch buffer not in use, swapped with pending.
	spare []byte
	// updates collects the index changes of the batch being written.
	updates []indexUpdate
	// spareC delivers the next segment's file, prepared in the background
	// (capacity 1); spareBusy is set while a preparation is under way or
	// its result is unclaimed.
	spareC    chan spareResult
	spareBusy bool
	// syncerEnd is closed when the syncer goroutine returns.
	syncerEnd chan struct{}
}

// indexEntry locates a durable entry in a segment.
type indexEntry struct {
	seg  uint64 // segment seq
	off  int64  // frame offset in the segment
	view uint64 // the entry's view
	size uint32 // frame length
	seed uint32 // chained CRC of the frame before it
}

// indexUpdate is one change to the index, from a written batch.
type indexUpdate struct {
	cut   bool // true: drop entries from op on; false: add an entry
	op    uint64
	entry indexEntry
}

// Recovered is what OpenWAL found on disk.
type Recovered struct {
	// Entries is the durable live log, in op order with consecutive ops
	// (entries in segments that TruncatePrefix could not delete yet may
	// come before the truncation point). Data slices point into buffers
	// owned by the caller from now on; empty command bytes read back as
	// nil.
	Entries []Entry
	// NextOp is the op the next Append must carry; 0 if the log never had
	// a position (then any op >= 1 may come first).
	NextOp uint64
	// Committed is the highest commit bound recorded with SetCommitted
	// that reached the disk (0 if none): every entry up to it was
	// committed. It may exceed the last entry after a state transfer.
	Committed uint64
	// Accepted is the highest bound recorded with SetAccepted that reached
	// the disk (0 if none).
	Accepted uint64
	// Torn describes the torn tail that was cut off, or is nil.
	Torn *TornTail
}

// TornTail describes an incomplete final write found and removed at start.
type TornTail struct {
	// Segment is the segment whose tail was torn.
	Segment string
	// Offset is where the torn write began; the log now ends there.
	Offset int64
	// Length is the number of bytes cut off.
	Length int64
	// SavedAs is the file that keeps the cut bytes for forensics.
	SavedAs string
}

// OpenWAL opens (creating if needed) the log in dir, recovers it and starts
// its syncer. A torn final write is cut off and reported in Recovered.Torn;
// any other damage fails with a *CorruptionError.
func OpenWAL(dir string, opts WALOptions) (*WAL, *Recovered, error) {
	opts.setDefaults()
	w := &WAL{
		fs:        opts.FS,
		dir:       dir,
		opts:      opts,
		notify:    make(chan struct{}, 1),
		syncerEnd: make(chan struct{}),
		spareC:    make(chan spareResult, 1),
	}
	w.room.L = &w.mu
	w.work.L = &w.mu
	w.done[0].L = &w.mu
	w.done[1].L = &w.mu
	if err := w.fs.MkdirAll(dir); err != nil {
		return nil, nil, fmt.Errorf("wal: create directory %s: %w", dir, err)
	}
	lock, err := w.fs.Lock(filepath.Join(dir, lockName))
	if err != nil {
		return nil, nil, fmt.Errorf("wal: %w", err)
	}
	w.lock = lock
	rec, err := w.recover()
	if err != nil {
		w.closeFiles()
		lock.Close()
		return nil, nil, err
	}
	w.pending = make([]byte, batchFrameLen, 64<<10)
	w.spare = make([]byte, 0, 64<<10)
	if opts.ManualSync {
		w.opts.spareInline = true
		close(w.syncerEnd)
	} else {
		w.prepareSpare()
		go w.runSyncer()
	}
	return w, rec, nil
}

// Dir returns the log's directory.
func (w *WAL) Dir() string { return w.dir }

// Durable returns how far the log is durable.
func (w *WAL) Durable() Mark {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.durable
}

// Notify returns a channel that receives a token whenever Durable advances,
// and when the log stops (then Err is set). Tokens coalesce: after a
// receive, read Durable (and Err) for the current state.
func (w *WAL) Notify() <-chan struct{} { return w.notify }

// FirstOp returns the op of the first durable entry still readable, and
// false if there is none.
func (w *WAL) FirstOp() (uint64, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.indexFirst, len(w.index) > 0
}

// Err returns the failure that stopped the log, or nil.
func (w *WAL) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stop.err
}

// usableLocked returns why the log cannot take a call, or nil.
func (w *WAL) usableLocked() error {
	if w.stop.err != nil {
		return w.stop.err
	}
	if w.closing {
		return ErrClosed
	}
	return nil
}

// failLocked stops the log after an I/O failure and wakes every waiter.
func (w *WAL) failLocked(err error) error {
	err = w.stop.set(err)
	w.done[0].Broadcast()
	w.done[1].Broadcast()
	w.room.Broadcast()
	w.work.Broadcast()
	return err
}

// Close writes and syncs everything appended, stops the syncer, and
// releases the files. It returns the log's failure, if any.
func (w *WAL) Close() error {
	w.mu.Lock()
	if w.closing {
		w.mu.Unlock()
		return ErrClosed
	}
	if w.opts.ManualSync && w.pendingRecords > 0 && w.stop.err == nil {
		w.syncTakenLocked()
	}
	w.closing = true
	w.work.Broadcast()
	w.room.Broadcast()
	w.mu.Unlock()
	<-w.syncerEnd
	if w.spareBusy {
		if r := <-w.spareC; r.f != nil {
			r.f.Close()
		}
	}
	w.segMu.Lock()
	w.mu.Lock()
	w.closed = true
	err := w.stop.err
	w.mu.Unlock()
	w.closeFiles()
	w.segMu.Unlock()
	w.lock.Close()
	return err
}

// closeFiles closes every retained segment.
func (w *WAL) closeFiles() {
	for _, s := range w.segs {
		s.f.Close()
	}
	w.segs = nil
}
