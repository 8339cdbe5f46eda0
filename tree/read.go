package tree

import (
	"slices"
	"strings"

	"github.com/vrkeeper/vrkeeper/zkproto"
)

// Reads are pure functions of the current state. Each checks as ZooKeeper's
// FinalRequestProcessor does (the node first, NONODE, then the permission,
// NOAUTH), appends the encoded reply body to dst on success and returns dst
// unchanged otherwise. Registering watches is the caller's job:
//   - exists registers its watch whether or not the node exists (a missing
//     node answers NONODE and is watched for NodeCreated);
//   - getData, getChildren and getChildren2 register only when they
//     succeed, and so does each op of a multiRead.
//
// getChildren lists children in byte-wise order of name (ZooKeeper's order
// is its hash set's, i.e. arbitrary).

// Read answers a read request given as its opcode and raw body, for the
// session sessionID with identities auth: exists, getData, getChildren,
// getChildren2, getACL, getAllChildrenNumber, getEphemerals, multiRead and
// sync (which only echoes its path: the caller provides the barrier). A
// body that does not decode gives MARSHALLINGERROR; other ops UNIMPLEMENTED.
func (t *Tree) Read(op zkproto.OpCode, body []byte, sessionID int64, auth []zkproto.Id, dst []byte) ([]byte, zkproto.Code) {
	var d zkproto.Decoder
	d.Reset(body)
	path := d.BytesView()
	switch op {
	case zkproto.OpExists, zkproto.OpGetData, zkproto.OpGetChildren, zkproto.OpGetChildren2:
		d.Bool() // the watch flag: the caller's business
	case zkproto.OpGetACL, zkproto.OpGetAllChildrenNumber, zkproto.OpGetEphemerals, zkproto.OpSync:
	case zkproto.OpMultiRead:
		return t.multiRead(body, auth, dst)
	default:
		return dst, zkproto.ErrUnimplemented
	}
	if d.Err() != nil {
		return dst, zkproto.ErrMarshallingError
	}
	switch op {
	case zkproto.OpExists:
		return exists(t, path, dst)
	case zkproto.OpGetData:
		return getData(t, path, auth, dst)
	case zkproto.OpGetChildren:
		return getChildren(t, path, auth, dst, false)
	case zkproto.OpGetChildren2:
		return getChildren(t, path, auth, dst, true)
	case zkproto.OpGetACL:
		return getACL(t, path, auth, dst)
	case zkproto.OpGetAllChildrenNumber:
		return getAllChildrenNumber(t, path, auth, dst)
	case zkproto.OpGetEphemerals:
		return getEphemerals(t, path, sessionID, dst)
	}
	return appendBytesString(dst, path), zkproto.OK // sync
}

// Exists appends an ExistsResponse (the stat) for path. It checks no
// permission: ZooKeeper 3.8.0 does not (ZOOKEEPER-2590 added a READ check in
// 3.8.4).
func (t *Tree) Exists(path string, dst []byte) ([]byte, zkproto.Code) { return exists(t, path, dst) }

// GetData appends a GetDataResponse (data, stat) for path.
func (t *Tree) GetData(path string, auth []zkproto.Id, dst []byte) ([]byte, zkproto.Code) {
	return getData(t, path, auth, dst)
}

// GetChildren appends a GetChildrenResponse (the children, sorted) for path,
// or with withStat a GetChildren2Response.
func (t *Tree) GetChildren(path string, auth []zkproto.Id, dst []byte, withStat bool) ([]byte, zkproto.Code) {
	return getChildren(t, path, auth, dst, withStat)
}

// GetACL appends a GetACLResponse (ACL, stat) for path. It needs READ or
// ADMIN; without ADMIN the ids of digest entries are masked to "user:x".
func (t *Tree) GetACL(path string, auth []zkproto.Id, dst []byte) ([]byte, zkproto.Code) {
	return getACL(t, path, auth, dst)
}

// GetAllChildrenNumber appends a GetAllChildrenNumberResponse: the number of
// descendants of path (for "/" every node but the root, /zookeeper's
// included).
func (t *Tree) GetAllChildrenNumber(path string, auth []zkproto.Id, dst []byte) ([]byte, zkproto.Code) {
	return getAllChildrenNumber(t, path, auth, dst)
}

