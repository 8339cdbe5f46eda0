// Package sim is a deterministic simulator for the consensus core: one seed
// fixes the network (delay, drop, duplication, reordering, symmetric and
// one-way partitions), the disks (latency, crashes that lose unsynced writes
// and tear the last one, disk loss), crashes and restarts, and a set of
// concurrent clients running a key-value workload whose reads take the quorum
// read path. Checkers run after every event; the client history is checked
// for linearizability with porcupine; after the faults heal the group must
// converge and finish every client operation within a bounded number of ticks.
package sim

import (
	"container/heap"
	"fmt"
	"math/rand/v2"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/anishathalye/porcupine"
	"github.com/vrkeeper/vrkeeper/bridge/transfer"
	"github.com/vrkeeper/vrkeeper/consensus"
	"github.com/vrkeeper/vrkeeper/storage/faultfs"
)

// quietTicks is how long a converged group is watched for view changes;
// the watch starts settleTicks after the faults healed at the earliest (a
// view change the faults legitimately set off may still start until then).
const (
	quietTicks  = 60
	settleTicks = 30
)

// Faults is the fault mix of one run; FaultsFor derives it from the seed.
type Faults struct {
	Replicas   int     // group size
	Drop       float64 // probability a message is lost
	Dup        float64 // probability a message is delivered twice
	MaxDelay   int64   // message delay is uniform in [1, MaxDelay] units (reordering)
	MaxDisk    int64   // sync latency is uniform in [1, MaxDisk] units
	Partitions bool    // symmetric partitions
	OneWay     bool    // one-way link cuts
	Crashes    bool    // crash and restart from durable state
	DiskLoss   bool    // crash and restart with an empty disk
	Pauses     bool    // a node stops for a while (SIGSTOP), its clock running on
	Leases     bool    // read leases on (consensus/lease.go)
	// MixedLeases: with Leases, replica 0 is configured to read without
	// them (a cluster in the middle of a configuration change).
	MixedLeases bool
	// MixedPromises: every start of a node draws its promise length
	// (LeaseTicks), so live replicas promise for different lengths and a
	// restart may shorten a node's (servers configured with different
	// tickTime or syncLimit, or one restarted with new ones).
	MixedPromises bool
	SnapEvery     uint64 // applied ops between snapshots (log GC)
}

func (f Faults) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "n=%d drop=%.2f dup=%.2f delay<=%d disk<=%d", f.Replicas, f.Drop, f.Dup, f.MaxDelay, f.MaxDisk)
	for _, x := range []struct {
		on   bool
		name string
	}{{f.Partitions, "partitions"}, {f.OneWay, "one-way"}, {f.Crashes, "crashes"}, {f.DiskLoss, "disk-loss"},
		{f.Pauses, "pauses"}, {f.Leases, "leases"}, {f.MixedLeases, "mixed-leases"}, {f.MixedPromises, "mixed-promises"}} {
		if x.on {
			b.WriteString(" " + x.name)
		}
	}
	fmt.Fprintf(&b, " snap/%d", f.SnapEvery)
	return b.String()
}

// FaultsFor draws the fault mix of a seed.
func FaultsFor(rng *rand.Rand) Faults {
	f := Faults{Replicas: 3, MaxDelay: 1 + rng.Int64N(30), MaxDisk: 1 + rng.Int64N(20)}
	switch rng.IntN(16) {
	case 0, 1, 2, 3:
		f.Replicas = 5
	case 4:
		f.Replicas = 1
	}
	f.Drop = []float64{0, 0, 0.02, 0.1, 0.25}[rng.IntN(5)]
	f.Dup = []float64{0, 0.02, 0.1}[rng.IntN(3)]
	f.Partitions = rng.IntN(2) == 0
	f.OneWay = rng.IntN(3) == 0
	f.Crashes = rng.IntN(2) == 0
	f.DiskLoss = rng.IntN(3) == 0 && f.Replicas > 1 // one replica has nobody to recover from
	f.SnapEvery = []uint64{5, 20, 1000}[rng.IntN(3)]
	// Drawn last, so the draws above stay those of earlier seeds.
	f.Pauses = rng.IntN(2) == 0
	f.Leases = rng.IntN(4) != 0
	f.MixedLeases = f.Leases && rng.IntN(4) == 0
	return f
}

