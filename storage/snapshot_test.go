package storage

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"reflect"
	"testing"

	"github.com/vrkeeper/vrkeeper/storage/faultfs"
)

// snapBody is a deterministic snapshot body of n bytes for op.
func snapBody(op uint64, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(uint64(i)*31 + op)
	}
	return b
}

// openSnaps opens a store on fs.
func openSnaps(t *testing.T, fs *faultfs.FS, retain int) *Store {
	t.Helper()
	s, _, err := Open(Options{DataDir: "data", FS: fs, RetainSnapshots: retain, WAL: WALOptions{SegmentSize: testSegmentSize}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// readAll loads the snapshot at op and returns its meta and body.
func readAll(snaps *SnapshotStore, op uint64) (SnapshotMeta, []byte, error) {
	var meta SnapshotMeta
	var body []byte
	err := snaps.Load(op, func(m SnapshotMeta, r io.Reader) error {
		meta = m
		var err error
		body, err = io.ReadAll(r)
		return err
	})
	return meta, body, err
}

func TestSnapshotRoundTrip(t *testing.T) {
	tests := []struct {
		meta SnapshotMeta
		size int
	}{
		{SnapshotMeta{Op: 1}, 0},
		{SnapshotMeta{Op: 100, View: 3, Meta: []byte("config")}, 10},
		{SnapshotMeta{Op: 1 << 40, View: 9}, 3<<20 + 17}, // several buffer fills
	}
	for _, tc := range tests {
		fs := faultfs.New()
		s := openSnaps(t, fs, 3)
		body := snapBody(tc.meta.Op, tc.size)
		if err := s.Snapshots.Save(tc.meta, func(w io.Writer) error { _, err := w.Write(body); return err }); err != nil {
			t.Fatal(err)
		}
		s.Close()
		s = openSnaps(t, fs.Reboot(faultfs.LoseUnsynced, nil), 3)
		meta, got, err := readAll(s.Snapshots, tc.meta.Op)
		s.Close()
		if err != nil || !reflect.DeepEqual(meta, tc.meta) || !bytes.Equal(got, body) {
			t.Fatalf("op %d: meta %+v, %d bytes, err %v", tc.meta.Op, meta, len(got), err)
		}
	}
}

func TestSnapshotRetainAndNewest(t *testing.T) {
	fs := faultfs.New()
	s := openSnaps(t, fs, 2)
	defer s.Close()
	for _, op := range []uint64{10, 30, 20, 40} {
		if err := s.Snapshots.Save(SnapshotMeta{Op: op}, writeString("x")); err != nil {
			t.Fatal(err)
		}
	}
	ops, _ := s.Snapshots.Ops()
	if !reflect.DeepEqual(ops, []uint64{40, 30}) {
		t.Fatalf("kept %v, want the newest two [40 30]", ops)
	}
	meta, found, skipped, err := s.Snapshots.LoadNewest(func(SnapshotMeta, io.Reader) error { return nil })
	if err != nil || !found || meta.Op != 40 || len(skipped) != 0 {
		t.Fatalf("LoadNewest: %+v %v %v %v", meta, found, skipped, err)
	}
}

// TestSnapshotOlderFetchedIsKept: a snapshot fetched from a peer that is
// older than the ones kept stays until the next one is saved: the server
// installs it next (a recovering server's primary may answer with an older
// snapshot than another server did).
func TestSnapshotOlderFetchedIsKept(t *testing.T) {
	fs := faultfs.New()
	s := openSnaps(t, fs, 2)
	defer s.Close()
	for _, op := range []uint64{30, 40} {
		if err := s.Snapshots.Save(SnapshotMeta{Op: op}, writeString("x")); err != nil {
			t.Fatal(err)
		}
	}
	part, err := s.Snapshots.NewPart(SnapshotMeta{Op: 19})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := part.Write([]byte("old")); err != nil {
		t.Fatal(err)
	}
	if err := part.Commit(); err != nil {
		t.Fatal(err)
	}
	if has, err := s.Snapshots.Has(19); err != nil || !has {
		t.Fatalf("the fetched snapshot at op 19 is gone at once (has %v, %v)", has, err)
	}
	if err := s.Snapshots.Save(SnapshotMeta{Op: 50}, writeString("x")); err != nil {
		t.Fatal(err)
	}
	ops, _ := s.Snapshots.Ops()
	if !reflect.DeepEqual(ops, []uint64{50, 40}) {
		t.Fatalf("kept %v after the next save, want [50 40]", ops)
	}
}

func TestSnapshotCorruption(t *testing.T) {
	fs := faultfs.New()
	s := openSnaps(t, fs, 3)
	defer s.Close()
	for _, op := range []uint64{10, 20} {
		body := snapBody(op, 5000)
		if err := s.Snapshots.Save(SnapshotMeta{Op: op, Meta: []byte("m")}, func(w io.Writer) error { _, err := w.Write(body); return err }); err != nil {
			t.Fatal(err)
		}
	}
	p := path.Join("data", snapName(20))
	orig, _ := fs.ReadFile(p)
	damage := map[string][]byte{"truncated (no trailer)": orig[:len(orig)-5], "empty": nil}
	for _, off := range []int{0, 9, 17, 40, 41, 2000, len(orig) - 30, len(orig) - 20, len(orig) - 1} {
		d := bytes.Clone(orig)
		d[off] ^= 4
		damage[fmt.Sprintf("flip at %d", off)] = d
	}
	for name, data := range damage {
		fs.WriteFile(p, data)
		if _, _, err := readAll(s.Snapshots, 20); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: Load: %v, want corruption", name, err)
		}
		// A reader that stops early still learns of the corruption.
		err := s.Snapshots.Load(20, func(SnapshotMeta, io.Reader) error { return nil })
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: Load with an early stop: %v, want corruption", name, err)
		}
		// LoadNewest falls back to the older intact snapshot and says so.
		meta, found, skipped, err := s.Snapshots.LoadNewest(func(_ SnapshotMeta, r io.Reader) error {
			_, err := io.Copy(io.Discard, r)
			return err
		})
		if err != nil || !found || meta.Op != 10 || len(skipped) != 1 {
			t.Errorf("%s: LoadNewest: meta %+v found %v skipped %v err %v", name, meta, found, skipped, err)
		}
	}
}

func TestSnapshotWriterErrorAborts(t *testing.T) {
	fs := faultfs.New()
	s := openSnaps(t, fs, 3)
	defer s.Close()
	boom := errors.New("tree iteration failed")
	err := s.Snapshots.Save(SnapshotMeta{Op: 5}, func(w io.Writer) error {
		w.Write([]byte("partial"))
		return boom
	})
	if !errors.Is(err, boom) || errors.Is(err, ErrStopped) {
		t.Fatalf("err %v, want the writer's error without a stop", err)
	}
	names, _ := fs.ReadDir("data")
	for _, n := range names {
		if n != dataLockName && n != "wal" {
			t.Errorf("aborted snapshot left %s", n)
		}
	}
	if err := s.Snapshots.Save(SnapshotMeta{Op: 6}, writeString("ok")); err != nil {
		t.Fatalf("store unusable after an aborted snapshot: %v", err)
	}
}

func TestSnapshotCrashAtEveryStep(t *testing.T) {
	body := snapBody(50, 3000)
	for at := 1; ; at++ {
		fs := faultfs.New()
		s := openSnaps(t, fs, 1)
		if err := s.Snapshots.Save(SnapshotMeta{Op: 40}, writeString("old")); err != nil {
			t.Fatal(err)
		}
		fs.CrashAt(fs.Ops() + at)
		saveErr := s.Snapshots.Save(SnapshotMeta{Op: 50}, func(w io.Writer) error { _, err := w.Write(body); return err })
		s.Close()
		for _, mode := range []faultfs.CrashMode{faultfs.LoseUnsynced, faultfs.KeepUnsynced, faultfs.Tear} {
			s2 := openSnaps(t, fs.Reboot(mode, newRand(int64(at))), 1)
			var got []byte
			meta, found, skipped, err := s2.Snapshots.LoadNewest(func(_ SnapshotMeta, r io.Reader) error {
				var err error
				got, err = io.ReadAll(r)
				return err
			})
			names, _ := s2.Snapshots.fs.ReadDir("data")
			s2.Close()
			if err != nil || !found || len(skipped) != 0 {
				t.Fatalf("crash %d steps into Save (mode %d): found %v skipped %v err %v", at, mode, found, skipped, err)
			}
			switch {
			case meta.Op == 50 && bytes.Equal(got, body):
			case meta.Op == 40 && string(got) == "old" && saveErr != nil:
			default:
				t.Fatalf("crash %d steps into Save (mode %d, save err %v): loaded op %d with %d bytes", at, mode, saveErr, meta.Op, len(got))
			}
			for _, n := range names {
				if n == snapName(50)+tmpSuffix {
					t.Fatalf("leftover %s not removed at open", n)
				}
			}
		}
		if saveErr == nil {
			return
		}
	}
}

func TestCheckContinuity(t *testing.T) {
	tests := []struct {
		name  string
		snap  uint64 // 0: no snapshot
		first uint64 // first entry; 0: empty log
		next  uint64
		ok    bool
	}{
		{"new replica", 0, 0, 0, true},
		{"log from op 1, no snapshot", 0, 1, 10, true},
		{"log from op 5, no snapshot", 0, 5, 10, false},
		{"log right after the snapshot", 100, 101, 150, true},
		{"log overlaps the snapshot", 100, 40, 150, true},
		{"gap after the snapshot", 100, 120, 150, false},
		{"empty log positioned after the snapshot", 100, 0, 101, true},
		{"empty log positioned past a gap", 100, 0, 130, false},
	}
	for _, tc := range tests {
		rec := &Recovered{NextOp: tc.next}
		if tc.first != 0 {
			rec.Entries = mkEntries(tc.first, tc.next, 1)
		}
		err := CheckContinuity("log", SnapshotMeta{Op: tc.snap}, tc.snap != 0, rec)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrCorrupt)) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

// TestSnapshotPinnedOutlivesNewer: the pinned snapshot (one a replica is
// about to install) survives newer ones arriving meanwhile; pinning
// another releases it to the next prune.
func TestSnapshotPinnedOutlivesNewer(t *testing.T) {
	fs := faultfs.New()
	s := openSnaps(t, fs, 2)
	defer s.Close()
	save := func(op uint64) {
		t.Helper()
		if err := s.Snapshots.Save(SnapshotMeta{Op: op}, writeString("x")); err != nil {
			t.Fatal(err)
		}
	}
	save(10)
	s.Snapshots.Pin(10)
	save(20)
	save(30)
	save(40)
	if ops, _ := s.Snapshots.Ops(); !reflect.DeepEqual(ops, []uint64{40, 30, 10}) {
		t.Fatalf("kept %v, want the newest two and the pinned 10", ops)
	}
	s.Snapshots.Pin(40)
	save(50)
	if ops, _ := s.Snapshots.Ops(); !reflect.DeepEqual(ops, []uint64{50, 40}) {
		t.Fatalf("kept %v, want [50 40] once 10 is no longer pinned", ops)
	}
}
