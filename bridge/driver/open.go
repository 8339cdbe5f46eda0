package driver

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

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
	// ServerID and Members (every server's id, this one's included) are
	// the configuration the directory must belong to: a directory written
	// for another server id or another membership is refused.
	ServerID uint64
	Members  []uint64
	// PromiseNanos is this incarnation's promise length
	// (consensus.Config.PromiseNanos). The replica state keeps the longest
	// any incarnation had, written before this one makes any promise, and
	// Boot.Promised is the longest before this one (see promise.go).
	PromiseNanos int64
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
	// Membership is the encoded ServerID and Members, stored with the
	// replica state.
	Membership []byte
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
	membership := encodeMembership(opts.ServerID, opts.Members)
	if err := checkDirectory(store, boot, membership); err != nil {
		store.Close()
		return nil, err
	}
	st := boot.State
	promised, err := keepPromise(store, boot.HasState, &st, opts.PromiseNanos)
	if err != nil {
		store.Close()
		return nil, err
	}
	if !boot.HasState || st.Cluster == 0 || st.Recovering {
		// No identity, or a recovery that was cut short: whatever else the
		// directories hold is not to be trusted (the core drops the log),
		// and the state machine starts empty.
		if boot.HasState && st.Cluster != 0 {
			log.Warn("a recovery from the other servers was interrupted: starting it again", "cluster", fmt.Sprintf("%x", st.Cluster))
		} else {
			log.Info("the data directory holds no replica state: this server will ask the others before it takes part in anything")
		}
		return &Opened{Store: store, Saved: st, WALNext: boot.Log.NextOp, Membership: membership,
			Boot: consensus.Boot{Hard: consensus.HardState{Epoch: st.Epoch, View: st.View,
				LastNormalView: st.LastNormalView, Recovering: st.Recovering, Cluster: st.Cluster},
				Promised: promised}}, nil
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
	o := &Opened{Store: store, Saved: st, WALNext: boot.Log.NextOp, LogEntries: len(boot.Log.Entries), Membership: membership}
	o.Boot = consensus.Boot{
		Hard: consensus.HardState{
			Epoch: st.Epoch, View: st.View, LastNormalView: st.LastNormalView,
			Commit: min(boot.Log.Committed, lastOp), GlobalMinAccept: min(boot.Log.Accepted, boot.Log.Committed, lastOp),
			Recovering: st.Recovering,
			Cluster:    st.Cluster, Incarnation: st.Incarnation, Seeded: st.Seeded,
		},
		Promised: promised,
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

// checkDirectory refuses a data directory whose files contradict each
// other, or that was written for another server or membership.
func checkDirectory(store *storage.Store, boot *storage.Boot, membership []byte) error {
	if !boot.HasState {
		snaps, err := store.Snapshots.Ops()
		if err != nil {
			return err
		}
		if len(boot.Log.Entries) > 0 || len(snaps) > 0 {
			return fmt.Errorf("%w: %s holds a log (%d entries) or snapshots (%d) but no replica-state file: "+
				"it may be another program's directory, or a file was removed by hand; to rebuild this server "+
				"from the others, stop it, move its data directory and log directory aside, and start it again",
				storage.ErrInconsistent, store.WAL.Dir(), len(boot.Log.Entries), len(snaps))
		}
		return nil
	}
	if stored := boot.State.Config; len(stored) > 0 && string(stored) != string(membership) {
		return fmt.Errorf("%w: the data directory was written by %s, but this server is configured as %s: "+
			"check myid and the server list (a disk moved between servers?); to make this server a new member "+
			"with this configuration, stop it, move its data directory and log directory aside, and start it again",
			storage.ErrForeign, describeMembership(stored), describeMembership(membership))
	}
	return nil
}

// encodeMembership renders a server id and the member ids, stored with the
// replica state: "id=2 members=1,2,3".
func encodeMembership(id uint64, members []uint64) []byte {
	ms := slices.Clone(members)
	slices.Sort(ms)
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = strconv.FormatUint(m, 10)
	}
	return []byte(fmt.Sprintf("id=%d members=%s", id, strings.Join(parts, ",")))
}

func describeMembership(b []byte) string {
	s := string(b)
	id, members, ok := strings.Cut(s, " ")
	if !ok {
		return strconv.Quote(s)
	}
	return fmt.Sprintf("server %s of the cluster of %s", strings.TrimPrefix(id, "id="), strings.TrimPrefix(members, "members="))
}
