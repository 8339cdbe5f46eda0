package driver

import (
	"time"

	"github.com/vrkeeper/vrkeeper/consensus"
)

// readTable tracks the reads registered with the replica. Ids are handed
// out in increasing order with non-decreasing start times, so the reads
// that timed out are always the oldest ones: expiry walks from the oldest
// id and stops at the first that may still wait, and the order in which
// reads are failed is deterministic (the simulator relies on it).
type readTable struct {
	pending map[consensus.ReadID]pendingRead
	next    consensus.ReadID // last id handed out
	oldest  consensus.ReadID // no pending read has a smaller id
}

// pendingRead is a read the replica has not released yet.
type pendingRead struct {
	done  func(uint64, bool)
	since time.Time
}

func (t *readTable) init() {
	t.pending = map[consensus.ReadID]pendingRead{}
	t.oldest = 1
}

func (t *readTable) add(done func(uint64, bool), now time.Time) consensus.ReadID {
	t.next++
	t.pending[t.next] = pendingRead{done: done, since: now}
	return t.next
}

// release serves read id at op.
func (t *readTable) release(id consensus.ReadID, op uint64) {
	if p, ok := t.pending[id]; ok {
		delete(t.pending, id)
		p.done(op, true)
	}
}

// fail ends read id without a read index.
func (t *readTable) fail(id consensus.ReadID) {
	if p, ok := t.pending[id]; ok {
		delete(t.pending, id)
		p.done(0, false)
	}
}

// expire fails the reads that waited longer than timeout.
func (t *readTable) expire(now time.Time, timeout time.Duration) {
	for ; t.oldest <= t.next; t.oldest++ {
		p, ok := t.pending[t.oldest]
		if !ok {
			continue
		}
		if now.Sub(p.since) <= timeout {
			return
		}
		delete(t.pending, t.oldest)
		p.done(0, false)
	}
}
