package tree

import (
	"math"

	"github.com/vrkeeper/vrkeeper/zkproto"
)

// node is one znode. It is laid out for a tree of millions: no path (a node
// is found by walking names from the root), no parent pointer (every change
// reaches a node through its parent), no per-node map for leaves, an index
// into the interned ACL table instead of a list, and 112 bytes in all, one
// of Go's allocation size classes. Keep it so: adding a field costs 16 bytes
// per node.
type node struct {
	name string    // the last path component; "" for the root
	data string    // the data; see dataNull
	kids *childSet // nil when the node has no children

	czxid int64 // zxid of the create
	mzxid int64 // zxid of the last setData (or the create)
	pzxid int64 // zxid of the last child create or delete (or the create)
	ctime int64 // command time of the create, ms
	mtime int64 // command time of the last setData (or the create), ms

	// owner is ZooKeeper's persisted ephemeralOwner: 0 for a persistent node,
	// the session id for an ephemeral, containerOwner for a container and
	// ttlOwner(ttl) for a TTL node. Clients see 0 for the last two.
	owner int64

	// h is the hash of the node's path and data, kept so the digest can be
	// updated when only the stat changes without rehashing the data.
	h uint64

	version  int32 // number of setData calls (wrapping, skipping -1)
	creates  int32 // number of child creates: ZooKeeper's persisted cversion
	aversion int32 // number of setACL calls (wrapping, skipping -1)

	// aclRef is the index of the node's ACL list in the tree's table, with
	// dataNullBit set when the data is null (-1 on the wire) rather than empty.
	aclRef uint32
}

// dataNullBit marks a node whose data is null; the rest of aclRef is the ACL
// index, so at most 2^31 distinct ACL lists exist at once.
const dataNullBit = 1 << 31

// ZooKeeper's encodings of special owners (EphemeralType).
const (
	containerOwner = math.MinInt64
	ttlOwnerMask   = -1 << 56       // 0xff00000000000000: an extended type
	ttlReserved    = 0x00ffff << 40 // the extended type bits; 0 means TTL
	maxTTL         = 1<<40 - 1      // the largest TTL in ms (about 34 years)
	ttlValueMask   = ^(ttlOwnerMask | ttlReserved)
)

// ttlOwner encodes a TTL in ms as an owner; ttl must be in (0, maxTTL].
func ttlOwner(ttl int64) int64 { return ttlOwnerMask | ttl }

// nodeKind is what an owner makes a node.
type nodeKind uint8

const (
	kindPersistent nodeKind = iota
	kindEphemeral
	kindContainer
	kindTTL
)

func kindOf(owner int64) nodeKind {
	switch {
	case owner == 0:
		return kindPersistent
	case owner == containerOwner:
		return kindContainer
	case owner&ttlOwnerMask == ttlOwnerMask && owner&ttlReserved == 0:
		return kindTTL
	}
	return kindEphemeral
}

func (n *node) kind() nodeKind { return kindOf(n.owner) }

// ttl returns the time to live of a TTL node in ms.
func (n *node) ttl() int64 { return n.owner & ttlValueMask }

// clientOwner is the ephemeralOwner clients see: the session of an
// ephemeral, 0 for every other kind.
func (n *node) clientOwner() int64 {
	if n.kind() == kindEphemeral {
		return n.owner
	}
	return 0
}

func (n *node) dataIsNull() bool { return n.aclRef&dataNullBit != 0 }

func (n *node) aclIndex() uint32 { return n.aclRef &^ dataNullBit }

func (n *node) numChildren() int32 {
	if n.kids == nil {
		return 0
	}
	return int32(n.kids.len())
}

// stat fills s with the node's stat as clients see it. cversion is reported
// as ZooKeeper reports it: twice the creates minus the children present, i.e.
// creates plus deletes, in wrapping int32 arithmetic.
func (n *node) stat(s *zkproto.Stat) {
	nc := n.numChildren()
	*s = zkproto.Stat{
		Czxid:          n.czxid,
		Mzxid:          n.mzxid,
		Ctime:          n.ctime,
		Mtime:          n.mtime,
		Version:        n.version,
		Cversion:       n.creates*2 - nc,
		Aversion:       n.aversion,
		EphemeralOwner: n.clientOwner(),
		DataLength:     int32(len(n.data)),
		NumChildren:    nc,
		Pzxid:          n.pzxid,
	}
}

// appendStat appends the node's encoded stat.
func (n *node) appendStat(b []byte) []byte {
	var s zkproto.Stat
	n.stat(&s)
	return s.Append(b)
}

// appendData appends the node's data as a jute buffer (-1 when null).
func (n *node) appendData(b []byte) []byte {
	if n.dataIsNull() {
		return zkproto.AppendInt32(b, -1)
	}
	b = zkproto.AppendInt32(b, int32(len(n.data)))
	return append(b, n.data...)
}

// nextVersion is ZooKeeper's version increment (checkAndIncVersion): it
// wraps from MaxInt32 to MinInt32 and skips -1, which clients read as "any
// version" (ZOOKEEPER-4743; ZooKeeper 3.8.0 still returned -1).
func nextVersion(v int32) int32 {
	v++
	if v == -1 {
		v = 0
	}
	return v
}
