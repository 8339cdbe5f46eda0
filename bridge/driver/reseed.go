package driver

import (
	"errors"
	"fmt"
)

// ReseedReport describes the replica a reseed would make (or made) the
// sole source of its cluster's state.
type ReseedReport struct {
	// OldCluster is the cluster it belonged to; NewCluster the one it
	// starts (0 in a dry run).
	OldCluster, NewCluster uint64
	// View and LastNormalView are its durable view numbers.
	View, LastNormalView uint64
	// LastOp is the last op it holds (its log's end, or its snapshot's);
	// Committed the highest op it knows to be committed.
	LastOp, Committed uint64
	// SnapshotOp is the op of its newest snapshot (0: none).
	SnapshotOp uint64
}

// ErrNothingToSeed is returned for a data directory without replica state.
var ErrNothingToSeed = errors.New("driver: no replica state to seed from")

// Reseed makes a stopped server's replica the sole source of a new
// cluster's state, after a majority of its cluster's disks was lost: its
// state is kept, it joins a new cluster id (servers that still hold the old
// cluster's data are refused until they are emptied), and it is marked
// seeded: when it starts it leads a view of its own and servers with empty
// data directories rebuild from it alone. With apply false it only reports.
// newCluster must be non-zero and fresh (random).
func Reseed(opts OpenOptions, newCluster uint64, incarnation uint64, apply bool) (ReseedReport, error) {
	opts.Restore = nil
	o, err := Open(opts)
	if err != nil {
		return ReseedReport{}, err
	}
	defer o.Store.Close()
	st := o.Saved
	if st.Cluster == 0 || st.Recovering {
		return ReseedReport{}, fmt.Errorf("%w: %s holds no replica state of its own (empty, or still recovering)",
			ErrNothingToSeed, opts.Storage.DataDir)
	}
	last := o.Snapshot.Op
	if n := len(o.Boot.Entries); n > 0 {
		last = max(last, o.Boot.Entries[n-1].Op)
	}
	rep := ReseedReport{OldCluster: st.Cluster, View: st.View, LastNormalView: st.LastNormalView,
		LastOp: last, Committed: o.Boot.Hard.Commit, SnapshotOp: o.Snapshot.Op}
	if !apply {
		return rep, nil
	}
	if newCluster == 0 || newCluster == st.Cluster {
		return rep, fmt.Errorf("driver: reseed needs a new cluster id")
	}
	st.Cluster, st.Incarnation, st.Seeded, st.Recovering = newCluster, incarnation|1, true, false
	st.Config = o.Membership
	if err := o.Store.State.Save(st); err != nil {
		return rep, fmt.Errorf("driver: reseed: save replica state: %w", err)
	}
	rep.NewCluster = newCluster
	return rep, nil
}
