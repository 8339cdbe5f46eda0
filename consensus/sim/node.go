package sim

import (
	"fmt"
	"io"
	mrand "math/rand"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/vrkeeper/vrkeeper/bridge/driver"
	"github.com/vrkeeper/vrkeeper/bridge/transfer"
	"github.com/vrkeeper/vrkeeper/consensus"
	"github.com/vrkeeper/vrkeeper/storage"
	"github.com/vrkeeper/vrkeeper/storage/faultfs"
)

// node is one server: the production driver (bridge/driver) running a
// replica over real storage on a crashable in-memory file system, with the
// simulated network as its transport and a key-value state machine. The
// simulator only decides when things happen: ticks, deliveries, how long a
// sync takes, and where a crash cuts the driver's file operations.
type node struct {
	w   *World
	id  int
	inc int  // incarnation, bumped by every start and crash
	up  bool // running
	// hasData: the node's disk holds a replica identity (it joined a new
	// cluster or finished recovering). A node without it, whether new or
	// after a disk loss, cannot vote: the fault model counts it as failed.
	hasData bool
	fs      *faultfs.FS
	d       *driver.Driver
	store   *storage.Store
	xfer    *transfer.Transfer // snapshot transfer, stepped like the driver
	kv      *kvState
	tickLen int64 // units between this node's ticks (clock rate)
	syncing bool  // a disk-done event is scheduled for the Ready that waits
	// pausedUntil: the node is stopped until then (its events wait).
	pausedUntil int64

	lease      consensus.Lease // the driver's published read lease
	leaseReads []waitingRead   // reads waiting for their op to be applied

	writes    map[uint32]waitingWrite // client → command waiting to be applied here
	resubmit  bool                    // the view changed: re-propose writes after this Ready
	soft      consensus.SoftState
	lastSnap  uint64
	lastView  uint64 // view of the last applied entry
	maxCommit uint64 // commit-number seen in this incarnation
}

// waitingRead is a read released at op, served once op is applied.
type waitingRead struct {
	id     consensus.ReadID
	client int
	seq    uint32
	key    uint8
	op     uint64
}

type waitingWrite struct {
	seq uint32
	cmd []byte
}

// The simulated storage layout: small segments so runs cross them often.
const (
	dataDir         = "data"
	simSegmentSize  = 16 << 10
	simRetainSnaps  = 2
	simReadTimeout  = 40 * tickUnits // units, as milliseconds of the node's clock
	crashOpsHorizon = 24             // a crash during persistence hits one of its next operations
	// simPartBytes is the core's part size (MaxPartBytes): a command takes
	// about 60 bytes of it, so every log suffix of more than two entries
	// travels in parts. simBatchBytes bounds Prepares and Forwards, and
	// simMaxFrame every frame (see sizeOracle).
	simPartBytes  = 160
	simBatchBytes = 512
	simMaxFrame   = 2048
)

// simLogger records the core's log lines in the trace; an invariant
// violation fails the run.
type simLogger struct{ n *node }

func (l simLogger) Debug(string, ...any) {}
func (l simLogger) Info(msg string, args ...any) {
	l.n.w.note(l.n.id, "%s %v", msg, args)
}
func (l simLogger) Warn(msg string, args ...any) {
	l.n.w.note(l.n.id, "WARN %s %v", msg, args)
	if strings.HasPrefix(msg, consensus.InvariantViolated) {
		l.n.w.fail("n%d: %s %v", l.n.id, msg, args)
	}
}

// serverID is the id the driver knows replica i by.
func serverID(i int) uint64 { return uint64(i + 1) }

// serverIDs returns every server's id, in replica order.
func (w *World) serverIDs() []uint64 {
	ids := make([]uint64, w.faults.Replicas)
	for i := range ids {
		ids[i] = serverID(i)
	}
	return ids
}

func (n *node) storageOptions() storage.Options {
	return storage.Options{DataDir: dataDir, FS: n.fs, RetainSnapshots: simRetainSnaps, SnapshotBuffer: 4 << 10,
		WAL: storage.WALOptions{SegmentSize: simSegmentSize, ManualSync: true, Preallocate: storage.PreallocNone}}
}

