// Package driver runs a consensus.Replica over durable storage: it feeds
// the replica its input, and carries out each Ready in the order the core's
// persistence contract requires (messages that depend on nothing
// unpersisted; a peer's snapshot, the log and the replica state made
// durable; then the messages that vouch for them; then the committed
// entries). It is the one implementation of that contract: the server
// runs it on its replica goroutine, and the simulator (consensus/sim) runs
// the very same code over a crashable in-memory file system, with an
// injected clock and transport, so the seeds test what production runs.
//
// A Driver is not safe for concurrent use: one goroutine (or the
// simulator's event loop) owns it. It starts no goroutines unless the
// host asks for background log compaction (Options.CompactInBackground).
//
// # Waiting for the disk
//
// Process hands out Readies until one must wait for durability; it then
// says so and which log mutation to wait for. The host waits in whatever
// way suits it (the server blocks in WAL.WaitDurable; the simulator lets
// simulated time pass, then syncs a manual-sync log, or crashes the node
// instead) and calls Resume, which saves the replica state, sends what
// vouches for the persisted state, applies, and advances the replica. Input
// that arrives meanwhile (Step, Tick, Propose, Read, SnapshotTaken) is
// queued and handed to the replica after Advance, in arrival order, so one
// Ready after a wait carries everything that came during it (group commit).
package driver

import (
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/vrkeeper/vrkeeper/consensus"
	"github.com/vrkeeper/vrkeeper/metrics"
	"github.com/vrkeeper/vrkeeper/storage"
)

// Transport carries encoded messages to the other servers.
type Transport interface {
	// Send queues frame for the server with id to. It must not block; a
	// message it cannot deliver is lost (the protocol retransmits). The
	// transport keeps frame.
	Send(to uint64, frame []byte) error
}

// Applier is the state machine side: it receives what the replica
// committed, in order.
type Applier interface {
	// Apply installs b.Snapshot first (if non-nil: a peer's snapshot that
	// supersedes the state machine) and then applies b.Entries in order.
	// An error stops the driver.
	Apply(b Batch) error
}

// Batch is a unit of work for the Applier.
type Batch struct {
	// Install: restore the state machine from the store's snapshot at
	// SnapOp before the entries (a snapshot fetched from a peer; it
	// supersedes the state machine). SnapView is the view of its last op.
	Install          bool
	SnapOp, SnapView uint64
	// Entries are committed entries, consecutive, after the snapshot (or
	// after the last entry applied before).
	Entries []consensus.Entry
}

// Fetcher fetches snapshots from peers beside the replica's loop (package
// bridge/transfer).
type Fetcher interface {
	// Fetch starts fetching the snapshot meta names from server from (or
	// goes on with it); it must not block.
	Fetch(from uint64, meta storage.SnapshotMeta)
}

// Options configures a Driver.
type Options struct {
	// IDs is the server id of each replica, indexed by consensus.ReplicaID
	// (sorted ascending); Self is this replica's index.
	IDs  []uint64
	Self consensus.ReplicaID
	// Store is the replica's storage, opened by Open.
	Store *storage.Store
	// Transport sends to peers; nil for a single replica.
	Transport Transport
	// Applier receives committed entries.
	Applier Applier
	// Fetcher fetches a snapshot a peer's message names (in the
	// background); the host calls SnapshotFetched once it is in the store.
	Fetcher Fetcher
	// Clock reads the time (read timeouts). Default time.Now.
	Clock func() time.Time
	// ReadTimeout fails a read the replica has not released in time (no
	// primary).
	ReadTimeout time.Duration
	// Log is the driver's logger (the core logs through Consensus.Logger).
	Log hclog.Logger
	// OnSoftState is called (on the driver's goroutine) when the replica's
	// view, status or primary changed.
	OnSoftState func(consensus.SoftState)
	// BeforeInstall is called before a peer's snapshot is stored: the
	// snapshot store writes one snapshot at a time, so a snapshot of the
	// node's own in progress must give way.
	BeforeInstall func()
	// CompactInBackground runs log truncation on a goroutine of its own
	// (removing a segment takes milliseconds the replica loop should not
	// wait for). The simulator leaves it off: everything then happens on
	// the caller's goroutine, in a deterministic order.
	CompactInBackground bool
	// Metrics records the replica's figures (nil: none).
	Metrics *metrics.Registry
	// OnLease, if set, is called with the replica's read lease whenever it
	// changed, before the messages of a Ready leave: an acknowledgement
	// that lets the primary commit an op must find the op in the lease's
	// index already, and a StartViewChange must find the lease given up
	// (see consensus/lease.go). Whatever serves reads under it must check
	// the clock while the lease it checks is the one last published.
	OnLease func(consensus.Lease)
}

