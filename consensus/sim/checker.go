package sim

import (
	"bytes"

	"github.com/vrkeeper/vrkeeper/consensus"
)

// checker holds the cluster-wide invariants, checked after every event.
type checker struct {
	w            *World
	cmds         [][]byte          // cmds[op-1]: the command committed at op
	digests      []uint64          // digests[op-1]: state digest after applying op
	primaries    map[uint64][2]int // view → (node, incarnation)
	maxCommitted uint64
}

func (c *checker) init(w *World) {
	c.w = w
	c.primaries = map[uint64][2]int{}
}

// applied checks that op's command and resulting state equal what every other
// replica applied at op (identical committed prefixes, equal state digests).
func (c *checker) applied(n *node, e consensus.Entry, digest uint64) {
	switch {
	case e.Op <= uint64(len(c.cmds)):
		if !bytes.Equal(c.cmds[e.Op-1], e.Cmd) {
			c.w.fail("n%d committed a different command at op %d: %q, first committed %q", n.id, e.Op, e.Cmd, c.cmds[e.Op-1])
		} else if c.digests[e.Op-1] != digest {
			c.w.fail("n%d state digest at op %d differs", n.id, e.Op)
		}
	case e.Op == uint64(len(c.cmds))+1:
		c.cmds = append(c.cmds, e.Cmd)
		c.digests = append(c.digests, digest)
		c.maxCommitted = e.Op
	default:
		c.w.fail("n%d applied op %d before anyone applied op %d", n.id, e.Op, len(c.cmds)+1)
	}
}

// installed checks a snapshot installed from a peer against the digests.
func (c *checker) installed(n *node, op uint64, digest uint64) {
	if op == 0 {
		return
	}
	if op > uint64(len(c.digests)) || c.digests[op-1] != digest {
		c.w.fail("n%d installed a snapshot at op %d that matches no applied state", n.id, op)
	}
}

// node checks one replica after it handled an event.
func (c *checker) node(n *node) {
	in := n.info()
	if in.Commit > in.Op {
		c.w.fail("n%d commit %d exceeds op %d", n.id, in.Commit, in.Op)
	}
	if in.Commit < n.maxCommit {
		c.w.fail("n%d commit went back from %d to %d", n.id, n.maxCommit, in.Commit)
	}
	n.maxCommit = in.Commit
	if in.IsPrimary {
		// One primary per view, and one incarnation of it: a restarted
		// replica may have lost what it prepared in that view.
		me := [2]int{n.id, n.inc}
		if p, ok := c.primaries[in.View]; ok && p != me {
			c.w.fail("two primaries in view %d: n%d (incarnation %d) and n%d (incarnation %d)", in.View, p[0], p[1], n.id, n.inc)
		}
		c.primaries[in.View] = me
	}
}

// tick checks, once per replica tick, that every normal backup's log is a
// prefix of its primary's log (same view at its last op).
func (c *checker) tick() {
	for _, b := range c.w.nodes {
		if !b.up {
			continue
		}
		bi := b.info()
		if bi.Status != consensus.StatusNormal || bi.IsPrimary {
			continue
		}
		p := c.w.nodes[bi.View%uint64(len(c.w.nodes))]
		if !p.up {
			continue
		}
		pi := p.info()
		if !pi.IsPrimary || pi.View != bi.View || bi.Op > pi.Op {
			if pi.IsPrimary && pi.View == bi.View {
				c.w.fail("backup n%d op %d is ahead of its primary n%d op %d in view %d", b.id, bi.Op, p.id, pi.Op, bi.View)
			}
			continue
		}
		bv, ok1 := b.d.Replica().EntryView(bi.Op)
		pv, ok2 := p.d.Replica().EntryView(bi.Op)
		if ok1 && ok2 && bv != pv {
			c.w.fail("backup n%d log diverges from primary n%d at op %d (views %d vs %d)", b.id, p.id, bi.Op, bv, pv)
		}
	}
}