// start boots the node from its file system, as a server process does:
// nothing tells it whether its disk was lost.
func (n *node) start() {
	w := n.w
	n.inc++
	n.up, n.syncing, n.resubmit = true, false, false
	n.writes = map[uint32]waitingWrite{}
	n.maxCommit = 0
	n.pausedUntil = 0
	n.lease, n.leaseReads = consensus.Lease{}, nil
	n.kv = newKV()
	n.lastSnap, n.lastView = 0, 0
	// Promises always, as the server keeps them; their length as the seed
	// draws (MixedPromises: per start).
	leaseTicks := 7
	if w.faults.MixedPromises {
		leaseTicks = 3 + w.promiseRng.IntN(simViewChangeTicks-3)
	}
	opened, err := driver.Open(driver.OpenOptions{
		Storage: n.storageOptions(),
		Restore: func(meta storage.SnapshotMeta, r io.Reader) error {
			kv, err := decodeKV(r)
			if err != nil {
				return err
			}
			n.kv, n.lastSnap, n.lastView = kv, meta.Op, meta.View
			return nil
		},
		ServerID:     serverID(n.id),
		Members:      n.w.serverIDs(),
		PromiseNanos: consensus.Config{LeaseTicks: leaseTicks, TickNanos: simTickNanos}.PromiseNanos(),
	})
	if err != nil {
		w.fail("n%d: start: %v", n.id, err)
		return
	}
	b := opened.Boot
	w.note(n.id, "START view=%d lnv=%d log=%d entries snap=%d recovering=%v", b.Hard.View, b.Hard.LastNormalView,
		len(b.Entries), opened.Snapshot.Op, b.Hard.Cluster == 0 || b.Hard.Recovering)
	cfg := consensus.Config{
		ID: consensus.ReplicaID(n.id), Replicas: w.faults.Replicas, Epoch: 1,
		Rand:           rand.New(rand.NewPCG(w.rng.Uint64(), w.rng.Uint64())),
		Logger:         simLogger{n},
		HeartbeatTicks: 1, ViewChangeTicks: simViewChangeTicks,
		MaxBatchOps: 16, MaxUncommittedOps: 64, MaxQueuedProposals: 64, MaxPendingReads: 64, MaxStateOps: 8, MaxRetainedOps: 40, MaxRetainedBytes: 400, MaxInflightBytes: 200,
		MaxPartBytes: simPartBytes, MaxBatchBytes: simBatchBytes,
	}
	// Reads under leases as the seed draws.
	cfg.LeaseTicks, cfg.TickNanos, cfg.Clock = leaseTicks, simTickNanos, n.nanos
	cfg.LeaseDriftPPM, cfg.NoLeaseReads = simDriftPPM, !w.faults.Leases || (w.faults.MixedLeases && n.id == 0)
	r, err := consensus.New(cfg, b)
	if err != nil {
		w.fail("n%d: start: %v", n.id, err)
		return
	}
	ids := w.serverIDs()
	n.store = opened.Store
	n.xfer = transfer.New(transfer.Config{
		Self: serverID(n.id), Store: opened.Store.Snapshots, Send: n.sendFrame,
		Cluster: func() uint64 { return n.d.Replica().Info().Cluster },
		Fetched: n.snapshotFetched, Abandoned: n.snapshotAbandoned, Nonce: w.rng.Uint64(),
		ChunkBytes: 48, BytesPerTick: 256, RetryTicks: 8, // small chunks: transfers take many messages
	})
	n.d = driver.New(driver.Options{
		IDs: ids, Self: consensus.ReplicaID(n.id), Store: opened.Store, Transport: n, Applier: n,
		Fetcher: n, Clock: n.clock, ReadTimeout: simReadTimeout * time.Millisecond, Log: hclog.NewNullLogger(),
		OnSoftState: n.softState, OnLease: func(l consensus.Lease) { n.lease = l },
	}, r, opened)
	n.soft = consensus.SoftState{}
	w.schedule(event{at: w.now + 1 + w.rng.Int64N(tickUnits), kind: evTick, node: n.id, inc: n.inc})
	n.pump()
}

