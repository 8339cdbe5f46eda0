package storage

import (
	"errors"
	"fmt"
)

// Sentinel errors. Errors returned by this package wrap one of these (test
// with errors.Is) together with the file and the underlying cause.
var (
	// ErrCorrupt marks data on disk that fails its checks and cannot be
	// explained by a crash. The replica must not start on it; see
	// CorruptionError.
	ErrCorrupt = errors.New("storage: corrupt data")
	// ErrStopped marks a store that stopped after a write or sync failed
	// (fail-stop). Every later call returns the same error.
	ErrStopped = errors.New("storage: stopped after an I/O failure")
	// ErrClosed is returned by calls on a closed store.
	ErrClosed = errors.New("storage: closed")
	// ErrOutOfOrder is returned when entries do not continue the log: op
	// numbers must be consecutive and the first must be the log's next op.
	ErrOutOfOrder = errors.New("storage: entries out of order")
	// ErrTooLarge is returned for an entry, configuration or metadata blob
	// above its configured limit.
	ErrTooLarge = errors.New("storage: too large")
	// ErrCompacted is returned when reading entries that log truncation
	// already dropped.
	ErrCompacted = errors.New("storage: entries compacted")
	// ErrNotDurable is returned when reading entries that are not durable
	// yet (or were never appended).
	ErrNotDurable = errors.New("storage: entries not durable")
	// ErrOldFormat is returned for a data directory written in a format
	// this version no longer reads.
	ErrOldFormat = errors.New("storage: format of an earlier version")
	// ErrForeign is returned for a data directory that belongs to another
	// server or cluster than the configuration says.
	ErrForeign = errors.New("storage: data directory of another server or cluster")
	// ErrInconsistent is returned for a data directory whose files
	// contradict each other (a log or snapshots without a replica state).
	ErrInconsistent = errors.New("storage: data directory inconsistent")
)

// RebuildAdvice is the operator's way out of corruption, appended to every
// CorruptionError's message.
const RebuildAdvice = "this replica's disk cannot be trusted; rebuild the replica from its peers: " +
	"stop it, move its data and log directories aside, and start it again with the same " +
	"configuration: a server with an empty data directory in an existing cluster rebuilds " +
	"its state from the others (disk-loss recovery) before it takes part in anything"

// CorruptionError says which file is corrupt and where. It matches
// ErrCorrupt with errors.Is.
type CorruptionError struct {
	// Path is the corrupt file.
	Path string
	// Offset is the byte offset of the first bad byte or record.
	Offset int64
	// Reason says what check failed.
	Reason string
}

// Error names the file, the offset and the reason, and says how to rebuild.
func (e *CorruptionError) Error() string {
	return fmt.Sprintf("storage: corrupt %s at offset %d: %s; %s", e.Path, e.Offset, e.Reason, RebuildAdvice)
}

// Is makes errors.Is(err, ErrCorrupt) true.
func (e *CorruptionError) Is(target error) bool { return target == ErrCorrupt }

// corrupt builds a *CorruptionError.
func corrupt(path string, off int64, format string, args ...any) error {
	return &CorruptionError{Path: path, Offset: off, Reason: fmt.Sprintf(format, args...)}
}

// failStop records the first I/O failure of a store; later calls return
// the same error.
type failStop struct {
	err error
}

// set records err as the store's failure unless one is already recorded,
// and returns the recorded error.
func (f *failStop) set(err error) error {
	if f.err == nil {
		f.err = fmt.Errorf("%w: %w", ErrStopped, err)
	}
	return f.err
}
