package consensus

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
)

// failLogger fails the test on a reported invariant violation.
type failLogger struct{ t *testing.T }

func (failLogger) Debug(string, ...any) {}
func (failLogger) Info(string, ...any)  {}
func (l failLogger) Warn(msg string, args ...any) {
	if strings.HasPrefix(msg, InvariantViolated) {
		l.t.Errorf("%s %v", msg, args)
	}
}

// partsReplica returns replica id of n booted from hard with log es and
// parts of partBytes.
func partsReplica(t *testing.T, id ReplicaID, n int, hard HardState, es []Entry, partBytes int) *Replica {
	t.Helper()
	hard.Cluster, hard.Incarnation, hard.Epoch = 1, uint64(id)+1, 1
	r, err := New(Config{ID: id, Replicas: n, Epoch: 1, Rand: rand.New(rand.NewPCG(uint64(id), 9)), Logger: failLogger{t},
		HeartbeatTicks: 1, ViewChangeTicks: 10, MaxPartBytes: partBytes}, Boot{Hard: hard, Entries: es})
	if err != nil {
		t.Fatal(err)
	}
	drain(r)
	return r
}

// drain persists and discards r's output.
func drain(r *Replica) {
	for r.HasReady() {
		r.Advance(r.Ready())
	}
}

// testLog returns ops 1..n of view v, 10 bytes each.
func testLog(n int, v uint64) []Entry {
	es := make([]Entry, n)
	for i := range es {
		es[i] = Entry{Op: uint64(i) + 1, View: v, Cmd: bytes.Repeat([]byte{byte('a' + i%26)}, 10)}
	}
	return es
}

func step(t *testing.T, r *Replica, from ReplicaID, m Message) {
	t.Helper()
	if err := r.Step(Envelope{From: from, To: r.id, Msg: m}); err != nil {
		t.Fatalf("step %s: %v", m, err)
	}
}

// TestSplitEntriesBound: parts hold at most MaxPartBytes (commands plus
// entryOverhead each), a larger entry alone, and cover the run in order.
func TestSplitEntriesBound(t *testing.T) {
	r := partsReplica(t, 0, 1, HardState{}, nil, 100)
	es := testLog(30, 1)
	es[7].Cmd = make([]byte, 500) // larger than a part
	parts := r.splitEntries(es, 0)
	var next uint64 = 1
	for _, p := range parts {
		size := 0
		for _, e := range p {
			size += len(e.Cmd) + entryOverhead
		}
		if len(p) == 0 || (len(p) > 1 && size > 100) {
			t.Fatalf("part of %d entries, %d bytes", len(p), size)
		}
		if p[0].Op != next {
			t.Fatalf("part starts at %d, want %d", p[0].Op, next)
		}
		next = p[len(p)-1].Op + 1
	}
	if next != 31 {
		t.Fatalf("parts end at %d", next-1)
	}
	if got := r.splitEntries(nil, 0); len(got) != 1 || len(got[0]) != 0 {
		t.Fatalf("no entries: %d parts", len(got))
	}
	if got := r.splitEntries(testLog(10, 1), 3); len(got[0]) != 2 {
		// 2 entries of 42 bytes fit 100; maxOps 3 does not bind here
		t.Fatalf("first part of %d entries", len(got[0]))
	}
}

// startViewParts returns the parts of the StartView the primary of view v
// (replica 1 of 3) sends with log es.
func startViewParts(t *testing.T, v uint64, es []Entry, partBytes int) []Message {
	p := partsReplica(t, 1, 3, HardState{View: v - 1, LastNormalView: v - 1}, es, partBytes)
	p.view, p.lastNormalView, p.status = v, v, StatusNormal // as if it had just become primary of v
	ms := p.suffixParts(p.startViewMessage(), 0)
	if len(ms) < 4 {
		t.Fatalf("only %d parts", len(ms))
	}
	return ms
}

