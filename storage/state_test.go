package storage

import (
	"bytes"
	"errors"
	"path"
	"reflect"
	"testing"

	"github.com/vrkeeper/vrkeeper/storage/faultfs"
)

func TestStateRoundTrip(t *testing.T) {
	tests := []HardState{
		{},
		{Epoch: 1, View: 7, LastNormalView: 6},
		{Epoch: 2, View: 1 << 62, LastNormalView: 3, Config: []byte("1,2,3")},
		{View: 9, Extra: []byte{0, 1, 2}},
		{Recovering: true},
		{Cluster: 0xfeedfacecafebeef, Incarnation: 7, Seeded: true, View: 3, LastNormalView: 3},
		{Config: bytes.Repeat([]byte{7}, MaxStateBlob), Extra: bytes.Repeat([]byte{8}, MaxStateBlob)},
	}
	for _, st := range tests {
		fs := faultfs.New()
		fs.MkdirAll("data")
		s, _, found, err := openStateFile(fs, "data")
		if err != nil || found {
			t.Fatalf("fresh state: found %v err %v", found, err)
		}
		if err := s.Save(st); err != nil {
			t.Fatal(err)
		}
		_, got, found, err := openStateFile(fs.Reboot(faultfs.LoseUnsynced, nil), "data")
		if err != nil || !found || !reflect.DeepEqual(got, st) {
			t.Fatalf("saved %+v, loaded %+v (found %v, err %v)", st.View, got.View, found, err)
		}
	}
}

func TestStateTooLarge(t *testing.T) {
	fs := faultfs.New()
	fs.MkdirAll("data")
	s, _, _, _ := openStateFile(fs, "data")
	if err := s.Save(HardState{Config: make([]byte, MaxStateBlob+1)}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err %v, want ErrTooLarge", err)
	}
	if err := s.Save(HardState{View: 1}); err != nil {
		t.Fatalf("a rejected save stopped the store: %v", err)
	}
}

func TestStateCorruption(t *testing.T) {
	fs := faultfs.New()
	fs.MkdirAll("data")
	s, _, _, _ := openStateFile(fs, "data")
	if err := s.Save(HardState{Epoch: 3, View: 5, LastNormalView: 4, Config: []byte("cfg")}); err != nil {
		t.Fatal(err)
	}
	p := path.Join("data", stateFileName)
	orig, _ := fs.ReadFile(p)
	for off := range orig {
		data := bytes.Clone(orig)
		data[off] ^= 0x10
		fs.WriteFile(p, data)
		if _, _, _, err := openStateFile(fs, "data"); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("flip at %d: %v, want corruption", off, err)
		}
	}
	fs.WriteFile(p, orig[:len(orig)-1])
	if _, _, _, err := openStateFile(fs, "data"); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("truncated file: %v, want corruption", err)
	}
}

func TestStateCrashAtEveryStep(t *testing.T) {
	old := HardState{Epoch: 1, View: 4, LastNormalView: 4, Config: []byte("old")}
	next := HardState{Epoch: 1, View: 5, LastNormalView: 4, Config: []byte("new config")}
	for at := 1; ; at++ {
		fs := faultfs.New()
		s, _, err := Open(Options{DataDir: "data", FS: fs, WAL: WALOptions{SegmentSize: testSegmentSize}})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.State.Save(old); err != nil {
			t.Fatal(err)
		}
		fs.CrashAt(fs.Ops() + at)
		saveErr := s.State.Save(next)
		s.Close()
		for _, mode := range []faultfs.CrashMode{faultfs.LoseUnsynced, faultfs.KeepUnsynced, faultfs.Tear} {
			img := fs.Reboot(mode, newRand(int64(at)))
			s2, boot, err := Open(Options{DataDir: "data", FS: img, WAL: WALOptions{SegmentSize: testSegmentSize}})
			if err != nil {
				t.Fatalf("crash %d steps into Save, mode %d: %v", at, mode, err)
			}
			s2.Close()
			got := boot.State
			if !reflect.DeepEqual(got, old) && !reflect.DeepEqual(got, next) {
				t.Fatalf("crash %d steps into Save: state %+v is neither old nor new", at, got)
			}
			if saveErr == nil && !reflect.DeepEqual(got, next) {
				t.Fatalf("Save returned nil but a crash after it lost the state (mode %d)", mode)
			}
		}
		if saveErr == nil {
			return // the crash point lies past Save: every step was covered
		}
	}
}
