package consensus_test

import (
	"math/rand/v2"
	"testing"

	"github.com/vrkeeper/vrkeeper/consensus"
)

// TestRandomMessagesNeverPanic feeds a replica well-formed but arbitrary
// messages (any view, op, commit, snapshot) interleaved with ticks, Ready and
// Advance: whatever a faulty peer sends, the replica must not panic.
func TestRandomMessagesNeverPanic(t *testing.T) {
	rng := rand.New(rand.NewPCG(42, 43))
	small := func() uint64 { return uint64(rng.IntN(12)) }
	entries := func(after uint64) []consensus.Entry {
		es := make([]consensus.Entry, rng.IntN(4))
		for i := range es {
			es[i] = consensus.Entry{Op: after + 1 + uint64(i), View: small(), Cmd: []byte{byte(i)}}
		}
		return es
	}
	for run := 0; run < 200; run++ {
		r, err := consensus.New(consensus.Config{ID: 0, Replicas: 3, Epoch: 1, Rand: rand.New(rand.NewPCG(uint64(run), 1)), ViewChangeTicks: 3}, consensus.Boot{Hard: consensus.HardState{Cluster: 1}})
		if err != nil {
			t.Fatal(err)
		}
		for step := 0; step < 300; step++ {
			from := consensus.ReplicaID(1 + rng.IntN(2))
			h := consensus.Header{Epoch: 1, View: small()}
			after := small()
			es := entries(after)
			last := after + uint64(len(es))
			var snap *consensus.Snapshot
			if rng.IntN(3) == 0 {
				snap = &consensus.Snapshot{Op: after, View: small()}
			}
			var m consensus.Message
			switch rng.IntN(14) {
			case 0:
				m = &consensus.Prepare{Header: h, After: after, Entries: es, Commit: small(), GlobalMinAccept: small(), ReadRound: small()}
			case 1:
				m = &consensus.PrepareOk{Header: h, Op: small(), Gap: rng.IntN(2) == 0, ReadRound: small()}
			case 2:
				m = &consensus.Commit{Header: h, Commit: small(), GlobalMinAccept: small(), ReadRound: small()}
			case 3:
				m = &consensus.CommitOk{Header: h, Op: small(), Commit: small(), ReadRound: small()}
			case 4:
				m = &consensus.StartViewChange{Header: h}
			case 5:
				m = &consensus.DoViewChange{Header: h, LastNormalView: small(), Op: last, Commit: small(), GlobalMinAccept: small(), After: after, AfterView: small(), Entries: es}
			case 6:
				m = &consensus.StartView{Header: h, Op: last, Commit: small(), GlobalMinAccept: small(), After: after, AfterView: small(), Entries: es}
			case 7:
				m = &consensus.GetState{Header: h, Op: small(), LastNormalView: small()}
			case 8:
				m = &consensus.NewState{Header: h, Snapshot: snap, Op: last + small(), Commit: small(), GlobalMinAccept: small(), After: after, AfterView: small(), Entries: es}
			case 9:
				m = &consensus.Recovery{Header: h, Nonce: small()}
			case 10:
				if snap == nil {
					after, es, last = 0, entries(0), 0
					last = uint64(len(es))
				}
				m = &consensus.RecoveryResponse{Header: h, Nonce: small(), Primary: rng.IntN(2) == 0, Snapshot: snap, Op: last, Commit: small(), GlobalMinAccept: small(), After: after, Entries: es}
			case 11:
				m = &consensus.Forward{Header: h, Cmds: [][]byte{{1}, {2}}}
			case 12:
				m = &consensus.ReadIndexRequest{Header: h, Seq: small()}
			default:
				m = &consensus.ReadIndexResponse{Header: h, Seq: small(), Op: small()}
			}
			_ = r.Step(consensus.Envelope{From: from, To: 0, Msg: m})
			switch rng.IntN(4) {
			case 0:
				r.Tick()
			case 1:
				_ = r.Propose([]byte("x"))
				_ = r.Read(consensus.ReadID(step))
			}
			if r.HasReady() {
				rd := r.Ready()
				if n := len(rd.Committed); n > 0 && rng.IntN(3) == 0 {
					r.Advance(rd)
					r.SnapshotTaken(consensus.Snapshot{Op: rd.Committed[n-1].Op, View: rd.Committed[n-1].View})
				} else {
					r.Advance(rd)
				}
			}
		}
	}
}
