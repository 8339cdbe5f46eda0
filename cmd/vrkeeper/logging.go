package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
)

// openLog returns where the server logs: standard error, or cfg.LogFile
// rotated by size.
func openLog(cfg *Config, stderr io.Writer) (io.Writer, func(), error) {
	if cfg.LogFile == "" {
		return stderr, func() {}, nil
	}
	w, err := newRotatingFile(cfg.LogFile, cfg.LogMaxSize, cfg.LogMaxFiles)
	if err != nil {
		return nil, nil, err
	}
	return w, func() { w.Close() }, nil
}

// rotatingFile is a log file that is renamed to name.1 (and older ones to
// name.2, ...) once it reaches maxSize; keep rotated files are kept.
type rotatingFile struct {
	mu      sync.Mutex
	name    string
	maxSize int64
	keep    int
	f       *os.File
	size    int64
}

func newRotatingFile(name string, maxSize int64, keep int) (*rotatingFile, error) {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return nil, fmt.Errorf("log file: %w", err)
	}
	r := &rotatingFile{name: name, maxSize: maxSize, keep: max(keep, 1)}
	if err := r.open(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *rotatingFile) open() error {
	f, err := os.OpenFile(r.name, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("log file: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("log file: %w", err)
	}
	r.f, r.size = f, fi.Size()
	return nil
}

// Write writes p, rotating first if p would take the file past maxSize.
// A log line that cannot be written is dropped rather than stopping the
// server.
func (r *rotatingFile) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		return len(p), nil
	}
	if r.maxSize > 0 && r.size > 0 && r.size+int64(len(p)) > r.maxSize {
		r.rotate()
	}
	n, err := r.f.Write(p)
	r.size += int64(n)
	return n, err
}

// rotate shifts name.i to name.i+1 (dropping the oldest) and starts a new
// file.
func (r *rotatingFile) rotate() {
	r.f.Close()
	os.Remove(fmt.Sprintf("%s.%d", r.name, r.keep))
	for i := r.keep - 1; i >= 1; i-- {
		os.Rename(fmt.Sprintf("%s.%d", r.name, i), fmt.Sprintf("%s.%d", r.name, i+1))
	}
	os.Rename(r.name, r.name+".1")
	if err := r.open(); err != nil {
		r.f = nil
	}
}

// Close closes the file.
func (r *rotatingFile) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		return nil
	}
	err := r.f.Close()
	r.f = nil
	return err
}
