package storage

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"path/filepath"

	"github.com/vrkeeper/vrkeeper/storage/vfs"
)

// Load opens the snapshot at op and calls read with its meta and a reader
// of its body. The reader checks the CRC as it goes: at the end of the body
// it returns a *CorruptionError instead of io.EOF if the content is not
// what was written. Whatever read leaves unread is read and checked after
// it returns, so Load returns nil only for an intact snapshot that read
// accepted; a caller must discard what it built if Load fails.
func (s *SnapshotStore) Load(op uint64, read func(SnapshotMeta, io.Reader) error) error {
	path := filepath.Join(s.dir, snapName(op))
	f, err := s.fs.OpenFile(path)
	if err != nil {
		return fmt.Errorf("snapshot: open %s: %w", path, err)
	}
	defer f.Close()
	meta, body, err := openSnapBody(path, f, s.bufSize)
	if err != nil {
		return err
	}
	if meta.Op != op {
		return corrupt(path, 16, "file holds the snapshot at op %d", meta.Op)
	}
	if err := read(meta, body); err != nil {
		return fmt.Errorf("snapshot: load %s: %w", path, err)
	}
	if _, err := io.Copy(io.Discard, body); err != nil {
		return fmt.Errorf("snapshot: load %s: %w", path, err)
	}
	return nil
}

// LoadNewest loads the newest intact snapshot with Load, skipping corrupt
// ones (returned in skipped, newest first, so the caller can report them;
// whether the log still reaches back to an older snapshot is the caller's
// check). found is false if no intact snapshot exists. An error other than
// corruption (I/O, or read's own) stops the search and is returned.
func (s *SnapshotStore) LoadNewest(read func(SnapshotMeta, io.Reader) error) (
	meta SnapshotMeta, found bool, skipped []error, err error) {
	ops, err := s.Ops()
	if err != nil {
		return SnapshotMeta{}, false, nil, err
	}
	for _, op := range ops {
		var got SnapshotMeta
		err := s.Load(op, func(m SnapshotMeta, r io.Reader) error {
			got = m
			return read(m, r)
		})
		if err == nil {
			return got, true, skipped, nil
		}
		if !errors.Is(err, ErrCorrupt) {
			return SnapshotMeta{}, false, skipped, err
		}
		skipped = append(skipped, err)
	}
	return SnapshotMeta{}, false, skipped, nil
}

// openSnapBody checks a snapshot file's header and trailer and returns its
// meta and a CRC-checking reader of its body.
func openSnapBody(path string, f vfs.File, bufSize int) (SnapshotMeta, io.Reader, error) {
	size, err := f.Size()
	if err != nil {
		return SnapshotMeta{}, nil, fmt.Errorf("snapshot: stat %s: %w", path, err)
	}
	if size < snapHeaderLen+snapTrailerLen {
		return SnapshotMeta{}, nil, corrupt(path, 0, "file of %d bytes is too short", size)
	}
	var hdr [snapHeaderLen]byte
	var tr [snapTrailerLen]byte
	if err := readFull(f, hdr[:], 0); err != nil {
		return SnapshotMeta{}, nil, fmt.Errorf("snapshot: read %s: %w", path, err)
	}
	if err := readFull(f, tr[:], size-snapTrailerLen); err != nil {
		return SnapshotMeta{}, nil, fmt.Errorf("snapshot: read %s: %w", path, err)
	}
	if [8]byte(hdr[:8]) != snapMagic {
		return SnapshotMeta{}, nil, corrupt(path, 0, "bad magic %q", hdr[:8])
	}
	if v := binary.LittleEndian.Uint32(hdr[8:]); v != snapVersion {
		return SnapshotMeta{}, nil, corrupt(path, 8, "unknown format version %d", v)
	}
	if [8]byte(tr[16:]) != snapEndMagic {
		return SnapshotMeta{}, nil, corrupt(path, size-8, "no trailer: the snapshot is incomplete")
	}
	metaLen := int64(binary.LittleEndian.Uint32(hdr[32:]))
	bodyLen := binary.LittleEndian.Uint64(tr[:])
	if metaLen > MaxSnapshotMeta || uint64(snapHeaderLen+metaLen+snapTrailerLen)+bodyLen != uint64(size) {
		return SnapshotMeta{}, nil, corrupt(path, 32, "meta of %d and body of %d bytes do not match the file's %d",
			metaLen, bodyLen, size)
	}
	meta := SnapshotMeta{Op: binary.LittleEndian.Uint64(hdr[16:]), View: binary.LittleEndian.Uint64(hdr[24:])}
	crc := crc32.Update(0, castagnoli, hdr[:])
	if metaLen > 0 {
		meta.Meta = make([]byte, metaLen)
		if err := readFull(f, meta.Meta, snapHeaderLen); err != nil {
			return SnapshotMeta{}, nil, fmt.Errorf("snapshot: read %s: %w", path, err)
		}
		crc = crc32.Update(crc, castagnoli, meta.Meta)
	}
	body := &checkedReader{
		r:    bufio.NewReaderSize(io.NewSectionReader(f, snapHeaderLen+metaLen, int64(bodyLen)), bufSize),
		left: int64(bodyLen), crc: crc, want: binary.LittleEndian.Uint32(tr[8:]),
		path: path, end: size - snapTrailerLen,
	}
	return meta, body, nil
}

// readFull reads exactly len(p) bytes at off.
func readFull(f vfs.File, p []byte, off int64) error {
	n, err := f.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// checkedReader reads a snapshot body and checks its CRC at the end.
type checkedReader struct {
	r    io.Reader
	left int64
	crc  uint32
	want uint32
	path string
	end  int64
	err  error
}

func (c *checkedReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if c.left == 0 {
		if c.crc != c.want {
			c.err = corrupt(c.path, c.end, "content CRC %08x, trailer says %08x", c.crc, c.want)
		} else {
			c.err = io.EOF
		}
		return 0, c.err
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.crc = crc32.Update(c.crc, castagnoli, p[:n])
	c.left -= int64(n)
	if errors.Is(err, io.EOF) && c.left > 0 {
		err = io.ErrUnexpectedEOF
	}
	if err != nil && !errors.Is(err, io.EOF) {
		c.err = fmt.Errorf("snapshot: read %s: %w", c.path, err)
		return n, c.err
	}
	return n, nil
}
