package consensus_test

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vrkeeper/vrkeeper/consensus"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the golden transcripts in testdata")

// harness drives a few replicas by script: messages are queued and delivered
// only when the script says so, every Ready is persisted synchronously unless
// the script holds it, and each step is written to a transcript compared with
// a golden file.
type harness struct {
	t     *testing.T
	out   strings.Builder
	nodes []*hnode
	queue []consensus.Envelope
	cut   map[[2]consensus.ReplicaID]bool
	// Optional: cfg adjusts every replica's config; quiet writes no
	// transcript; delivered sees every message delivered.
	cfg       func(*consensus.Config)
	quiet     bool
	delivered func(consensus.Envelope)
	// onReady, if set, sees every Ready process takes, before it is persisted.
	onReady func(*hnode, consensus.Ready)
}

// testLogger fails the test on a reported invariant violation.
type testLogger struct{ t *testing.T }

func (testLogger) Debug(string, ...any) {}
func (testLogger) Info(string, ...any)  {}
func (l testLogger) Warn(msg string, args ...any) {
	if strings.HasPrefix(msg, consensus.InvariantViolated) {
		l.t.Errorf("%s %v", msg, args)
	}
}

// hnode is one replica with an in-memory disk and a string state machine.
type hnode struct {
	id      consensus.ReplicaID
	r       *consensus.Replica
	up      bool
	hard    consensus.HardState
	snap    *consensus.Snapshot
	log     []consensus.Entry
	state   string // applied commands, joined
	applied uint64
	view    uint64           // view of the last applied entry
	held    *consensus.Ready // Ready taken but not yet persisted
	reads   []consensus.ReadState
}

func newHarness(t *testing.T, n int) *harness { return newHarnessWith(t, n, nil, false) }

func newHarnessWith(t *testing.T, n int, cfg func(*consensus.Config), quiet bool) *harness {
	h := &harness{t: t, cut: map[[2]consensus.ReplicaID]bool{}, cfg: cfg, quiet: quiet}
	for i := 0; i < n; i++ {
		h.nodes = append(h.nodes, &hnode{id: consensus.ReplicaID(i)})
	}
	for _, nd := range h.nodes {
		h.boot(nd, memberBoot(nd.id))
	}
	return h
}

func (h *harness) logf(format string, args ...any) {
	if h.quiet {
		return
	}
	fmt.Fprintf(&h.out, format+"\n", args...)
}

func (h *harness) boot(nd *hnode, b consensus.Boot) {
	c := consensus.Config{
		ID: nd.id, Replicas: len(h.nodes), Epoch: 1,
		Rand:           rand.New(rand.NewPCG(uint64(nd.id)+1, 7)),
		HeartbeatTicks: 1, ViewChangeTicks: 5, Logger: testLogger{h.t},
	}
	if h.cfg != nil {
		h.cfg(&c)
	}
	r, err := consensus.New(c, b)
	if err != nil {
		h.t.Fatalf("n%d: new: %v", nd.id, err)
	}
	nd.r, nd.up, nd.held = r, true, nil
}

// process drains n's Ready output, persisting it at once.
func (h *harness) process(id int) {
	nd := h.nodes[id]
	for nd.up && nd.held == nil && nd.r.HasReady() {
		rd := nd.r.Ready()
		h.describeReady(nd, rd)
		if h.onReady != nil {
			h.onReady(nd, rd)
		}
		h.queue = append(h.queue, rd.Messages...)
		h.persist(nd, rd)
	}
}

// hold takes n's Ready and sends its immediate messages, but does not persist
// it yet (a crash now loses it).
func (h *harness) hold(id int) {
	nd := h.nodes[id]
	if nd.held != nil || !nd.r.HasReady() {
		return
	}
	rd := nd.r.Ready()
	h.describeReady(nd, rd)
	h.logf("n%d: persistence of this ready is in progress", nd.id)
	h.queue = append(h.queue, rd.Messages...)
	nd.held = &rd
}