// GetEphemerals appends a GetEphemeralsResponse: the paths of the session's
// ephemerals that start with prefix (all of them for a blank prefix or "/"),
// sorted.
func (t *Tree) GetEphemerals(prefix string, sessionID int64, dst []byte) ([]byte, zkproto.Code) {
	return getEphemerals(t, prefix, sessionID, dst)
}

// Stat fills s with the stat of the node at path and reports whether it
// exists; it checks no permission.
func (t *Tree) Stat(path string, s *zkproto.Stat) bool {
	n := t.lookup(path)
	if n == nil {
		return false
	}
	n.stat(s)
	return true
}

func exists[P byteString](t *Tree, path P, dst []byte) ([]byte, zkproto.Code) {
	if hasNUL(path) {
		return dst, zkproto.ErrBadArguments
	}
	n := lookupIn(t.root, path)
	if n == nil {
		return dst, zkproto.ErrNoNode
	}
	return n.appendStat(dst), zkproto.OK
}

// readable returns the node at path if it exists and auth may read it.
func readable[P byteString](t *Tree, path P, auth []zkproto.Id) (*node, zkproto.Code) {
	n := lookupIn(t.root, path)
	if n == nil {
		return nil, zkproto.ErrNoNode
	}
	if !checkPerm(t.acls.get(n.aclIndex()), zkproto.PermRead, auth) {
		return nil, zkproto.ErrNoAuth
	}
	return n, zkproto.OK
}

func getData[P byteString](t *Tree, path P, auth []zkproto.Id, dst []byte) ([]byte, zkproto.Code) {
	n, code := readable(t, path, auth)
	if code != zkproto.OK {
		return dst, code
	}
	return n.appendStat(n.appendData(dst)), zkproto.OK
}

func getChildren[P byteString](t *Tree, path P, auth []zkproto.Id, dst []byte, withStat bool) ([]byte, zkproto.Code) {
	n, code := readable(t, path, auth)
	if code != zkproto.OK {
		return dst, code
	}
	dst = appendChildNames(dst, n)
	if withStat {
		dst = n.appendStat(dst)
	}
	return dst, zkproto.OK
}

// appendChildNames appends the vector of n's child names, sorted.
func appendChildNames(dst []byte, n *node) []byte {
	c := n.kids
	switch {
	case c == nil:
		return zkproto.AppendInt32(dst, 0)
	case c.byName == nil:
		dst = zkproto.AppendInt32(dst, int32(len(c.sorted)))
		for _, k := range c.sorted {
			dst = zkproto.AppendString(dst, k.name)
		}
		return dst
	}
	names := make([]string, 0, len(c.byName))
	for name := range c.byName {
		names = append(names, name)
	}
	slices.Sort(names)
	return zkproto.AppendStrings(dst, names)
}

func getACL[P byteString](t *Tree, path P, auth []zkproto.Id, dst []byte) ([]byte, zkproto.Code) {
	n := lookupIn(t.root, path)
	if n == nil {
		return dst, zkproto.ErrNoNode
	}
	acl := t.acls.get(n.aclIndex())
	if !checkPerm(acl, zkproto.PermRead|zkproto.PermAdmin, auth) {
		return dst, zkproto.ErrNoAuth
	}
	if checkPerm(acl, zkproto.PermAdmin, auth) {
		dst = zkproto.AppendACLs(dst, acl)
	} else {
		dst = zkproto.AppendInt32(dst, int32(len(acl)))
		for i := range acl {
			a := &acl[i]
			id := a.ID.ID
			if a.ID.Scheme == SchemeDigest {
				id = maskDigest(id)
			}
			dst = appendACL(dst, a.Perms, a.ID.Scheme, id)
		}
	}
	return n.appendStat(dst), zkproto.OK
}

