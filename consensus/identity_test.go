package consensus_test

import (
	"testing"

	"github.com/vrkeeper/vrkeeper/consensus"
)

// blankHarness starts n replicas with empty disks, as the first start of a
// brand-new cluster does.
func blankHarness(t *testing.T, n int) *harness {
	h := &harness{t: t, cut: map[[2]consensus.ReplicaID]bool{}}
	for i := 0; i < n; i++ {
		h.nodes = append(h.nodes, &hnode{id: consensus.ReplicaID(i)})
	}
	for _, nd := range h.nodes {
		h.boot(nd, consensus.Boot{})
	}
	return h
}

func TestTranscriptNewClusterFromEmptyDisks(t *testing.T) {
	h := blankHarness(t, 3)
	h.logf("# three servers start with empty disks: none votes until all have answered that they hold nothing;")
	h.logf("# n0 draws the cluster id, the others adopt it, and a view forms")
	h.stabilize()
	h.tickAll(20)
	h.status()
	cluster := h.nodes[0].r.Info().Cluster
	for _, nd := range h.nodes {
		in := nd.r.Info()
		if in.Status != consensus.StatusNormal || in.Cluster == 0 || in.Cluster != cluster {
			t.Fatalf("n%d: %s cluster %x, want normal in cluster %x", nd.id, in.Status, in.Cluster, cluster)
		}
	}
	primary := int(h.nodes[0].r.Info().View % 3)
	h.propose(primary, "a")
	h.stabilize()
	h.tickAll(1)
	for i := range h.nodes {
		h.expectState(i, "a ")
	}
	h.golden("new_cluster_from_empty_disks")
}

func TestTranscriptNewClusterWaitsForEveryMember(t *testing.T) {
	h := blankHarness(t, 3)
	h.logf("# n2 is not up: n0 and n1 cannot tell a new cluster from one whose data n2 alone holds")
	h.crash(2)
	h.stabilize()
	h.tickAll(40)
	h.status()
	for i := 0; i < 2; i++ {
		if in := h.nodes[i].r.Info(); in.Status != consensus.StatusRecovering || in.Cluster != 0 {
			t.Fatalf("n%d: %s in cluster %x without hearing from n2", i, in.Status, in.Cluster)
		}
	}
	h.logf("# n2 starts (empty too): the cluster forms")
	h.nodes[2].hard = consensus.HardState{}
	h.restart(2)
	h.stabilize()
	h.tickAll(20)
	h.status()
	for _, nd := range h.nodes {
		if in := nd.r.Info(); in.Status != consensus.StatusNormal {
			t.Fatalf("n%d: %s after every member started", nd.id, in.Status)
		}
	}
	h.golden("new_cluster_waits_for_every_member")
}

// TestTranscriptLostDiskNeverVotesEmpty is the replaced-disk sequence of
// the safety issue: a backup is down with an old log, writes are
// acknowledged by the other two, one of those loses its disk and the other
// goes down; the wiped one restarts with the same command line. It must
// not form a view from the old log with the down-to-date one: it waits,
// and once the up-to-date server is back it recovers every write.
func TestTranscriptLostDiskNeverVotesEmpty(t *testing.T) {
	h := bootCluster(t)
	h.propose(1, "a")
	h.stabilize()
	h.tickAll(1)
	h.logf("# n2 goes down with a log of [a]; n0 and n1 acknowledge b and c")
	h.crash(2)
	h.propose(1, "b")
	h.propose(1, "c")
	h.stabilize()
	h.tickAll(1)
	h.logf("# n0's disk is replaced, n1 goes down; n0 restarts empty, then n2 restarts from its old disk")
	h.crash(0)
	h.crash(1)
	h.loseDisk(0)
	h.restart(2)
	h.stabilize()
	h.tickAll(40)
	h.status()
	for _, i := range []int{0, 2} {
		if in := h.nodes[i].r.Info(); in.Status == consensus.StatusNormal && in.IsPrimary {
			t.Fatalf("n%d leads view %d without the acknowledged writes", i, in.View)
		}
		if st := h.nodes[i].state; st != "a " && st != "" {
			t.Fatalf("n%d applied %q", i, st)
		}
	}
	if in := h.nodes[0].r.Info(); in.Status != consensus.StatusRecovering {
		t.Fatalf("n0 is %s with an empty disk and no quorum of members to recover from", in.Status)
	}
	h.logf("# n1 returns: n0 recovers from the others, and every write is there")
	h.restart(1)
	h.stabilize()
	h.tickAll(40)
	h.status()
	for i := range h.nodes {
		h.expectState(i, "a b c ")
	}
	h.golden("lost_disk_never_votes_empty")
}

// TestTranscriptMajorityDiskLossAndReseed: two of three disks are lost.
// The wiped servers stay unavailable (the survivor alone cannot vouch that
// it holds every committed write) until an operator seeds the survivor;
// then they rebuild from it alone and the cluster serves again.
func TestTranscriptMajorityDiskLossAndReseed(t *testing.T) {
	h := bootCluster(t)
	h.propose(1, "a")
	h.propose(1, "b")
	h.stabilize()
	h.tickAll(1)
	h.logf("# n0 and n2 lose their disks")
	h.crash(0)
	h.crash(2)
	h.loseDisk(0)
	h.loseDisk(2)
	h.stabilize()
	h.tickAll(40)
	h.status()
	for _, nd := range h.nodes {
		if in := nd.r.Info(); in.Status == consensus.StatusNormal && in.IsPrimary {
			t.Fatalf("n%d is a primary after a majority of disks was lost", nd.id)
		}
	}
	h.logf("# the operator seeds n1 (vrkeeper reseed): it leads a view of its own and the others rebuild from it")
	h.crash(1)
	h.nodes[1].hard.Seeded = true
	h.nodes[1].hard.Cluster = 2
	h.restart(1)
	h.logf("# the others are not back yet: the seed waits for them as primary (it has no quorum to lose)")
	h.isolate(1, true)
	h.stabilize()
	h.tickAll(40)
	if in := h.nodes[1].r.Info(); !in.IsPrimary || !in.Seeded {
		t.Fatalf("the seed gave up waiting: %+v", in)
	}
	h.isolate(1, false)
	h.stabilize()
	h.tickAll(40)
	h.status()
	h.propose(int(h.nodes[1].r.Info().View%3), "c")
	h.stabilize()
	h.tickAll(2)
	h.status()
	for i := range h.nodes {
		h.expectState(i, "a b c ")
		if in := h.nodes[i].r.Info(); in.Seeded || in.Cluster != 2 {
			t.Fatalf("n%d: seeded %v cluster %x after the seed completed", i, in.Seeded, in.Cluster)
		}
	}
	h.golden("majority_disk_loss_reseed")
}
