package faultfs

import (
	"bytes"
	"errors"
	"io/fs"
	"math/rand"
	"reflect"
	"syscall"
	"testing"

	"github.com/vrkeeper/vrkeeper/storage/vfs"
)

// content returns a file's content, or "missing".
func content(f *FS, name string) string {
	b, ok := f.ReadFile(name)
	if !ok {
		return "missing"
	}
	return string(b)
}

func TestRebootKeepsWhatWasSynced(t *testing.T) {
	tests := []struct {
		name string
		mode CrashMode
		// want maps file names to their content after the reboot.
		want map[string]string
	}{
		{"lose unsynced", LoseUnsynced, map[string]string{
			"d/synced": "one", "d/unsynced-data": "", "d/unsynced-name": "missing", "d/renamed": "missing", "d/old": "v1"}},
		{"keep unsynced", KeepUnsynced, map[string]string{
			"d/synced": "one two", "d/unsynced-data": "lost?", "d/unsynced-name": "new", "d/renamed": "v2", "d/old": "missing"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := New()
			f.MkdirAll("d")
			a, _ := f.Create("d/synced")
			a.WriteAt([]byte("one"), 0)
			a.Sync()
			a.WriteAt([]byte(" two"), 3) // not synced
			b, _ := f.Create("d/unsynced-data")
			f.SyncDir("d") // names durable, b's data never synced
			b.WriteAt([]byte("lost?"), 0)
			o, _ := f.Create("d/old")
			o.WriteAt([]byte("v1"), 0)
			o.Sync()
			f.SyncDir("d")
			c, _ := f.Create("d/unsynced-name")
			c.WriteAt([]byte("new"), 0)
			c.Sync() // data synced, name not
			n, _ := f.Create("d/renamed.tmp")
			n.WriteAt([]byte("v2"), 0)
			n.Sync()
			f.Rename("d/renamed.tmp", "d/renamed")
			f.Remove("d/old")
			g := f.Reboot(tc.mode, nil)
			for name, want := range tc.want {
				if got := content(g, name); got != want {
					t.Errorf("%s: %q, want %q", name, got, want)
				}
			}
			if names, _ := g.ReadDir("d"); countTmp(names) != 0 && tc.mode == LoseUnsynced {
				t.Errorf("unsynced temporary name survived: %v", names)
			}
		})
	}
}

func countTmp(names []string) int {
	n := 0
	for _, name := range names {
		if name == "renamed.tmp" {
			n++
		}
	}
	return n
}

func TestTearMixesSectors(t *testing.T) {
	f := New()
	f.MkdirAll("d")
	h, _ := f.Create("d/x")
	old := bytes.Repeat([]byte{1}, 8*vfs.SectorSize)
	h.WriteAt(old, 0)
	h.Sync()
	f.SyncDir("d")
	h.WriteAt(bytes.Repeat([]byte{2}, 8*vfs.SectorSize), 0)
	sawOld, sawNew := false, false
	for seed := int64(0); seed < 20; seed++ {
		got, _ := f.Reboot(Tear, rand.New(rand.NewSource(seed))).ReadFile("d/x")
		for s := 0; s < len(got); s += vfs.SectorSize {
			sector := got[s : s+vfs.SectorSize]
			switch {
			case bytes.Equal(sector, old[:vfs.SectorSize]):
				sawOld = true
			case bytes.Equal(sector, bytes.Repeat([]byte{2}, vfs.SectorSize)):
				sawNew = true
			default:
				t.Fatalf("seed %d: sector at %d is neither old nor new: sectors tear whole, never inside", seed, s)
			}
		}
	}
	if !sawOld || !sawNew {
		t.Fatalf("tearing never mixed old (%v) and new (%v) sectors", sawOld, sawNew)
	}
}

func TestHooksAndCrash(t *testing.T) {
	f := New()
	f.MkdirAll("d")
	h, _ := f.Create("d/x")
	var seen []Op
	f.SetHook(func(op Op) error {
		seen = append(seen, op)
		if op.Kind == OpSync {
			return syscall.EIO
		}
		return nil
	})
	if _, err := h.WriteAt([]byte("abc"), 0); err != nil {
		t.Fatal(err)
	}
	if err := h.Sync(); !errors.Is(err, syscall.EIO) {
		t.Fatalf("sync: %v, want EIO", err)
	}
	if got, _ := f.Reboot(LoseUnsynced, nil).ReadFile("d/x"); len(got) != 0 {
		t.Fatalf("a failed sync made data durable: %q", got)
	}
	if err := f.Rename("d/x", "d/y"); err != nil {
		t.Fatal(err)
	}
	h.WriteAt([]byte("d"), 3)
	if last := seen[len(seen)-1]; last.Kind != OpWrite || last.Name != "d/y" || last.Off != 3 || last.Len != 1 {
		t.Fatalf("last op %v: want a write of d/y (handles follow renames)", last)
	}
	f.SetHook(nil)
	f.CrashAt(f.Ops() + 2)
	if _, err := h.WriteAt([]byte("e"), 4); err != nil {
		t.Fatalf("operation before the crash point failed: %v", err)
	}
	if err := h.Sync(); !errors.Is(err, ErrCrashed) {
		t.Fatalf("operation at the crash point: %v, want ErrCrashed", err)
	}
	if _, err := f.Create("d/z"); !errors.Is(err, ErrCrashed) {
		t.Fatalf("operation after the crash: %v, want ErrCrashed", err)
	}
	if op, crashed := f.Crashed(); !crashed || op.Kind != OpSync {
		t.Fatalf("Crashed() = %v %v", op, crashed)
	}
}

func TestNamespaceErrors(t *testing.T) {
	f := New()
	if _, err := f.Create("nodir/x"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("create in a missing directory: %v", err)
	}
	if _, err := f.OpenFile("x"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("open of a missing file: %v", err)
	}
	if err := f.Remove("x"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("remove of a missing file: %v", err)
	}
	l, err := f.Lock("LOCK")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Lock("LOCK"); err == nil {
		t.Error("a held lock was granted twice")
	}
	l.Close()
	if _, err := f.Lock("LOCK"); err != nil {
		t.Errorf("a released lock was refused: %v", err)
	}
	f.MkdirAll("a/b")
	for _, name := range []string{"a/b/2", "a/b/1", "a/c"} {
		f.Create(name)
	}
	if names, _ := f.ReadDir("a/b"); !reflect.DeepEqual(names, []string{"1", "2"}) {
		t.Errorf("ReadDir = %v", names)
	}
}