// maskDigest is Java's id.replaceAll(":.*", ":x"): from each ':' to the end
// of its line, the text becomes ":x".
func maskDigest(id string) string {
	if strings.IndexByte(id, ':') < 0 {
		return id
	}
	var b strings.Builder
	for len(id) > 0 {
		i := strings.IndexByte(id, ':')
		if i < 0 {
			b.WriteString(id)
			break
		}
		b.WriteString(id[:i])
		b.WriteString(":x")
		id = id[i+1:]
		end := lineEnd(id)
		id = id[end:]
		if len(id) > 0 { // keep the line terminator, then go on
			_, size := nextRune(id)
			b.WriteString(id[:size])
			id = id[size:]
		}
	}
	return b.String()
}

// lineEnd returns the index of the first line terminator Java's regex '.'
// does not match (\n, \r, U+0085, U+2028, U+2029), or len(s).
func lineEnd(s string) int {
	for i, r := range s {
		switch r {
		case '\n', '\r', 0x85, 0x2028, 0x2029:
			return i
		}
	}
	return len(s)
}

func nextRune(s string) (rune, int) {
	for _, r := range s {
		return r, len(string(r))
	}
	return 0, 0
}

func getAllChildrenNumber[P byteString](t *Tree, path P, auth []zkproto.Id, dst []byte) ([]byte, zkproto.Code) {
	n, code := readable(t, path, auth)
	if code != zkproto.OK {
		return dst, code
	}
	var count int64
	if n == t.root {
		count = t.nodeCount - 1
	} else {
		count = countDescendants(n)
	}
	return zkproto.AppendInt32(dst, int32(count)), zkproto.OK
}

// countDescendants counts the nodes below n, with an explicit stack so that
// a deep tree cannot exhaust the goroutine stack.
func countDescendants(n *node) int64 {
	var count int64
	stack := []*node{n}
	for len(stack) > 0 {
		top := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		eachChild(top, func(k *node) {
			count++
			if k.kids != nil {
				stack = append(stack, k)
			}
		})
	}
	return count
}

func getEphemerals[P byteString](t *Tree, prefix P, sessionID int64, dst []byte) ([]byte, zkproto.Code) {
	s := t.sessions[sessionID]
	if s == nil {
		return zkproto.AppendInt32(dst, 0), zkproto.OK
	}
	trimmed := strings.TrimFunc(string(prefix), func(r rune) bool { return r <= ' ' })
	all := trimmed == "" || trimmed == "/"
	paths := make([]string, 0, len(s.ephemerals))
	for p := range s.ephemerals {
		if all || strings.HasPrefix(p, string(prefix)) {
			paths = append(paths, p)
		}
	}
	slices.Sort(paths)
	return zkproto.AppendStrings(dst, paths), zkproto.OK
}

// multiRead answers a multiRead: each op (getData or getChildren) succeeds or
// fails on its own, with an error result in its place; the reply header is OK.
func (t *Tree) multiRead(body []byte, auth []zkproto.Id, dst []byte) ([]byte, zkproto.Code) {
	var d zkproto.Decoder
	d.Reset(body)
	start := len(dst)
	for n := 0; n <= maxMultiOps; n++ {
		var h zkproto.MultiHeader
		if h.Decode(&d) != nil {
			return dst[:start], zkproto.ErrMarshallingError
		}
		if h.Done {
			return appendMultiEnd(dst), zkproto.OK
		}
		if h.Type != zkproto.OpGetData && h.Type != zkproto.OpGetChildren {
			return dst[:start], zkproto.ErrMarshallingError
		}
		path := d.BytesView()
		d.Bool()
		if d.Err() != nil {
			return dst[:start], zkproto.ErrMarshallingError
		}
		mark := len(dst)
		rh := zkproto.MultiHeader{Type: h.Type, Err: zkproto.OK}
		dst = rh.Append(dst)
		var code zkproto.Code
		if h.Type == zkproto.OpGetData {
			dst, code = getData(t, path, auth, dst)
		} else {
			dst, code = getChildren(t, path, auth, dst, false)
		}
		if code != zkproto.OK {
			rh = zkproto.MultiHeader{Type: zkproto.OpError, Err: code}
			dst = rh.Append(dst[:mark])
			dst = zkproto.AppendInt32(dst, int32(code))
		}
	}
	return dst[:start], zkproto.ErrMarshallingError
}
