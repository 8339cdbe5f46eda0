package consensus

import (
	"fmt"
	"math/rand/v2"
)

// Replica is one VR replica: a pure, deterministic state machine. The driver
// feeds it with Step, Tick, Propose and Read, drains its output with
// Ready/Advance, and never calls anything else between Ready and Advance.
// A Replica is not safe for concurrent use.
type Replica struct {
	cfg  Config
	id   ReplicaID
	n, f int
	rand *rand.Rand
	log  Logger

	epoch          uint64
	view           uint64
	lastNormalView uint64
	status         Status
	// awaitingState: in StatusViewChange, the replica learned that View is
	// already established and waits for NewState instead of voting.
	awaitingState bool

	entries memLog
	commit  uint64 // commit-number; ≤ entries.lastOp()
	applied uint64 // highest op handed to the driver in Ready.Committed
	gma     uint64 // global_min_accept: every replica durably accepted ops ≤ gma
	snap    *Snapshot

	// Persistence bookkeeping (see Ready).
	stableOp      uint64    // every op ≤ stableOp is durable
	writtenOp     uint64    // every op ≤ writtenOp was handed to storage as held now (stableOp ≤ writtenOp); see AdvanceWritten
	dirtyFrom     uint64    // lowest op storage must rewrite from (0: none)
	hard          HardState // hard state last handed out
	persistedView uint64    // view known durable
	pendingSnap   *Snapshot // snapshot the driver must install
	compactTo     uint64    // storage may drop ops ≤ compactTo
	compactDone   uint64    // compaction point last handed out
	prevSoft      SoftState
	inReady       bool // between Ready and Advance

	// Outbox.
	msgs       []Envelope
	msgsAfter  []Envelope
	readStates []ReadState

	// Timers, in ticks.
	electionTimeout int // randomized in [T, 2T)
	idleTicks       int // backup: since last message of the primary; view change: since entering
	hbTicks         int // since the last periodic send
	qcTicks         int // primary: since the last quorum check

	// Primary state.
	prog       []progress
	props      [][]byte // proposals waiting to be prepared (primary) or forwarded (backup)
	propBytes  int
	readRound  uint64 // last read round issued
	roundDue   bool   // reads registered since the last round was issued
	preads     []primaryRead
	ackPending bool // backup: owe the primary a PrepareOk after persistence
	ackGap     bool // backup: a Prepare was dropped for a gap since the last ack
	seenRound  uint64

	// Backup reads.
	breads      []backupRead
	readSession uint64 // random per incarnation, so answers meant for a previous one never match
	readSeq     uint64
	readWaiting int // ticks since the last ReadIndexRequest

	// View change.
	svc     []bool
	dvc     []*DoViewChange
	dvcSent bool
	dvcWait int // heartbeats before the DoViewChange is sent again
	// asm holds, per suffix kind and sender, the parts of a log suffix
	// received so far (see parts.go).
	asm [numSuffixKinds][]*assembly

	// Identity (see HardState).
	cluster     uint64
	incarnation uint64
	seeded      bool

	// Pre-vote.
	pre preVote
	// heardPrimary: a backup heard from the primary of its view in this
	// incarnation (a restarted backup has not, and serves no client until
	// it has: its durable state may be far behind).
	heardPrimary bool

	// Read leases (lease.go).
	lease leaseState

	// Recovery.
	recAnswered []answered // per replica: the recovery request last answered with state
	tickCount   uint64     // ticks since the replica started
	nonce       uint64
	recResp     []*RecoveryResponse
	recWarned   bool // a recovery problem was logged for this nonce
	recRounds   int  // Recovery broadcasts since the last report
}

// progress is the primary's view of one replica in the current view.
type progress struct {
	match      uint64 // highest op the replica acknowledged durable in this view
	next       uint64 // next op to send
	ackRound   uint64 // highest read round the replica echoed in this view
	heard      bool   // acknowledged since the last quorum check
	sent       bool   // sent something since the last heartbeat
	stall      int    // heartbeats without progress while behind
	probing    bool   // one batch in flight until an ack moves match
	commitSent uint64 // commit-number last sent
	joined     bool   // acknowledged this view (a seeded primary counts them)
	// Read lease (lease.go): the primary commits no op the replica has not
	// acknowledged until grantEnd (Config.Clock); grant goes with the next
	// message; no grant before tick barred.
	grantEnd int64
	grant    LeaseGrant
	barred   uint64
	// promise is the shortest promise length (ns) the replica's
	// acknowledgements reported in this view (if promiseKnown).
	promise      uint64
	promiseKnown bool
}

