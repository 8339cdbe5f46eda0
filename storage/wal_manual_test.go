package storage

import (
	"testing"

	"github.com/vrkeeper/vrkeeper/storage/faultfs"
)

// TestWALManualSync checks that a log opened with ManualSync writes nothing
// until SyncPending: a crash before it loses the mutation, one after it
// keeps it, and WaitDurable syncs inline instead of waiting for a syncer
// that does not exist.
func TestWALManualSync(t *testing.T) {
	fs := faultfs.New()
	opts := WALOptions{FS: fs, SegmentSize: testSegmentSize, ManualSync: true}
	w, _ := mustOpen(t, "wal", opts)
	seq, err := w.Append(mkEntries(1, 4, 1))
	if err != nil {
		t.Fatal(err)
	}
	if got := w.Durable().Seq; got != 0 {
		t.Fatalf("durable seq %d before SyncPending, want 0", got)
	}
	// A crash now loses the batch: it was never written.
	lost := fs.Reboot(faultfs.KeepUnsynced, nil)
	w2, rec := mustOpen(t, "wal", WALOptions{FS: lost, SegmentSize: testSegmentSize, ManualSync: true})
	if len(rec.Entries) != 0 {
		t.Fatalf("a crash before SyncPending kept %s", span(rec.Entries))
	}
	w2.Close()

	if err := w.SyncPending(); err != nil {
		t.Fatal(err)
	}
	if got := w.Durable().Seq; got != seq {
		t.Fatalf("durable seq %d after SyncPending, want %d", got, seq)
	}
	kept := fs.Reboot(faultfs.LoseUnsynced, nil)
	w3, rec := mustOpen(t, "wal", WALOptions{FS: kept, SegmentSize: testSegmentSize, ManualSync: true})
	if d := sameEntries(rec.Entries, mkEntries(1, 4, 1)); d != "" {
		t.Fatalf("after SyncPending and a crash: %s", d)
	}
	// WaitDurable makes a manual log durable by itself.
	seq, err = w3.Append(mkEntries(4, 200, 1)) // crosses segments
	mustDurable(t, w3, seq, err)
	if got := w3.Durable().LastOp; got != 199 {
		t.Fatalf("durable last op %d, want 199", got)
	}
	if err := w3.Close(); err != nil {
		t.Fatal(err)
	}
	w.Close()
}
