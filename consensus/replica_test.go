package consensus_test

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/vrkeeper/vrkeeper/consensus"
)

func cfg(id, n int) consensus.Config {
	return consensus.Config{ID: consensus.ReplicaID(id), Replicas: n, Epoch: 1, Rand: rand.New(rand.NewPCG(1, 2))}
}

func TestNewRejectsBadConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*consensus.Config)
		boot consensus.Boot
	}{
		{"even group", func(c *consensus.Config) { c.Replicas = 2 }, consensus.Boot{}},
		{"empty group", func(c *consensus.Config) { c.Replicas = 0 }, consensus.Boot{}},
		{"id out of range", func(c *consensus.Config) { c.ID = 3 }, consensus.Boot{}},
		{"no random source", func(c *consensus.Config) { c.Rand = nil }, consensus.Boot{}},
		{"timeout not above heartbeat", func(c *consensus.Config) { c.HeartbeatTicks, c.ViewChangeTicks = 5, 5 }, consensus.Boot{}},
		{"durable epoch ahead", func(*consensus.Config) {}, consensus.Boot{Hard: consensus.HardState{Epoch: 2}}},
		{"last-normal-view above view", func(*consensus.Config) {}, consensus.Boot{Hard: consensus.HardState{View: 1, LastNormalView: 2}}},
		{"log with a gap", func(*consensus.Config) {}, consensus.Boot{Hard: consensus.HardState{Cluster: 1}, Entries: []consensus.Entry{{Op: 2}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := cfg(0, 3)
			tc.mod(&c)
			if _, err := consensus.New(c, tc.boot); err == nil {
				t.Fatal("New accepted it")
			}
		})
	}
	if _, err := consensus.New(cfg(0, 1), consensus.Boot{Hard: consensus.HardState{Cluster: 1, Recovering: true}}); err == nil {
		t.Fatal("a single replica accepted disk-loss recovery")
	}
}

func TestStepRejectsBadInput(t *testing.T) {
	hdr := consensus.Header{Epoch: 1, View: 1}
	for _, tc := range []struct {
		name string
		env  consensus.Envelope
	}{
		{"nil message", consensus.Envelope{From: 1, To: 0}},
		{"wrong addressee", consensus.Envelope{From: 1, To: 2, Msg: &consensus.Commit{Header: hdr}}},
		{"sender out of range", consensus.Envelope{From: 7, To: 0, Msg: &consensus.Commit{Header: hdr}}},
		{"from itself", consensus.Envelope{From: 0, To: 0, Msg: &consensus.Commit{Header: hdr}}},
		{"prepare with a gap", consensus.Envelope{From: 1, To: 0, Msg: &consensus.Prepare{Header: hdr, After: 0,
			Entries: []consensus.Entry{{Op: 1, View: 1}, {Op: 3, View: 1}}}}},
		{"do-view-change op mismatch", consensus.Envelope{From: 1, To: 0, Msg: &consensus.DoViewChange{Header: hdr, Op: 5, After: 0}}},
		{"start-view part beyond its suffix", consensus.Envelope{From: 1, To: 0, Msg: &consensus.StartView{Header: hdr, Op: 2, After: 0,
			Entries: []consensus.Entry{{Op: 2, View: 1}, {Op: 3, View: 1}}}}},
		{"start-view part before its suffix", consensus.Envelope{From: 1, To: 0, Msg: &consensus.StartView{Header: hdr, Op: 9, After: 4,
			Entries: []consensus.Entry{{Op: 4, View: 1}}}}},
		{"start-view op mismatch", consensus.Envelope{From: 1, To: 0, Msg: &consensus.StartView{Header: hdr, Op: 1, After: 3}}},
		{"recovery-response without its start", consensus.Envelope{From: 1, To: 0, Msg: &consensus.RecoveryResponse{Header: hdr,
			Primary: true, After: 3, Op: 3}}},
		{"new-state snapshot mismatch", consensus.Envelope{From: 1, To: 0, Msg: &consensus.NewState{Header: hdr,
			Snapshot: &consensus.Snapshot{Op: 4}, After: 2}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := consensus.New(cfg(0, 3), memberBoot(0))
			if err != nil {
				t.Fatal(err)
			}
			before := r.Info()
			if err := r.Step(tc.env); !errors.Is(err, consensus.ErrBadMessage) {
				t.Fatalf("Step = %v, want ErrBadMessage", err)
			}
			if after := r.Info(); after != before {
				t.Fatalf("state changed: %+v -> %+v", before, after)
			}
		})
	}
}

