package consensus_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/vrkeeper/vrkeeper/consensus"
)

// benchCluster is three replicas wired in process: persistence is free (no
// disk), messages are delivered in rounds, snapshots are taken every 4096
// applied ops so the log is garbage collected.
type benchCluster struct {
	rs      []*consensus.Replica
	applied []uint64
	queue   []consensus.Envelope
	next    []consensus.Envelope
	msgs    int
}

func newBenchCluster(b *testing.B, batch int) *benchCluster {
	c := &benchCluster{applied: make([]uint64, 3)}
	for i := 0; i < 3; i++ {
		r, err := consensus.New(consensus.Config{
			ID: consensus.ReplicaID(i), Replicas: 3, Epoch: 1,
			Rand:        rand.New(rand.NewPCG(uint64(i), 1)),
			MaxBatchOps: max(batch, 1), MaxUncommittedOps: 4 * max(batch, 1),
			MaxQueuedProposals: 8 * max(batch, 1),
		}, consensus.Boot{Hard: consensus.HardState{Cluster: 1}})
		if err != nil {
			b.Fatal(err)
		}
		c.rs = append(c.rs, r)
	}
	// Form view 1 (primary n1).
	for i := 0; i < 50 && !c.rs[1].Info().IsPrimary; i++ {
		c.round()
	}
	if !c.rs[1].Info().IsPrimary {
		b.Fatal("no primary")
	}
	c.msgs = 0
	return c
}

// round drains every replica's Ready once and delivers what was sent.
func (c *benchCluster) round() {
	for i, r := range c.rs {
		if !r.HasReady() {
			continue
		}
		rd := r.Ready()
		c.next = append(c.next, rd.Messages...)
		c.next = append(c.next, rd.MessagesAfterPersist...)
		if n := len(rd.Committed); n > 0 {
			c.applied[i] = rd.Committed[n-1].Op
		}
		r.Advance(rd)
		if c.applied[i]%4096 == 0 && c.applied[i] > 0 {
			r.SnapshotTaken(consensus.Snapshot{Op: c.applied[i]})
		}
	}
	c.queue, c.next = c.next, c.queue[:0]
	c.msgs += len(c.queue)
	for _, e := range c.queue {
		if err := c.rs[e.To].Step(e); err != nil {
			panic(err)
		}
	}
}

// BenchmarkThroughput measures commands committed and applied on all three
// replicas per second with batches of the given size proposed at the primary
// each round, and the messages exchanged per committed command.
func BenchmarkThroughput(b *testing.B) {
	cmd := make([]byte, 64)
	for _, batch := range []int{1, 16, 256, 1024} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			c := newBenchCluster(b, batch)
			p := c.rs[1]
			b.ReportAllocs()
			b.ResetTimer()
			proposed := 0
			for min(c.applied[0], c.applied[1], c.applied[2]) < uint64(b.N) {
				for k := 0; k < batch && proposed < b.N; k++ {
					if p.Propose(cmd) != nil {
						break
					}
					proposed++
				}
				c.round()
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "cmds/s")
			b.ReportMetric(float64(c.msgs)/float64(b.N), "msgs/cmd")
		})
	}
}
