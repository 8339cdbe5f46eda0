// Package faultfs is an in-memory vfs.FS that can crash and fail on demand,
// for testing what the storage layer promises across crashes.
//
// It keeps two views of everything: the volatile view that reads see, and
// the durable view that survives a crash. File content becomes durable on
// File.Sync; namespace changes (create, rename, remove) become durable on
// SyncDir, in the order they were made (as a journaling file system commits
// them). Directories themselves are durable as soon as they are made.
//
// A crash is taken in two steps. First the running program is stopped: a
// Hook returning ErrCrash (or CrashAt) makes that operation and every later
// one fail with ErrCrashed, so nothing after the crash point reaches the
// disk. Then Reboot builds the file system a restarted program finds, from
// the durable view plus whatever subset of the volatile changes the chosen
// CrashMode lets through: none, all, or a seeded random choice of sectors
// (tearing writes) and a random prefix of the unsynced namespace changes.
//
// Any operation can also fail alone: a Hook returning another error makes
// just that operation fail, without effect, which models EIO on a write,
// sync or rename.
package faultfs
