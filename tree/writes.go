package tree

import (
	"github.com/vrkeeper/vrkeeper/zkproto"
)

// The write ops check their arguments in ZooKeeper's order
// (PrepRequestProcessor.pRequest2Txn), so the first failing check decides
// the error code exactly as there.

// createAndReply runs a create of any kind and appends its reply.
func (w *writeCtx) createAndReply(op zkproto.OpCode, r *createReq) zkproto.Code {
	n, path, code := w.create(op, r)
	if code != zkproto.OK {
		return code
	}
	w.out.Body = appendBytesString(w.out.Body, path)
	if op != zkproto.OpCreate {
		w.out.Body = n.appendStat(w.out.Body)
	}
	return zkproto.OK
}

// create creates a node. op decides the node's kind: create and create2 make
// a persistent or ephemeral node by the mode (a container mode makes a
// persistent node there, as in ZooKeeper), createContainer a container
// whatever the mode, createTTL a TTL node. It returns the node and its path
// (with the sequence suffix; valid until the next write).
func (w *writeCtx) create(op zkproto.OpCode, r *createReq) (*node, []byte, zkproto.Code) {
	t := w.t
	mode := zkproto.CreateMode(r.flags)
	if !mode.Valid() {
		return nil, nil, zkproto.ErrBadArguments
	}
	if mode.TTL() && w.policy&PolicyExtendedTypes == 0 {
		return nil, nil, zkproto.ErrUnimplemented
	}
	if mode.TTL() {
		if r.ttl <= 0 || r.ttl > maxTTL {
			return nil, nil, zkproto.ErrBadArguments
		}
	} else if r.ttl >= 0 || op == zkproto.OpCreateTTL {
		// A createTTL without a TTL mode: ZooKeeper 3.8 accepts a ttl of -1
		// here and then fails to apply the txn, taking the server down.
		return nil, nil, zkproto.ErrBadArguments
	}
	slash := lastSlash(r.path)
	if slash < 0 || hasNUL(r.path) {
		return nil, nil, zkproto.ErrBadArguments
	}
	key, ok := fixACL(t.s.key[:0], r.acl, w.auth, w.policy)
	t.s.key = key
	if !ok {
		return nil, nil, zkproto.ErrInvalidACL
	}
	parent := t.lookupBytes(r.path[:slash])
	if parent == nil {
		return nil, nil, zkproto.ErrNoNode
	}
	parentACL := t.acls.get(parent.aclIndex())
	if !w.allows(parentACL, zkproto.PermCreate) {
		return nil, nil, zkproto.ErrNoAuth
	}
	path := append(t.s.path[:0], r.path...)
	if mode.Sequential() {
		path = appendSequence(path, parent.creates)
	}
	t.s.path = path
	if !validPath(path) {
		return nil, nil, zkproto.ErrBadArguments
	}
	name := path[slash+1:]
	if len(name) == 0 || childOf(parent, name) != nil {
		return nil, nil, zkproto.ErrNodeExists // len(name) == 0: the root
	}
	if parent.kind() == kindEphemeral {
		return nil, nil, zkproto.ErrNoChildrenForEphemerals
	}
	var owner int64
	switch {
	case op == zkproto.OpCreateContainer:
		owner = containerOwner
	case op == zkproto.OpCreateTTL:
		owner = ttlOwner(r.ttl)
	case mode.Ephemeral():
		owner = w.session
	}
	n := &node{
		name:  string(name),
		czxid: w.zxid, mzxid: w.zxid, pzxid: w.zxid,
		ctime: t.now, mtime: t.now,
		owner:  owner,
		aclRef: t.acls.internKey(key),
		h:      nodeHash(path, r.data),
	}
	if r.data == nil {
		n.aclRef |= dataNullBit
	} else if len(r.data) > 0 {
		n.data = string(r.data)
	}
	w.insertNode(parent, n, path, slash)
	return n, path, zkproto.OK
}

// insertNode links a new node below parent, counting the create in the
// parent's stat, indexing it, and firing NodeCreated and NodeChildrenChanged.
func (w *writeCtx) insertNode(parent, n *node, path []byte, slash int) {
	t := w.t
	if w.inMulti {
		t.s.undo = append(t.s.undo, undoRecord{kind: undoCreate, parent: parent, n: n,
			creates: parent.creates, pzxid: parent.pzxid, path: indexPath(n, path), pathLen: len(path)})
	}
	beforeChildAdded(t, parent, path[:slash])
	t.setStat(parent, func(p *node) {
		p.creates++
		p.pzxid = w.zxid
		addChild(p, n)
	})
	linkNode(t, n, path, len(path))
	addEvent(w.out, zkproto.EventNodeCreated, t.acls.get(n.aclIndex()), path)
	addParentEvent(w.out, t.acls.get(parent.aclIndex()), path, slash)
}