// Boot is the durable state a replica starts from.
type Boot struct {
	Hard     HardState
	Snapshot *Snapshot // latest durable snapshot, or nil; the driver's state machine reflects it
	Entries  []Entry   // durable log after the snapshot, consecutive (entries ≤ Snapshot.Op are ignored)
	// Promised is the longest promise (ns, see Config.PromiseNanos) any
	// earlier incarnation of this replica was configured with: the replica
	// keeps it after it starts, as it keeps its own (lease.go). The driver
	// stores it with the replica state.
	Promised int64
}

// New creates a replica from its durable state. A Boot without a cluster
// (the zero Boot: a new server, or a lost disk) starts with no vote: it
// asks the others whether this is a new cluster or one to recover from (see
// recovery.go); so does a replica whose recovery was interrupted. A member
// that is the primary of its durable view (or was about to become it)
// restarts by starting a view change to the next view, so it never leads a
// view in which it may have prepared ops it lost.
func New(cfg Config, b Boot) (*Replica, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	r := &Replica{
		cfg:  c,
		id:   c.ID,
		n:    c.Replicas,
		f:    (c.Replicas - 1) / 2,
		rand: c.Rand,
		log:  c.Logger,
	}
	r.epoch = c.Epoch
	r.prog = make([]progress, r.n)
	r.svc = make([]bool, r.n)
	r.dvc = make([]*DoViewChange, r.n)
	for k := range r.asm {
		r.asm[k] = make([]*assembly, r.n)
	}
	r.recResp = make([]*RecoveryResponse, r.n)
	r.recAnswered = make([]answered, r.n)
	r.resetElectionTimeout()
	r.readSession = r.rand.Uint64()
	r.bootPromise(b.Promised) // whatever a previous incarnation promised (lease.go)
	if b.Hard.Epoch > c.Epoch {
		return nil, fmt.Errorf("consensus: boot: durable epoch %d is newer than configured epoch %d", b.Hard.Epoch, c.Epoch)
	}
	if b.Hard.LastNormalView > b.Hard.View {
		return nil, fmt.Errorf("consensus: boot: last-normal-view %d > view %d", b.Hard.LastNormalView, b.Hard.View)
	}
	r.view, r.lastNormalView = b.Hard.View, b.Hard.LastNormalView
	r.persistedView = r.view
	r.cluster, r.incarnation, r.seeded = b.Hard.Cluster, b.Hard.Incarnation, b.Hard.Seeded
	if b.Hard.Cluster == 0 || b.Hard.Recovering {
		if b.Hard.Cluster == 0 && (b.Snapshot != nil || len(b.Entries) > 0) {
			return nil, fmt.Errorf("consensus: boot: a log or snapshot but no cluster identity")
		}
		if b.Hard.Recovering && r.n == 1 {
			return nil, fmt.Errorf("consensus: boot: a single replica cannot recover a lost disk")
		}
		r.hard = b.Hard
		r.startRecovery()
		return r, nil
	}
	if err := r.loadLog(b); err != nil {
		return nil, err
	}
	r.commit = max(min(b.Hard.Commit, r.entries.lastOp()), r.entries.start)
	r.gma = min(b.Hard.GlobalMinAccept, r.commit)
	r.hard = r.hardState()
	r.prevSoft = r.softState()
	r.startMember()
	return r, nil
}

// startMember begins work as a member with its durable state.
func (r *Replica) startMember() {
	switch {
	case r.seeded:
		// An operator made this replica the cluster's sole source: it leads
		// the next view of its own at once (never one it led before: it may
		// have prepared ops there that it lost).
		v := r.view + 1
		for r.primaryOf(v) != r.id {
			v++
		}
		r.log.Info("seeded by an operator: leading a view of its own", "view", v, "op", r.entries.lastOp())
		r.status = StatusViewChange
		r.enterView(v)
		r.dvcSent = true
	case r.primaryOf(r.view) == r.id:
		// Whether or not it had finished becoming primary, the previous
		// incarnation may have prepared ops it lost: it never leads this
		// view again.
		r.status = StatusViewChange
		r.startViewChange(r.view + 1)
	case r.view > r.lastNormalView:
		// Crashed during a view change: the view is durable, keep voting in it.
		r.status = StatusViewChange
		r.broadcast(&StartViewChange{Header: r.hdr()})
	default:
		// A backup's durable log is a prefix of its view's log: resume and
		// let the primary's retransmissions catch it up.
		r.status = StatusNormal
	}
}

