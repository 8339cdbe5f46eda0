package sim

import "testing"

// TestHealedMinorityDoesNotDepose: a backup cut off from a healthy group
// for a long time (many view-change timeouts) comes back without forcing a
// view change: while away it never raised its view (pre-vote), so it
// rejoins the view the group is in. Checked with the production driver
// under clients, on 3 and 5 replicas.
func TestHealedMinorityDoesNotDepose(t *testing.T) {
	for _, n := range []int{3, 5} {
		isolated, healedAt := -1, int64(0)
		var view uint64
		var changed string
		nemesis := func(w *World) {
			switch {
			case isolated < 0 && w.now >= 60*tickUnits:
				p := w.primary()
				if p < 0 || w.nodes[p].info().Commit == 0 {
					return // wait for a primary that committed something
				}
				view, isolated = w.nodes[p].info().View, (p+1)%n
				w.isolate(isolated, true)
			case isolated >= 0 && healedAt == 0 && w.now >= 400*tickUnits:
				w.isolate(isolated, false)
				healedAt = w.now
			}
			if isolated >= 0 && changed == "" {
				for _, nd := range w.nodes {
					if in := nd.info(); nd.up && in.View != view && nd.id != isolated {
						changed = nd.String()
					}
				}
			}
		}
		mix := Faults{Replicas: n, MaxDelay: 5, MaxDisk: 5, SnapEvery: 20}
		res := Run(Options{Seed: uint64(n), FaultMix: &mix, FaultTicks: 700, Nemesis: nemesis})
		if res.Err != nil {
			t.Fatalf("n=%d: %v", n, res.Err)
		}
		if isolated < 0 || healedAt == 0 {
			t.Fatalf("n=%d: the scenario did not run (isolated %d, healed at %d)", n, isolated, healedAt)
		}
		if changed != "" {
			t.Fatalf("n=%d: %s left view %d while n%d was cut off or after it returned", n, changed, view, isolated)
		}
		if v := res.world.nodes[isolated].info().View; v != view {
			t.Fatalf("n=%d: the returning replica is in view %d, the group in %d", n, v, view)
		}
	}
}