// Each node's clock runs at its own rate: a tick (tickLen units of
// simulated time, 8 to 12) is simTickNanos on the node's clock, so rates
// differ from true time (a unit, a millisecond) by up to 25%, which
// simDriftPPM covers.
const (
	simTickNanos = tickUnits * int64(time.Millisecond)
	// simViewChangeTicks is every node's view-change timeout in ticks.
	simViewChangeTicks = 10
	simDriftPPM        = 260000
)

// nanos reads the node's monotonic clock (the lease clock).
func (n *node) nanos() int64 { return n.w.now * simTickNanos / n.tickLen }

// clock is the node's wall clock, at the node's rate.
func (n *node) clock() time.Time { return time.Unix(0, n.nanos()) }

// crash stops the node at an arbitrary point. If a Ready waits for the
// disk, the crash may strike in the middle of persisting it: at one of the
// next file operations of the sync, the state save or the Ready's other
// writes (after its first messages left, before the ones that vouch for
// the persisted state). The file system the node restarts with keeps what
// was synced and, by the draw, none, all or a torn part of the rest.
func (n *node) crash(loseDisk bool) {
	w := n.w
	where := "idle"
	if n.d != nil && n.d.Waiting() && w.rng.IntN(2) == 0 {
		k := 1 + w.rng.IntN(crashOpsHorizon)
		n.fs.CrashAt(n.fs.Ops() + k)
		n.persist()
		where = fmt.Sprintf("during persistence (file op +%d)", k)
		if op, ok := n.fs.Crashed(); ok {
			where += " at " + op.String()
		}
	} else if n.d != nil && n.d.Waiting() {
		where = "before persistence"
	}
	n.fs.Crash()
	modes := []faultfs.CrashMode{faultfs.LoseUnsynced, faultfs.KeepUnsynced, faultfs.Tear}
	mode := modes[w.rng.IntN(len(modes))]
	n.fs = n.fs.Reboot(mode, mrand.New(mrand.NewSource(w.rng.Int64())))
	w.note(n.id, "CRASH %s, disk keeps %s", where, []string{"synced only", "everything", "a torn part"}[mode])
	if loseDisk {
		n.fs = faultfs.New()
		n.hasData = false
		w.note(n.id, "DISK LOST")
	}
	n.up, n.d, n.store = false, nil, nil
	n.inc++
	clear(n.writes)
}

func (n *node) restart() { n.start() }

// Send is the driver's transport: the simulated network.
func (n *node) Send(to uint64, frame []byte) error {
	n.vouchOracle(int(to-1), frame)
	n.w.send(n.id, int(to-1), frame)
	return nil
}

// sendFrame is the snapshot transfer's transport.
func (n *node) sendFrame(to uint64, frame []byte) { n.w.send(n.id, int(to-1), frame) }

// Fetch is the driver's Fetcher: the transfer runs on the node's events.
func (n *node) Fetch(from uint64, meta storage.SnapshotMeta) {
	if err := n.xfer.Fetch(from, meta); err != nil {
		if _, crashed := n.fs.Crashed(); !crashed {
			n.w.fail("n%d: fetch snapshot %d: %v", n.id, meta.Op, err)
		}
	}
}

// snapshotFetched hands the driver a snapshot the transfer finished.
func (n *node) snapshotFetched(meta storage.SnapshotMeta, _ int64) {
	n.w.note(n.id, "fetched snapshot at op %d", meta.Op)
	n.w.fetched++
	n.d.SnapshotFetched(meta)
}

// snapshotAbandoned tells the driver the transfer gave a fetch up.
func (n *node) snapshotAbandoned(meta storage.SnapshotMeta) {
	n.w.note(n.id, "gave up fetching snapshot at op %d", meta.Op)
	n.d.SnapshotAbandoned(meta)
}

// deliverTransfer hands the transfer a peer's frame.
func (n *node) deliverTransfer(from int, frame []byte) {
	if err := n.xfer.Handle(serverID(from), frame); err != nil {
		n.w.fail("n%d: transfer frame from n%d: %v", n.id, from, err)
		return
	}
	n.pump()
}

