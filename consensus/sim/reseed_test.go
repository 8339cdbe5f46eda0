package sim

import (
	"testing"

	"github.com/vrkeeper/vrkeeper/bridge/driver"
	"github.com/vrkeeper/vrkeeper/consensus"
)

// TestMajorityDiskLossThenReseed runs the operator's way out of a majority
// disk loss through the production code: two of three disks are lost; the
// cluster must not serve (no replica becomes a normal primary, none
// applies anything new) however long it waits; then vrkeeper reseed's
// storage change (driver.Reseed) is applied to the survivor's disk, the
// emptied servers are restarted, and the cluster converges with every
// committed write (the clients had finished, and every replica held every
// write, so nothing may be lost).
func TestMajorityDiskLossThenReseed(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3, 4, 5} {
		var survivor = -1
		var lostAt, reseededAt int64
		var opBefore uint64
		nemesis := func(w *World) {
			switch {
			case survivor < 0 && w.now >= 150*tickUnits:
				for _, c := range w.clients {
					if c.done < w.opts.OpsPerClient {
						return // wait for the writes to finish
					}
				}
				if !w.done() {
					return // and for every replica to hold them
				}
				survivor = int(seed % 3)
				opBefore = w.nodes[survivor].info().Op
				for _, nd := range w.nodes {
					nd.crash(nd.id != survivor)
				}
				for _, nd := range w.nodes {
					nd.restart()
				}
				lostAt = w.now
			case survivor >= 0 && reseededAt == 0:
				for _, nd := range w.nodes {
					if in := nd.info(); in.IsPrimary {
						w.fail("n%d leads view %d after a majority of disks was lost", nd.id, in.View)
					}
				}
				if w.now < lostAt+150*tickUnits {
					return
				}
				nd := w.nodes[survivor]
				nd.crash(false)
				rep, err := driver.Reseed(driver.OpenOptions{Storage: nd.storageOptions(), ServerID: serverID(nd.id),
					Members: w.serverIDs()}, 0xfeed, 7, true)
				if err != nil {
					w.fail("reseed n%d: %v", nd.id, err)
					return
				}
				w.note(nd.id, "RESEEDED: last op %d, committed %d", rep.LastOp, rep.Committed)
				for _, o := range w.nodes {
					if o.id != survivor {
						o.crash(true) // the operator empties the others
						o.restart()
					}
				}
				nd.restart()
				reseededAt = w.now
			}
		}
		mix := Faults{Replicas: 3, MaxDelay: 8, MaxDisk: 6, SnapEvery: 20}
		res := Run(Options{Seed: seed, FaultMix: &mix, OpsPerClient: 10, FaultTicks: 600, Nemesis: nemesis})
		if res.Err != nil {
			t.Fatalf("seed %d: %v", seed, res.Err)
		}
		if reseededAt == 0 {
			t.Fatalf("seed %d: the scenario did not run", seed)
		}
		for _, nd := range res.world.nodes {
			in := nd.info()
			if in.Status != consensus.StatusNormal || in.Op < opBefore || in.Cluster != 0xfeed {
				t.Fatalf("seed %d: n%d %s op %d (had %d) cluster %x after the reseed", seed, nd.id, in.Status, in.Op, opBefore, in.Cluster)
			}
		}
	}
}
