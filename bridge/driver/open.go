package driver

import (
	"io"

	"github.com/hashicorp/go-hclog"
	"github.com/vrkeeper/vrkeeper/consensus"
	"github.com/vrkeeper/vrkeeper/storage"
)

// OpenOptions says where a replica's storage is and how its state machine
// takes a snapshot.
type OpenOptions struct {
	Storage storage.Options
	// Restore loads a snapshot into the state machine (the newest intact
	// one, at start). It is not called if there is none.
	Restore func(meta storage.SnapshotMeta, r io.Reader) error
	Log     hclog.Logger
	// DiskLost forces disk-loss recovery (the replica rebuilds its state
	// from the others before it takes part in anything).
	DiskLost bool
}

// Opened is a replica's durable state, loaded and checked.
type Opened struct {
	// Store is the open storage; the caller closes it.
	Store *storage.Store
	// Boot is what consensus.New takes.
	Boot consensus.Boot
	// Saved is the replica state file's content; WALNext the op the log
	// expects next.
	Saved   storage.HardState
	WALNext uint64
	// Snapshot is the snapshot Restore loaded (Op 0 if none).
	Snapshot storage.SnapshotMeta
	// LogEntries counts the log entries after it.
	LogEntries int
}

// Open opens a replica's storage, restores its newest snapshot into the
// state machine, checks that the log continues it, and returns the boot
// state for consensus.New.
func Open(opts OpenOptions) (*Opened, error) {
	log := opts.Log
	if log == nil {
		log = hclog.NewNullLogger()
	}
	store, boot, err := storage.Open(opts.Storage)
	if err != nil {
		return nil, err
	}
	if boot.Log.Torn != nil {
		log.Warn("cut off a torn write at the end of the log", "segment", boot.Log.Torn.Segment,
			"offset", boot.Log.Torn.Offset, "bytes", boot.Log.Torn.Length, "kept_in", boot.Log.Torn.SavedAs)
	}
	meta, found, skipped, err := store.Snapshots.LoadNewest(func(m storage.SnapshotMeta, r io.Reader) error {
		if opts.Restore == nil {
			return nil
		}
		return opts.Restore(m, r)
	})
	for _, e := range skipped {
		log.Warn("skipped a damaged snapshot", "error", e)
	}
	if err != nil {
		store.Close()
		return nil, errorf("load snapshot: %w", err)
	}
	logDir := store.WAL.Dir()
	if err := storage.CheckContinuity(logDir, meta, found, boot.Log); err != nil {
		store.Close()
		return nil, err
	}
	lastOp := boot.Log.NextOp - min(boot.Log.NextOp, 1)
	if found {
		lastOp = max(lastOp, meta.Op)
	}
	o := &Opened{Store: store, Saved: boot.State, WALNext: boot.Log.NextOp, LogEntries: len(boot.Log.Entries)}
	o.Boot = consensus.Boot{
		Hard: consensus.HardState{
			Epoch: boot.State.Epoch, View: boot.State.View, LastNormalView: boot.State.LastNormalView,
			Commit: min(boot.Log.Committed, lastOp), Recovering: boot.State.Recovering,
		},
		DiskLost: opts.DiskLost,
	}
	if found {
		o.Snapshot = meta
		o.Boot.Snapshot = &consensus.Snapshot{Op: meta.Op, View: meta.View, Data: LocalSnapshot{Op: meta.Op}}
	}
	o.Boot.Entries = make([]consensus.Entry, len(boot.Log.Entries))
	for i, e := range boot.Log.Entries {
		o.Boot.Entries[i] = consensus.Entry{Op: e.Op, View: e.View, Cmd: e.Data}
	}
	return o, nil
}
