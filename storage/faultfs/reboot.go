package faultfs

import (
	"math/rand"

	"github.com/vrkeeper/vrkeeper/storage/vfs"
)

// CrashMode says which unsynced changes survive a crash.
type CrashMode uint8

const (
	// LoseUnsynced keeps only what was synced: every unsynced write and
	// namespace change is lost.
	LoseUnsynced CrashMode = iota
	// KeepUnsynced keeps everything, as if the OS flushed it all just
	// before the crash; this is how unacknowledged data can resurface.
	KeepUnsynced
	// Tear keeps a random subset of the unsynced sectors of each file (so
	// writes are torn) and a random prefix of the unsynced namespace
	// changes, drawn from the given source.
	Tear
)

// Reboot returns the file system a restarted program finds after a crash
// of f (whether or not f was stopped first): the durable view, plus the
// unsynced changes mode lets through. rng is used only by Tear. f itself is
// left as it was.
func (f *FS) Reboot(mode CrashMode, rng *rand.Rand) *FS {
	f.mu.Lock()
	defer f.mu.Unlock()
	keep := 0
	switch mode {
	case KeepUnsynced:
		keep = len(f.journal)
	case Tear:
		keep = rng.Intn(len(f.journal) + 1)
	}
	ns := make(map[string]*inode, len(f.durable))
	for name, ino := range f.durable {
		ns[name] = ino
	}
	for _, c := range f.journal[:keep] {
		if c.ino == nil {
			delete(ns, c.name)
		} else {
			ns[c.name] = c.ino
		}
	}
	g := New()
	for d := range f.dirs {
		g.dirs[d] = true
	}
	// Map each surviving inode once, so that sharing is preserved.
	done := map[*inode]*inode{}
	for name, ino := range ns {
		n, ok := done[ino]
		if !ok {
			content := survivingContent(ino, mode, rng)
			n = &inode{name: name, data: content, synced: append([]byte(nil), content...)}
			done[ino] = n
		}
		g.files[name] = n
		g.durable[name] = n
	}
	return g
}

// survivingContent decides what a file holds after the crash.
func survivingContent(ino *inode, mode CrashMode, rng *rand.Rand) []byte {
	switch mode {
	case LoseUnsynced:
		return append([]byte(nil), ino.synced...)
	case KeepUnsynced:
		return append([]byte(nil), ino.data...)
	}
	size := len(ino.synced)
	if len(ino.data) != size && rng.Intn(2) == 0 {
		size = len(ino.data)
	}
	out := make([]byte, size)
	for off := 0; off < size; off += vfs.SectorSize {
		end := min(off+vfs.SectorSize, size)
		src := ino.synced
		if rng.Intn(2) == 0 {
			src = ino.data
		}
		if off < len(src) {
			copy(out[off:end], src[off:min(end, len(src))])
		}
	}
	return out
}
