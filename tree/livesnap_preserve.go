package tree

import (
	"bytes"
	"cmp"
)

// The hooks by which Apply keeps what a live snapshot still needs. Each is
// called before the change it announces, with the changed node's path. A
// failed multi needs no hooks for its undo: every node it restores was
// changed earlier in the same Apply, when the hook ran, and the snapshot's
// cursor does not move during an Apply.

// beforeNodeChange is called before the fields of n, at path, change.
func beforeNodeChange[P byteString](t *Tree, n *node, path P) {
	if t.snap != nil {
		preserveNode(t.snap, n, path)
	}
}

// beforeChildAdded is called before a child is added to parent, at path.
func beforeChildAdded[P byteString](t *Tree, parent *node, path P) {
	if t.snap != nil {
		preserveNode(t.snap, parent, path)
	}
}

// beforeChildRemoved is called before child is removed from parent, at
// path.
func beforeChildRemoved[P byteString](t *Tree, parent *node, path P, child *node) {
	if t.snap != nil {
		preserveRemoval(t.snap, parent, path, child)
	}
}

// beforeSessionChange is called before the fields of s change.
func (t *Tree) beforeSessionChange(s *session) {
	if t.snap != nil {
		t.snap.preserveSession(s)
	}
}

// beforeSessionClose is called before s is removed from the sessions.
func (t *Tree) beforeSessionClose(s *session) {
	if t.snap != nil {
		t.snap.sessionClosed(s)
	}
}

// preserveNode keeps n's fields and number of children as they were at the
// start, if the snapshot will still write n and n changes for the first
// time since the start; it returns the pre-image, or nil if none is needed.
func preserveNode[P byteString](sn *LiveSnapshot, n *node, path P) *nodeImage {
	if n.czxid > sn.zxid || !aheadOf(sn, path) {
		return nil
	}
	if im := sn.images[n]; im != nil {
		return im
	}
	if sn.images == nil {
		sn.images = make(map[*node]*nodeImage)
	}
	im := &nodeImage{n: *n, kids: n.numChildren()}
	im.n.kids = nil
	sn.images[n] = im
	return im
}

// preserveRemoval keeps child among parent's children at the start, if the
// snapshot has not gathered them yet.
func preserveRemoval[P byteString](sn *LiveSnapshot, parent *node, path P, child *node) {
	if parent == sn.collecting {
		if child.czxid <= sn.zxid {
			top := &sn.stack[len(sn.stack)-1]
			top.kids.removed = append(top.kids.removed, child)
		}
		return
	}
	im := preserveNode(sn, parent, path)
	if im != nil && child.czxid <= sn.zxid {
		im.removed = append(im.removed, child)
	}
}

// aheadOf reports whether the snapshot has yet to write the node at path.
func aheadOf[P byteString](sn *LiveSnapshot, path P) bool {
	switch {
	case sn.phase > phaseNodes:
		return false
	case !sn.started:
		return true
	}
	return comparePaths(path, sn.path) > 0
}

// comparePaths orders two canonical paths as a snapshot writes their nodes:
// depth first, children by name, so a node comes before its descendants and
// the subtrees of siblings in the order of their names; "" and "/" are the
// root. A name holds no '/', so comparing bytes with '/' below every other
// byte, and a path's end below '/', compares the components one by one.
func comparePaths[P, Q byteString](a P, b Q) int {
	if len(a) == 1 {
		a = a[:0]
	}
	if len(b) == 1 {
		b = b[:0]
	}
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		ca, cb := a[i], b[i]
		switch {
		case ca == cb:
			continue
		case ca == '/':
			return -1
		case cb == '/' || ca > cb:
			return 1
		}
		return -1
	}
	return cmp.Compare(len(a), len(b))
}

// preserveSession keeps s's fields as they were at the start, if the
// snapshot will still write s and s changes for the first time since.
func (sn *LiveSnapshot) preserveSession(s *session) {
	if s.id > sn.lastSessionID || s.id <= sn.sessionCursor || sn.phase > phaseSessions {
		return
	}
	if sn.sessionImages[s] != nil {
		return
	}
	if sn.sessionImages == nil {
		sn.sessionImages = make(map[*session]*session)
	}
	img := *s
	img.ephemerals = nil
	img.lastBody = bytes.Clone(s.lastBody) // record overwrites it in place
	sn.sessionImages[s] = &img
}

// sessionClosed keeps s among the sessions at the start, if the snapshot
// has not gathered them yet.
func (sn *LiveSnapshot) sessionClosed(s *session) {
	if s.id > sn.lastSessionID || sn.phase > phaseSessionsGather {
		return
	}
	sn.sessions.removed = append(sn.sessions.removed, s)
}