// Options configures a run.
type Options struct {
	Seed         uint64
	Clients      int   // concurrent clients (default: 3 to 8, drawn from the seed)
	OpsPerClient int   // operations each client completes (default 20)
	FaultTicks   int64 // ticks with faults injected (default 250)
	LiveTicks    int64 // ticks allowed to converge after healing (default 400)
	KeepTrace    bool  // keep the whole trace, not only its tail
	// FaultMix, if set, replaces the fault mix drawn from the seed.
	FaultMix *Faults
	// Nemesis, if set, replaces the random fault injection: it runs before
	// every event of the fault phase (tests script faults with it).
	Nemesis func(w *World)
}

// Result summarizes a run.
type Result struct {
	Seed      uint64
	Faults    Faults
	Ops       int // completed client operations
	Committed uint64
	Fetched   int // snapshots fetched from peers
	Parts     int // log-suffix messages sent as one part of several
	// LeaseReads: reads a node took under its published read lease.
	LeaseReads int
	// Pipelined: Readies whose log write the driver pipelined (its
	// acknowledgements held until a later sync).
	Pipelined int
	Ticks     int64
	Err       error
	world     *World
}

// PrintTrace writes the run's trace.
func (r *Result) PrintTrace(w interface{ Write([]byte) (int, error) }) {
	r.world.trace.print(w)
}

// World is one simulated run.
type World struct {
	opts   Options
	faults Faults
	rng    *rand.Rand
	// promiseRng draws MixedPromises and the promise lengths, apart from
	// rng: adding them changed no other draw of a seed.
	promiseRng *rand.Rand
	now        int64
	evSeq      uint64
	events     eventQueue
	nodes      []*node
	clients    []*client
	cut        [][]bool // cut[a][b]: messages a→b are lost
	healed     bool     // liveness phase: faults off
	healedAt   int64    // when it began
	trace      *tracer
	check      checker
	history    []porcupine.Operation
	readID     consensus.ReadID
	err        error
	fetched    int // snapshots fetched from peers (state transfers)
	parts      int // log-suffix messages sent as one part of several
	pipelined  int // Readies the drivers pipelined
	leaseReads int
}

// Run executes one seed and reports the first violation in Result.Err.
func Run(opts Options) *Result {
	rng := rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15))
	if opts.Clients == 0 {
		opts.Clients = 3 + rng.IntN(6)
	}
	if opts.OpsPerClient == 0 {
		opts.OpsPerClient = 20
	}
	if opts.FaultTicks == 0 {
		opts.FaultTicks = 250
	}
	if opts.LiveTicks == 0 {
		opts.LiveTicks = 400
	}
	w := &World{opts: opts, rng: rng, faults: FaultsFor(rng), trace: newTracer(3000, opts.KeepTrace),
		promiseRng: rand.New(rand.NewPCG(opts.Seed^0x70726f6d69736573, opts.Seed))}
	w.faults.MixedPromises = w.promiseRng.IntN(3) == 0
	if opts.FaultMix != nil {
		w.faults = *opts.FaultMix
	}
	w.check.init(w)
	res := &Result{Seed: opts.Seed, Faults: w.faults, world: w}
	func() {
		defer func() {
			if p := recover(); p != nil {
				w.fail("panic: %v\n%s", p, debug.Stack())
			}
		}()
		w.run()
	}()
	if w.err == nil {
		w.checkLinearizable()
	}
	res.Err, res.Ops, res.Ticks, res.Committed, res.Fetched, res.Parts = w.err, len(w.history), w.now/tickUnits, w.check.maxCommitted, w.fetched, w.parts
	res.LeaseReads, res.Pipelined = w.leaseReads, w.pipelined
	return res
}

func (w *World) fail(format string, args ...any) {
	if w.err == nil {
		w.err = fmt.Errorf("t=%d: %s", w.now/tickUnits, fmt.Sprintf(format, args...))
	}
}

