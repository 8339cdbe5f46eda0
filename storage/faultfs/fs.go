package faultfs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"sync"

	"github.com/vrkeeper/vrkeeper/storage/vfs"
)

// ErrCrash is returned by a Hook to crash the file system at that operation.
var ErrCrash = errors.New("faultfs: crash requested")

// ErrCrashed is what every operation returns once the file system crashed.
var ErrCrashed = errors.New("faultfs: file system crashed")

// Kind names an operation, for hooks.
type Kind uint8

// The operations a Hook sees.
const (
	OpCreate Kind = iota + 1
	OpOpen
	OpRead
	OpWrite
	OpSync
	OpTruncate
	OpAllocate
	OpRename
	OpRemove
	OpSyncDir
	OpMkdir
	OpReadDir
)

var kindNames = [...]string{"?", "create", "open", "read", "write", "sync", "truncate",
	"allocate", "rename", "remove", "syncdir", "mkdir", "readdir"}

// String returns the operation's name.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "?"
}

// Op describes one operation about to happen.
type Op struct {
	// Seq numbers the operations of this FS from 1, in the order they run.
	Seq int
	// Kind is what the operation does.
	Kind Kind
	// Name is the file (or directory) it acts on, by its current name
	// ("" for a removed file still open); for a rename, the source.
	Name string
	// Off and Len locate a read or write.
	Off, Len int64
}

// String renders the operation for test failure messages.
func (o Op) String() string {
	return fmt.Sprintf("#%d %s %s [%d,+%d)", o.Seq, o.Kind, o.Name, o.Off, o.Len)
}

// Hook decides the fate of each operation before it runs: nil lets it run,
// ErrCrash crashes the file system there, any other error fails just that
// operation without effect.
type Hook func(Op) error

// FS is the in-memory crashable file system. The zero value is not usable;
// call New.
type FS struct {
	mu sync.Mutex
	// files is the volatile namespace: path to inode.
	files map[string]*inode
	// durable is the namespace as of the last SyncDir.
	durable map[string]*inode
	// journal holds the namespace changes made since they were last made
	// durable, oldest first.
	journal []nsChange
	// dirs is the set of existing directories ("." and "/" always exist).
	dirs map[string]bool
	// locks holds the names currently locked.
	locks map[string]bool
	// hook, if set, is consulted before every operation.
	hook Hook
	// seq counts operations.
	seq int
	// crashAt, if positive, crashes the operation with that Seq.
	crashAt int
	// crashed is set once the file system crashed; every operation fails.
	crashed bool
	// crashOp is the operation at which the crash happened.
	crashOp Op
}

// inode is one file's content in both views.
type inode struct {
	// name is the file's current name in the volatile namespace ("" once
	// removed); operations through open handles report it.
	name string
	// data is the volatile content.
	data []byte
	// synced is the content as of the last Sync.
	synced []byte
}

// nsChange is one namespace change: name now refers to ino (nil: removed).
type nsChange struct {
	name string
	ino  *inode
}

// New returns an empty file system.
func New() *FS {
	return &FS{
		files:   map[string]*inode{},
		durable: map[string]*inode{},
		dirs:    map[string]bool{".": true, "/": true},
		locks:   map[string]bool{},
	}
}

// SetHook installs h (nil removes it).
func (f *FS) SetHook(h Hook) {
	f.mu.Lock()
	f.hook = h
	f.mu.Unlock()
}

// CrashAt makes the operation with the given Seq crash the file system
// (0 disables it).
func (f *FS) CrashAt(seq int) {
	f.mu.Lock()
	f.crashAt = seq
	f.mu.Unlock()
}

// Ops returns how many operations have been attempted so far.
func (f *FS) Ops() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.seq
}

// Crashed reports whether the file system crashed, and at which operation.
func (f *FS) Crashed() (Op, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.crashOp, f.crashed
}

// Crash stops the file system now, as if the machine lost power: every
// later operation fails with ErrCrashed.
func (f *FS) Crash() {
	f.mu.Lock()
	f.crashed = true
	f.crashOp = Op{Seq: f.seq + 1}
	f.mu.Unlock()
}

// begin consults the crash state and the hook for an operation; it must be
// called with f.mu held. A nil result lets the operation proceed.
func (f *FS) begin(kind Kind, name string, off, n int64) error {
	if f.crashed {
		return ErrCrashed
	}
	f.seq++
	op := Op{Seq: f.seq, Kind: kind, Name: name, Off: off, Len: n}
	var err error
	if f.crashAt > 0 && op.Seq == f.crashAt {
		err = ErrCrash
	} else if f.hook != nil {
		err = f.hook(op)
	}
	if errors.Is(err, ErrCrash) {
		f.crashed = true
		f.crashOp = op
		return ErrCrashed
	}
	if err != nil {
		return &fs.PathError{Op: kind.String(), Path: name, Err: err}
	}
	return nil
}

func clean(name string) string { return path.Clean(name) }

// checkDir returns an error unless name's directory exists.
func (f *FS) checkDir(op, name string) error {
	if !f.dirs[path.Dir(name)] {
		return &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
	}
	return nil
}