// Driver drives one replica. See the package documentation.
type Driver struct {
	opts  Options
	r     *consensus.Replica
	store *storage.Store
	log   hclog.Logger
	clock func() time.Time

	// The Ready being handled, whether it waits for the disk, and whether
	// the driver is between Ready and Advance (input that callbacks give
	// it then is queued too).
	rd      consensus.Ready
	waiting bool
	waitSeq uint64
	inReady bool
	// appliedEarly and readEarly: the waiting Ready's committed entries
	// and reads were handed out before its sync (applyEarly).
	appliedEarly, readEarly bool
	// queued holds input that arrived while waiting, in arrival order.
	queued []input
	// tails are the pipelined Readies whose log writes are not known to
	// be durable yet, oldest first; lastSeq is the last log mutation
	// issued.
	tails     []tail
	lastSeq   uint64
	pipelined uint64 // Readies pipelined so far (Pipelined)

	reads      readTable
	saved      storage.HardState // replica state last saved
	membership []byte            // this server's id and the members, saved with the state
	walNext    uint64            // op the log expects next (0: no position)
	sendBuf    []byte

	walEntries []storage.Entry
	viewLeft   time.Time // when the replica last left normal status (zero: normal)
	// prepared is, per backup, the last op of the newest Prepare sent and
	// when: its acknowledgement times the round trip (prepare_rtt).
	prepared      map[consensus.ReplicaID]sentPrepare
	foreignWarned map[consensus.ReplicaID]uint64    // last foreign cluster reported per sender
	held          map[consensus.ReplicaID]heldParts // messages waiting for their snapshot
	compactor     compactor
	stopped       error           // set once the driver failed; every later call returns it
	lease         consensus.Lease // last published (OnLease)
}

// sentPrepare is a Prepare waiting for its acknowledgement.
type sentPrepare struct {
	op uint64
	at time.Time
}

// input is one call that arrived while the driver waited for the disk.
type input struct {
	kind  inputKind
	env   consensus.Envelope
	cmd   []byte
	done  func(uint64, bool)
	snap  storage.SnapshotMeta
	ticks int
}

type inputKind uint8

const (
	inStep inputKind = iota
	inTick
	inPropose
	inRead
	inSnapshot
)

// ErrStopped is returned by every call after the driver failed.
var ErrStopped = errors.New("driver: stopped")

// New makes a driver for the replica r, booted from what Open found (o;
// opts.Store is o.Store).
func New(opts Options, r *consensus.Replica, o *Opened) *Driver {
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.Log == nil {
		opts.Log = hclog.NewNullLogger()
	}
	d := &Driver{opts: opts, r: r, store: opts.Store, log: opts.Log, clock: opts.Clock,
		saved: o.Saved, membership: o.Membership, walNext: o.WALNext}
	d.reads.init()
	d.compactor = compactor{wal: opts.Store.WAL, log: opts.Log, background: opts.CompactInBackground}
	return d
}

// Replica returns the driven replica, for read-only inspection (Info,
// EntryView) between calls.
func (d *Driver) Replica() *consensus.Replica { return d.r }

// Waiting reports whether a Ready waits for the disk (Resume is due).
func (d *Driver) Waiting() bool { return d.waiting }

