package storage

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"path/filepath"
	"strings"

	"github.com/vrkeeper/vrkeeper/storage/vfs"
)

// Snapshots travel between replicas in chunks, streamed from the sender's
// file into the receiver's: a SnapshotReader reads a stored snapshot's body
// (checking its CRC at the end, so a damaged file is never passed on), and
// a SnapshotPart builds a snapshot file from chunks as they arrive, with no
// more memory than a chunk, and becomes a snapshot of the store only when
// Commit made it durable. A part is named <snapshot>.part; a crash leaves
// at most a part, which Open removes.

// partSuffix ends the name of a snapshot being received.
const partSuffix = ".part"

// SnapshotReader reads the body of a stored snapshot sequentially.
type SnapshotReader struct {
	// Meta identifies the snapshot.
	Meta SnapshotMeta
	f    vfs.File
	body io.Reader
	off  int64
	size int64
}

// Open opens the snapshot at op for reading its body from the start.
func (s *SnapshotStore) Open(op uint64) (*SnapshotReader, error) {
	path := filepath.Join(s.dir, snapName(op))
	f, err := s.fs.OpenFile(path)
	if err != nil {
		return nil, fmt.Errorf("snapshot: open %s: %w", path, err)
	}
	meta, body, err := openSnapBody(path, f, s.bufSize)
	if err != nil {
		f.Close()
		return nil, err
	}
	if meta.Op != op {
		f.Close()
		return nil, corrupt(path, 16, "file holds the snapshot at op %d", meta.Op)
	}
	return &SnapshotReader{Meta: meta, f: f, body: body, size: body.(*checkedReader).left}, nil
}

// Read reads the body; at its end it returns io.EOF if the content is
// intact and a *CorruptionError if not.
func (r *SnapshotReader) Read(p []byte) (int, error) {
	n, err := r.body.Read(p)
	r.off += int64(n)
	return n, err
}

// Offset returns how many body bytes were read.
func (r *SnapshotReader) Offset() int64 { return r.off }

// Size returns the body's length.
func (r *SnapshotReader) Size() int64 { return r.size }

// Close releases the file.
func (r *SnapshotReader) Close() error { return r.f.Close() }

// SnapshotPart is a snapshot being received: its file is written as the
// chunks come, then completed, synced and put in place by Commit.
type SnapshotPart struct {
	s    *SnapshotStore
	meta SnapshotMeta
	path string
	f    vfs.File
	out  *snapWriter
	crc  uint32
	n    int64
	done bool
}

// NewPart starts receiving the snapshot meta describes; an earlier part of
// it is discarded.
func (s *SnapshotStore) NewPart(meta SnapshotMeta) (*SnapshotPart, error) {
	if len(meta.Meta) > MaxSnapshotMeta {
		return nil, fmt.Errorf("snapshot: meta of %d bytes, limit %d: %w", len(meta.Meta), MaxSnapshotMeta, ErrTooLarge)
	}
	s.mu.Lock()
	err := s.stop.err
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	path := filepath.Join(s.dir, snapName(meta.Op)+partSuffix)
	f, err := s.fs.Create(path)
	if err != nil {
		return nil, s.fail(fmt.Errorf("snapshot: create %s: %w", path, err))
	}
	p := &SnapshotPart{s: s, meta: meta, path: path, f: f, out: &snapWriter{f: f}}
	hdr := encodeSnapHeader(meta)
	p.crc = crc32.Checksum(hdr, castagnoli)
	if _, err := p.out.Write(hdr); err != nil {
		f.Close()
		return nil, s.fail(fmt.Errorf("snapshot: write %s: %w", path, err))
	}
	return p, nil
}

// Write appends body bytes.
func (p *SnapshotPart) Write(b []byte) (int, error) {
	if p.done {
		return 0, fmt.Errorf("snapshot: write to finished part %s", p.path)
	}
	n, err := p.out.Write(b)
	p.crc = crc32.Update(p.crc, castagnoli, b[:n])
	p.n += int64(n)
	if err != nil {
		return n, p.s.fail(fmt.Errorf("snapshot: write %s: %w", p.path, err))
	}
	return n, nil
}

// Size returns how many body bytes were written.
func (p *SnapshotPart) Size() int64 { return p.n }

// Meta returns the snapshot the part is for.
func (p *SnapshotPart) Meta() SnapshotMeta { return p.meta }

// Commit completes the snapshot (trailer, sync), puts it in place and
// syncs the directory: when it returns nil the snapshot is in the store
// and survives any crash. Older snapshots beyond the newest Retain are
// then deleted.
func (p *SnapshotPart) Commit() error {
	if p.done {
		return fmt.Errorf("snapshot: commit of finished part %s", p.path)
	}
	p.done = true
	s := p.s
	if _, err := p.out.Write(encodeSnapTrailer(uint64(p.n), p.crc)); err != nil {
		p.f.Close()
		return s.fail(fmt.Errorf("snapshot: write %s: %w", p.path, err))
	}
	if err := errors.Join(p.f.Sync(), p.f.Close()); err != nil {
		return s.fail(fmt.Errorf("snapshot: write %s: %w", p.path, err))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stop.err != nil {
		return s.stop.err
	}
	path := filepath.Join(s.dir, snapName(p.meta.Op))
	if err := s.fs.Rename(p.path, path); err != nil {
		return s.stop.set(fmt.Errorf("snapshot: rename %s: %w", p.path, err))
	}
	if err := s.fs.SyncDir(s.dir); err != nil {
		return s.stop.set(fmt.Errorf("snapshot: sync %s: %w", s.dir, err))
	}
	return s.pruneLocked(p.meta.Op)
}

// Abort discards the part.
func (p *SnapshotPart) Abort() error {
	if p.done {
		return nil
	}
	p.done = true
	p.f.Close()
	if err := p.s.fs.Remove(p.path); err != nil {
		return p.s.fail(fmt.Errorf("snapshot: remove %s: %w", p.path, err))
	}
	return nil
}

// Has reports whether the store holds the snapshot at op.
func (s *SnapshotStore) Has(op uint64) (bool, error) {
	ops, err := s.Ops()
	if err != nil {
		return false, err
	}
	for _, o := range ops {
		if o == op {
			return true, nil
		}
	}
	return false, nil
}

// fail stops the store after an I/O failure (fail-stop).
func (s *SnapshotStore) fail(err error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stop.set(err)
}

// isPartName reports whether name is a snapshot being received.
func isPartName(name string) bool {
	return strings.HasPrefix(name, snapPrefix) && strings.HasSuffix(name, snapSuffix+partSuffix)
}
