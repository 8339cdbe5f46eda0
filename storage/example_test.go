package storage_test

import (
	"fmt"
	"io"
	"strings"

	"github.com/vrkeeper/vrkeeper/storage"
	"github.com/vrkeeper/vrkeeper/storage/faultfs"
)

// ready stands in for the consensus core's output: what to persist, then
// what to send once it is durable.
type ready struct {
	// cutFrom, if non-zero, replaces the log from that op (view change).
	cutFrom uint64
	// entries are appended (after the cut, if any).
	entries []storage.Entry
	// state, if non-nil, is the new durable replica state.
	state *storage.HardState
	// sendAfterPersist are the messages that depend on the above.
	sendAfterPersist []string
}

// Example_driver shows how a driver wires the storage to the consensus
// core's Ready loop, in the order the durability contract requires: log
// first, then state, then the messages that depend on them.
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
	// Restart: newest intact snapshot into the tree, then the log. Entries
	// up to boot.Log.Committed are known committed and may be applied at
	// once; the rest waits for the core to learn the commit number.
	snap, found, _, _ := st.Snapshots.LoadNewest(func(m storage.SnapshotMeta, r io.Reader) error {
		_, err := io.Copy(io.Discard, r) // tree.Restore(r)
		return err
	})
	if err := storage.CheckContinuity(st.WAL.Dir(), snap, found, boot.Log); err != nil {
		fmt.Println(err) // a gap between snapshot and log: rebuild from peers
		return
	}
	fmt.Println("snapshot:", found, snap.Op, "state:", boot.HasState, "log:", len(boot.Log.Entries))

	persist := func(rd ready) error {
		var seq uint64
		var err error
		if rd.cutFrom != 0 {
			seq, err = st.WAL.ReplaceFrom(rd.cutFrom, rd.entries)
		} else if len(rd.entries) > 0 {
			seq, err = st.WAL.Append(rd.entries)
		}
		// A pipelined driver would not block here: it keeps seq with the
		// Ready's messages and sends them once st.WAL.Durable().Seq >= seq,
		// checking after each token from st.WAL.Notify().
		if err == nil && seq > 0 {
			err = st.WAL.WaitDurable(seq)
		}
		if err == nil && rd.state != nil {
			err = st.State.Save(*rd.state) // after the log: LastNormalView claims it
		}
		if err != nil {
			return err // ErrStopped: stop the replica (fail-stop)
		}
		for _, m := range rd.sendAfterPersist {
			fmt.Println("send", m)
		}
		return nil
	}

	persist(ready{
		entries:          []storage.Entry{{Op: 1, View: 1, Data: []byte("create /a")}},
		state:            &storage.HardState{View: 1, LastNormalView: 1},
		sendAfterPersist: []string{"PrepareOk(op 1)"},
	})
	st.WAL.SetCommitted(1) // rides with the next write, for a fast restart
	persist(ready{
		entries:          []storage.Entry{{Op: 2, View: 1, Data: []byte("set /a")}},
		sendAfterPersist: []string{"PrepareOk(op 2)"},
	})
	// A view change keeps op 1 and replaces op 2.
	persist(ready{
		cutFrom:          2,
		entries:          []storage.Entry{{Op: 2, View: 2, Data: []byte("delete /a")}},
		state:            &storage.HardState{View: 2, LastNormalView: 2},
		sendAfterPersist: []string{"PrepareOk(op 2, view 2)"},
	})
	// Log GC: a durable snapshot first, then truncation below it.
	st.Snapshots.Save(storage.SnapshotMeta{Op: 2, View: 2}, func(w io.Writer) error {
		_, err := io.Copy(w, strings.NewReader("tree at op 2")) // tree.WriteSnapshot(w)
		return err
	})
	st.WAL.TruncatePrefix(2)
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