// linkNode counts a node that was just added to its parent's children and
// adds it to the digest and to the index of its kind. path is the node's
// path, or (when a multi is undone) just its index key, "" for a persistent
// node; pathLen is the length of its path.
func linkNode[P byteString](t *Tree, n *node, path P, pathLen int) {
	t.nodeSum += t.nodeContrib(n)
	t.nodeCount++
	t.dataSize += int64(pathLen + len(n.data))
	switch n.kind() {
	case kindEphemeral:
		s := t.sessions[n.owner]
		if s.ephemerals == nil {
			s.ephemerals = make(map[string]struct{})
		}
		s.ephemerals[string(path)] = struct{}{}
	case kindContainer:
		t.containers[string(path)] = struct{}{}
	case kindTTL:
		t.ttls[string(path)] = struct{}{}
	}
}

// unlinkNode undoes linkNode for a node just removed from its parent.
func unlinkNode[P byteString](t *Tree, n *node, path P, pathLen int) {
	t.nodeSum -= t.nodeContrib(n)
	t.nodeCount--
	t.dataSize -= int64(pathLen + len(n.data))
	switch n.kind() {
	case kindEphemeral:
		if s := t.sessions[n.owner]; s != nil {
			delete(s.ephemerals, string(path))
		}
	case kindContainer:
		delete(t.containers, string(path))
	case kindTTL:
		delete(t.ttls, string(path))
	}
}

// indexPath returns the path under which n is indexed (by its session, or as
// a container or TTL node), or "" for a persistent node, which is not.
func indexPath[P byteString](n *node, path P) string {
	if n.kind() == kindPersistent {
		return ""
	}
	return string(path)
}

// appendSequence appends Java's String.format("%010d", v): at least ten
// digits, zero-padded after the sign.
func appendSequence(b []byte, v int32) []byte {
	u := int64(v)
	width := 10
	if u < 0 {
		b = append(b, '-')
		u = -u
		width = 9
	}
	var digits [10]byte
	i := len(digits)
	for u > 0 || i == len(digits) {
		i--
		digits[i] = byte('0' + u%10)
		u /= 10
	}
	for pad := width - (len(digits) - i); pad > 0; pad-- {
		b = append(b, '0')
	}
	return append(b, digits[i:]...)
}

// delete deletes a node. ZooKeeper checks the parent (and the permission to
// delete from it) before the node itself.
func (w *writeCtx) delete(r *versionReq) zkproto.Code {
	t := w.t
	slash := lastSlash(r.path)
	if slash < 0 || hasNUL(r.path) || isSystemPath(r.path) {
		return zkproto.ErrBadArguments
	}
	parent := t.lookupBytes(r.path[:slash])
	if parent == nil {
		return zkproto.ErrNoNode
	}
	if !w.allows(t.acls.get(parent.aclIndex()), zkproto.PermDelete) {
		return zkproto.ErrNoAuth
	}
	// The node is found by its whole path, so "//p" finds nothing although
	// its parent "/" exists; when the whole path is found, it is the child
	// of parent.
	n := t.lookupBytes(r.path)
	if n == nil {
		return zkproto.ErrNoNode
	}
	if !checkVersion(r.version, n.version) {
		return zkproto.ErrBadVersion
	}
	if n.kids != nil {
		return zkproto.ErrNotEmpty
	}
	removeNode(w.t, w.zxid, parent, n, r.path, slash, w.out, w.undoLog())
	return zkproto.OK
}

// undoLog returns where a multi records undo information, or nil.
func (w *writeCtx) undoLog() *[]undoRecord {
	if w.inMulti {
		return &w.t.s.undo
	}
	return nil
}