func (w *World) note(node int, format string, args ...any) {
	w.trace.add(traceLine{at: w.now, node: node, what: format, args: args})
}

func (w *World) run() {
	n := w.faults.Replicas
	w.cut = make([][]bool, n)
	for i := range w.cut {
		w.cut[i] = make([]bool, n)
	}
	for i := 0; i < n; i++ {
		// Clocks run at slightly different rates (a tick of 8 to 12 units).
		nd := &node{w: w, id: i, fs: faultfs.New(), tickLen: tickUnits - 2 + w.rng.Int64N(5)}
		w.nodes = append(w.nodes, nd)
		nd.start()
	}
	for i := 0; i < w.opts.Clients; i++ {
		c := &client{w: w, id: i}
		w.clients = append(w.clients, c)
		w.schedule(event{at: w.rng.Int64N(5 * tickUnits), kind: evClient, client: i})
	}
	faultEnd := w.opts.FaultTicks * tickUnits
	deadline := faultEnd + w.opts.LiveTicks*tickUnits
	nextFault := int64(0)
	quietUntil, quietView := int64(-1), uint64(0)
	for w.err == nil {
		if !w.healed && w.now >= faultEnd {
			w.heal()
		}
		if w.healed && quietUntil < 0 && w.now >= w.healedAt+settleTicks*tickUnits && w.done() {
			// Converged, and the timers the faults left running have run
			// out: a healthy group must now stay in its view (no replica
			// left behind pushes it into a new one).
			quietUntil, quietView = w.now+quietTicks*tickUnits, w.nodes[0].info().View
		}
		if quietUntil >= 0 {
			for _, nd := range w.nodes {
				if v := nd.info().View; v != quietView {
					w.fail("liveness: n%d moved to view %d after the group converged in view %d: %s", nd.id, v, quietView, w.describe())
					return
				}
			}
			if w.now >= quietUntil {
				return
			}
		}
		if w.now > deadline && quietUntil < 0 {
			w.fail("liveness: not converged %d ticks after healing: %s", w.opts.LiveTicks, w.describe())
			return
		}
		if !w.healed && w.opts.Nemesis != nil {
			w.opts.Nemesis(w)
		} else if !w.healed && w.now >= nextFault {
			w.injectFault()
			nextFault = w.now + tickUnits*(1+w.rng.Int64N(20))
		}
		if w.events.Len() == 0 {
			w.fail("no events left")
			return
		}
		e := heap.Pop(&w.events).(event)
		w.now = e.at
		w.dispatch(e)
	}
}

func (w *World) dispatch(e event) {
	switch e.kind {
	case evDeliver, evTick, evDiskDone:
		if nd := w.nodes[e.node]; nd.up && nd.pausedUntil > w.now {
			// A stopped process: everything waits until it runs again
			// (in order), and its ticker fires once for all it missed (a
			// node has one tick event at a time: each schedules the next).
			e.at = nd.pausedUntil
			w.schedule(e)
			return
		}
	}
	switch e.kind {
	case evDeliver:
		nd := w.nodes[e.node]
		if nd.up && !w.cut[e.from][e.node] {
			if transfer.IsFrame(e.frame) {
				w.note(e.node, "<- n%d snapshot transfer frame (%d bytes)", e.from, len(e.frame))
				nd.deliverTransfer(e.from, e.frame)
				return
			}
			cluster, env, err := decodeFrame(e.from, e.node, e.frame)
			if err != nil {
				w.fail("n%d: undecodable message from n%d: %v", e.node, e.from, err)
				return
			}
			w.trace.add(traceLine{at: w.now, node: e.node, env: env})
			nd.deliver(cluster, env)
		}
	case evTick:
		if nd := w.nodes[e.node]; nd.up && nd.inc == e.inc {
			nd.tick()
			w.schedule(event{at: w.now + nd.tickLen, kind: evTick, node: e.node, inc: e.inc})
			w.check.tick()
		}
	case evDiskDone:
		if nd := w.nodes[e.node]; nd.up && nd.inc == e.inc {
			nd.diskDone()
		}
	case evClient:
		w.clients[e.client].wake()
	case evRestart:
		if nd := w.nodes[e.node]; !nd.up {
			nd.restart()
		}
	case evHeal:
		w.healPartitions()
	}
}

