package vfs

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"path/filepath"
	"reflect"
	"testing"
)

func TestOSFileSystem(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	var o OS
	if err := o.MkdirAll(dir); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "f")
	f, err := o.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("hello"), 10); err != nil {
		t.Fatal(err)
	}
	if err := f.Allocate(4096); err != nil {
		t.Fatal(err)
	}
	if size, _ := f.Size(); size != 4096 {
		t.Fatalf("size after Allocate(4096) = %d", size)
	}
	buf := make([]byte, 15)
	if _, err := f.ReadAt(buf, 0); err != nil || !bytes.Equal(buf, append(make([]byte, 10), "hello"...)) {
		t.Fatalf("ReadAt = %q, %v", buf, err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.ReadAt(buf, 4090); err != io.EOF {
		t.Fatalf("read past the end: %v, want io.EOF", err)
	}
	if err := f.Truncate(3); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := o.Rename(p, p+"2"); err != nil {
		t.Fatal(err)
	}
	if err := o.SyncDir(dir); err != nil {
		t.Fatal(err)
	}
	if names, _ := o.ReadDir(dir); !reflect.DeepEqual(names, []string{"f2"}) {
		t.Fatalf("ReadDir = %v", names)
	}
	if _, err := o.OpenFile(p); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("open of a renamed file: %v", err)
	}
	if err := o.Remove(p + "2"); err != nil {
		t.Fatal(err)
	}
}

func TestOSLockExcludes(t *testing.T) {
	var o OS
	p := filepath.Join(t.TempDir(), "LOCK")
	l, err := o.Lock(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.Lock(p); err == nil {
		t.Fatal("a held lock was granted twice")
	}
	l.Close()
	l, err = o.Lock(p)
	if err != nil {
		t.Fatalf("a released lock was refused: %v", err)
	}
	l.Close()
}