func (r *Replica) loadLog(b Boot) error {
	if b.Snapshot != nil {
		r.snap = b.Snapshot
		r.entries.reset(b.Snapshot.Op, b.Snapshot.View)
		r.applied = b.Snapshot.Op
	}
	es := b.Entries
	for len(es) > 0 && es[0].Op <= r.entries.start {
		es = es[1:]
	}
	if err := checkRun(r.entries.start, es); err != nil {
		return fmt.Errorf("consensus: boot: log after op %d: %w", r.entries.start, err)
	}
	r.entries.append(es...)
	r.stableOp = r.entries.lastOp()
	r.writtenOp = r.stableOp
	return nil
}

func (r *Replica) primaryOf(v uint64) ReplicaID { return ReplicaID(v % uint64(r.n)) }
func (r *Replica) isPrimary() bool              { return r.primaryOf(r.view) == r.id }
func (r *Replica) hdr() Header                  { return Header{Epoch: r.epoch, View: r.view} }

func (r *Replica) resetElectionTimeout() {
	t := r.cfg.ViewChangeTicks
	r.electionTimeout = t + r.rand.IntN(t)
}

func (r *Replica) hardState() HardState {
	return HardState{Epoch: r.epoch, View: r.view, LastNormalView: r.lastNormalView, Commit: r.commit, GlobalMinAccept: r.gma,
		Recovering: r.status == StatusRecovering, Cluster: r.cluster, Incarnation: r.incarnation, Seeded: r.seeded}
}

// SoftState returns the replica's current soft state (a driver publishes it
// at boot; later changes come in Ready).
func (r *Replica) SoftState() SoftState { return r.softState() }

func (r *Replica) softState() SoftState {
	return SoftState{View: r.view, Status: r.status, Primary: r.primaryOf(r.view), IsPrimary: r.status == StatusNormal && r.isPrimary(),
		PrimarySilent: r.status == StatusNormal && !r.isPrimary() && (!r.heardPrimary || r.pre.view != 0)}
}

// send queues a message that depends on nothing unpersisted: it leaves
// before the Ready's persistence. A message that vouches for state must
// find that state durable already (see vouch.go).
func (r *Replica) send(to ReplicaID, m Message) {
	checkVouch(m, r.hard, r.stableOp)
	r.msgs = append(r.msgs, Envelope{From: r.id, To: to, Msg: m})
}

// sendAfterPersist queues a message that may only leave once this Ready's
// persistence completed (it reveals a view, vote or log not yet durable).
func (r *Replica) sendAfterPersist(to ReplicaID, m Message) {
	r.msgsAfter = append(r.msgsAfter, Envelope{From: r.id, To: to, Msg: m})
}

// broadcast sends m to every other replica after persistence.
func (r *Replica) broadcast(m Message) {
	for i := 0; i < r.n; i++ {
		if ReplicaID(i) != r.id {
			r.sendAfterPersist(ReplicaID(i), m)
		}
	}
}

// markDirty records that storage must rewrite the log from op on.
func (r *Replica) markDirty(op uint64) {
	if r.dirtyFrom == 0 || op < r.dirtyFrom {
		r.dirtyFrom = op
	}
	if r.stableOp >= op {
		r.stableOp = op - 1
	}
	if r.writtenOp >= op {
		r.writtenOp = op - 1
	}
}

func (r *Replica) appendEntries(es []Entry) {
	if len(es) == 0 {
		return
	}
	r.entries.append(es...)
	r.markDirty(es[0].Op)
}

