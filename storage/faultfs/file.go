package faultfs

import (
	"errors"
	"io"
)

// errClosed is returned for operations on a closed file.
var errClosed = errors.New("faultfs: file already closed")

// file is an open handle on an inode. Like a Unix descriptor it keeps
// working after its name is removed or renamed.
type file struct {
	fs     *FS
	ino    *inode
	closed bool
}

// ReadAt implements vfs.File.
func (h *file) ReadAt(p []byte, off int64) (int, error) {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if err := h.begin(OpRead, off, int64(len(p))); err != nil {
		return 0, err
	}
	if off >= int64(len(h.ino.data)) {
		return 0, io.EOF
	}
	n := copy(p, h.ino.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// WriteAt implements vfs.File.
func (h *file) WriteAt(p []byte, off int64) (int, error) {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if err := h.begin(OpWrite, off, int64(len(p))); err != nil {
		return 0, err
	}
	if end := off + int64(len(p)); end > int64(len(h.ino.data)) {
		h.ino.data = grow(h.ino.data, end)
	}
	copy(h.ino.data[off:], p)
	return len(p), nil
}

// Sync implements vfs.File.
func (h *file) Sync() error {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if err := h.begin(OpSync, 0, 0); err != nil {
		return err
	}
	h.ino.synced = append(h.ino.synced[:0:0], h.ino.data...)
	return nil
}

// Truncate implements vfs.File.
func (h *file) Truncate(size int64) error {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if err := h.begin(OpTruncate, size, 0); err != nil {
		return err
	}
	if size <= int64(len(h.ino.data)) {
		h.ino.data = h.ino.data[:size]
	} else {
		h.ino.data = grow(h.ino.data, size)
	}
	return nil
}

// Allocate implements vfs.File.
func (h *file) Allocate(size int64) error {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if err := h.begin(OpAllocate, 0, size); err != nil {
		return err
	}
	if size > int64(len(h.ino.data)) {
		h.ino.data = grow(h.ino.data, size)
	}
	return nil
}

// Size implements vfs.File. It is not an operation hooks see.
func (h *file) Size() (int64, error) {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if h.closed {
		return 0, errClosed
	}
	if h.fs.crashed {
		return 0, ErrCrashed
	}
	return int64(len(h.ino.data)), nil
}

// Close implements vfs.File. Closing never fails and is not an operation
// hooks see, so a crashed program can still release its handles.
func (h *file) Close() error {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if h.closed {
		return errClosed
	}
	h.closed = true
	return nil
}

// begin checks the handle and runs the FS-level checks for an operation.
func (h *file) begin(kind Kind, off, n int64) error {
	if h.closed {
		return errClosed
	}
	return h.fs.begin(kind, h.ino.name, off, n)
}

// grow returns b extended with zeros to size bytes.
func grow(b []byte, size int64) []byte {
	if int64(cap(b)) >= size {
		old := len(b)
		b = b[:size]
		clear(b[old:])
		return b
	}
	nb := make([]byte, size, size+size/4)
	copy(nb, b)
	return nb
}
