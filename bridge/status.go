package bridge

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/vrkeeper/vrkeeper/consensus"
)

// Status is a read-only picture of a node's replica, for monitoring (mntr,
// the AdminServer, metrics, vrkeeper status). It is taken by the replica
// goroutine after each round of work and may be a few milliseconds old.
type Status struct {
	ID       uint64 // this server's id
	Replicas int    // servers in the cluster
	Role     Role
	// State is the replica's status: "normal", "view-change" or
	// "recovering".
	State   string
	View    uint64
	Primary uint64 // server id of View's primary
	Op      uint64 // op-number: the last op in the log
	Commit  uint64 // commit-number
	// LastSnapshot is the op of the newest snapshot on disk and
	// LastSnapshotTime when it was written (zero if none).
	LastSnapshot     uint64
	LastSnapshotTime time.Time
	// Peers are the other servers, as this one last heard from them.
	Peers []PeerStatus
}

// PeerStatus is what a server knows of another.
type PeerStatus struct {
	ID uint64
	// Acked is the highest op the peer reported durable in a PrepareOk or
	// CommitOk of the current view (the primary hears these); 0 if none.
	Acked uint64
	// LastHeard is when a message from the peer last arrived; zero if
	// never.
	LastHeard time.Time
}

// ExpectsToHear reports whether a server in this status hears from peer in
// normal operation: the primary from every backup, anyone else from the
// primary only (backups do not talk to each other).
func (s *Status) ExpectsToHear(peer uint64) bool {
	if s.Role == RolePrimary {
		return true
	}
	return peer == s.Primary
}

// statusTracker keeps the Status the replica goroutine publishes: observe
// and publish run on that goroutine, snapshot on any.
type statusTracker struct {
	mu    sync.Mutex
	cur   Status
	peers map[consensus.ReplicaID]*PeerStatus
}

// observe notes a message from a peer (replica goroutine).
func (v *vrReplicator) observe(env consensus.Envelope) {
	t := &v.st
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.peers == nil {
		t.peers = map[consensus.ReplicaID]*PeerStatus{}
	}
	p := t.peers[env.From]
	if p == nil {
		p = &PeerStatus{ID: v.ids[env.From]}
		t.peers[env.From] = p
	}
	p.LastHeard = time.Now()
	switch m := env.Msg.(type) {
	case *consensus.PrepareOk:
		if m.View == t.cur.View {
			p.Acked = max(p.Acked, m.Op)
		}
	case *consensus.CommitOk:
		if m.View == t.cur.View {
			p.Acked = max(p.Acked, m.Op)
		}
	}
}

// publishStatus records the replica's state after a round of work
// (replica goroutine).
func (v *vrReplicator) publishStatus() {
	info := v.d.Replica().Info()
	t := &v.st
	t.mu.Lock()
	defer t.mu.Unlock()
	if info.View != t.cur.View {
		for _, p := range t.peers {
			p.Acked = 0 // acknowledgements of an older view say nothing now
		}
	}
	t.cur.ID = v.ids[v.self]
	t.cur.Replicas = len(v.ids)
	t.cur.Role = v.role
	t.cur.State = stateName(info.Status)
	t.cur.View = info.View
	t.cur.Primary = v.ids[int(info.View%uint64(len(v.ids)))]
	t.cur.Op = info.Op
	t.cur.Commit = info.Commit
}

func stateName(s consensus.Status) string {
	switch s {
	case consensus.StatusNormal:
		return "normal"
	case consensus.StatusViewChange:
		return "view-change"
	case consensus.StatusRecovering:
		return "recovering"
	}
	return fmt.Sprint(s)
}

// Status returns the node's current status; it is safe on any goroutine.
func (n *Node) Status() Status {
	t := &n.vr.st
	t.mu.Lock()
	st := t.cur
	for _, id := range n.vr.ids {
		if id == st.ID {
			continue
		}
		p := PeerStatus{ID: id}
		if q := t.peers[n.vr.index[id]]; q != nil {
			p = *q
		}
		st.Peers = append(st.Peers, p)
	}
	t.mu.Unlock()
	if st.Replicas == 0 { // before the replica goroutine's first round
		st.ID, st.Replicas, st.State = n.opts.ID, len(n.vr.ids), "normal"
	}
	if ops, err := n.vr.store.Snapshots.Ops(); err == nil && len(ops) > 0 {
		st.LastSnapshot = ops[0]
		st.LastSnapshotTime = n.snapshotTime(ops[0])
	}
	return st
}

// snapshotTime returns when the snapshot at op was written, from its
// file's modification time.
func (n *Node) snapshotTime(op uint64) time.Time {
	name := fmt.Sprintf("snap-%016x.snap", op)
	for _, pattern := range []string{filepath.Join(n.opts.DataDir, name), filepath.Join(n.opts.DataDir, "*", name)} {
		matches, _ := filepath.Glob(pattern)
		for _, m := range matches {
			if fi, err := os.Stat(m); err == nil {
				return fi.ModTime()
			}
		}
	}
	return time.Time{}
}
