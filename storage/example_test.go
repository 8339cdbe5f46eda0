package storage_test

import (
	"fmt"
	"io"
	"strings"

	"github.com/vrkeeper/vrkeeper/storage"
	"github.com/vrkeeper/vrkeeper/storage/faultfs"
)

// ready mirrors the fields of the consensus core's Ready that concern
// storage (consensus.Ready on the consensus branch).
type ready struct {
	// logFrom, if non-zero: stored entries >= logFrom are replaced by
	// entries (which start at logFrom, or are empty).
	logFrom uint64
	entries []storage.Entry
	// hardState, if non-nil, is the new durable state; commit is its
	// advisory commit-number (no sync of its own).
	hardState *storage.HardState
	commit    uint64
	// compactTo: stored entries <= compactTo may be dropped.
	compactTo uint64
	// messagesAfterPersist depend on all of the above being durable.
	messagesAfterPersist []string
}

// Example_driver shows how a driver wires the storage to the consensus
// core's Ready loop, in the order the durability contract requires:
// snapshot, then log, then state, then the messages that depend on them.
func Example_driver() {
	fs := faultfs.New() // production: leave FS nil for the real disk
	opts := storage.Options{
		DataDir: "data", LogDir: "datalog", FS: fs,
		WAL: storage.WALOptions{SegmentSize: 64 << 10}, // small: it is an example
	}
	st, boot, err := storage.Open(opts)
	if err != nil {
		fmt.Println(err) // a *CorruptionError says which file, where, and how to rebuild
		return
	}
	// Restart: newest intact snapshot into the tree, then the log. The
	// core's Boot gets boot.State (with Commit = boot.Log.Committed) and
	// the entries after the snapshot.
	snap, found, _, _ := st.Snapshots.LoadNewest(func(m storage.SnapshotMeta, r io.Reader) error {
		_, err := io.Copy(io.Discard, r) // tree.Restore(r)
		return err
	})
	if err := storage.CheckContinuity(st.WAL.Dir(), snap, found, boot.Log); err != nil {
		fmt.Println(err) // a gap between snapshot and log: rebuild from peers
		return
	}
	fmt.Println("snapshot:", found, snap.Op, "state:", boot.HasState, "log:", len(boot.Log.Entries))

	var saved storage.HardState
	handle := func(rd ready) error {
		// A peer's snapshot (Ready.Snapshot) is stored first with
		// st.Snapshots.Save; it supersedes the stored log, which the cut
		// below expresses (the core then sets logFrom <= its op + 1).
		var seq uint64
		var err error
		if rd.logFrom != 0 {
			seq, err = st.WAL.ReplaceFrom(rd.logFrom, rd.entries)
		}
		st.WAL.SetCommitted(rd.commit) // rides with the next log write
		// A pipelined driver would not block here: it keeps seq with the
		// Ready's messages and sends them once st.WAL.Durable().Seq >= seq,
		// checking after each token from st.WAL.Notify().
		if err == nil && seq > 0 {
			err = st.WAL.WaitDurable(seq)
		}
		if err == nil && rd.hardState != nil && !equalState(*rd.hardState, saved) {
			err = st.State.Save(*rd.hardState) // after the log: LastNormalView claims it
			saved = *rd.hardState
		}
		if err != nil {
			return err // ErrStopped: stop the replica (fail-stop)
		}
		for _, m := range rd.messagesAfterPersist {
			fmt.Println("send", m)
		}
		if rd.compactTo != 0 {
			return st.WAL.TruncatePrefix(rd.compactTo + 1) // off the hot path in a real driver
		}
		return nil
	}

	handle(ready{
		logFrom: 1, entries: []storage.Entry{{Op: 1, View: 1, Data: []byte("create /a")}},
		hardState:            &storage.HardState{View: 1, LastNormalView: 1},
		messagesAfterPersist: []string{"PrepareOk(op 1)"},
	})
	handle(ready{
		logFrom: 2, entries: []storage.Entry{{Op: 2, View: 1, Data: []byte("set /a")}},
		commit:               1,
		messagesAfterPersist: []string{"PrepareOk(op 2)"},
	})
	// A view change keeps op 1 and replaces op 2.
	handle(ready{
		logFrom: 2, entries: []storage.Entry{{Op: 2, View: 2, Data: []byte("delete /a")}},
		hardState:            &storage.HardState{View: 2, LastNormalView: 2},
		messagesAfterPersist: []string{"PrepareOk(op 2, view 2)"},
	})
	// The driver snapshots the tree; once durable, the core may compact.
	st.Snapshots.Save(storage.SnapshotMeta{Op: 2, View: 2}, func(w io.Writer) error {
		_, err := io.Copy(w, strings.NewReader("tree at op 2")) // tree.WriteSnapshot(w)
		return err
	})
	handle(ready{compactTo: 2})
	st.Close()

	// After a crash: everything acknowledged is back.
	opts.FS = fs.Reboot(faultfs.LoseUnsynced, nil)
	st, boot, _ = storage.Open(opts)
	defer st.Close()
	for _, e := range boot.Log.Entries {
		fmt.Printf("op %d view %d %q\n", e.Op, e.View, e.Data)
	}
	fmt.Println("view", boot.State.View, "committed", boot.Log.Committed)
	// Output:
	// snapshot: false 0 state: false log: 0
	// send PrepareOk(op 1)
	// send PrepareOk(op 2)
	// send PrepareOk(op 2, view 2)
	// op 1 view 1 "create /a"
	// op 2 view 2 "delete /a"
	// view 2 committed 1
}

// equalState compares the fields that need a save (not the advisory
// commit, which the core keeps in its HardState and the WAL carries).
func equalState(a, b storage.HardState) bool {
	return a.Epoch == b.Epoch && a.View == b.View && a.LastNormalView == b.LastNormalView &&
		a.Recovering == b.Recovering && string(a.Config) == string(b.Config) && string(a.Extra) == string(b.Extra)
}