// TestStartViewPartsInstallOnlyWhenComplete: a backup installs a StartView
// sent in parts only once it holds every part, whatever their order, with
// duplicates, and whether a lost part comes with a resend.
func TestStartViewPartsInstallOnlyWhenComplete(t *testing.T) {
	es := testLog(12, 1)
	parts := startViewParts(t, 4, es, 90) // two entries (84 bytes) per part
	b := partsReplica(t, 0, 3, HardState{View: 1, LastNormalView: 1}, es[:3], 90)

	// Reversed, duplicated, and the second part lost.
	for i := len(parts) - 1; i >= 0; i-- {
		if i == 1 {
			continue
		}
		step(t, b, 1, parts[i])
		step(t, b, 1, parts[i])
		drain(b)
		if info := b.Info(); info.View != 1 || info.LastNormalView != 1 || info.Op != 3 {
			t.Fatalf("after part %d of %d (one lost): %+v", i, len(parts), info)
		}
	}
	// The primary resends every part; the first ones complete it.
	resend := startViewParts(t, 4, es, 90)
	step(t, b, 1, resend[0])
	drain(b)
	if info := b.Info(); info.View != 1 || info.Op != 3 {
		t.Fatalf("installed before the lost part: %+v", info)
	}
	step(t, b, 1, resend[1])
	drain(b)
	info := b.Info()
	if info.View != 4 || info.LastNormalView != 4 || info.Status != StatusNormal || info.Op != 12 {
		t.Fatalf("after every part: %+v", info)
	}
	for op := uint64(1); op <= 12; op++ {
		if v, _ := b.EntryView(op); v != 1 {
			t.Fatalf("op %d of view %d", op, v)
		}
	}
}

// TestStartViewPartsMismatchDropped: parts that do not add up to the suffix
// their header announces (a wrong fingerprint) are never installed.
func TestStartViewPartsMismatchDropped(t *testing.T) {
	es := testLog(8, 1)
	parts := startViewParts(t, 4, es, 90)
	other := testLog(8, 1)
	other[5].View = 2 // another entry at op 6
	forged := startViewParts(t, 4, other, 90)
	b := partsReplica(t, 0, 3, HardState{View: 1, LastNormalView: 1}, nil, 90)
	b.log = nopLogger{} // the mismatch is reported as an invariant violation
	for i := range parts {
		m := parts[i]
		if i == 2 { // the part holding op 6 comes from the other log
			m = withEntries(forged[i], forged[i].(*StartView).Entries, parts[0].(*StartView).Bytes, parts[0].(*StartView).Sum)
		}
		step(t, b, 1, m)
		drain(b)
	}
	if info := b.Info(); info.View != 1 || info.Op != 0 {
		t.Fatalf("installed a mixed log: %+v", info)
	}
}

// TestDoViewChangePartsCountOnce: the new primary counts a DoViewChange
// sent in parts once, and only once every part arrived; with f = 2 the
// parts of one sender never make a quorum.
func TestDoViewChangePartsCountOnce(t *testing.T) {
	const v = 6 // primary: replica 1 of 5
	es := testLog(10, 2)
	p := partsReplica(t, 1, 5, HardState{View: v - 1, LastNormalView: 1}, testLog(2, 1), 90)
	p.startViewChange(v) // (a replica that boots as primary of its view never leads it)
	drain(p)
	dvcParts := func(id ReplicaID, log []Entry) []Message {
		s := partsReplica(t, id, 5, HardState{View: v, LastNormalView: 2}, log, 90)
		return s.suffixParts(s.buildDoViewChange(), 0)
	}
	from0, from2 := dvcParts(0, es), dvcParts(2, es[:7])
	if len(from0) < 4 {
		t.Fatalf("only %d parts", len(from0))
	}
	for round := 0; round < 3; round++ { // every part, thrice (resends)
		for _, m := range from0 {
			step(t, p, 0, m)
			drain(p)
		}
	}
	if info := p.Info(); info.Status != StatusViewChange {
		t.Fatalf("primary with one DoViewChange of two: %+v", info)
	}
	for _, m := range from2[1:] {
		step(t, p, 2, m)
		drain(p)
	}
	if info := p.Info(); info.Status != StatusViewChange {
		t.Fatalf("primary with a DoViewChange missing its first part: %+v", info)
	}
	step(t, p, 2, from2[0])
	drain(p)
	info := p.Info()
	if !info.IsPrimary || info.View != v || info.Op != 10 {
		t.Fatalf("after two whole DoViewChanges: %+v", info)
	}
	for op := uint64(1); op <= 10; op++ {
		if ev, _ := p.EntryView(op); ev != 2 {
			t.Fatalf("op %d of view %d: the primary did not adopt the longest log", op, ev)
		}
	}
}

