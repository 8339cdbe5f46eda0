package storage

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/vrkeeper/vrkeeper/storage/vfs"
)

// Options configures Open.
type Options struct {
	// DataDir holds the replica state and the snapshots (zoo.cfg's
	// dataDir). Required.
	DataDir string
	// LogDir holds the write-ahead log (zoo.cfg's dataLogDir); put it on
	// its own disk for the lowest sync latency. Default DataDir/wal.
	LogDir string
	// FS is the file system; default vfs.OS{}.
	FS vfs.FS
	// WAL tunes the log; its FS field is ignored (FS above is used).
	WAL WALOptions
	// RetainSnapshots is how many snapshots to keep; default 3.
	RetainSnapshots int
	// SnapshotBuffer is the I/O buffer of a snapshot being written or
	// read; default 1 MiB (the simulator, whose snapshots are tiny, uses
	// less).
	SnapshotBuffer int
}

// dataLockName is the lock file of the data directory (distinct from the
// log's, so both directories may be one).
const dataLockName = "data.lock"

// Store is a replica's durable storage: the log, the replica state and
// the snapshots. Its parts are safe for concurrent use.
type Store struct {
	// WAL is the write-ahead log.
	WAL *WAL
	// State is the replica state file.
	State *StateFile
	// Snapshots is the snapshot file store.
	Snapshots *SnapshotStore
	// lock holds the data directory.
	lock io.Closer
}

// Boot is what Open found on disk.
type Boot struct {
	// State is the saved replica state; HasState is false if none was
	// ever saved (a new replica, or one whose disk was lost).
	State    HardState
	HasState bool
	// Log is what the write-ahead log recovered.
	Log *Recovered
}

// Open locks and opens the data and log directories (creating them if
// needed), loads the replica state and recovers the log. Snapshots are
// loaded separately with Store.Snapshots.LoadNewest, straight into the
// caller's state machine. Corruption anywhere fails with a
// *CorruptionError that names the file and offset.
func Open(opts Options) (*Store, *Boot, error) {
	if opts.DataDir == "" {
		return nil, nil, errors.New("storage: no data directory given")
	}
	if opts.FS == nil {
		opts.FS = vfs.OS{}
	}
	if opts.LogDir == "" {
		opts.LogDir = filepath.Join(opts.DataDir, "wal")
	}
	if opts.RetainSnapshots <= 0 {
		opts.RetainSnapshots = defaultSnapRetain
	}
	if opts.SnapshotBuffer <= 0 {
		opts.SnapshotBuffer = snapBufferSize
	}
	if err := opts.FS.MkdirAll(opts.DataDir); err != nil {
		return nil, nil, fmt.Errorf("storage: create %s: %w", opts.DataDir, err)
	}
	lock, err := opts.FS.Lock(filepath.Join(opts.DataDir, dataLockName))
	if err != nil {
		return nil, nil, fmt.Errorf("storage: %w", err)
	}
	s := &Store{lock: lock}
	boot, err := s.open(opts)
	if err != nil {
		if s.WAL != nil {
			s.WAL.Close()
		}
		lock.Close()
		return nil, nil, err
	}
	return s, boot, nil
}

// open does Open's work once the data directory is locked.
func (s *Store) open(opts Options) (*Boot, error) {
	if err := removeLeftovers(opts.FS, opts.DataDir); err != nil {
		return nil, err
	}
	state, st, found, err := openStateFile(opts.FS, opts.DataDir)
	if err != nil {
		return nil, err
	}
	s.State = state
	s.Snapshots = &SnapshotStore{fs: opts.FS, dir: opts.DataDir, retain: opts.RetainSnapshots, bufSize: opts.SnapshotBuffer}
	walOpts := opts.WAL
	walOpts.FS = opts.FS
	w, rec, err := OpenWAL(opts.LogDir, walOpts)
	if err != nil {
		return nil, err
	}
	s.WAL = w
	return &Boot{State: st, HasState: found, Log: rec}, nil
}

// removeLeftovers deletes the temporary files of state and snapshot writes
// a crash interrupted.
func removeLeftovers(fsys vfs.FS, dir string) error {
	names, err := fsys.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("storage: list %s: %w", dir, err)
	}
	removed := false
	for _, name := range names {
		if name == stateFileName+tmpSuffix || isPartName(name) ||
			(strings.HasPrefix(name, snapPrefix) && strings.HasSuffix(name, snapSuffix+tmpSuffix)) {
			if err := fsys.Remove(filepath.Join(dir, name)); err != nil {
				return fmt.Errorf("storage: remove leftover %s: %w", name, err)
			}
			removed = true
		}
	}
	if removed {
		if err := fsys.SyncDir(dir); err != nil {
			return fmt.Errorf("storage: sync %s: %w", dir, err)
		}
	}
	return nil
}

// Close closes the log (syncing what was appended) and releases the
// directories.
func (s *Store) Close() error {
	err := s.WAL.Close()
	s.lock.Close()
	return err
}

// CheckContinuity checks that the recovered log continues the loaded
// snapshot (snap, if found) without a gap: the first retained entry, or the
// position of an empty log, must be at most snap.Op+1 (op 1 without a
// snapshot). A gap means lost data, typically a corrupt newest snapshot
// whose log prefix was already truncated; the error is a
// *CorruptionError naming logDir and saying how to rebuild the replica.
func CheckContinuity(logDir string, snap SnapshotMeta, found bool, log *Recovered) error {
	start := log.NextOp
	if len(log.Entries) > 0 {
		start = log.Entries[0].Op
	}
	base := uint64(0)
	if found {
		base = snap.Op
	}
	if start == 0 || start <= base+1 {
		return nil
	}
	if !found {
		return corrupt(logDir, 0, "the log starts at op %d and there is no intact snapshot of the ops before it", start)
	}
	return corrupt(logDir, 0, "the log starts at op %d but the newest intact snapshot ends at op %d", start, snap.Op)
}