// WaitingViewChange reports whether the Ready that waits for the disk
// changes the replica's view or last-normal-view: a crash now falls between
// the messages that left and the durable state they may depend on (the
// simulator favours such moments).
func (d *Driver) WaitingViewChange() bool {
	hs := d.rd.HardState
	return d.waiting && hs != nil && (hs.View != d.saved.View || hs.LastNormalView != d.saved.LastNormalView)
}

// Step hands the replica a message from a peer.
func (d *Driver) Step(env consensus.Envelope) {
	if d.busy() {
		d.queued = append(d.queued, input{kind: inStep, env: env})
		return
	}
	if err := d.r.Step(env); err != nil {
		d.log.Debug("message refused", "from", env.From, "error", err)
	}
}

// Tick advances the replica's clock by one tick and fails reads that
// waited too long.
func (d *Driver) Tick() {
	if d.busy() {
		if n := len(d.queued); n > 0 && d.queued[n-1].kind == inTick {
			d.queued[n-1].ticks++
			return
		}
		d.queued = append(d.queued, input{kind: inTick, ticks: 1})
		return
	}
	d.r.Tick()
	d.reads.expire(d.clock(), d.opts.ReadTimeout)
}

// Propose hands the replica a command. It returns the replica's refusal
// (consensus.ErrCommandTooLarge, consensus.ErrProposalDropped); a command
// queued while the driver waits is refused later without a word (the
// proposer learns of a lost proposal as it learns of any: it never sees it
// applied).
func (d *Driver) Propose(cmd []byte) error {
	if d.busy() {
		d.queued = append(d.queued, input{kind: inPropose, cmd: cmd})
		return nil
	}
	return d.r.Propose(cmd)
}

// Read registers a linearizable read: done runs (on the driver's
// goroutine) with the op the state machine must have applied before the
// read is served, or with ok false if none can be had in time.
func (d *Driver) Read(done func(op uint64, ok bool)) {
	if d.busy() {
		d.queued = append(d.queued, input{kind: inRead, done: done})
		return
	}
	id := d.reads.add(done, d.clock())
	if err := d.r.Read(id); err != nil {
		d.reads.fail(id)
	}
}

// SnapshotTaken tells the replica that a durable snapshot of the state
// machine exists.
func (d *Driver) SnapshotTaken(meta storage.SnapshotMeta) {
	if d.busy() {
		d.queued = append(d.queued, input{kind: inSnapshot, snap: meta})
		return
	}
	d.r.SnapshotTaken(consensus.Snapshot{Op: meta.Op, View: meta.View, Data: LocalSnapshot{Op: meta.Op}})
}

// busy reports whether input must be queued: a Ready is being handled (a
// callback of the driver's gave it input) or waits for the disk.
func (d *Driver) busy() bool { return d.waiting || d.inReady }

// SavedState returns the replica state last made durable.
func (d *Driver) SavedState() storage.HardState { return d.saved }

// replayQueued hands the replica the input that arrived while waiting.
func (d *Driver) replayQueued() {
	q := d.queued
	d.queued = nil
	for i := range q {
		in := &q[i]
		switch in.kind {
		case inStep:
			d.Step(in.env)
		case inTick:
			for range in.ticks {
				d.Tick()
			}
		case inPropose:
			if err := d.Propose(in.cmd); err != nil {
				d.log.Debug("queued proposal refused", "error", err)
			}
		case inRead:
			d.Read(in.done)
		case inSnapshot:
			d.SnapshotTaken(in.snap)
		}
		*in = input{}
	}
}

// fail stops the driver for good.
func (d *Driver) fail(err error) error {
	if d.stopped == nil {
		d.stopped = err
	}
	return d.stopped
}

// Err returns why the driver stopped, or nil.
func (d *Driver) Err() error { return d.stopped }

// Close stops a background compaction, if one runs.
func (d *Driver) Close() { d.compactor.wait() }

// LocalSnapshot is the handle of a snapshot in this replica's store.
type LocalSnapshot struct{ Op uint64 }

func errorf(format string, args ...any) error { return fmt.Errorf("driver: "+format, args...) }
