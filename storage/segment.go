package storage

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/vrkeeper/vrkeeper/storage/vfs"
)

// Segment file names: <seq>-<firstOp>.wal, both 16 hex digits, so that
// lexical order is segment order.
const (
	segmentSuffix = ".wal"
	tmpSuffix     = ".tmp"
	tornSuffix    = ".torn"
	lockName      = "wal.lock"
)

// segment is one retained log file.
type segment struct {
	// seq is the segment's sequence number (from its name and header).
	seq uint64
	// firstOp is the op the log expected next when the segment was made.
	firstOp uint64
	// path is the file's path.
	path string
	// f is the open file; the active segment is written through it, older
	// ones are read through it.
	f vfs.File
}

// segmentName returns the file name of a segment.
func segmentName(seq, firstOp uint64) string {
	return fmt.Sprintf("%016x-%016x%s", seq, firstOp, segmentSuffix)
}

// parseSegmentName parses a segment file name.
func parseSegmentName(name string) (seq, firstOp uint64, ok bool) {
	if !strings.HasSuffix(name, segmentSuffix) || len(name) != 33+len(segmentSuffix) {
		return 0, 0, false
	}
	if _, err := fmt.Sscanf(name[:33], "%016x-%016x", &seq, &firstOp); err != nil {
		return 0, 0, false
	}
	return seq, firstOp, segmentName(seq, firstOp) == name
}

// spareName is the file a future segment is prepared in: preallocated and
// synced ahead of need, it becomes a segment at a roll by getting its
// header and its name.
const spareName = "next" + segmentSuffix + tmpSuffix

// makeSpare prepares a segment-to-be in dir: created, preallocated to size
// and synced. Preallocating with zeros is the slow part of making a
// segment (a sequential write of its whole size), which is why the WAL
// does it ahead of time, off the syncer's path.
func makeSpare(fsys vfs.FS, dir string, size int64, mode Prealloc) (vfs.File, error) {
	path := filepath.Join(dir, spareName)
	f, err := fsys.Create(path)
	if err != nil {
		return nil, fmt.Errorf("wal: create %s: %w", path, err)
	}
	if err := preallocate(f, size, mode); err != nil {
		f.Close()
		return nil, fmt.Errorf("wal: preallocate %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, fmt.Errorf("wal: sync %s: %w", path, err)
	}
	return f, nil
}

// installSegment turns a spare into segment h durably: it writes the
// header, syncs it, renames the spare to the segment's name and syncs the
// directory, so a segment file either does not exist or has a valid header
// and zeros after it. On failure the spare is closed.
func installSegment(fsys vfs.FS, dir string, spare vfs.File, h segmentHeader) (*segment, error) {
	path := filepath.Join(dir, segmentName(h.seq, h.firstOp))
	fail := func(what string, err error) (*segment, error) {
		spare.Close()
		return nil, fmt.Errorf("wal: %s segment %s: %w", what, path, err)
	}
	if _, err := spare.WriteAt(encodeSegmentHeader(h), 0); err != nil {
		return fail("write header of", err)
	}
	if err := spare.Sync(); err != nil {
		return fail("sync header of", err)
	}
	if err := fsys.Rename(filepath.Join(dir, spareName), path); err != nil {
		return fail("rename spare to", err)
	}
	if err := fsys.SyncDir(dir); err != nil {
		return fail("sync directory after creating", err)
	}
	return &segment{seq: h.seq, firstOp: h.firstOp, path: path, f: spare}, nil
}

// createSegment makes segment h at once (makeSpare, then installSegment).
func createSegment(fsys vfs.FS, dir string, h segmentHeader, size int64, mode Prealloc) (*segment, error) {
	f, err := makeSpare(fsys, dir, size, mode)
	if err != nil {
		return nil, err
	}
	return installSegment(fsys, dir, f, h)
}

// Prealloc says how segments get their space reserved.
type Prealloc uint8

const (
	// PreallocZeros writes zeros over the whole segment when it is made,
	// so later appends overwrite allocated, initialised blocks and an
	// fdatasync flushes data only. It costs one sequential write of the
	// segment size per segment.
	PreallocZeros Prealloc = iota
	// PreallocFallocate reserves the segment with fallocate(2): instant,
	// but on ext4 and XFS the blocks are "unwritten" extents, and the first
	// write to each turns an fdatasync into a journal commit.
	PreallocFallocate
	// PreallocNone lets the file grow with each write; every fdatasync
	// then also flushes the new size.
	PreallocNone
)

// String names the mode.
func (p Prealloc) String() string {
	switch p {
	case PreallocZeros:
		return "zeros"
	case PreallocFallocate:
		return "fallocate"
	case PreallocNone:
		return "none"
	}
	return fmt.Sprintf("Prealloc(%d)", uint8(p))
}

// preallocate reserves size bytes of f according to mode.
func preallocate(f vfs.File, size int64, mode Prealloc) error {
	switch mode {
	case PreallocFallocate:
		return f.Allocate(size)
	case PreallocZeros:
		zeros := make([]byte, 1<<20)
		for off := int64(0); off < size; {
			n := min(int64(len(zeros)), size-off)
			if _, err := f.WriteAt(zeros[:n], off); err != nil {
				return err
			}
			off += n
		}
	}
	return nil
}
