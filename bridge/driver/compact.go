package driver

import (
	"sync"

	"github.com/hashicorp/go-hclog"
	"github.com/vrkeeper/vrkeeper/storage"
)

// compactor drops the log's entries that a durable snapshot covers. In the
// background mode one goroutine at a time runs the truncations, and a
// later request supersedes one that has not started; otherwise each runs
// at once on the caller's goroutine.
type compactor struct {
	wal        *storage.WAL
	log        hclog.Logger
	background bool

	mu      sync.Mutex
	to      uint64 // compaction requested up to this op
	done    uint64 // compaction done up to this op
	running bool
	idle    sync.Cond
}

// compact drops the entries up to op.
func (c *compactor) compact(op uint64) {
	if !c.background {
		if op > c.done {
			c.truncate(op)
			c.done = op
		}
		return
	}
	c.mu.Lock()
	c.to = max(c.to, op)
	busy := c.running
	c.running = true
	c.mu.Unlock()
	if busy {
		return
	}
	go func() {
		for {
			c.mu.Lock()
			to := c.to
			if to <= c.done {
				c.running = false
				if c.idle.L != nil {
					c.idle.Broadcast()
				}
				c.mu.Unlock()
				return
			}
			c.mu.Unlock()
			c.truncate(to)
			c.mu.Lock()
			c.done = to
			c.mu.Unlock()
		}
	}()
}

// truncate drops the entries up to op (TruncatePrefix(op+1) keeps op+1 on).
func (c *compactor) truncate(op uint64) {
	if err := c.wal.TruncatePrefix(op + 1); err != nil {
		c.log.Error("truncating the log failed", "below", op+1, "error", err)
	}
}

// wait returns once no background truncation runs.
func (c *compactor) wait() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.idle.L == nil {
		c.idle.L = &c.mu
	}
	for c.running {
		c.idle.Wait()
	}
}
