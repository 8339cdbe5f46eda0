package tree

import (
	"github.com/vrkeeper/vrkeeper/zkproto"
)

// Config is the tree's local configuration, given to New and Restore. It
// has no fields, and must never have one that changes how a command
// applies: every replica applies the same commands, but each has its own
// configuration, so anything a server decides for itself would make
// replicas configured differently diverge silently. Such settings travel in
// the command instead, decided by the server that proposes it: the
// accepting server's ACL providers, skipACL and extendedTypesEnabled in
// each client write (ClientWrite.Policy), the proposing primary's
// znode.container.maxNeverUsedIntervalMs in each clean-up command
// (AppendCleanup).
type Config struct{}

// Tree is ZooKeeper's data model as a deterministic state machine: the znode
// tree, the sessions with their ephemerals and duplicate tables, and the
// counters. Apply changes it; the read methods only look. A Tree is not safe
// for concurrent use: the caller serialises Apply, reads, Snapshot and the
// steps of a live snapshot (reads and Snapshot may run concurrently with
// each other only if nothing applies meanwhile).
type Tree struct {
	cfg  Config
	root *node
	acls aclTable

	sessions   map[int64]*session
	containers map[string]struct{} // paths of container nodes
	ttls       map[string]struct{} // paths of TTL nodes

	nodeCount     int64 // nodes in the tree, the root and system nodes included
	dataSize      int64 // ZooKeeper's approximate data size; see Stats
	lastZxid      int64 // zxid of the last command applied
	now           int64 // the clock: the largest command time applied, ms
	lastSessionID int64 // the last session id assigned

	// The digest: sums (mod 2^64) of per-node and per-session hashes, each
	// kept up to date as nodes and sessions change.
	nodeSum    uint64
	sessionSum uint64

	s scratch // reused buffers; never part of the state

	// snap is the live snapshot in progress, or nil: Apply calls its hooks
	// before each change it may need to survive.
	snap *LiveSnapshot
}

// scratch holds buffers reused from one command to the next.
type scratch struct {
	acl     []aclEntryView
	key     []byte
	path    []byte
	auth    []zkproto.Id
	strings map[string]string // interned identity strings
	undo    []undoRecord
	release []uint32 // ACL references to drop when a multi commits
	nodes   []*node
	paths   []string
}

// New returns a tree as a fresh ZooKeeper server has it: the root and
// /zookeeper, /zookeeper/quota and /zookeeper/config, with their stats all
// zero, empty (not null) data, the open ACL (world:anyone, all permissions)
// and, for /zookeeper/config, world:anyone READ with aversion -1.
func New(cfg Config) *Tree {
	t := newEmpty(cfg)
	open := t.acls.internKey(zkproto.AppendACLs(nil, openACL))
	t.root = &node{aclRef: open}
	t.root.h = hashBytes(hashBytes(0, "/"), "")
	t.nodeCount = 1
	t.dataSize = 1 // the root's path, "/" (its alias "" adds nothing)
	t.nodeSum = t.nodeContrib(t.root)
	zk := t.addSystemNode(t.root, zookeeperPath, t.acls.ref(open))
	t.addSystemNode(zk, quotaPath, t.acls.ref(open))
	cfgNode := t.addSystemNode(zk, configPath, t.acls.internKey(zkproto.AppendACLs(nil, readACL)))
	t.setStat(cfgNode, func(n *node) { n.aversion = -1 })
	return t
}

func newEmpty(cfg Config) *Tree {
	return &Tree{
		cfg:        cfg,
		acls:       newACLTable(),
		sessions:   make(map[int64]*session),
		containers: make(map[string]struct{}),
		ttls:       make(map[string]struct{}),
		s:          scratch{strings: make(map[string]string)},
	}
}

var (
	openACL = []zkproto.ACL{{Perms: zkproto.PermAll, ID: zkproto.Id{Scheme: SchemeWorld, ID: worldAnyone}}}
	readACL = []zkproto.ACL{{Perms: zkproto.PermRead, ID: zkproto.Id{Scheme: SchemeWorld, ID: worldAnyone}}}
)

// addSystemNode adds one of ZooKeeper's own nodes below parent. Unlike a
// create it leaves the parent's stat alone: ZooKeeper does not count them.
func (t *Tree) addSystemNode(parent *node, path string, acl uint32) *node {
	n := &node{name: path[lastSlash(path)+1:], aclRef: acl}
	n.h = hashBytes(hashBytes(0, path), "")
	t.setStat(parent, func(p *node) { addChild(p, n) })
	t.nodeSum += t.nodeContrib(n)
	t.nodeCount++
	t.dataSize += int64(len(path))
	return n
}

// setStat changes n through f, keeping the digest up to date.
func (t *Tree) setStat(n *node, f func(*node)) {
	t.nodeSum -= t.nodeContrib(n)
	f(n)
	t.nodeSum += t.nodeContrib(n)
}

// LastZxid returns the zxid of the last command applied (0 for a new tree).
func (t *Tree) LastZxid() int64 { return t.lastZxid }

// Now returns the tree's clock: the largest command time applied so far, ms.
func (t *Tree) Now() int64 { return t.now }

// NodeCount returns the number of znodes, the root and system nodes included.
func (t *Tree) NodeCount() int64 { return t.nodeCount }

// SessionCount returns the number of open sessions.
func (t *Tree) SessionCount() int { return len(t.sessions) }

// Config returns the tree's configuration.
func (t *Tree) Config() Config { return t.cfg }

// Stats are the tree's figures for monitoring, as ZooKeeper's mntr reports
// them.
type Stats struct {
	// Znodes is zk_znode_count: ZooKeeper counts the root twice (as "" and
	// "/"), so this is NodeCount()+1.
	Znodes int64
	// ApproximateDataSize is zk_approximate_data_size: the length of every
	// node's path plus its data (the root's data twice, as in ZooKeeper).
	ApproximateDataSize int64
	// Ephemerals is zk_ephemerals_count.
	Ephemerals int64
	Sessions   int
	Containers int
	TTLNodes   int
}

// Stats returns the tree's figures; it costs O(sessions).
func (t *Tree) Stats() Stats {
	st := Stats{Znodes: t.nodeCount + 1, ApproximateDataSize: t.dataSize, Sessions: len(t.sessions),
		Containers: len(t.containers), TTLNodes: len(t.ttls)}
	for _, s := range t.sessions {
		st.Ephemerals += int64(len(s.ephemerals))
	}
	return st
}