// TestPartsDroppedWhenTheViewMovesOn: an assembly of an earlier view is
// discarded when the replica enters a later one, and its parts never
// combine with a later view's.
func TestPartsDroppedWhenTheViewMovesOn(t *testing.T) {
	es := testLog(8, 1)
	old := startViewParts(t, 4, es, 90)
	b := partsReplica(t, 0, 3, HardState{View: 1, LastNormalView: 1}, nil, 90)
	for _, m := range old[1:] {
		step(t, b, 1, m)
	}
	if b.asm[kindStartView][1] == nil {
		t.Fatal("no assembly for the parts")
	}
	b.startViewChange(5)
	drain(b)
	if b.asm[kindStartView][1] != nil {
		t.Fatal("the assembly of view 4 survived the move to view 5")
	}
	step(t, b, 1, old[0]) // stale: view 4 < 5
	drain(b)
	if info := b.Info(); info.View != 5 || info.Op != 0 || b.asm[kindStartView][1] != nil {
		t.Fatalf("a stale part was taken: %+v", info)
	}
}

// TestPartsBeyondTheirSizeDropped: parts that hold more bytes than their
// header announces are discarded.
func TestPartsBeyondTheirSizeDropped(t *testing.T) {
	es := testLog(8, 1)
	parts := startViewParts(t, 4, es, 90)
	b := partsReplica(t, 0, 3, HardState{View: 1, LastNormalView: 1}, nil, 90)
	for _, m := range parts[1:] {
		sv := *m.(*StartView)
		sv.Bytes = 20 // less than the parts hold
		step(t, b, 1, &sv)
	}
	if b.asm[kindStartView][1] != nil && b.asm[kindStartView][1].held > 20 {
		t.Fatalf("holding %d bytes of a 20-byte suffix", b.asm[kindStartView][1].held)
	}
}

// TestDoViewChangeResentAtItsSizesPace: a replica repeats its DoViewChange
// every heartbeat while it is small, and a large one (tens of MB, when a
// lagging backup held the log back) once per dvcResendBytes of it, so the
// repeats do not fill the link; but at least twice per view-change timeout.
func TestDoViewChangeResentAtItsSizesPace(t *testing.T) {
	sends := func(es []Entry) int {
		s := partsReplica(t, 0, 3, HardState{View: 1, LastNormalView: 1}, es, 1<<20)
		s.startViewChange(7) // primary of view 7: replica 1
		step(t, s, 2, &StartViewChange{Header: Header{Epoch: 1, View: 7}})
		drain(s)
		n := 0
		for range 8 {
			s.Tick()
			rd := s.Ready()
			for _, e := range rd.MessagesAfterPersist {
				if _, ok := e.Msg.(*DoViewChange); ok {
					n++
					break
				}
			}
			s.Advance(rd)
		}
		return n
	}
	if n := sends(testLog(12, 1)); n != 8 {
		t.Fatalf("a small DoViewChange was sent in %d of 8 heartbeats, want every one", n)
	}
	big := testLog(12, 1)
	mib := make([]byte, 1<<20)
	for i := range big {
		big[i].Cmd = mib
	}
	// 12 MiB: 3 heartbeats between sends (the timeout of 10 ticks allows 4).
	if n := sends(big); n != 2 {
		t.Fatalf("a 12 MiB DoViewChange was sent in %d of 8 heartbeats, want 2", n)
	}
}
