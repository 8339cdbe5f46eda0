package storage

import (
	"bytes"
	"errors"
	"io"
	"path"
	"testing"

	"github.com/vrkeeper/vrkeeper/storage/faultfs"
)

// TestSnapshotStreamedBetweenStores: a snapshot read in chunks from one
// store and written chunk by chunk into another arrives whole, is in the
// receiver's store only after Commit, and survives a crash then; a crash
// before leaves only a part, which the next Open removes.
func TestSnapshotStreamedBetweenStores(t *testing.T) {
	body := bytes.Repeat([]byte("0123456789abcdef"), 5000)
	src := openSnaps(t, faultfs.New(), 3)
	defer src.Close()
	meta := SnapshotMeta{Op: 42, View: 3}
	if err := src.Snapshots.Save(meta, func(w io.Writer) error { _, err := w.Write(body); return err }); err != nil {
		t.Fatal(err)
	}
	rd, err := src.Snapshots.Open(42)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	if rd.Size() != int64(len(body)) || rd.Meta.View != 3 {
		t.Fatalf("reader size %d meta %+v", rd.Size(), rd.Meta)
	}

	fs := faultfs.New()
	dst := openSnaps(t, fs, 3)
	part, err := dst.Snapshots.NewPart(rd.Meta)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 7000)
	for {
		n, err := rd.Read(buf)
		if n > 0 {
			if _, werr := part.Write(buf[:n]); werr != nil {
				t.Fatal(werr)
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if has, _ := dst.Snapshots.Has(42); has {
		t.Fatal("the snapshot is in the store before Commit")
	}
	// A crash now: only the part, removed at the next start.
	crashed := fs.Reboot(faultfs.KeepUnsynced, nil)
	again := openSnaps(t, crashed, 3)
	if ops, _ := again.Snapshots.Ops(); len(ops) != 0 {
		t.Fatalf("snapshots after a crash before commit: %v", ops)
	}
	if names, _ := crashed.ReadDir("data"); len(names) > 0 {
		for _, n := range names {
			if isPartName(n) {
				t.Fatalf("the part %s survived Open", n)
			}
		}
	}
	again.Close()

	if err := part.Commit(); err != nil {
		t.Fatal(err)
	}
	dst.Close()
	after := openSnaps(t, fs.Reboot(faultfs.LoseUnsynced, nil), 3)
	defer after.Close()
	got, gotBody, err := readAll(after.Snapshots, 42)
	if err != nil || got.Op != 42 || got.View != 3 || !bytes.Equal(gotBody, body) {
		t.Fatalf("received snapshot: %+v, %d bytes, %v", got, len(gotBody), err)
	}
}

// TestSnapshotReaderRefusesDamage: a reader passes on no damaged snapshot:
// the flipped byte shows as a corruption error at the end of the body.
func TestSnapshotReaderRefusesDamage(t *testing.T) {
	fs := faultfs.New()
	s := openSnaps(t, fs, 3)
	defer s.Close()
	if err := s.Snapshots.Save(SnapshotMeta{Op: 7}, writeString("a body that will be damaged")); err != nil {
		t.Fatal(err)
	}
	p := path.Join("data", snapName(7))
	data, _ := fs.ReadFile(p)
	data[snapHeaderLen+3] ^= 1
	fs.WriteFile(p, data)
	rd, err := s.Snapshots.Open(7)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	if _, err := io.ReadAll(rd); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("reading a damaged snapshot: %v, want ErrCorrupt", err)
	}
}