func (n *node) deliver(cluster uint64, env consensus.Envelope) {
	n.d.Deliver(cluster, env)
	n.w.check.node(n)
	n.pump()
}

func (n *node) tick() {
	n.xfer.Tick()
	n.d.Tick()
	n.w.check.node(n)
	n.pump()
}

func (n *node) propose(client uint32, seq uint32, cmd []byte) {
	n.writes[client] = waitingWrite{seq: seq, cmd: cmd}
	n.w.note(n.id, "client %d proposes seq %d", client, seq)
	_ = n.d.Propose(cmd) // a dropped proposal is retried by the client
	n.pump()
}

func (n *node) read(client int, seq uint32, key uint8) {
	w := n.w
	w.readID++
	id := w.readID
	inc := n.inc
	w.note(n.id, "client %d read %d: get k%d", client, id, key)
	rd := waitingRead{id: id, client: client, seq: seq, key: key}
	if n.pausedUntil > w.now {
		return // a stopped process reads nothing; the client times out
	}
	if l := n.lease; l.Valid(n.nanos()) {
		// The server's read path: served under the published lease once
		// its index is applied (bridge/readpath.go).
		rd.op = l.Index
		w.leaseReads++
		w.note(n.id, "read %d under lease at op %d", id, rd.op)
		n.awaitRead(rd)
		return
	}
	n.d.Read(func(op uint64, ok bool) {
		if !ok || !n.up || n.inc != inc {
			return
		}
		if n.kv.op < op && !w.faults.Leases {
			w.fail("n%d: read %d released at op %d but applied only %d", n.id, id, op, n.kv.op)
			return
		}
		rd.op = op
		n.awaitRead(rd)
	})
	n.pump()
}

// awaitRead serves rd once its op is applied.
func (n *node) awaitRead(rd waitingRead) {
	if n.kv.op < rd.op {
		n.leaseReads = append(n.leaseReads, rd)
		return
	}
	w := n.w
	w.note(n.id, "serve read %d of client %d at op %d (applied %d): k%d = %q", rd.id, rd.client, rd.op, n.kv.op, rd.key, n.kv.data[rd.key])
	w.clients[rd.client].respond(rd.seq, n.kv.data[rd.key])
}

// serveReads serves the waiting reads whose op is applied.
func (n *node) serveReads() {
	k := 0
	for _, rd := range n.leaseReads {
		if rd.op <= n.kv.op {
			n.awaitRead(rd)
			continue
		}
		n.leaseReads[k] = rd
		k++
	}
	clear(n.leaseReads[k:])
	n.leaseReads = n.leaseReads[:k]
}

// pump runs the driver until it is idle or a Ready waits for the disk;
// then the sync completes after a simulated latency (diskDone).
func (n *node) pump() {
	w := n.w
	for n.up && w.err == nil {
		if n.resubmit {
			// The driver re-submits what may have been lost in the view change.
			n.resubmit = false
			for _, ww := range n.writes {
				_ = n.d.Propose(ww.cmd)
			}
		}
		before := n.d.Pipelined()
		_, wait, err := n.d.Process()
		w.pipelined += int(n.d.Pipelined() - before)
		if err != nil {
			w.fail("n%d: driver: %v", n.id, err)
			return
		}
		n.afterReady()
		if !wait && n.resubmit {
			continue
		}
		// A Ready that waits, or pipelined Readies, wait for the disk.
		if (wait || n.d.Pending()) && !n.syncing {
			n.syncing = true
			w.schedule(event{at: w.now + 1 + w.rng.Int64N(w.faults.MaxDisk), kind: evDiskDone, node: n.id, inc: n.inc})
		}
		return
	}
}

// diskDone: the simulated sync latency passed.
func (n *node) diskDone() {
	n.syncing = false
	if !n.persist() {
		return
	}
	n.pump()
}

