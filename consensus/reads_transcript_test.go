package consensus_test

import (
	"testing"

	"github.com/vrkeeper/vrkeeper/consensus"
)

// TestTranscriptBackupReadAnsweredAtOnce: with three replicas a backup's
// ReadIndexRequest is the one confirmation its reads need (reads.go), so
// the primary answers it at once, with no read round to the other backup.
func TestTranscriptBackupReadAnsweredAtOnce(t *testing.T) {
	h := bootCluster(t)
	h.propose(1, "a")
	h.stabilize()
	h.tickAll(1)
	h.logf("# a read at backup n0: the primary n1 answers its request at once")
	h.read(0, 3)
	h.process(0)
	h.deliverOnly(func(e consensus.Envelope) bool { return e.To == 1 })
	h.process(1)
	for _, e := range h.queue {
		if c, ok := e.Msg.(*consensus.Commit); ok && c.ReadRound > 0 {
			t.Fatalf("the primary started a read round for a backup's request: %s", e)
		}
	}
	h.deliverOnly(func(e consensus.Envelope) bool { return e.To == 0 })
	h.process(0)
	h.status()
	if rs := h.nodes[0].reads; len(rs) != 1 || rs[0].ID != 3 || rs[0].Op != 1 {
		t.Fatalf("reads at n0 = %v, want id 3 at op 1", rs)
	}
	h.golden("backup_read_answered_at_once")
}

// TestTranscriptBackupReadNeedsMoreAcksWithFive: with five replicas (f = 2)
// the request counts for one confirmation, and one backup besides the
// requester must acknowledge a read round before the primary answers.
func TestTranscriptBackupReadNeedsMoreAcksWithFive(t *testing.T) {
	h := newHarness(t, 5)
	h.logf("# boot five fresh replicas")
	h.stabilize()
	h.status()
	primary := -1
	for i, nd := range h.nodes {
		if nd.r.Info().IsPrimary {
			primary = i
		}
	}
	if primary < 0 {
		t.Fatal("no primary")
	}
	backup := (primary + 1) % 5
	h.propose(primary, "a")
	h.stabilize()
	h.tickAll(1)
	h.logf("# a read at a backup: its request alone does not release it")
	h.read(backup, 3)
	h.process(backup)
	h.deliverOnly(func(e consensus.Envelope) bool { return int(e.To) == primary })
	h.process(primary)
	h.logf("# the read round reaches no other backup: no answer")
	h.deliverOnly(func(e consensus.Envelope) bool { return false })
	h.process(primary)
	for _, e := range h.queue {
		if _, ok := e.Msg.(*consensus.ReadIndexResponse); ok {
			t.Fatalf("answered with the request's confirmation alone: %s", e)
		}
	}
	h.logf("# the next round is acknowledged by the other backups: the primary answers")
	h.tickAll(2)
	h.status()
	if rs := h.nodes[backup].reads; len(rs) != 1 || rs[0].ID != 3 || rs[0].Op != 1 {
		t.Fatalf("reads at the backup = %v, want id 3 at op 1", rs)
	}
	h.golden("backup_read_needs_more_acks_with_five")
}
