package tree

import "slices"

// Containers and TTL nodes are removed by clean-up commands the primary
// proposes from time to time; what qualifies is decided here, from the
// command alone (its time, and the proposer's
// znode.container.maxNeverUsedIntervalMs), so every replica removes the same
// nodes whatever its own configuration. As in ZooKeeper
// (ContainerManager), the candidates are chosen before any is removed, so a
// container emptied by the removal of another waits for the next clean-up:
//   - a container without children that ever had one (creates > 0), or that
//     never had one and is older than the command's maxNeverUsed (ms, if
//     positive; 0 keeps such containers), measured from its mtime;
//   - a TTL node without children whose mtime is more than its TTL ago.
//
// Only the indexes of containers and TTL nodes are scanned, never the tree.

// applyCleanup removes the qualifying nodes, in path order, each like a
// delete (NodeDeleted, NodeChildrenChanged, the parent's pzxid set).
func (t *Tree) applyCleanup(zxid, maxNeverUsed int64, out *Output) {
	paths := t.cleanupCandidates(t.now, maxNeverUsed, t.s.paths[:0], false)
	for _, p := range paths {
		t.removeByPath(zxid, p, out)
	}
	clear(paths)
	t.s.paths = paths[:0]
}

// cleanupCandidates appends the paths that qualify at now, never-used
// containers older than maxNeverUsed (ms) among them if it is positive,
// sorted; with first set it stops at the first one.
func (t *Tree) cleanupCandidates(now, maxNeverUsed int64, dst []string, first bool) []string {
	start := len(dst)
	for p := range t.containers {
		n := t.lookup(p)
		if n.kids != nil {
			continue
		}
		if n.creates > 0 || (maxNeverUsed > 0 && now-n.mtime > maxNeverUsed) {
			dst = append(dst, p)
			if first {
				return dst
			}
		}
	}
	for p := range t.ttls {
		n := t.lookup(p)
		if n.kids == nil && now-n.mtime > n.ttl() {
			dst = append(dst, p)
			if first {
				return dst
			}
		}
	}
	slices.Sort(dst[start:])
	return dst
}

// NeedsCleanup reports whether a clean-up command with time now (ms) and
// maxNeverUsed (ms, 0 = never; see AppendCleanup) would remove anything,
// so the primary proposes one only when it is useful.
func (t *Tree) NeedsCleanup(now, maxNeverUsed int64) bool {
	var buf [1]string
	return len(t.cleanupCandidates(max(now, t.now), maxNeverUsed, buf[:0], true)) > 0
}