func (h *harness) persist(nd *hnode, rd consensus.Ready) {
	if rd.Snapshot != nil {
		nd.snap, nd.log = rd.Snapshot, nil
		nd.state = rd.Snapshot.Data.(string)
		nd.applied, nd.view = rd.Snapshot.Op, rd.Snapshot.View
	}
	if rd.LogFrom != 0 {
		k := 0
		for k < len(nd.log) && nd.log[k].Op < rd.LogFrom {
			k++
		}
		nd.log = append(nd.log[:k:k], rd.Entries...)
	}
	if rd.HardState != nil {
		nd.hard = *rd.HardState
	}
	h.queue = append(h.queue, rd.MessagesAfterPersist...)
	for _, e := range rd.Committed {
		if e.Op != nd.applied+1 {
			h.t.Fatalf("n%d: committed op %d after %d", nd.id, e.Op, nd.applied)
		}
		nd.applied, nd.view = e.Op, e.View
		nd.state += string(e.Cmd) + " "
	}
	nd.reads = append(nd.reads, rd.Reads...)
	nd.r.Advance(rd)
}

// expectState fails unless replica id applied exactly want.
func (h *harness) expectState(id int, want string) {
	h.t.Helper()
	if got := h.nodes[id].state; got != want {
		h.t.Errorf("n%d state %q, want %q\n%s", id, got, want, h.out.String())
	}
}

func (h *harness) describeReady(nd *hnode, rd consensus.Ready) {
	if h.quiet {
		return
	}
	var parts []string
	if rd.SoftState != nil {
		silent := ""
		if rd.SoftState.PrimarySilent {
			silent = " primary-silent"
		}
		parts = append(parts, fmt.Sprintf("soft{v=%d %s primary=n%d%s}", rd.SoftState.View, rd.SoftState.Status, rd.SoftState.Primary, silent))
	}
	if rd.HardState != nil {
		hs := rd.HardState
		seed := ""
		if hs.Seeded {
			seed = " seeded"
		}
		parts = append(parts, fmt.Sprintf("hard{v=%d lnv=%d commit=%d recovering=%v cluster=%x%s}", hs.View, hs.LastNormalView, hs.Commit, hs.Recovering, hs.Cluster, seed))
	}
	if rd.Snapshot != nil {
		parts = append(parts, fmt.Sprintf("install-snapshot{op=%d}", rd.Snapshot.Op))
	}
	if rd.LogFrom != 0 {
		parts = append(parts, fmt.Sprintf("log{from=%d %s}", rd.LogFrom, entriesString(rd.Entries)))
	}
	if rd.CompactTo != 0 {
		parts = append(parts, fmt.Sprintf("compact{to=%d}", rd.CompactTo))
	}
	if len(rd.Committed) > 0 {
		parts = append(parts, "apply{"+entriesString(rd.Committed)+"}")
	}
	for _, r := range rd.Reads {
		parts = append(parts, fmt.Sprintf("read{id=%d op=%d}", r.ID, r.Op))
	}
	if len(parts) > 0 {
		sync := ""
		if rd.MustSync {
			sync = " +sync"
		}
		h.logf("n%d ready%s: %s", nd.id, sync, strings.Join(parts, " "))
	}
}

func entriesString(es []consensus.Entry) string {
	var b strings.Builder
	for i, e := range es {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%d@v%d:%s", e.Op, e.View, e.Cmd)
	}
	if len(es) == 0 {
		return "none"
	}
	return b.String()
}

// deliver delivers queued messages (and processes the resulting output)
// until nothing is left, dropping those on cut links or to crashed replicas.
func (h *harness) stabilize() {
	for steps := 0; ; steps++ {
		if steps > 10000 {
			h.t.Fatalf("no quiescence after %d steps", steps)
		}
		for i := range h.nodes {
			h.process(i)
		}
		if len(h.queue) == 0 {
			return
		}
		e := h.queue[0]
		h.queue = h.queue[1:]
		h.deliverOne(e)
	}
}

func (h *harness) deliverOne(e consensus.Envelope) {
	nd := h.nodes[e.To]
	if !nd.up || h.cut[[2]consensus.ReplicaID{e.From, e.To}] {
		h.logf("drop %s", e)
		return
	}
	h.logf("deliver %s", e)
	if h.delivered != nil {
		h.delivered(e)
	}
	if err := nd.r.Step(e); err != nil {
		h.t.Fatalf("step %s: %v", e, err)
	}
}

// deliverOnly delivers the queued messages matching keep, drops the others.
func (h *harness) deliverOnly(keep func(consensus.Envelope) bool) {
	q := h.queue
	h.queue = nil
	for _, e := range q {
		if keep(e) {
			h.deliverOne(e)
		} else {
			h.logf("drop %s", e)
		}
	}
}

func (h *harness) tick(id, n int) {
	h.logf("n%d: tick x%d", id, n)
	for i := 0; i < n; i++ {
		h.nodes[id].r.Tick()
	}
}