// send puts an encoded message on the network.
func (w *World) send(from, to int, frame []byte) {
	if w.cut[from][to] {
		return
	}
	if !w.healed && w.rng.Float64() < w.faults.Drop {
		return
	}
	w.schedule(event{at: w.now + 1 + w.rng.Int64N(w.faults.MaxDelay), kind: evDeliver, node: to, from: from, frame: frame})
	if !w.healed && w.rng.Float64() < w.faults.Dup {
		w.schedule(event{at: w.now + 1 + w.rng.Int64N(w.faults.MaxDelay), kind: evDeliver, node: to, from: from, frame: frame})
	}
}

func (w *World) injectFault() {
	f, n := w.faults, len(w.nodes)
	kinds := 4
	if f.Pauses {
		kinds = 5 // (a draw of 4 or 5 kinds: seeds without pauses keep theirs)
	}
	switch w.rng.IntN(kinds) {
	case 0:
		if f.Partitions {
			w.healPartitions()
			side := w.rng.Uint64()
			if p := w.primary(); p >= 0 && w.rng.IntN(2) == 0 {
				// Cut the primary off (with a random share of the others):
				// it goes on preparing alone while the rest change view, so
				// logs of different views pile up, which view changes must
				// then reconcile.
				side = 1 << p
				for i := 0; i < n; i++ {
					if i != p && w.rng.IntN(3) == 0 {
						side |= 1 << i
					}
				}
			}
			var a, b []int
			for i := 0; i < n; i++ {
				if side>>i&1 == 1 {
					a = append(a, i)
				} else {
					b = append(b, i)
				}
			}
			for _, x := range a {
				for _, y := range b {
					w.cut[x][y], w.cut[y][x] = true, true
				}
			}
			w.note(-1, "partition %v | %v", a, b)
			w.schedule(event{at: w.now + tickUnits*(5+w.rng.Int64N(60)), kind: evHeal})
		}
	case 1:
		if f.OneWay {
			x, y := w.rng.IntN(n), w.rng.IntN(n)
			if x != y {
				w.cut[x][y] = true
				w.note(-1, "cut one way n%d -> n%d", x, y)
				w.schedule(event{at: w.now + tickUnits*(5+w.rng.Int64N(60)), kind: evHeal})
			}
		}
	case 2:
		if f.Crashes {
			nd := w.pickCrashVictim()
			if nd.up {
				nd.crash(false)
				w.schedule(event{at: w.now + tickUnits*(1+w.rng.Int64N(40)), kind: evRestart, node: nd.id})
			}
		}
	case 4:
		if f.Pauses {
			// Often the primary: its lease must end while it is stopped.
			nd := w.nodes[w.rng.IntN(n)]
			if p := w.primary(); p >= 0 && w.rng.IntN(2) == 0 {
				nd = w.nodes[p]
			}
			if nd.up && nd.pausedUntil <= w.now {
				// (Never past the fault phase: the events it defers
				// would still wait after healing.)
				nd.pausedUntil = min(w.now+tickUnits*(1+w.rng.Int64N(40)), w.opts.FaultTicks*tickUnits)
				w.note(nd.id, "PAUSED until t=%d", nd.pausedUntil/tickUnits)
			}
		}
	case 3:
		if f.DiskLoss && w.canLoseDisk() {
			nd := w.pickCrashVictim()
			if nd.up {
				nd.crash(true)
				w.schedule(event{at: w.now + tickUnits*(1+w.rng.Int64N(40)), kind: evRestart, node: nd.id})
			}
		}
	}
}

// primary returns the node that is primary of the highest view among the
// live nodes, or -1.
func (w *World) primary() int {
	best, view := -1, uint64(0)
	for _, nd := range w.nodes {
		if nd.up {
			if in := nd.info(); in.IsPrimary && (best < 0 || in.View > view) {
				best, view = nd.id, in.View
			}
		}
	}
	return best
}

