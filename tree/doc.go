// Package tree is ZooKeeper's data model as a deterministic state machine:
// the znode tree, the sessions (with their ephemerals and duplicate tables)
// and the counters, changed only by replicated commands, so every replica
// that applies the same commands in the same order reaches the same state,
// gives the same answers and computes the same digest. The behaviour is
// ZooKeeper 3.8's, checked against recordings of the real server
// (testdata/golden).
//
// # Writes
//
// The proposer (the primary's bridge) turns each client write, session event
// and clean-up into a command with AppendClientWrite, AppendOpenSession,
// AppendExpireSessions, AppendRenewSessions or AppendCleanup; a client write
// carries the client's request body unchanged, the primary's clock and the
// requester's identities. Every replica then calls
//
//	err := t.Apply(zxid, cmd, &out)
//
// in log order, zxid being the op-number. Validation happens there (path,
// existence, version, ACL, in ZooKeeper's order of checks), so failed writes
// are replicated too and consume their zxid, as in ZooKeeper. out.Code and
// out.Body are the reply (header error and encoded body); out.Events the
// watch triggers, to be delivered before any later reply; out.Opened and
// out.Closed the sessions created and ended.
//
// Duplicates and ownership (dedup.go): a session is owned by the connection
// that opened or last resumed it (an owner id the server assigned), and the
// server numbers that connection's writes in arrival order. A write applies
// only if it comes from the owner and is its next one: a copy of the last
// is answered from the session's table (out.Dup == DupRepeat), an older
// copy is refused (DupStale), one past a missing write is refused with every
// later one (DupGap), and a write of a connection that no longer owns the
// session fails with SESSIONMOVED. Client xids are echoed, never compared.
//
// Sessions are replicated state: opened by command (the tree assigns the
// id), kept alive by renew commands and by their own writes, ended by
// closeSession or by an expire command that the tree re-checks against its
// clock. Their ephemerals go with them.
//
// Time exists only in commands: the tree's clock is the largest command time
// applied so far, and stats, session expiry and TTL/container clean-up use
// it.
//
// # Reads
//
// Reads are pure functions of the state: Read answers a raw request body
// (exists, getData, getChildren, getChildren2, getACL, getAllChildrenNumber,
// getEphemerals, multiRead, sync), and Exists, GetData, GetChildren, GetACL,
// GetAllChildrenNumber and GetEphemerals do the same for a path. CatchUp
// gives the setWatches catch-up events; CheckPerm the ACL check for routing
// events; Session, SessionIDs and ExpiredSessions describe sessions;
// NeedsCleanup tells whether a clean-up command would do anything.
//
// # Snapshot and digest
//
// Snapshot streams the whole state; Restore reads it back into an identical
// tree. The bytes depend only on the state. Digest is a 64-bit summary,
// updated in O(1) per change, equal for equal states whatever their history.
//
// A server snapshots without stopping its applies: BeginSnapshot (O(1))
// fixes the state at the last zxid, and the applying goroutine then calls
//
//	buf, done = sn.Next(buf[:0], budget)
//
// between applies, each call writing about budget bytes (tens of
// microseconds of work) of exactly the bytes Snapshot would have written at
// the start; Apply meanwhile keeps copies of what the snapshot has yet to
// write before changing it. Abort abandons one.
//
// # Concurrency
//
// A Tree is not safe for concurrent use. The caller serialises Apply,
// Snapshot, the Next calls of a live snapshot and reads (reads and Snapshot
// may share the tree with each other while nothing applies).
package tree
