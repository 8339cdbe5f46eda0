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
