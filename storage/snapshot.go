package storage

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/vrkeeper/vrkeeper/storage/vfs"
)

// SnapshotMeta identifies a snapshot.
type SnapshotMeta struct {
	// Op is the last op the snapshot reflects.
	Op uint64
	// View is the view of the entry at Op.
	View uint64
	// Meta is opaque caller data stored with the snapshot (for example the
	// configuration at Op), at most MaxSnapshotMeta bytes.
	Meta []byte
}

// MaxSnapshotMeta bounds SnapshotMeta.Meta.
const MaxSnapshotMeta = 1 << 20

// Snapshot file geometry; see doc.go.
const (
	snapPrefix        = "snap-"
	snapSuffix        = ".snap"
	snapHeaderLen     = 40
	snapTrailerLen    = 24
	snapVersion       = 1
	snapBufferSize    = 1 << 20
	defaultSnapRetain = 3
)

var (
	snapMagic    = [8]byte{'v', 'r', 'k', '-', 's', 'n', 'a', 'p'}
	snapEndMagic = [8]byte{'v', 'r', 'k', '-', 'e', 'n', 'd', '\n'}
)

// SnapshotStore keeps snapshot files in a directory: each written
// atomically with its op and a CRC32C of its whole content, the newest
// Retain kept. It is safe for concurrent use.
type SnapshotStore struct {
	fs      vfs.FS
	dir     string
	retain  int
	bufSize int // I/O buffer of a snapshot being written or read
	mu      sync.Mutex
	stop    failStop
	// pinned is the snapshot kept from pruning (Pin); pinnedSet says one is.
	pinned    uint64
	pinnedSet bool
}

// Pin keeps the snapshot at op from being pruned until another one is
// pinned: a replica pins the snapshot it is about to install, which must
// outlive a newer one that arrives (and prunes) while the install waits
// for the log's sync. One stays pinned at a time, so at most one file more
// than Retain is kept.
func (s *SnapshotStore) Pin(op uint64) {
	s.mu.Lock()
	s.pinned, s.pinnedSet = op, true
	s.mu.Unlock()
}

// snapName returns the file name of the snapshot at op.
func snapName(op uint64) string { return fmt.Sprintf("%s%016x%s", snapPrefix, op, snapSuffix) }

// parseSnapName parses a snapshot file name.
func parseSnapName(name string) (uint64, bool) {
	if !strings.HasPrefix(name, snapPrefix) || !strings.HasSuffix(name, snapSuffix) {
		return 0, false
	}
	var op uint64
	if _, err := fmt.Sscanf(name[len(snapPrefix):len(name)-len(snapSuffix)], "%016x", &op); err != nil {
		return 0, false
	}
	return op, snapName(op) == name
}

// Ops returns the ops of the snapshots present, newest first. Their
// content is not checked until loaded.
func (s *SnapshotStore) Ops() ([]uint64, error) {
	names, err := s.fs.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("snapshot: list %s: %w", s.dir, err)
	}
	var ops []uint64
	for _, name := range names {
		if op, ok := parseSnapName(name); ok {
			ops = append(ops, op)
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i] > ops[j] })
	return ops, nil
}

