package consensus_test

import (
	"sort"
	"testing"

	"github.com/vrkeeper/vrkeeper/consensus"
)

// TestTranscriptAckWaitsForDurableView is the scripted form of a bug found
// by review: a backup that installs a StartView and receives a Commit in the
// same batch acknowledged the Commit before its new last-normal-view was
// durable; the primary counted it, and after two crashes (no disk lost) a
// committed op was lost and the replicas diverged. No acknowledgement may
// leave before the state it vouches for is durable.
func TestTranscriptAckWaitsForDurableView(t *testing.T) {
	h := bootCluster(t)
	h.propose(1, "a")
	h.stabilize()
	h.tickAll(1)
	h.logf("# the primary n1 is cut off and prepares x alone (durable on n1 only)")
	h.isolate(1, true)
	h.propose(1, "x")
	h.stabilize()
	h.logf("# n0 and n2 form view 2 (primary n2); n0 never receives the StartView")
	for i := 0; i < 30 && !h.nodes[2].r.Info().IsPrimary; i++ {
		h.tick(0, 1)
		h.tick(2, 1)
		h.process(0)
		h.process(2)
		h.deliverOnly(func(e consensus.Envelope) bool {
			return !installsView(e) && e.From != 1 && e.To != 1
		})
	}
	h.status()
	h.logf("# n2 is cut off, n1 returns; n0 leads view 3 with n1 and adopts x from n1's log")
	h.isolate(2, true)
	h.isolate(1, false)
	for i := 0; i < 30 && !h.nodes[0].r.Info().IsPrimary; i++ {
		h.tick(0, 1)
		h.tick(1, 1)
		h.process(0)
		h.process(1)
		h.deliverOnly(func(e consensus.Envelope) bool {
			return !installsView(e) && e.From != 2 && e.To != 2
		})
		h.process(0)
		h.process(1)
	}
	h.status()
	h.logf("# n0's heartbeat follows its StartView: n1 takes both in one batch")
	h.tick(0, 1)
	h.process(0)
	sort.SliceStable(h.queue, func(i, j int) bool { return installsView(h.queue[i]) && !installsView(h.queue[j]) })
	h.deliverOnly(func(e consensus.Envelope) bool { return e.To == 1 })
	h.hold(1)
	h.logf("# whatever n1 sent before persisting reaches n0")
	h.deliverOnly(func(e consensus.Envelope) bool { return e.To == 0 })
	h.process(0)
	h.status()
	h.logf("# n1 crashes before its new view is durable, n0 crashes too; both restart from disk")
	h.crash(1)
	h.crash(0)
	h.restart(1)
	h.isolate(2, false)
	h.isolate(0, true)
	h.restart(0)
	h.logf("# n1 and n2 change view without n0")
	h.tickAll(30)
	h.status()
	h.isolate(0, false)
	h.tickAll(30)
	h.propose(1, "z")
	h.stabilize()
	h.tickAll(2)
	h.status()
	want := h.nodes[0].state
	for i := 1; i < 3; i++ {
		h.expectState(i, want)
	}
	h.golden("ack_waits_for_durable_view")
}

// installsView reports whether e would make its receiver normal in a view.
func installsView(e consensus.Envelope) bool {
	switch e.Msg.(type) {
	case *consensus.StartView, *consensus.NewState:
		return true
	}
	return false
}
