package tree

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var updateSnapshotGolden = flag.Bool("update-snapshot-golden", false, "rewrite testdata/snapshot.golden from the current Snapshot")

// TestSnapshotGolden pins the snapshot format byte for byte: a change of
// the encoding (order, numbering of ACL lists, any field) fails here, not
// only in a round trip through Restore, which would accept a consistent
// change of both sides.
func TestSnapshotGolden(t *testing.T) {
	file := filepath.Join("testdata", "snapshot.golden")
	got := snapshotBytes(t, buildTree(t, false))
	if *updateSnapshotGolden {
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("no golden snapshot (write it with -update-snapshot-golden): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("the snapshot of the reference tree changed: %d bytes, golden %d", len(got), len(want))
	}
}

// TestSnapshotFormat1Restores: a snapshot written before session owners
// (testdata/snapshot-v1.golden, the reference tree in format 1) restores
// with its digest checked as format 1 computed it, the same nodes and
// sessions, each session with owner 0 and an empty write sequence.
func TestSnapshotFormat1Restores(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "snapshot-v1.golden"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := Restore(bytes.NewReader(b), Config{})
	if err != nil {
		t.Fatalf("restore format 1: %v", err)
	}
	want := buildTree(t, false)
	if got.nodeSum != want.nodeSum || got.NodeCount() != want.NodeCount() {
		t.Errorf("nodes differ from the reference tree's")
	}
	if len(got.sessions) != len(want.sessions) {
		t.Fatalf("%d sessions, want %d", len(got.sessions), len(want.sessions))
	}
	for id, s := range got.sessions {
		w := want.sessions[id]
		if w == nil || s.passwd != w.passwd || s.lastSeen != w.lastSeen || len(s.ephemerals) != len(w.ephemerals) {
			t.Errorf("session %#x differs from the reference tree's", id)
		}
		if s.owner != 0 || s.lastSeq != 0 || s.broken || len(s.lastBody) != 0 {
			t.Errorf("session %#x: owner %d last seq %d broken %v body %q, want an empty sequence of owner 0", id, s.owner, s.lastSeq, s.broken, s.lastBody)
		}
	}
	if got.Digest() != recomputeDigest(got) {
		t.Error("the restored tree's digest is not its own")
	}
	b[len(b)-20]++ // a digest byte
	if _, err := Restore(bytes.NewReader(b), Config{}); err == nil {
		t.Error("a format 1 snapshot with a wrong digest restored")
	}
}
