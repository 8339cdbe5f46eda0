//go:build !linux

package vfs

import "os"

// datasync falls back to fsync where fdatasync is not available.
func datasync(f *os.File) error { return f.Sync() }

// allocate writes zeros where fallocate is not available.
func allocate(f *os.File, size int64) error { return writeZeros(f, size) }

// lockFile is a no-op where flock is not available.
func lockFile(*os.File) error { return nil }
