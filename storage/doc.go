// Package storage is a replica's durable storage: a write-ahead log with
// group commit, the replica state file, and snapshot files. It knows
// nothing of the consensus core's types: the driver translates a Ready into
// the calls below. All I/O goes through a vfs.FS, so tests can crash it
// (package storage/faultfs).
//
// # Directories
//
// The data directory (zoo.cfg's dataDir) holds the replica state file and
// the snapshots; the log directory (dataLogDir, default <dataDir>/wal)
// holds the log's segments. Each directory is locked (data.lock, wal.lock)
// so two processes cannot use it at once; they may be the same directory.
//
//	<dataDir>/replica-state               HardState, replaced atomically
//	<dataDir>/snap-<op:016x>.snap          snapshots, newest few kept
//	<logDir>/<seq:016x>-<firstOp:016x>.wal log segments
//	<logDir>/<segment>.<off:016x>.torn     a torn tail cut off at start
//	<logDir>/next.wal.tmp                  the next segment, prepared ahead
//	*.tmp                                  unfinished writes, removed at start
//
// # Durability contract (what the driver may rely on)
//
//   - WAL.Append and WAL.ReplaceFrom copy their input into the pending
//     batch and return a mutation number at once; nothing is durable yet.
//     Mutations are numbered 1, 2, ... in the order they were accepted.
//   - Durable().Seq >= n means mutation n and every earlier one are on
//     disk: they survive kill -9 and power loss. The log's syncer writes
//     each group with one write call and one fdatasync, then advances the
//     mark, wakes the waiters of that group (WaitDurable) and sends a token
//     on Notify(). So: send PrepareOk for an entry, or count the primary's
//     own vote for it, only once its mutation number is durable. Compare
//     mutation numbers, not ops: after a ReplaceFrom, Durable().LastOp can
//     go down.
//   - A mutation that never became durable may or may not survive a crash,
//     but a restart always finds the log as it was after some prefix of the
//     accepted mutations that includes every durable one: never a mix,
//     never a hole, never an entry a durable ReplaceFrom dropped.
//   - StateFile.Save returns once the state is durable (temporary file,
//     fsync, rename, fsync of the directory); a crash during it leaves the
//     old state or the new one.
//   - SnapshotStore.Save returns once the snapshot is durable; only then
//     may the log be truncated below its op (WAL.TruncatePrefix).
//   - Order across files: when one Ready both changes the log and the
//     state, make the log durable first, then save the state, then send.
//     LastNormalView is a claim about the log; written in this order, a
//     crash in between leaves a state that claims less than the log holds,
//     never more. (A view alone, before StartViewChange or DoViewChange,
//     is just StateFile.Save before the send.)
//   - Fail-stop: after any write, sync, rename or remove failure, the
//     failing part (WAL, StateFile or SnapshotStore) returns that first
//     error (matching ErrStopped) from every later call, and the WAL never
//     reports anything durable again. Nothing is retried: after a failed
//     fsync the kernel may have dropped the dirty pages, so a retry could
//     "succeed" over lost data. The replica must stop. A Notify token is
//     also sent when the WAL stops, so a driver waiting on it sees Err.
//
// # Log format
//
// A segment is a sequence of frames. Every frame is 8-byte aligned and
// starts with an 8-byte little-endian length word, so a length word never
// straddles a 512-byte sector and can never be half written:
//
//	bytes 0..3   payload length n (uint32)
//	byte  4      record type (1 segment header, 2 batch marker, 3 entry,
//	             4 replace, 5 commit bound, 6 seal, 7 accepted bound; 0
//	             is never a type, so
//	             an all-zero length word is unwritten space)
//	bytes 5..7   zero
//	bytes 8..11  CRC32C (Castagnoli) of bytes 0..7 and the payload
//	bytes 12..   payload, n bytes
//	then         zero padding to the next multiple of 8
//
// Payloads (integers little-endian):
//
//	segment header (40): magic "vrk-wal\n", version uint32 (1), zero
//	    uint32, seq uint64, firstOp uint64, prevCRC uint32, zero uint32
//	batch marker (24):   length uint64 (bytes of the batch, marker
//	    included), batch number uint64, records uint32 (frames after the
//	    marker), zero uint32
//	entry (16+len):      op uint64, view uint64, command bytes
//	replace (8):         op uint64: drop every entry from op on; the next
//	    entry is op (if op is beyond the log's end, the log becomes empty)
//	commit bound (8):    op uint64: every entry up to op is committed
//	accepted bound (8):  op uint64 (type 7): every replica durably
//	    accepted every entry up to op
//	seal (8):            batch number uint64; the last frame of every batch
//
// The CRCs of entry, replace, commit and seal frames are chained: each is
// seeded with the CRC of the previous such frame, across batches and
// segments, so a lost, repeated or reordered frame breaks the chain. A
// segment header and a batch marker carry standalone CRCs (seed 0); the
// header's prevCRC field holds the chain value at the end of the previous
// segment, which seeds the segment's first frame and lets a segment be
// checked alone once the segments before it were deleted.
//
// Each segment starts with its header; the rest is batches, one per group
// write: a marker, the frames, and a seal, written with one write call and
// synced before the next batch is written. After the last batch the
// segment holds zeros (an all-zero length word ends it). The segment's
// firstOp is the op the durable log expected next when it was made (0 if
// none), so every live entry of earlier segments is below it.
//
// Segments are made ahead of need: next.wal.tmp is created, preallocated
// (WALOptions.Preallocate; by default zeros are written over its whole
// size, so appends overwrite allocated blocks and an fdatasync flushes data
// only) and synced in the background; at a roll it gets its header, is
// synced, renamed to the segment's name, and the directory synced, before
// any batch goes into it.
//
// # Recovery
//
// OpenWAL replays the segments in order, batch by batch, checking every
// CRC, the chain, the segment sequence and the op sequence. Since at most
// one batch is ever unsynced, a crash can damage only the last batch of the
// last segment, and only by leaving some of its 512-byte sectors unwritten
// (reading as the zeros that were there before). A batch that fails its
// checks is cut off as a torn write if and only if it is in the last
// segment, nothing was written after it, and the failing frame's checked
// bytes overlap a sector that reads as zero within the batch (or run past
// the end of the file). The cut bytes (from the batch's start to the last
// non-zero byte) are copied to a .torn file, zeroed in the segment, and
// reported in Recovered.Torn; the batch is dropped whole. Anything else is
// corruption: OpenWAL fails with a *CorruptionError naming the file and
// offset and saying how to rebuild the replica from its peers
// (RebuildAdvice). Since a batch's first sector holds its marker and its
// last its seal, one corruption only can pass for a tear: a bit flip in the
// last batch of the log, in an entry whose command bytes fill a whole
// aligned 512-byte sector with zeros.
//
// # Replica state file
//
//	magic "vrk-stat", version uint32 (2), flags uint32 (bit 0:
//	Recovering, bit 1: Seeded; the others zero), epoch uint64,
//	view uint64, lastNormalView uint64, cluster uint64, incarnation
//	uint64, config length uint32, extra length uint32, config bytes,
//	extra bytes, CRC32C of all before (uint32)
//
// Format 1 (no cluster and incarnation) is refused with ErrOldFormat.
//
// # Snapshot file
//
//	header (40): magic "vrk-snap", version uint32 (1), zero uint32, op
//	    uint64, view uint64, meta length uint32, zero uint32
//	meta bytes, body bytes (the caller's stream)
//	trailer (24): body length uint64, CRC32C of header, meta and body
//	    (uint32), zero uint32, magic "vrk-end\n"
//
// A snapshot is written as a temporary file, synced, renamed into place and
// the directory synced; a file without its trailer or with a wrong CRC is
// never loaded.
package storage