func TestProposeAndReadBounds(t *testing.T) {
	c := cfg(0, 3)
	c.MaxCommandBytes, c.MaxQueuedProposals, c.MaxPendingReads = 8, 2, 1
	r, err := consensus.New(c, memberBoot(0))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Propose(make([]byte, 9)); !errors.Is(err, consensus.ErrCommandTooLarge) {
		t.Fatalf("oversized command: %v", err)
	}
	for i := 0; i < 2; i++ {
		if err := r.Propose([]byte("x")); err != nil {
			t.Fatalf("proposal %d: %v", i, err)
		}
	}
	if err := r.Propose([]byte("x")); !errors.Is(err, consensus.ErrProposalDropped) {
		t.Fatalf("third proposal: %v", err)
	}
	if err := r.Read(1); err != nil {
		t.Fatal(err)
	}
	if err := r.Read(2); !errors.Is(err, consensus.ErrReadDropped) {
		t.Fatalf("second read: %v", err)
	}
}

func TestNothingBetweenReadyAndAdvance(t *testing.T) {
	r, err := consensus.New(cfg(0, 3), memberBoot(0))
	if err != nil {
		t.Fatal(err)
	}
	rd := r.Ready()
	defer func() {
		if recover() == nil {
			t.Fatal("Tick between Ready and Advance did not panic")
		}
		r.Advance(rd)
	}()
	r.Tick()
}

// drain handles every Ready of r with free persistence and returns what it sent.
func drain(r *consensus.Replica) (now, after []consensus.Envelope, committed []consensus.Entry, reads []consensus.ReadState) {
	for r.HasReady() {
		rd := r.Ready()
		now = append(now, rd.Messages...)
		after = append(after, rd.MessagesAfterPersist...)
		committed = append(committed, rd.Committed...)
		reads = append(reads, rd.Reads...)
		r.Advance(rd)
	}
	return
}

func TestSingleReplica(t *testing.T) {
	r, err := consensus.New(cfg(0, 1), memberBoot(0))
	if err != nil {
		t.Fatal(err)
	}
	// Its first Ready persists view 1 before it acts as primary.
	rd := r.Ready()
	if rd.HardState == nil || rd.HardState.View != 1 || !rd.MustSync || r.Info().IsPrimary {
		t.Fatalf("first ready %+v, primary=%v", rd.HardState, r.Info().IsPrimary)
	}
	r.Advance(rd)
	drain(r)
	if !r.Info().IsPrimary {
		t.Fatalf("not primary: %+v", r.Info())
	}
	var log []consensus.Entry
	for _, c := range []string{"a", "b"} {
		if err := r.Propose([]byte(c)); err != nil {
			t.Fatal(err)
		}
	}
	// The entries are committed only once they were persisted.
	rd = r.Ready()
	if len(rd.Entries) != 2 || len(rd.Committed) != 0 {
		t.Fatalf("ready: %d entries, %d committed", len(rd.Entries), len(rd.Committed))
	}
	log = append(log, rd.Entries...)
	r.Advance(rd)
	_, _, committed, _ := drain(r)
	if len(committed) != 2 || committed[1].Op != 2 {
		t.Fatalf("committed %v", committed)
	}
	if err := r.Read(9); err != nil {
		t.Fatal(err)
	}
	if _, _, _, reads := drain(r); len(reads) != 1 || reads[0] != (consensus.ReadState{ID: 9, Op: 2}) {
		t.Fatalf("reads %v", reads)
	}
	// Restart from durable state: a new view, the same log, op-numbers continue.
	r, err = consensus.New(cfg(0, 1), consensus.Boot{Hard: consensus.HardState{Epoch: 1, View: 1, LastNormalView: 1, Commit: 2, Cluster: 1}, Entries: log})
	if err != nil {
		t.Fatal(err)
	}
	_, _, committed, _ = drain(r)
	if err := r.Propose([]byte("c")); err != nil {
		t.Fatal(err)
	}
	_, _, more, _ := drain(r)
	committed = append(committed, more...)
	if in := r.Info(); !in.IsPrimary || in.View != 2 || len(committed) != 3 || committed[2].Op != 3 || committed[2].View != 2 {
		t.Fatalf("after restart %+v committed %v", in, committed)
	}
}

