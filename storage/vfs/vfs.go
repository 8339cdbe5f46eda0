// Package vfs is the narrow file-system interface the storage package writes
// through, and its implementation on the operating system's files.
//
// The interface exists so that tests can substitute a file system that
// crashes (package storage/faultfs): every durability decision of the
// storage layer is expressed as one of these calls, so a crash can be
// injected before or after each of them.
//
// Durability model (what a caller may rely on, and all it may rely on):
//   - File.WriteAt changes only the volatile view; after a crash any subset
//     of the 512-byte sectors written since the file's last Sync may be lost
//     (they read back as their previous content).
//   - File.Sync makes the file's content and size durable (fdatasync).
//   - Create, Rename and Remove change the directory only in the volatile
//     view; SyncDir makes every earlier namespace change of that directory
//     durable. A file whose directory entry was never synced may be missing
//     after a crash even if its content was synced.
package vfs

import "io"

// SectorSize is the unit a disk writes atomically. The storage formats align
// length fields to 8 bytes so that no length field straddles a sector.
const SectorSize = 512

// File is an open file. Offsets are explicit (positional I/O), so a File
// carries no cursor and may be read concurrently with writes at other
// offsets.
type File interface {
	// ReadAt reads len(p) bytes at off; it returns io.EOF (possibly with
	// n > 0) when the file ends first.
	ReadAt(p []byte, off int64) (n int, err error)
	// WriteAt writes all of p at off, extending the file if needed.
	WriteAt(p []byte, off int64) (n int, err error)
	// Sync makes the file's content and size durable (fdatasync).
	Sync() error
	// Truncate sets the file's size.
	Truncate(size int64) error
	// Allocate reserves size bytes for the file (fallocate): afterwards the
	// file is at least size bytes long and bytes past its old end read as
	// zero. It is not durable until Sync.
	Allocate(size int64) error
	// Size returns the file's current size.
	Size() (int64, error)
	// Close releases the file.
	Close() error
}

// FS is a file system. Names are slash-separated paths as the os package
// takes them.
type FS interface {
	// Create creates the named file, or truncates it if it exists, and
	// opens it for reading and writing.
	Create(name string) (File, error)
	// OpenFile opens an existing file for reading and writing.
	OpenFile(name string) (File, error)
	// Rename atomically replaces newname with oldname.
	Rename(oldname, newname string) error
	// Remove deletes the named file.
	Remove(name string) error
	// ReadDir returns the names of the regular files in dir, sorted.
	ReadDir(dir string) ([]string, error)
	// MkdirAll creates dir and any missing parents.
	MkdirAll(dir string) error
	// SyncDir makes the earlier namespace changes of dir durable.
	SyncDir(dir string) error
	// Lock takes an exclusive advisory lock on the named file (creating it),
	// so two processes cannot use one directory at once. Closing the result
	// releases the lock.
	Lock(name string) (io.Closer, error)
}
