package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/vrkeeper/vrkeeper/storage/faultfs"
)

// update rewrites the golden files from the current encoder:
// go test ./storage -run Golden -update
var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// goldenLog is the log the golden segment holds.
var goldenLog = []Entry{
	{Op: 1, View: 1, Data: []byte("create /a")},
	{Op: 2, View: 1, Data: []byte("set /a 1")},
	{Op: 3, View: 2, Data: []byte("delete /a")},
	{Op: 4, View: 2},
}

// writeGoldenLog produces the golden segment: two entries; a commit bound
// with an entry later cut; the cut with its replacement; an entry without
// command bytes. Each mutation is its own batch.
func writeGoldenLog(t *testing.T) (*faultfs.FS, string) {
	fs := faultfs.New()
	w, _ := mustOpen(t, "log", WALOptions{FS: fs, SegmentSize: testSegmentSize})
	seq, err := w.Append(goldenLog[:2])
	mustDurable(t, w, seq, err)
	w.SetCommitted(2)
	seq, err = w.Append([]Entry{{Op: 3, View: 1, Data: []byte("uncommitted")}})
	mustDurable(t, w, seq, err)
	seq, err = w.ReplaceFrom(3, goldenLog[2:3])
	mustDurable(t, w, seq, err)
	seq, err = w.Append(goldenLog[3:])
	mustDurable(t, w, seq, err)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	name := path.Join("log", segmentName(1, 0))
	if _, ok := fs.ReadFile(name); !ok {
		t.Fatalf("no segment %s", name)
	}
	return fs, name
}

// checkGolden compares got with testdata/name, or rewrites it with -update.
func checkGolden(t *testing.T, name string, got []byte) []byte {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: the encoder's bytes differ from the golden file: the on-disk format changed.\n"+
			"If that is intended, bump the version, keep reading the old one, and rerun with -update.", name)
	}
	return want
}

func TestGoldenSegment(t *testing.T) {
	fs, name := writeGoldenLog(t)
	data, _ := fs.ReadFile(name)
	if len(data) != testSegmentSize {
		t.Fatalf("segment of %d bytes, want the preallocated %d", len(data), testSegmentSize)
	}
	used := len(bytes.TrimRight(data, "\x00"))
	used = (used + frameAlign - 1) &^ (frameAlign - 1)
	golden := checkGolden(t, "segment.wal", data[:used])

	// A few facts checked by hand, so the golden file is not only
	// self-consistent: the header frame, and the first batch's marker.
	le := binary.LittleEndian
	if w := le.Uint64(golden); w != 40|1<<32 {
		t.Errorf("segment header length word %#x, want 40 | type 1<<32", w)
	}
	if string(golden[12:20]) != "vrk-wal\n" || le.Uint32(golden[20:]) != 1 {
		t.Errorf("segment header magic %q version %d", golden[12:20], le.Uint32(golden[20:]))
	}
	if w := le.Uint64(golden[56:]); w != 24|2<<32 {
		t.Errorf("first batch marker length word %#x, want 24 | type 2<<32", w)
	}
	if w := le.Uint64(golden[96:]); w != uint64(16+len(goldenLog[0].Data))|3<<32 {
		t.Errorf("first entry length word %#x", w)
	}
	if op, view := le.Uint64(golden[108:]), le.Uint64(golden[116:]); op != 1 || view != 1 {
		t.Errorf("first entry op %d view %d", op, view)
	}

	// The golden bytes, as a segment of today's size, read back as the log.
	img := faultfs.New()
	img.MkdirAll("log")
	img.WriteFile(name, append(bytes.Clone(golden), make([]byte, testSegmentSize-len(golden))...))
	w, rec := mustOpen(t, "log", WALOptions{FS: img, SegmentSize: testSegmentSize})
	defer w.Close()
	if d := sameEntries(rec.Entries, goldenLog); d != "" {
		t.Fatal(d)
	}
	if rec.NextOp != 5 || rec.Committed != 2 || rec.Torn != nil {
		t.Fatalf("NextOp %d Committed %d Torn %v, want 5 2 nil", rec.NextOp, rec.Committed, rec.Torn)
	}
}

func TestGoldenStateFile(t *testing.T) {
	st := HardState{Epoch: 2, View: 9, LastNormalView: 8, Recovering: true, Seeded: true,
		Cluster: 0x1122334455667788, Incarnation: 0x99, Config: []byte("1@a,2@b,3@c"), Extra: []byte{1}}
	golden := checkGolden(t, "replica-state", encodeState(st))
	got, err := decodeState("replica-state", golden)
	if err != nil || !reflect.DeepEqual(got, st) {
		t.Fatalf("golden state decodes to %+v, %v", got, err)
	}
	// Format 1 had no identity: it is refused with advice, never read as a
	// replica without a cluster (which would pass for an empty disk).
	old, err := os.ReadFile(filepath.Join("testdata", "replica-state.v1"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := decodeState("replica-state", old); !errors.Is(err, ErrOldFormat) || !strings.Contains(err.Error(), "empty its data directory") {
		t.Fatalf("format 1 state: %v, want ErrOldFormat with advice", err)
	}
}

func TestGoldenSnapshotFile(t *testing.T) {
	fs := faultfs.New()
	s := openSnaps(t, fs, 3)
	meta := SnapshotMeta{Op: 77, View: 4, Meta: []byte("cfg")}
	if err := s.Snapshots.Save(meta, writeString("the tree, streamed")); err != nil {
		t.Fatal(err)
	}
	s.Close()
	data, _ := fs.ReadFile(path.Join("data", snapName(77)))
	golden := checkGolden(t, "snapshot.snap", data)
	img := faultfs.New()
	img.MkdirAll("data")
	img.WriteFile(path.Join("data", snapName(77)), golden)
	s = openSnaps(t, img, 3)
	defer s.Close()
	got, body, err := readAll(s.Snapshots, 77)
	if err != nil || !reflect.DeepEqual(got, meta) || string(body) != "the tree, streamed" {
		t.Fatalf("golden snapshot loads as %+v %q %v", got, body, err)
	}
}