// Save writes a snapshot durably: write streams its body, then the file is
// completed with a trailer holding the length and CRC, synced, renamed into
// place and the directory synced. When Save returns nil the snapshot
// survives any crash (so the log below meta.Op may be truncated); a crash
// before that leaves no trace of it. Older snapshots beyond the newest
// Retain are then deleted.
//
// An error returned by write itself aborts the snapshot and is returned;
// an I/O failure stops the store (fail-stop).
func (s *SnapshotStore) Save(meta SnapshotMeta, write func(io.Writer) error) error {
	if len(meta.Meta) > MaxSnapshotMeta {
		return fmt.Errorf("snapshot: meta of %d bytes, limit %d: %w", len(meta.Meta), MaxSnapshotMeta, ErrTooLarge)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stop.err != nil {
		return s.stop.err
	}
	path := filepath.Join(s.dir, snapName(meta.Op))
	tmp := path + tmpSuffix
	f, err := s.fs.Create(tmp)
	if err != nil {
		return s.stop.set(fmt.Errorf("snapshot: create %s: %w", tmp, err))
	}
	out := &snapWriter{f: f}
	buf := bufio.NewWriterSize(out, s.bufSize)
	hdr := encodeSnapHeader(meta)
	buf.Write(hdr)
	sum := &crcWriter{w: buf, crc: crc32.Checksum(hdr, castagnoli)}
	werr := write(sum)
	if out.err != nil {
		f.Close()
		return s.stop.set(fmt.Errorf("snapshot: write %s: %w", tmp, out.err))
	}
	if werr != nil {
		f.Close()
		if err := s.fs.Remove(tmp); err != nil {
			return s.stop.set(fmt.Errorf("snapshot: remove aborted %s: %w", tmp, err))
		}
		return fmt.Errorf("snapshot: producing snapshot at op %d: %w", meta.Op, werr)
	}
	buf.Write(encodeSnapTrailer(uint64(sum.n), sum.crc))
	err = buf.Flush()
	if err == nil {
		err = f.Sync()
	}
	if err = errors.Join(err, f.Close()); err != nil {
		return s.stop.set(fmt.Errorf("snapshot: write %s: %w", tmp, err))
	}
	if err := s.fs.Rename(tmp, path); err != nil {
		return s.stop.set(fmt.Errorf("snapshot: rename %s: %w", tmp, err))
	}
	if err := s.fs.SyncDir(s.dir); err != nil {
		return s.stop.set(fmt.Errorf("snapshot: sync %s: %w", s.dir, err))
	}
	return s.pruneLocked(meta.Op)
}

// pruneLocked deletes the snapshots older than the newest s.retain, except
// the pinned one (Pin) and keep, the one just put in place: a snapshot fetched from a peer may be
// older than the ones here (a recovering server's primary answered with an
// older one than another server did), and it is put in place to be
// installed next; a later save prunes it.
func (s *SnapshotStore) pruneLocked(keep uint64) error {
	ops, err := s.Ops()
	if err != nil {
		return s.stop.set(err)
	}
	if len(ops) <= s.retain {
		return nil
	}
	for _, op := range ops[s.retain:] {
		if op == keep || (s.pinnedSet && op == s.pinned) {
			continue
		}
		if err := s.fs.Remove(filepath.Join(s.dir, snapName(op))); err != nil {
			return s.stop.set(fmt.Errorf("snapshot: remove old snapshot %d: %w", op, err))
		}
	}
	if err := s.fs.SyncDir(s.dir); err != nil {
		return s.stop.set(fmt.Errorf("snapshot: sync %s: %w", s.dir, err))
	}
	return nil
}

// encodeSnapHeader lays out a snapshot's header and meta; see doc.go.
func encodeSnapHeader(m SnapshotMeta) []byte {
	b := make([]byte, snapHeaderLen, snapHeaderLen+len(m.Meta))
	copy(b, snapMagic[:])
	binary.LittleEndian.PutUint32(b[8:], snapVersion)
	binary.LittleEndian.PutUint64(b[16:], m.Op)
	binary.LittleEndian.PutUint64(b[24:], m.View)
	binary.LittleEndian.PutUint32(b[32:], uint32(len(m.Meta)))
	return append(b, m.Meta...)
}

// encodeSnapTrailer lays out a snapshot's trailer.
func encodeSnapTrailer(bodyLen uint64, crc uint32) []byte {
	b := make([]byte, snapTrailerLen)
	binary.LittleEndian.PutUint64(b, bodyLen)
	binary.LittleEndian.PutUint32(b[8:], crc)
	copy(b[16:], snapEndMagic[:])
	return b
}

// snapWriter writes sequentially to a File and keeps the first error.
type snapWriter struct {
	f   vfs.File
	off int64
	err error
}

func (w *snapWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	n, err := w.f.WriteAt(p, w.off)
	w.off += int64(n)
	if err != nil {
		w.err = err
	}
	return n, err
}

// crcWriter checksums and counts the body bytes on their way to w. The
// checksum covers the header too: it is seeded with the header's CRC.
type crcWriter struct {
	w   io.Writer
	crc uint32
	n   int64
}

func (c *crcWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.crc = crc32.Update(c.crc, castagnoli, p[:n])
	c.n += int64(n)
	return n, err
}
