package consensus_test

import (
	"testing"

	"github.com/vrkeeper/vrkeeper/consensus"
)

// bootCluster starts three fresh replicas. Replica 0, primary of view 0,
// starts a view change at its first start, so view 1 (primary n1) forms.
func bootCluster(t *testing.T) *harness {
	h := newHarness(t, 3)
	h.logf("# boot three fresh replicas; the primary of view 0 never resumes a view, so view 1 forms")
	h.stabilize()
	h.status()
	return h
}

func TestTranscriptNormalOperation(t *testing.T) {
	h := bootCluster(t)
	h.logf("# two proposals at the primary and one at a backup (forwarded): one batch each way")
	h.propose(1, "a")
	h.propose(1, "b")
	h.propose(0, "c")
	h.stabilize()
	h.logf("# idle heartbeat round")
	h.tickAll(1)
	h.status()
	for i := 0; i < 3; i++ {
		h.expectState(i, "a b c ")
	}
	h.golden("normal_operation")
}

func TestTranscriptViewChangeWithUncommittedOps(t *testing.T) {
	h := bootCluster(t)
	h.propose(1, "x")
	h.propose(1, "y")
	h.process(1)
	h.logf("# only n0 receives the Prepare; n2 misses it")
	h.deliverOnly(func(e consensus.Envelope) bool { return e.To == 0 })
	h.process(0)
	h.logf("# the primary crashes before any PrepareOk arrives: x, y are uncommitted")
	h.crash(1)
	h.stabilize()
	h.tickAll(12)
	h.status()
	h.logf("# the new primary adopted the longest log of the latest normal view: x, y keep ops 1 and 2")
	h.propose(2, "z")
	h.stabilize()
	h.tickAll(1)
	h.status()
	h.expectState(0, "x y z ")
	h.expectState(2, "x y z ")
	h.golden("view_change_uncommitted")
}

func TestTranscriptPrimaryCrashMidPrepare(t *testing.T) {
	h := bootCluster(t)
	h.propose(1, "p1")
	h.logf("# the primary sends its Prepare while its own write is still in flight")
	h.hold(1)
	h.crash(1)
	h.stabilize()
	h.logf("# the backups hold p1 durably; they elect a new primary, which commits p1 as op 1")
	h.tickAll(12)
	h.status()
	h.logf("# the old primary restarts without p1 on disk: it must not reuse op 1")
	h.restart(1)
	h.stabilize()
	h.propose(2, "p2")
	h.stabilize()
	h.tickAll(1)
	h.status()
	for i := 0; i < 3; i++ {
		h.expectState(i, "p1 p2 ")
	}
	h.golden("primary_crash_mid_prepare")
}

func TestTranscriptRestartFromDurableState(t *testing.T) {
	h := bootCluster(t)
	h.propose(1, "a")
	h.propose(1, "b")
	h.stabilize()
	h.tickAll(1)
	h.crash(0)
	h.propose(1, "c")
	h.stabilize()
	h.logf("# n0 restarts from its disk as a backup of view 1 and catches up by retransmission")
	h.restart(0)
	h.stabilize()
	h.tickAll(3)
	h.status()
	h.expectState(0, "a b c ")
	h.golden("restart_durable_state")
}

func TestTranscriptDiskLossRecovery(t *testing.T) {
	h := bootCluster(t)
	h.propose(1, "a")
	h.propose(1, "b")
	h.stabilize()
	h.tickAll(1)
	h.logf("# n2 loses its disk: it runs nonce Recovery and takes part in nothing until it has the primary's log")
	h.loseDisk(2)
	h.stabilize()
	h.status()
	h.propose(1, "c")
	h.stabilize()
	h.tickAll(1)
	h.status()
	h.expectState(2, "a b c ")
	if in := h.nodes[2].r.Info(); in.Status != consensus.StatusNormal {
		t.Errorf("n2 status %s after recovery", in.Status)
	}
	h.golden("disk_loss_recovery")
}

func TestTranscriptStateTransfer(t *testing.T) {
	h := bootCluster(t)
	for _, c := range []string{"a", "b", "c"} {
		h.propose(1, c)
	}
	h.stabilize()
	h.tickAll(1)
	h.isolate(2, true)
	h.propose(1, "d")
	h.propose(1, "e")
	h.stabilize()
	h.tickAll(1)
	h.logf("# n0 and n1 snapshot op 5, crash and restart from the snapshot: their logs start at 5")
	h.snapshot(0)
	h.snapshot(1)
	h.crash(0)
	h.crash(1)
	h.restart(0)
	h.restart(1)
	h.stabilize()
	h.tickAll(25)
	h.status()
	h.logf("# n2 returns: cut off, it never raised its view (no other replica granted its pre-votes), so it does")
	h.logf("# not disrupt the group: it learns view 3 from the primary, asks for state after its commit-number 3")
	h.logf("# and receives the snapshot")
	h.isolate(2, false)
	h.tickAll(15)
	h.status()
	h.expectState(2, "a b c d e ")
	if in := h.nodes[0].r.Info(); !in.IsPrimary || in.View != 3 {
		t.Fatalf("the returning replica disrupted the group: n0 %s in view %d", in.Status, in.View)
	}
	h.golden("state_transfer")
}

func TestTranscriptStalePrimaryReadRefused(t *testing.T) {
	h := bootCluster(t)
	h.propose(1, "v1")
	h.stabilize()
	h.tickAll(1)
	h.logf("# the primary n1 is cut off; n0 and n2 elect n2 and commit v2")
	h.isolate(1, true)
	for i := 0; i < 12; i++ {
		h.tick(0, 1)
		h.tick(2, 1)
		h.stabilize()
	}
	h.propose(2, "v2")
	h.stabilize()
	h.tickAll(1)
	h.status()
	h.logf("# a read at the deposed primary: its read round reaches nobody, the read is never released in view 1")
	h.read(1, 7)
	h.stabilize()
	if len(h.nodes[1].reads) != 0 {
		t.Fatalf("deposed primary released a read: %v", h.nodes[1].reads)
	}
	h.tick(1, 10)
	h.stabilize()
	h.status()
	if len(h.nodes[1].reads) != 0 {
		t.Fatalf("deposed primary released a read: %v", h.nodes[1].reads)
	}
	h.logf("# healed: n1 joins view 2 and its read is confirmed by the new primary, at op 2")
	h.isolate(1, false)
	h.tickAll(4)
	h.status()
	if rs := h.nodes[1].reads; len(rs) != 1 || rs[0].ID != 7 || rs[0].Op != 2 {
		t.Fatalf("reads at n1 = %v, want id 7 at op 2", rs)
	}
	h.expectState(1, "v1 v2 ")
	h.golden("stale_primary_read_refused")
}