// removeNode unlinks the childless node n from parent, sets the parent's
// pzxid, and fires NodeDeleted and NodeChildrenChanged. Inside a multi (undo
// not nil) it records how to put the node back and defers the release of the
// node's ACL until the multi commits.
func removeNode[P byteString](t *Tree, zxid int64, parent, n *node, path P, slash int, out *Output, undo *[]undoRecord) {
	if undo != nil {
		*undo = append(*undo, undoRecord{kind: undoDelete, parent: parent, n: n,
			pzxid: parent.pzxid, path: indexPath(n, path), pathLen: len(path)})
	}
	beforeChildRemoved(t, parent, path[:slash], n)
	t.setStat(parent, func(p *node) {
		removeChild(p, n)
		p.pzxid = zxid
	})
	unlinkNode(t, n, path, len(path))
	acl := t.acls.get(n.aclIndex())
	if undo != nil {
		t.s.release = append(t.s.release, n.aclIndex())
	} else {
		t.acls.release(n.aclIndex())
	}
	addEvent(out, zkproto.EventNodeDeleted, acl, path)
	addParentEvent(out, t.acls.get(parent.aclIndex()), path, slash)
}

// setDataAndReply runs a setData and appends its reply.
func (w *writeCtx) setDataAndReply(r *setDataReq) zkproto.Code {
	n, code := w.setData(r)
	if code == zkproto.OK {
		w.out.Body = n.appendStat(w.out.Body)
	}
	return code
}

func (w *writeCtx) setData(r *setDataReq) (*node, zkproto.Code) {
	t := w.t
	if !validPath(r.path) {
		return nil, zkproto.ErrBadArguments
	}
	n := t.lookupBytes(r.path)
	if n == nil {
		return nil, zkproto.ErrNoNode
	}
	acl := t.acls.get(n.aclIndex())
	if !w.allows(acl, zkproto.PermWrite) {
		return nil, zkproto.ErrNoAuth
	}
	if !checkVersion(r.version, n.version) {
		return nil, zkproto.ErrBadVersion
	}
	if w.inMulti {
		t.s.undo = append(t.s.undo, undoRecord{kind: undoSetData, n: n, data: n.data,
			nullData: n.dataIsNull(), version: n.version, mzxid: n.mzxid, mtime: n.mtime, h: n.h})
	}
	t.addDataSize(n, len(r.data)-len(n.data))
	beforeNodeChange(t, n, r.path)
	t.setStat(n, func(n *node) {
		n.data, n.aclRef = "", n.aclRef&^dataNullBit
		if r.data == nil {
			n.aclRef |= dataNullBit
		} else if len(r.data) > 0 {
			n.data = string(r.data)
		}
		n.version = nextVersion(n.version)
		n.mzxid, n.mtime = w.zxid, t.now
		n.h = nodeHash(r.path, r.data)
	})
	addEvent(w.out, zkproto.EventNodeDataChanged, acl, r.path)
	return n, zkproto.OK
}

// addDataSize accounts for a change of n's data length by delta; the root's
// data counts twice, as ZooKeeper holds the root under two paths.
func (t *Tree) addDataSize(n *node, delta int) {
	if n == t.root {
		delta *= 2
	}
	t.dataSize += int64(delta)
}

// setACL replaces a node's ACL. It fires no event, as in ZooKeeper.
func (w *writeCtx) setACL(r *setACLReq) zkproto.Code {
	t := w.t
	if !validPath(r.path) {
		return zkproto.ErrBadArguments
	}
	key, ok := fixACL(t.s.key[:0], r.acl, w.auth, w.policy)
	t.s.key = key
	if !ok {
		return zkproto.ErrInvalidACL
	}
	n := t.lookupBytes(r.path)
	if n == nil {
		return zkproto.ErrNoNode
	}
	if !w.allows(t.acls.get(n.aclIndex()), zkproto.PermAdmin) {
		return zkproto.ErrNoAuth
	}
	if !checkVersion(r.version, n.aversion) {
		return zkproto.ErrBadVersion
	}
	newACL := t.acls.internKey(key)
	beforeNodeChange(t, n, r.path)
	t.setStat(n, func(n *node) {
		t.acls.release(n.aclIndex())
		n.aclRef = newACL | n.aclRef&dataNullBit
		n.aversion = nextVersion(n.aversion)
	})
	w.out.Body = n.appendStat(w.out.Body)
	return zkproto.OK
}

// check is a multi's version check of a node it may read.
func (w *writeCtx) check(r *versionReq) zkproto.Code {
	t := w.t
	if !validPath(r.path) {
		return zkproto.ErrBadArguments
	}
	n := t.lookupBytes(r.path)
	if n == nil {
		return zkproto.ErrNoNode
	}
	if !w.allows(t.acls.get(n.aclIndex()), zkproto.PermRead) {
		return zkproto.ErrNoAuth
	}
	if !checkVersion(r.version, n.version) {
		return zkproto.ErrBadVersion
	}
	return zkproto.OK
}