// persist makes the waiting Ready durable (the manual-sync log written and
// synced now) and resumes the driver. It reports false if the file system
// crashed meanwhile (a crash injected in the middle of persistence).
func (n *node) persist() bool {
	w := n.w
	if err := n.store.WAL.SyncPending(); err != nil {
		if n.crashedFS(err) {
			return false
		}
		w.fail("n%d: log sync: %v", n.id, err)
		return false
	}
	resume := n.d.Resume
	if !n.d.Waiting() {
		resume = n.d.Synced // only pipelined Readies waited
	}
	if err := resume(); err != nil {
		if n.crashedFS(err) {
			return false
		}
		w.fail("n%d: driver: %v", n.id, err)
		return false
	}
	n.afterReady()
	return true
}

// crashedFS reports whether err comes from a crash the simulator injected
// (storage reports it as an I/O failure: the file system stopped).
func (n *node) crashedFS(err error) bool {
	_, crashed := n.fs.Crashed()
	return crashed && err != nil
}

// afterReady runs the checks and the node's own snapshots once the driver
// finished a Ready.
func (n *node) afterReady() {
	if st := n.d.SavedState(); st.Cluster != 0 && !st.Recovering {
		n.hasData = true // the identity is durable (saved synchronously)
	}
	n.w.check.node(n)
	if f := n.w.faults.SnapEvery; n.kv.op >= n.lastSnap+f && !n.d.Waiting() {
		n.takeSnapshot()
	}
}

// takeSnapshot writes the state machine to the snapshot store (atomically
// and durably, as the server's snapshot job does) and tells the replica.
func (n *node) takeSnapshot() {
	meta := storage.SnapshotMeta{Op: n.kv.op, View: n.lastView}
	data := n.kv.encode()
	err := n.store.Snapshots.Save(meta, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
	if err != nil {
		if _, crashed := n.fs.Crashed(); !crashed {
			n.w.fail("n%d: snapshot at op %d: %v", n.id, meta.Op, err)
		}
		return
	}
	n.lastSnap = meta.Op
	n.d.SnapshotTaken(meta)
}

// softState is the driver's soft-state callback.
func (n *node) softState(ss consensus.SoftState) {
	if ss.View != n.soft.View {
		n.resubmit = true
	}
	n.soft = ss
}

// Apply is the driver's Applier: the key-value state machine.
func (n *node) Apply(b driver.Batch) error {
	if b.Install {
		var kv *kvState
		err := n.store.Snapshots.Load(b.SnapOp, func(_ storage.SnapshotMeta, r io.Reader) error {
			var err error
			kv, err = decodeKV(r)
			return err
		})
		if err != nil {
			return fmt.Errorf("sim: install snapshot at op %d: %w", b.SnapOp, err)
		}
		n.kv, n.lastSnap, n.lastView = kv, b.SnapOp, b.SnapView
		n.w.check.installed(n, b.SnapOp, n.kv.digest)
	}
	for _, e := range b.Entries {
		n.apply(e)
	}
	n.serveReads()
	return nil
}

func (n *node) apply(e consensus.Entry) {
	c, err := decodeCommand(e.Cmd)
	if err != nil {
		n.w.fail("n%d: op %d: %v", n.id, e.Op, err)
		return
	}
	if e.Op != n.kv.op+1 {
		n.w.fail("n%d: committed op %d delivered after op %d (not exactly once, in order)", n.id, e.Op, n.kv.op)
		return
	}
	n.kv.apply(e.Op, c)
	n.w.note(n.id, "apply op %d: client %d seq %d %s k%d %q", e.Op, c.client, c.seq, c.kind, c.key, c.value)
	n.lastView = e.View
	n.w.check.applied(n, e, n.kv.digest)
	if ww, ok := n.writes[c.client]; ok && ww.seq == c.seq {
		delete(n.writes, c.client)
		n.w.clients[c.client].respond(c.seq, "")
	}
}

func (n *node) info() consensus.Info { return n.d.Replica().Info() }

func (n *node) String() string { return fmt.Sprintf("n%d", n.id) }

// decodeFrame decodes a message the simulated network carries, with the
// production driver's framing.
func decodeFrame(from, to int, frame []byte) (uint64, consensus.Envelope, error) {
	cluster, m, err := driver.DecodeFrame(frame)
	if err != nil {
		return 0, consensus.Envelope{}, err
	}
	return cluster, consensus.Envelope{From: consensus.ReplicaID(from), To: consensus.ReplicaID(to), Msg: m}, nil
}
