package sim

import "testing"

// regressionSeeds are seeds that failed before a fix, kept so the fix stays
// in. A seed replays a whole run only with the simulator it was found
// with; when the simulator's use of randomness changes, these still run as
// ordinary seeds, and the transcript tests in package consensus keep each
// scenario exactly.
var regressionSeeds = []struct {
	seed uint64
	bug  string
}{
	// A server restarted with an empty data directory (disk replaced)
	// booted as a fresh member and voted with an empty log: committed ops
	// lost, two primaries in a view (found with the new-member boot of
	// before the fix).
	{10, "lost disk voted as a new member"},
	{31, "lost disk voted as a new member"},
	{63, "lost disk voted as a new member"},
	// A backup acknowledged a Commit before the view it installed in the
	// same batch was durable (found by the durability oracle).
	{663, "ack before its view was durable"},
	{697, "ack before its view was durable"},
	{894, "ack before its view was durable"},
	// A replica that lost its disk while leading a view (in memory only)
	// joined a still-empty cluster at view 0 and led that same view again.
	{3407, "a lost life's view led twice"},
	// A backup's read asked again (its answer was slower than the retry
	// period) matched only answers to its newest request: under long
	// delays its reads starved, and every read queued behind them.
	{7596, "backup reads starved by their own retries"},
	// A backup acknowledged a Commit of its view, then, in the same batch
	// of queued input (a stopped process resumed), moved to the next view
	// and rewrote the acknowledged op in memory; the acknowledgement left
	// afterwards (found by the durability oracle once pauses came in).
	{10408, "ack of an old view left after the log was rewritten"},
	{19047, "ack of an old view left after the log was rewritten"},
	// A recovering server fetched its primary's snapshot, older than one
	// it had fetched from another server; the store kept the newest two
	// and dropped the new one at once, and the install found nothing
	// (fail-stop, nothing lost).
	{8769, "a fetched snapshot older than the kept ones pruned at once"},
	// A backup restarted while the primary's grant for one of its lease
	// requests was still queued; the restarted backup numbered its
	// requests from 1 again, took the old grant for its own later request
	// and served a stale read under a lease that outlasted the grant
	// (found with pipelined Readies).
	{48693, "a grant for a previous incarnation's lease request"},
	// A recovering server's Ready installing a fetched snapshot waited for
	// its sync while a newer fetch completed; the store pruned the older
	// snapshot and the install found nothing (fail-stop, nothing lost).
	{172932, "a snapshot to install pruned while its Ready synced"},
}

func TestRegressionSeeds(t *testing.T) {
	for _, rs := range regressionSeeds {
		if res := Run(Options{Seed: rs.seed}); res.Err != nil {
			t.Errorf("seed %d (%s; %s): %v\n  replay: go test ./consensus/sim -run Sim -seed %d", rs.seed, rs.bug, res.Faults, res.Err, rs.seed)
		}
	}
}