// pickCrashVictim picks a node to crash, often one at an interesting moment:
// in the middle of persisting (unsynced writes get lost or torn), in
// particular of a new view, or of a view change.
func (w *World) pickCrashVictim() *node {
	var pick []*node
	switch w.rng.IntN(4) {
	case 0:
		for _, nd := range w.nodes {
			if nd.up && nd.d.Waiting() {
				pick = append(pick, nd)
			}
		}
	case 3:
		for _, nd := range w.nodes {
			if nd.up && nd.d.WaitingViewChange() {
				pick = append(pick, nd)
			}
		}
	case 1:
		for _, nd := range w.nodes {
			if nd.up && nd.info().Status == consensus.StatusViewChange {
				pick = append(pick, nd)
			}
		}
	}
	if len(pick) > 0 {
		return pick[w.rng.IntN(len(pick))]
	}
	return w.nodes[w.rng.IntN(len(w.nodes))]
}

// canLoseDisk keeps disk losses within the fault model: at most one replica
// is without its data at a time (a replica that lost its disk and has not
// recovered yet, or one that never had any: it cannot vote either).
func (w *World) canLoseDisk() bool {
	for _, nd := range w.nodes {
		if !nd.hasData {
			return false
		}
	}
	return true
}

// isolate cuts node i off from every other node (on) or reconnects it.
func (w *World) isolate(i int, on bool) {
	for j := range w.cut {
		if j != i {
			w.cut[i][j], w.cut[j][i] = on, on
		}
	}
	w.note(-1, "n%d isolated=%v", i, on)
}

func (w *World) healPartitions() {
	for i := range w.cut {
		clear(w.cut[i])
	}
	w.note(-1, "network healed")
}

// heal ends the fault phase: network whole, every node up.
func (w *World) heal() {
	w.healed, w.healedAt = true, w.now
	w.healPartitions()
	for _, nd := range w.nodes {
		if !nd.up {
			nd.restart()
		}
	}
	w.note(-1, "faults healed; liveness phase")
}

// done reports convergence: clients finished and every replica normal in
// the same view with everything committed and applied.
func (w *World) done() bool {
	for _, c := range w.clients {
		if c.done < w.opts.OpsPerClient {
			return false
		}
	}
	var v, op uint64
	for i, nd := range w.nodes {
		if !nd.up || nd.d.Waiting() {
			return false
		}
		in := nd.info()
		if in.Status != consensus.StatusNormal || in.Commit != in.Op || in.Applied != in.Op {
			return false
		}
		if i == 0 {
			v, op = in.View, in.Op
		} else if in.View != v || in.Op != op {
			return false
		}
	}
	return true
}

func (w *World) describe() string {
	var b strings.Builder
	for _, nd := range w.nodes {
		if !nd.up {
			fmt.Fprintf(&b, "[n%d down] ", nd.id)
			continue
		}
		in := nd.info()
		fmt.Fprintf(&b, "[n%d %s v=%d lnv=%d op=%d commit=%d applied=%d primary=%v waiting=%v] ", nd.id, in.Status, in.View, in.LastNormalView, in.Op, in.Commit, in.Applied, in.IsPrimary, nd.d.Waiting())
	}
	for _, c := range w.clients {
		if c.done < w.opts.OpsPerClient {
			fmt.Fprintf(&b, "[client %d done %d/%d] ", c.id, c.done, w.opts.OpsPerClient)
		}
	}
	return b.String()
}

func (w *World) checkLinearizable() {
	if porcupine.CheckOperations(kvModel, w.history) {
		return
	}
	// Name the failing key and print its operations in call order.
	for _, part := range kvModel.Partition(w.history) {
		if porcupine.CheckOperations(kvModel, part) {
			continue
		}
		sort.Slice(part, func(i, j int) bool { return part[i].Call < part[j].Call })
		var b strings.Builder
		for _, op := range part {
			fmt.Fprintf(&b, "\n  client %d [%d.%d, %d.%d] %s", op.ClientId, op.Call/tickUnits, op.Call%tickUnits,
				op.Return/tickUnits, op.Return%tickUnits, kvModel.DescribeOperation(op.Input, op.Output))
		}
		w.fail("history of key k%d not linearizable:%s", part[0].Input.(kvInput).key, b.String())
		return
	}
}
