package storage

import (
	"errors"
	"io"
	"testing"

	"github.com/vrkeeper/vrkeeper/storage/faultfs"
)

func TestStoreDirectories(t *testing.T) {
	tests := []struct {
		name, dataDir, logDir string
	}{
		{"default log directory", "data", ""},
		{"separate directories", "data", "datalog"},
		{"one directory for both", "data", "data"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := faultfs.New()
			opts := Options{DataDir: tc.dataDir, LogDir: tc.logDir, FS: fs, WAL: memOptions(nil)}
			s, boot, err := Open(opts)
			if err != nil {
				t.Fatal(err)
			}
			if boot.HasState || len(boot.Log.Entries) != 0 {
				t.Fatalf("fresh store booted with %+v", boot)
			}
			if _, _, err := Open(opts); err == nil {
				t.Fatal("a second Open of a locked store succeeded")
			}
			seq, err := s.WAL.Append(mkEntries(1, 4, 1))
			mustDurable(t, s.WAL, seq, err)
			if err := s.State.Save(HardState{View: 3, LastNormalView: 3}); err != nil {
				t.Fatal(err)
			}
			if err := s.Snapshots.Save(SnapshotMeta{Op: 2}, writeString("snap")); err != nil {
				t.Fatal(err)
			}
			s.Close()
			opts.FS = fs.Reboot(faultfs.LoseUnsynced, nil)
			s, boot, err = Open(opts)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if d := sameEntries(boot.Log.Entries, mkEntries(1, 4, 1)); d != "" || boot.State.View != 3 {
				t.Fatalf("after reopen: %s, view %d", d, boot.State.View)
			}
			meta, found, _, err := s.Snapshots.LoadNewest(func(SnapshotMeta, io.Reader) error { return nil })
			if err != nil || !found || meta.Op != 2 {
				t.Fatalf("snapshot after reopen: %+v %v %v", meta, found, err)
			}
		})
	}
}

func TestStoreRefusesCorruptState(t *testing.T) {
	fs := faultfs.New()
	fs.MkdirAll("data")
	fs.WriteFile("data/"+stateFileName, []byte("not a state file at all, but long enough to parse......"))
	_, _, err := Open(Options{DataDir: "data", FS: fs, WAL: memOptions(nil)})
	var ce *CorruptionError
	if !errors.As(err, &ce) || ce.Path != "data/"+stateFileName {
		t.Fatalf("err %v, want corruption of the state file", err)
	}
	// The lock was released: after the operator's repair, Open works.
	fs.Remove("data/" + stateFileName)
	s, _, err := Open(Options{DataDir: "data", FS: fs, WAL: memOptions(nil)})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
}
