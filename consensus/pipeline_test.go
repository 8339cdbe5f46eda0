package consensus_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/vrkeeper/vrkeeper/consensus"
)

// takePipelined takes replica id's Ready, which must be pipelinable, queues
// its immediate messages and advances it as written, not durable; it
// returns the Ready (its held part: MessagesAfterPersist, Committed).
func takePipelined(t *testing.T, h *harness, id int) consensus.Ready {
	t.Helper()
	nd := h.nodes[id]
	rd := nd.r.Ready()
	if !rd.Pipeline || !rd.MustSync || len(rd.Entries) == 0 {
		t.Fatalf("n%d: Ready pipeline=%v sync=%v entries=%d: want appended entries to pipeline", id, rd.Pipeline, rd.MustSync, len(rd.Entries))
	}
	h.queue = append(h.queue, rd.Messages...)
	nd.log = append(nd.log, rd.Entries...)
	nd.r.AdvanceWritten(rd)
	return rd
}

// TestPipelinedPrimaryVotesOnlyWhenSynced: a primary whose batch is written
// but not synced does not count itself towards the batch's quorum, even
// with a backup's acknowledgement in; Synced adds its vote.
func TestPipelinedPrimaryVotesOnlyWhenSynced(t *testing.T) {
	h := newHarnessWith(t, 3, nil, true)
	h.stabilize()
	const primary, backup = 1, 0
	h.propose(primary, "a")
	rd := takePipelined(t, h, primary)
	op := rd.Entries[len(rd.Entries)-1].Op
	h.logf("# only n0 gets the Prepare and acknowledges it")
	h.deliverOnly(func(e consensus.Envelope) bool { return e.To == backup })
	h.process(backup)
	h.deliverOnly(func(e consensus.Envelope) bool { return e.To == primary })
	p := h.nodes[primary].r
	if p.HasReady() {
		// Whatever it says now must not commit op.
		next := p.Ready()
		if len(next.Committed) > 0 {
			t.Fatalf("committed %v on one backup's acknowledgement while its own log was not durable", next.Committed)
		}
		h.queue = append(h.queue, next.Messages...)
		p.Advance(next)
	}
	if c := p.Info().Commit; c >= op {
		t.Fatalf("commit %d reaches op %d before the primary's log is durable", c, op)
	}
	p.Synced(op + 5) // more than it wrote: counts only what it wrote
	if got := p.Info().StableOp; got != op {
		t.Fatalf("stable op %d after Synced, want %d (what was written)", got, op)
	}
	if c := p.Info().Commit; c != op {
		t.Fatalf("commit %d after the primary's own log became durable, want %d", c, op)
	}
}

// TestPipelineOnlyForAppends: through view changes with uncommitted ops,
// a crash and a restart, only Readies that append after everything the
// replica stored are pipelinable; a view change, a rewrite or a snapshot
// is not. AdvanceWritten refuses a Ready that is not.
func TestPipelineOnlyForAppends(t *testing.T) {
	h := newHarnessWith(t, 3, nil, true)
	piped, refused := 0, 0
	var notPipelined consensus.Ready
	h.onReady = func(nd *hnode, rd consensus.Ready) {
		last := uint64(0)
		if n := len(nd.log); n > 0 {
			last = nd.log[n-1].Op
		}
		if !rd.Pipeline {
			if rd.HardState != nil && rd.HardState.View != nd.hard.View {
				refused++
				notPipelined = rd
			}
			return
		}
		piped++
		switch {
		case rd.Snapshot != nil:
			t.Errorf("n%d: a Ready installing a snapshot is pipelinable", nd.id)
		case rd.HardState != nil && (rd.HardState.View != nd.hard.View || rd.HardState.LastNormalView != nd.hard.LastNormalView):
			t.Errorf("n%d: a Ready moving to view %d is pipelinable", nd.id, rd.HardState.View)
		case rd.LogFrom != 0 && rd.LogFrom <= last:
			t.Errorf("n%d: a Ready rewriting the log from op %d (stored through %d) is pipelinable", nd.id, rd.LogFrom, last)
		case rd.SoftState != nil && rd.SoftState.Status != consensus.StatusNormal:
			t.Errorf("n%d: a Ready outside normal status is pipelinable", nd.id)
		}
	}
	h.stabilize()
	h.propose(1, "a")
	h.stabilize()
	h.propose(1, "x")
	h.propose(1, "y")
	h.process(1)
	h.deliverOnly(func(e consensus.Envelope) bool { return e.To == 0 })
	h.process(0)
	h.crash(1)
	h.stabilize()
	h.tickAll(12)
	h.restart(1)
	h.tickAll(12)
	h.propose(2, "z")
	h.stabilize()
	h.tickAll(3)
	if piped == 0 || refused == 0 {
		t.Fatalf("pipelinable Readies %d, view-changing ones %d: the scenario covers neither", piped, refused)
	}
	defer func() {
		r := recover()
		if s, _ := r.(string); !strings.Contains(s, "pipeline-only-appends") {
			t.Fatalf("AdvanceWritten of a Ready without Pipeline: recovered %v", r)
		}
	}()
	r, err := consensus.New(consensus.Config{ID: 0, Replicas: 3, Epoch: 1, HeartbeatTicks: 1, ViewChangeTicks: 5,
		Rand: rand.New(rand.NewPCG(1, 7)), Logger: testLogger{t}}, memberBoot(0))
	if err != nil {
		t.Fatal(err)
	}
	r.Ready()
	r.AdvanceWritten(notPipelined)
}

// TestSyncedMovesStableForwardOnly: durability reports raise the stable op
// to what they cover and no further back (an older report arriving late
// changes nothing). The simulator covers reports that reach back past a
// rewrite.
func TestSyncedMovesStableForwardOnly(t *testing.T) {
	h := newHarnessWith(t, 3, nil, true)
	h.stabilize()
	const primary = 1
	h.propose(primary, "a")
	h.propose(primary, "b")
	rd := takePipelined(t, h, primary)
	written := rd.Entries[len(rd.Entries)-1].Op
	p := h.nodes[primary].r
	if got := p.Info().StableOp; got >= written {
		t.Fatalf("stable op %d before any sync, written %d", got, written)
	}
	p.Synced(written - 1)
	if got := p.Info().StableOp; got != written-1 {
		t.Fatalf("stable op %d after Synced(%d)", got, written-1)
	}
	p.Synced(written - 2) // an older report changes nothing
	if got := p.Info().StableOp; got != written-1 {
		t.Fatalf("stable op went back to %d", got)
	}
}