// TestDurabilityOrdering checks what must wait for persistence: a backup's
// PrepareOk, and StartViewChange after a timeout (the new view is durable first).
func TestDurabilityOrdering(t *testing.T) {
	r, err := consensus.New(cfg(0, 3), consensus.Boot{Hard: consensus.HardState{Epoch: 1, View: 1, LastNormalView: 1, Cluster: 1}})
	if err != nil {
		t.Fatal(err)
	}
	drain(r)
	err = r.Step(consensus.Envelope{From: 1, To: 0, Msg: &consensus.Prepare{Header: consensus.Header{Epoch: 1, View: 1},
		Entries: []consensus.Entry{{Op: 1, View: 1, Cmd: []byte("a")}}}})
	if err != nil {
		t.Fatal(err)
	}
	rd := r.Ready()
	if len(rd.Entries) != 1 || !rd.MustSync {
		t.Fatalf("entries %v sync %v", rd.Entries, rd.MustSync)
	}
	for _, e := range rd.Messages {
		if _, ok := e.Msg.(*consensus.PrepareOk); ok {
			t.Fatal("PrepareOk may not leave before the entry is durable")
		}
	}
	if len(rd.MessagesAfterPersist) != 1 {
		t.Fatalf("after persist: %v", rd.MessagesAfterPersist)
	}
	if ok, isOk := rd.MessagesAfterPersist[0].Msg.(*consensus.PrepareOk); !isOk || ok.Op != 1 {
		t.Fatalf("after persist: %v", rd.MessagesAfterPersist)
	}
	r.Advance(rd)
	// The primary goes silent: the replica first asks (pre-vote), changing
	// nothing durable, and moves only with a grant.
	asked := false
	for i := 0; i < 40 && !asked; i++ {
		r.Tick()
		rd = r.Ready()
		for _, e := range rd.Messages {
			if m, ok := e.Msg.(*consensus.PreViewChange); ok && m.View == 2 {
				asked = true
			}
		}
		if rd.HardState != nil && rd.HardState.View != 1 {
			t.Fatalf("view %d became durable before any other replica agreed", rd.HardState.View)
		}
		r.Advance(rd)
	}
	if !asked || r.Info().View != 1 {
		t.Fatalf("no pre-vote for view 2 (asked %v, view %d)", asked, r.Info().View)
	}
	if err := r.Step(consensus.Envelope{From: 2, To: 0, Msg: &consensus.PreViewChangeOk{Header: consensus.Header{Epoch: 1, View: 2}}}); err != nil {
		t.Fatal(err)
	}
	rd = r.Ready()
	if rd.HardState == nil || rd.HardState.View != 2 || !rd.MustSync {
		t.Fatalf("view change ready hard state %+v", rd.HardState)
	}
	for _, e := range rd.Messages {
		if _, ok := e.Msg.(*consensus.StartViewChange); ok {
			t.Fatal("StartViewChange may not leave before the view is durable")
		}
	}
	svc := 0
	for _, e := range rd.MessagesAfterPersist {
		if _, ok := e.Msg.(*consensus.StartViewChange); ok {
			svc++
		}
	}
	if svc != 2 {
		t.Fatalf("%d StartViewChange after persistence, want 2", svc)
	}
	r.Advance(rd)
}

