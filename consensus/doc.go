// Package consensus is vrkeeper's Viewstamped Replication core (VR Revisited,
// Liskov & Cowling 2012): a pure, deterministic state machine that replicates
// a log of opaque commands across 2f+1 replicas. It does no I/O, starts no
// goroutines, reads no clock and uses only the random source it is given; a
// driver (the bridge package, or the simulator in consensus/sim) feeds it and
// carries out its output.
//
// # Driving a replica
//
//	r, err := consensus.New(cfg, boot)   // boot: durable state loaded from storage
//	loop:
//	    r.Tick()                          // every tick interval
//	    r.Step(envelope)                  // every message from a peer
//	    r.Propose(cmd)                    // client writes (a backup forwards them)
//	    r.Read(id)                        // linearizable reads (no log entry)
//	    if r.HasReady() {
//	        rd := r.Ready()
//	        // handle rd per the persistence contract documented on Ready
//	        r.Advance(rd)
//	    }
//	    r.SnapshotTaken(snap)             // after a durable state-machine snapshot
//
// Nothing may be called between Ready and Advance; input arriving meanwhile is
// queued by the driver (which is what makes group commit natural: one fsync
// covers everything a Ready holds).
//
// # Op-numbers and commands
//
// Each committed command gets an op-number (Entry.Op), 64-bit and consecutive
// across views; the server uses it as ZooKeeper's zxid. Committed entries are
// delivered exactly once, in op order, through Ready.Committed; an op-number
// never names two different committed commands. Uncommitted entries may be
// replaced in a view change, so a proposal can be lost: the driver re-submits
// commands it has not seen applied when SoftState reports a new view. Commands
// carry their own ids and the state machine drops duplicates (consensus does
// not keep a client table).
//
// # Durability
//
// Log entries are durable before the replica acknowledges them (PrepareOk is
// in MessagesAfterPersist) and the primary counts itself only once its own
// entries are durable (after Advance). The view is durable before
// StartViewChange and DoViewChange leave; last-normal-view and the installed
// log are durable before a replica acts in a new view. A restarted replica
// resumes from its durable state (a former primary starts a view change, so
// it never reuses an op-number it may have lost) and catches up through
// retransmission, GetState/NewState or StartView. Only a replica whose disk
// was lost uses the nonce-based Recovery protocol (Boot.DiskLost); it takes
// part in nothing until the primary of the latest view gave it its log.
//
// # Reads
//
// Read registers a quorum read that never enters the log: the primary records
// its op-number, confirms it is still the primary of its view with one round
// of Commit/Prepare acknowledgements (shared by every read registered before
// the round) and releases the read once that op is committed in that view. A
// backup obtains the op-number from the primary. A deposed primary never
// releases a read.
//
// # Garbage collection and state transfer
//
// The primary tracks each replica's highest durable op and sends
// global_min_accept; the log is compacted below min(snapshot, global_min_accept,
// commit) whenever one of them advances, and, so that one lagging replica
// cannot make the log grow without bound, never keeps more than
// Config.MaxRetainedOps ops below the commit-number. DoViewChange and
// StartView carry the log after max(global_min_accept, log start), so their
// size is bounded by MaxRetainedOps plus the uncommitted ops. A replica that
// needs ops that were compacted receives the snapshot handle (Snapshot.Data,
// owned by the driver) plus the log suffix in NewState. These log suffixes
// (and the primary's RecoveryResponse) travel in parts of at most
// Config.MaxPartBytes each, which the receiver assembles and checks before
// it acts on the whole message as if it had come in one piece (parts.go);
// so every message is bounded by a batch or a part. Entries and snapshots
// travel by reference: messages share the immutable entries of the log and
// never copy a snapshot.
//
// Every log splice is checked with log matching: a suffix is appended after
// op n only if n is committed locally or the local entry at n has the
// sender's view (entries with equal op and view are equal, with equal
// prefixes). A replica that cannot prove it fetches state instead.
package consensus