// replaceSuffix makes the log equal to the current log up to after followed
// by es (and by local committed entries beyond es, if any). Entries equal to the ones already held (same op and view, hence the
// same command) are kept so storage rewrites only what changed.
func (r *Replica) replaceSuffix(after uint64, es []Entry) {
	newLast := after + uint64(len(es))
	for i := range es {
		op := es[i].Op
		if op <= r.entries.start {
			continue
		}
		if v, ok := r.entries.viewAt(op); ok && op <= r.entries.lastOp() && v == es[i].View {
			continue
		}
		if op <= r.entries.lastOp() {
			r.entries.truncateFrom(op)
			r.markDirty(op)
		}
		r.appendEntries(es[i:])
		break
	}
	// Beyond the suffix, keep what is committed (it belongs to every later
	// view's log; a suffix may be a bounded prefix of the sender's log) and
	// drop the rest (it may belong to an abandoned view).
	if keep := max(newLast, r.commit); keep < r.entries.lastOp() {
		r.entries.truncateFrom(keep + 1)
		r.markDirty(keep + 1)
	}
}

// installSnapshot replaces the whole log by a snapshot received from a peer.
func (r *Replica) installSnapshot(s *Snapshot) {
	r.pendingSnap = s
	r.snap = s
	r.entries.reset(s.Op, s.View)
	r.applied = s.Op
	r.commit = max(r.commit, s.Op)
	r.markDirty(s.Op + 1)
	r.stableOp = min(r.stableOp, s.Op)
	r.writtenOp = min(r.writtenOp, s.Op)
}

// advanceCommit applies a commit-number and global_min_accept learned from the
// primary of the current view; the local log is a prefix of the primary's.
func (r *Replica) advanceCommit(commit, gma uint64) {
	last := r.entries.lastOp()
	if c := min(commit, last); c > r.commit {
		r.commit = c
	}
	if g := min(gma, r.commit); g > r.gma {
		r.gma = g
	}
	r.maybeCompact()
	r.releaseReads()
}

// maybeCompact drops log entries below min(snapshot, global_min_accept,
// commit): every replica has them and a snapshot covers them. A replica that
// lags by more than MaxRetainedOps no longer holds the point back; it will
// need the snapshot.
func (r *Replica) maybeCompact() {
	if r.snap == nil {
		return
	}
	floor := r.gma
	if keep := uint64(r.cfg.MaxRetainedOps); r.commit > keep {
		floor = max(floor, r.commit-keep)
	}
	if r.commit > r.entries.start {
		floor = max(floor, r.entries.firstOpKeeping(r.commit, uint64(r.cfg.MaxRetainedBytes)))
	}
	to := min(r.snap.Op, floor, r.commit)
	if to > r.entries.start && to <= r.stableOp {
		r.entries.compact(to)
		r.compactTo = to
	}
}

// SnapshotTaken tells the replica that a durable snapshot of the state machine
// at s.Op exists (s.Op ≤ the last applied op). The log below it may then be
// garbage collected, and the snapshot is shipped to replicas that need it.
func (r *Replica) SnapshotTaken(s Snapshot) {
	r.guard("SnapshotTaken")
	if s.Op > r.applied || (r.snap != nil && s.Op <= r.snap.Op) {
		return
	}
	if v, ok := r.entries.viewAt(s.Op); ok && s.View == 0 {
		s.View = v
	}
	r.snap = &s
	r.maybeCompact()
}

func (r *Replica) guard(what string) {
	if r.inReady {
		panic("consensus: invariant ready-advance: " + what + " called between Ready and Advance")
	}
}

// Info is a read-only summary for drivers, tests and checkers.
type Info struct {
	ID              ReplicaID
	Cluster         uint64 // 0 until the replica has an identity
	Seeded          bool
	View            uint64
	LastNormalView  uint64
	Status          Status
	IsPrimary       bool
	Op              uint64
	Commit          uint64
	Applied         uint64
	GlobalMinAccept uint64
	LogStart        uint64
	StableOp        uint64
}

// Info returns the replica's current summary.
func (r *Replica) Info() Info {
	return Info{
		ID: r.id, Cluster: r.cluster, Seeded: r.seeded, View: r.view, LastNormalView: r.lastNormalView, Status: r.status,
		IsPrimary: r.status == StatusNormal && r.isPrimary(),
		Op:        r.entries.lastOp(), Commit: r.commit, Applied: r.applied,
		GlobalMinAccept: r.gma, LogStart: r.entries.start, StableOp: r.stableOp,
	}
}

// EntryView returns the view of the entry at op, if the log holds it.
func (r *Replica) EntryView(op uint64) (uint64, bool) {
	if op <= r.entries.start {
		return 0, false
	}
	return r.entries.viewAt(op)
}