// Create implements vfs.FS.
func (f *FS) Create(name string) (vfs.File, error) {
	name = clean(name)
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin(OpCreate, name, 0, 0); err != nil {
		return nil, err
	}
	if err := f.checkDir("create", name); err != nil {
		return nil, err
	}
	if ino, ok := f.files[name]; ok {
		ino.data = ino.data[:0:0] // O_TRUNC changes content, not the namespace
		return &file{fs: f, ino: ino}, nil
	}
	ino := &inode{name: name}
	f.files[name] = ino
	f.journal = append(f.journal, nsChange{name, ino})
	return &file{fs: f, ino: ino}, nil
}

// OpenFile implements vfs.FS.
func (f *FS) OpenFile(name string) (vfs.File, error) {
	name = clean(name)
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin(OpOpen, name, 0, 0); err != nil {
		return nil, err
	}
	ino, ok := f.files[name]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return &file{fs: f, ino: ino}, nil
}

// Rename implements vfs.FS.
func (f *FS) Rename(oldname, newname string) error {
	oldname, newname = clean(oldname), clean(newname)
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin(OpRename, oldname, 0, 0); err != nil {
		return err
	}
	ino, ok := f.files[oldname]
	if !ok {
		return &fs.PathError{Op: "rename", Path: oldname, Err: fs.ErrNotExist}
	}
	if err := f.checkDir("rename", newname); err != nil {
		return err
	}
	if old, ok := f.files[newname]; ok {
		old.name = ""
	}
	delete(f.files, oldname)
	f.files[newname] = ino
	ino.name = newname
	f.journal = append(f.journal, nsChange{newname, ino}, nsChange{oldname, nil})
	return nil
}

// Remove implements vfs.FS.
func (f *FS) Remove(name string) error {
	name = clean(name)
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin(OpRemove, name, 0, 0); err != nil {
		return err
	}
	ino, ok := f.files[name]
	if !ok {
		return &fs.PathError{Op: "remove", Path: name, Err: fs.ErrNotExist}
	}
	ino.name = ""
	delete(f.files, name)
	f.journal = append(f.journal, nsChange{name, nil})
	return nil
}

// ReadDir implements vfs.FS.
func (f *FS) ReadDir(dir string) ([]string, error) {
	dir = clean(dir)
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin(OpReadDir, dir, 0, 0); err != nil {
		return nil, err
	}
	if !f.dirs[dir] {
		return nil, &fs.PathError{Op: "readdir", Path: dir, Err: fs.ErrNotExist}
	}
	var names []string
	for name := range f.files {
		if path.Dir(name) == dir {
			names = append(names, path.Base(name))
		}
	}
	sort.Strings(names)
	return names, nil
}

// MkdirAll implements vfs.FS. Directories are durable at once.
func (f *FS) MkdirAll(dir string) error {
	dir = clean(dir)
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin(OpMkdir, dir, 0, 0); err != nil {
		return err
	}
	for d := dir; !f.dirs[d]; d = path.Dir(d) {
		f.dirs[d] = true
	}
	return nil
}

// SyncDir implements vfs.FS: the journal up to and including the last
// change in dir becomes durable (a journal commits in order).
func (f *FS) SyncDir(dir string) error {
	dir = clean(dir)
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin(OpSyncDir, dir, 0, 0); err != nil {
		return err
	}
	last := -1
	for i, c := range f.journal {
		if path.Dir(c.name) == dir {
			last = i
		}
	}
	f.commitJournal(last + 1)
	return nil
}

// commitJournal makes the first n journal changes durable.
func (f *FS) commitJournal(n int) {
	for _, c := range f.journal[:n] {
		if c.ino == nil {
			delete(f.durable, c.name)
		} else {
			f.durable[c.name] = c.ino
		}
	}
	f.journal = append(f.journal[:0], f.journal[n:]...)
}

// Lock implements vfs.FS.
func (f *FS) Lock(name string) (io.Closer, error) {
	name = clean(name)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.crashed {
		return nil, ErrCrashed
	}
	if f.locks[name] {
		return nil, fmt.Errorf("faultfs: lock %s: already held", name)
	}
	f.locks[name] = true
	return lockHandle{f, name}, nil
}

// lockHandle releases a lock when closed.
type lockHandle struct {
	fs   *FS
	name string
}

func (l lockHandle) Close() error {
	l.fs.mu.Lock()
	delete(l.fs.locks, l.name)
	l.fs.mu.Unlock()
	return nil
}

// ReadFile returns a copy of a file's volatile content, for test inspection.
// It is not an operation: hooks do not see it and it works after a crash.
func (f *FS) ReadFile(name string) ([]byte, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ino, ok := f.files[clean(name)]
	if !ok {
		return nil, false
	}
	return append([]byte(nil), ino.data...), true
}

// WriteFile replaces a file's content in both views (creating it durably),
// for tests that corrupt a disk image. It is not an operation.
func (f *FS) WriteFile(name string, data []byte) {
	name = clean(name)
	f.mu.Lock()
	defer f.mu.Unlock()
	ino, ok := f.files[name]
	if !ok {
		ino = &inode{name: name}
		f.files[name] = ino
		f.durable[name] = ino
	}
	ino.data = append([]byte(nil), data...)
	ino.synced = append([]byte(nil), data...)
}
