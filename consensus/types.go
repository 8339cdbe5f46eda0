package consensus

import (
	"errors"
	"fmt"
)

// ReplicaID is a replica's index in the configuration, 0 ≤ id < Replicas. The
// primary of view v is the replica v mod Replicas.
type ReplicaID int

// ReadID identifies a read request of the driver; the core hands it back in a
// ReadState once the read may be served. The driver chooses the values.
type ReadID uint64

// Entry is one replicated command. Op is VR's op-number, which the server uses
// as ZooKeeper's zxid: it is 64-bit and grows by one per command, across views.
// View is the view whose primary assigned Op to Cmd; together (Op, View)
// identify an entry everywhere (log-matching property). Cmd is opaque to
// consensus and must never be mutated once proposed: entries are shared by
// reference between the log, messages and Ready.
type Entry struct {
	Op   uint64 // op-number (zxid)
	View uint64 // view in which the command was prepared
	Cmd  []byte // opaque command; immutable
}

// Snapshot names a durable state-machine snapshot that reflects every command
// up to and including Op. Data is an opaque handle owned by the driver (for
// example a file reference); consensus passes it along by reference in
// NewState and RecoveryResponse and never reads it.
type Snapshot struct {
	Op   uint64 // last op reflected in the snapshot
	View uint64 // view of the entry at Op (Entry.View of the last applied entry)
	Data any    // driver's handle to the snapshot bytes
}

// HardState is the replica state that must survive a crash. It is written
// atomically as a whole.
//
// Cluster and Incarnation are the replica's durable identity. A replica
// with no durable state at all (Cluster 0: a new server, or one whose disk
// was lost or replaced) never votes and never counts towards a quorum: it
// asks the others, and either takes part in starting a brand-new cluster
// (every other replica answered, and none holds any state) or rebuilds
// its state from them with VR's recovery protocol (someone holds state),
// and only then writes its identity. See recovery.go.
type HardState struct {
	Epoch          uint64 // configuration epoch
	View           uint64 // highest view this replica has entered; never decreases
	LastNormalView uint64 // last view in which the replica's log was installed (status normal)
	Commit         uint64 // a lower bound of the commit-number; advisory, needs no sync of its own
	// GlobalMinAccept is a lower bound of global_min_accept; advisory like
	// Commit. Restored at boot, it keeps view-change messages from reaching
	// back to the start of the log.
	GlobalMinAccept uint64
	Recovering      bool // disk-loss recovery in progress: the log is not to be trusted for voting
	// Cluster identifies the cluster the replica belongs to (0: none yet).
	Cluster uint64
	// Incarnation is drawn when the replica's state is created (a new
	// cluster, or a recovery); it tells this disk's life from earlier ones.
	Incarnation uint64
	// Seeded: an operator made this replica the sole source of the
	// cluster's state after a majority of disks was lost (vrkeeper
	// reseed). It leads a view of its own without a view change, lets
	// recovering replicas rebuild from it alone, and commits nothing until
	// f backups have joined it and the flag is durably cleared.
	Seeded bool
}

// Status is a replica's VR status.
type Status uint8

// The statuses of VR Revisited.
const (
	StatusNormal     Status = iota // processing requests in View
	StatusViewChange               // changing to View (or fetching its state)
	StatusRecovering               // rebuilding after disk loss; takes part in nothing
)

func (s Status) String() string {
	switch s {
	case StatusNormal:
		return "normal"
	case StatusViewChange:
		return "view-change"
	case StatusRecovering:
		return "recovering"
	}
	return fmt.Sprintf("status(%d)", uint8(s))
}

// SoftState is the volatile role information a driver uses: to route requests,
// and to notice a view change so it can re-submit proposals that were not yet
// applied (commands carry their own ids; the state machine drops duplicates).
type SoftState struct {
	View      uint64
	Status    Status
	Primary   ReplicaID // primary of View
	IsPrimary bool      // this replica is the primary of View and normal
	// PrimarySilent: a normal backup has not heard from its primary for a
	// whole view-change timeout and asks the others to change view
	// (pre-vote). It keeps its view, but must not answer clients from a
	// state that may be stale.
	PrimarySilent bool
}

// ReadState says that a read may be served once the driver has applied every
// committed entry up to Op (the driver applies Ready.Committed before serving
// the Ready's reads, so that always holds when the ReadState is delivered).
type ReadState struct {
	ID ReadID
	Op uint64
}

// InvariantViolated starts every Warn message about a peer's message that
// breaks a protocol invariant (the message is ignored). Tests treat it as a
// failure; a server should alert on it.
const InvariantViolated = "invariant violated"

// Errors returned to the driver.
var (
	// ErrProposalDropped: the proposal queue is full; the driver retries later.
	ErrProposalDropped = errors.New("consensus: proposal dropped, queue full")
	// ErrCommandTooLarge: the command exceeds Config.MaxCommandBytes.
	ErrCommandTooLarge = errors.New("consensus: command too large")
	// ErrReadDropped: too many reads are pending; the driver retries later.
	ErrReadDropped = errors.New("consensus: read dropped, queue full")
	// ErrBadMessage: a message failed validation and was ignored.
	ErrBadMessage = errors.New("consensus: bad message")
)
