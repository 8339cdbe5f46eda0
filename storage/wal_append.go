package storage

import (
	"fmt"
)

// Append adds entries at the end of the log and returns the mutation's
// number: once Durable().Seq reaches it (see WaitDurable and Notify), the
// entries survive any crash. entries[0].Op must be the log's next op (any
// op >= 1 for a log without a position) and ops must be consecutive. The
// entries are copied before Append returns; it blocks only while the
// pending batch is full. A call that changes nothing (no entries) returns
// the number of the last accepted mutation.
func (w *WAL) Append(entries []Entry) (uint64, error) {
	return w.mutate(false, 0, entries)
}

// ReplaceFrom cuts the log so that its last entry is op-1 (dropping every
// entry from op onwards) and then appends entries, which must start at op;
// it returns the mutation's number like Append. Once that number is
// durable, the dropped entries never come back, on any restart.
//
// If op is the log's next op, ReplaceFrom is exactly Append (no cut is
// written), so a driver may map every log change of a Ready to one
// ReplaceFrom(LogFrom, Entries). If op is beyond the log's next op, the log
// is left empty, positioned at op: the entries before op must then be
// covered by a durable snapshot (state transfer). Op must be >= 1.
func (w *WAL) ReplaceFrom(op uint64, entries []Entry) (uint64, error) {
	if op == 0 {
		return 0, fmt.Errorf("wal: replace from op 0: %w", ErrOutOfOrder)
	}
	return w.mutate(true, op, entries)
}

// mutate accepts one Append (cut false) or ReplaceFrom into the pending
// batch.
func (w *WAL) mutate(cut bool, cutOp uint64, entries []Entry) (uint64, error) {
	size := 0
	if cut {
		size += frameLen(replacePayloadLen) // may turn out unneeded: a bound
	}
	for i := range entries {
		if len(entries[i].Data) > w.opts.MaxEntrySize {
			return 0, fmt.Errorf("wal: entry %d has %d bytes, limit %d: %w",
				entries[i].Op, len(entries[i].Data), w.opts.MaxEntrySize, ErrTooLarge)
		}
		size += entryFrameLen(len(entries[i].Data))
		if size > maxMutation {
			return 0, fmt.Errorf("wal: %d entries of more than %d bytes in one call: %w",
				len(entries), maxMutation, ErrTooLarge)
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.usableLocked(); err != nil {
		return 0, err
	}
	if size == 0 {
		return w.accepted, nil
	}
	for w.pendingRecords > 0 && len(w.pending)+size > w.opts.MaxBatchBytes {
		if w.opts.ManualSync {
			w.syncTakenLocked() // nobody else would make room
			continue
		}
		w.room.Wait()
		if err := w.usableLocked(); err != nil {
			return 0, err
		}
	}
	next := w.nextOp
	if cut && cutOp == next {
		cut = false // nothing to cut: an append
		if len(entries) == 0 {
			return w.accepted, nil // nothing at all
		}
	}
	if cut {
		next = cutOp
	}
	if err := checkConsecutive(next, entries); err != nil {
		return 0, err
	}
	if cut {
		w.pending = appendReplace(w.pending, cutOp)
		w.pendingRecords++
	}
	for i := range entries {
		e := &entries[i]
		w.pending = appendEntry(w.pending, e.Op, e.View, e.Data)
	}
	w.pendingRecords += len(entries)
	if len(entries) > 0 {
		next = entries[len(entries)-1].Op + 1
	}
	w.nextOp = next
	w.accepted++
	w.work.Signal()
	return w.accepted, nil
}

// SetCommitted records that every entry up to op is committed. The bound
// costs no write of its own: it rides in the next group write (if it grew),
// and OpenWAL reports the highest one found as Recovered.Committed, so a
// restarted replica can apply its committed entries before it hears from
// its peers. It is a lower bound; losing the latest one is harmless.
func (w *WAL) SetCommitted(op uint64) {
	w.mu.Lock()
	w.committed = max(w.committed, op)
	w.mu.Unlock()
}

// SetAccepted records that every replica durably accepted every entry up
// to op (the consensus core's global_min_accept). Like SetCommitted it
// rides in the next group write and is reported as Recovered.Accepted: a
// restarted replica then need not send view-change messages that reach
// back to the start of its log.
func (w *WAL) SetAccepted(op uint64) {
	w.mu.Lock()
	w.acceptBound = max(w.acceptBound, op)
	w.mu.Unlock()
}

// checkConsecutive checks that entries start at next (any op >= 1 if next
// is 0) and have consecutive ops.
func checkConsecutive(next uint64, entries []Entry) error {
	if len(entries) == 0 {
		return nil
	}
	first := entries[0].Op
	if first == 0 || (next != 0 && first != next) {
		return fmt.Errorf("wal: first entry has op %d, log expects %d: %w", first, next, ErrOutOfOrder)
	}
	for i := range entries {
		if entries[i].Op != first+uint64(i) {
			return fmt.Errorf("wal: entry %d has op %d, expected %d: %w",
				i, entries[i].Op, first+uint64(i), ErrOutOfOrder)
		}
	}
	return nil
}

// WaitDurable blocks until mutation seq is durable, and returns nil then;
// it returns the log's failure instead if the log stops first. Concurrent
// waiters share the group write: one fdatasync releases all of them.
func (w *WAL) WaitDurable(seq uint64) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if seq > w.accepted {
		return fmt.Errorf("wal: wait for mutation %d, only %d accepted", seq, w.accepted)
	}
	for w.durable.Seq < seq {
		if w.stop.err != nil {
			return w.stop.err
		}
		if w.opts.ManualSync {
			w.syncTakenLocked() // nobody else would sync it
			continue
		}
		batch := w.taken + 1
		if seq <= w.inflightSeq {
			batch = w.taken
		}
		w.done[batch%2].Wait()
	}
	return nil
}

// Sync waits until every mutation accepted so far is durable.
func (w *WAL) Sync() error {
	w.mu.Lock()
	seq := w.accepted
	w.mu.Unlock()
	return w.WaitDurable(seq)
}