// TestDoViewChangeAfterViewIsDurable: a replica joining a view change because
// of a peer's StartViewChange votes (DoViewChange) only after the new view is
// durable, in the same Ready that persists it.
func TestDoViewChangeAfterViewIsDurable(t *testing.T) {
	r, err := consensus.New(cfg(0, 3), consensus.Boot{Hard: consensus.HardState{Epoch: 1, View: 1, LastNormalView: 1, Cluster: 1}})
	if err != nil {
		t.Fatal(err)
	}
	drain(r)
	if err := r.Step(consensus.Envelope{From: 1, To: 0, Msg: &consensus.StartViewChange{Header: consensus.Header{Epoch: 1, View: 5}}}); err != nil {
		t.Fatal(err)
	}
	rd := r.Ready()
	if rd.HardState == nil || rd.HardState.View != 5 || !rd.MustSync {
		t.Fatalf("hard state %+v", rd.HardState)
	}
	for _, e := range rd.Messages {
		switch e.Msg.(type) {
		case *consensus.StartViewChange, *consensus.DoViewChange:
			t.Fatalf("%s may not leave before view 5 is durable", e)
		}
	}
	var dvc *consensus.DoViewChange
	for _, e := range rd.MessagesAfterPersist {
		if m, ok := e.Msg.(*consensus.DoViewChange); ok && e.To == 2 {
			dvc = m
		}
	}
	if dvc == nil || dvc.View != 5 || dvc.LastNormalView != 1 {
		t.Fatalf("DoViewChange to the primary of view 5: %v", dvc)
	}
	r.Advance(rd)
}

// TestPreVoteRefusedWithLivePrimary: a backup that hears its primary does
// not grant a pre-vote, so a replica that was cut off cannot take the group
// into a new view; one that lost its primary too grants.
func TestPreVoteRefusedWithLivePrimary(t *testing.T) {
	boot := consensus.Boot{Hard: consensus.HardState{Epoch: 1, View: 1, LastNormalView: 1, Cluster: 1}}
	r, err := consensus.New(cfg(2, 3), boot)
	if err != nil {
		t.Fatal(err)
	}
	drain(r)
	hdr := consensus.Header{Epoch: 1, View: 1}
	ask := func() bool {
		if err := r.Step(consensus.Envelope{From: 0, To: 2, Msg: &consensus.PreViewChange{Header: consensus.Header{Epoch: 1, View: 2}}}); err != nil {
			t.Fatal(err)
		}
		rd := r.Ready()
		defer r.Advance(rd)
		for _, e := range rd.Messages {
			if _, ok := e.Msg.(*consensus.PreViewChangeOk); ok {
				return true
			}
		}
		return false
	}
	// Heartbeats from the primary n1 keep arriving.
	for i := 0; i < 30; i++ {
		r.Tick()
		if err := r.Step(consensus.Envelope{From: 1, To: 2, Msg: &consensus.Commit{Header: hdr}}); err != nil {
			t.Fatal(err)
		}
		drain(r)
		if ask() {
			t.Fatalf("granted a pre-vote %d ticks into hearing a live primary", i)
		}
	}
	// The primary falls silent for a whole timeout: now it grants.
	granted := false
	for i := 0; i < 30 && !granted; i++ {
		r.Tick()
		drain(r)
		granted = ask()
	}
	if !granted || r.Info().View != 1 {
		t.Fatalf("granted %v, view %d: a backup without a primary grants, and moves nowhere by granting", granted, r.Info().View)
	}
}