// tickAll ticks every live replica once, n times, delivering in between.
func (h *harness) tickAll(n int) {
	h.logf("tick all x%d", n)
	for i := 0; i < n; i++ {
		for _, nd := range h.nodes {
			if nd.up {
				nd.r.Tick()
			}
		}
		h.stabilize()
	}
}

func (h *harness) propose(id int, cmd string) {
	h.logf("n%d: propose %s", id, cmd)
	if err := h.nodes[id].r.Propose([]byte(cmd)); err != nil {
		h.t.Fatalf("propose: %v", err)
	}
}

func (h *harness) read(id int, rid consensus.ReadID) {
	h.logf("n%d: read id=%d", id, rid)
	if err := h.nodes[id].r.Read(rid); err != nil {
		h.t.Fatalf("read: %v", err)
	}
}

func (h *harness) isolate(id int, on bool) {
	h.logf("n%d: isolated=%v", id, on)
	for i := range h.nodes {
		if i != id {
			h.cut[[2]consensus.ReplicaID{consensus.ReplicaID(i), consensus.ReplicaID(id)}] = on
			h.cut[[2]consensus.ReplicaID{consensus.ReplicaID(id), consensus.ReplicaID(i)}] = on
		}
	}
}

// crash stops a replica; a held Ready is lost.
func (h *harness) crash(id int) {
	nd := h.nodes[id]
	h.logf("n%d: CRASH (unpersisted ready lost: %v)", id, nd.held != nil)
	nd.up, nd.held, nd.r = false, nil, nil
}

// restart boots a replica from its durable state.
func (h *harness) restart(id int) {
	nd := h.nodes[id]
	b := consensus.Boot{Hard: nd.hard, Snapshot: nd.snap, Entries: append([]consensus.Entry(nil), nd.log...)}
	nd.state, nd.applied, nd.view = "", 0, 0
	if nd.snap != nil {
		nd.state, nd.applied, nd.view = nd.snap.Data.(string), nd.snap.Op, nd.snap.View
	}
	h.logf("n%d: RESTART from disk: hard{v=%d lnv=%d commit=%d} log=%s", id, nd.hard.View, nd.hard.LastNormalView, nd.hard.Commit, entriesString(nd.log))
	h.boot(nd, b)
}

// memberBoot is the boot of a member of a new cluster that already has its
// identity (the state a new cluster's replicas write once they agreed it
// is new).
func memberBoot(id consensus.ReplicaID) consensus.Boot {
	return consensus.Boot{Hard: consensus.HardState{Cluster: 1, Incarnation: uint64(id) + 1}}
}

// loseDisk restarts a replica with an empty disk (no flag: it finds out).
func (h *harness) loseDisk(id int) {
	nd := h.nodes[id]
	*nd = hnode{id: nd.id}
	h.logf("n%d: RESTART with its disk lost", id)
	h.boot(nd, consensus.Boot{})
}

// snapshot takes a durable snapshot of n's state machine.
func (h *harness) snapshot(id int) {
	nd := h.nodes[id]
	s := consensus.Snapshot{Op: nd.applied, View: nd.view, Data: nd.state}
	nd.snap = &s
	h.logf("n%d: snapshot at op %d", id, s.Op)
	nd.r.SnapshotTaken(s)
}

func (h *harness) status() {
	for _, nd := range h.nodes {
		if !nd.up {
			h.logf("  n%d: down", nd.id)
			continue
		}
		in := nd.r.Info()
		h.logf("  n%d: %s v=%d lnv=%d primary=%v op=%d commit=%d applied=%d gma=%d log-start=%d state=%q",
			nd.id, in.Status, in.View, in.LastNormalView, in.IsPrimary, in.Op, in.Commit, in.Applied, in.GlobalMinAccept, in.LogStart, nd.state)
	}
}

// golden compares the transcript with testdata/<name>.txt (or rewrites it).
func (h *harness) golden(name string) {
	path := filepath.Join("testdata", name+".txt")
	got := h.out.String()
	if *rewrite {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			h.t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		h.t.Fatalf("%v (run with -rewrite to create it)", err)
	}
	if string(want) != got {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) || i < len(wl); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				h.t.Fatalf("%s differs at line %d:\n got: %s\nwant: %s\n(run with -rewrite if the change is intended)", path, i+1, g, w)
			}
		}
	}
}
