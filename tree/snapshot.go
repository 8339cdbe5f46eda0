package tree

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/vrkeeper/vrkeeper/zkproto"
)

// A snapshot is the whole state as one stream, written by Snapshot and read
// back by Restore into an identical tree (same answers, same digest). The
// bytes depend only on the state, never on its history: children come in
// byte-wise order of name, sessions in order of id, and ACL lists are
// numbered by first use in that order. Big-endian, jute encodings:
//
//	magic      8 bytes "VRKTREE\x02" (the last byte is the format version)
//	header     int64 lastZxid, now, lastSessionID, nodeCount
//	nodes      the root, then depth first, each node followed by its
//	           children (nodeCount records in all):
//	             ustring name ("" for the root)
//	             buffer  data (-1 for null)
//	             int64   czxid, mzxid, pzxid, ctime, mtime, owner
//	             int32   version, creates, aversion
//	             int32   acl: the number of a list given before, or -1
//	                     followed by the list (vector of ACL), which takes
//	                     the next number (from 0)
//	             int32   number of children
//	sessions   int32 count, then by id: int64 id, int32 timeout,
//	           buffer password, int64 lastSeen, int64 owner, int64 lastSeq,
//	           bool broken, int32 lastCode, buffer lastBody
//	trailer    int64 digest, then 8 bytes "VRKTREE\x00"
//
// Config is not part of the snapshot: Restore takes it, like New. Restore
// refuses a node created after lastZxid and a session above lastSessionID:
// a live snapshot tells what is newer than itself by them.
//
// Format 1 (before session owners) had, per session, bool hasLast and int32
// lastCxid where format 2 has owner, lastSeq and broken. Restore still reads
// it: its sessions get owner 0 and an empty sequence, and its digest is
// checked as format 1 computed it.
var (
	snapMagic   = [8]byte{'V', 'R', 'K', 'T', 'R', 'E', 'E', 2}
	snapMagicV1 = [8]byte{'V', 'R', 'K', 'T', 'R', 'E', 'E', 1}
	snapEnd     = [8]byte{'V', 'R', 'K', 'T', 'R', 'E', 'E', 0}
)

// ErrBadSnapshot is returned (wrapped) by Restore for a stream that is not a
// valid snapshot: wrong magic, a record out of bounds, an inconsistent tree,
// or a digest that does not match.
var ErrBadSnapshot = errors.New("tree: bad snapshot")

// snapFlushSize is how much a snapshot buffers before each write.
const snapFlushSize = 64 << 10

// Snapshot writes the whole state to w. It must not run concurrently with
// Apply (reads may run alongside); BeginSnapshot takes one while applies go
// on.
func (t *Tree) Snapshot(w io.Writer) error {
	sn := t.newSnapshot(false)
	buf := make([]byte, 0, 2*snapFlushSize)
	for done := false; !done; {
		buf, done = sn.Next(buf[:0], snapFlushSize)
		if _, err := w.Write(buf); err != nil {
			return fmt.Errorf("tree: write snapshot: %w", err)
		}
	}
	return nil
}

// Limits on what a snapshot may hold, so a corrupt one cannot make Restore
// allocate without bound.
const (
	maxSnapString   = 64 << 20 // a name, data, password or reply body
	maxSnapACLLen   = 1 << 20  // entries in one ACL list
	maxSnapSessions = 1 << 30
)

// Restore reads a snapshot written by Snapshot and returns the tree it
// holds, with the given Config. It checks the structure (names, order,
// counts, owners) and that the digest of the result equals the one recorded.
func Restore(r io.Reader, cfg Config) (*Tree, error) {
	sr := snapReader{r: bufio.NewReaderSize(r, snapFlushSize)}
	t, err := sr.restore(cfg)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadSnapshot, err)
	}
	return t, nil
}

type snapReader struct {
	r       *bufio.Reader
	buf     [8]byte
	scratch []byte // the last buffer read
	err     error
	v1      bool // format 1
	// v1Sessions is the sessions' share of the digest as format 1
	// computed it.
	v1Sessions uint64
}

func (sr *snapReader) fail(err error) {
	if sr.err == nil {
		sr.err = err
	}
}

func (sr *snapReader) read(n int) []byte {
	if sr.err != nil {
		return sr.buf[:n]
	}
	if _, err := io.ReadFull(sr.r, sr.buf[:n]); err != nil {
		sr.fail(fmt.Errorf("truncated: %w", err))
	}
	return sr.buf[:n]
}

func (sr *snapReader) int64() int64 {
	b := sr.read(8)
	return int64(uint64(b[0])<<56 | uint64(b[1])<<48 | uint64(b[2])<<40 | uint64(b[3])<<32 |
		uint64(b[4])<<24 | uint64(b[5])<<16 | uint64(b[6])<<8 | uint64(b[7]))
}

func (sr *snapReader) int32() int32 {
	b := sr.read(4)
	return int32(uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]))
}

func (sr *snapReader) bool() bool {
	b := sr.read(1)[0]
	if b > 1 {
		sr.fail(fmt.Errorf("bool %d", b))
	}
	return b == 1
}

// bytes reads a buffer into scratch storage, valid until the next read;
// null gives nil, and null is refused unless allowed.
func (sr *snapReader) bytes(allowNull bool) []byte {
	n := sr.int32()
	if sr.err != nil {
		return nil
	}
	if n == -1 && allowNull {
		return nil
	}
	if n < 0 || n > maxSnapString {
		sr.fail(fmt.Errorf("length %d out of bounds", n))
		return nil
	}
	if cap(sr.scratch) < int(n) || sr.scratch == nil {
		sr.scratch = make([]byte, max(n, 64)) // never nil: an empty buffer is not null
	}
	b := sr.scratch[:n:n]
	if _, err := io.ReadFull(sr.r, b); err != nil {
		sr.fail(fmt.Errorf("truncated: %w", err))
	}
	return b
}

func (sr *snapReader) restore(cfg Config) (*Tree, error) {
	var magic [8]byte
	copy(magic[:], sr.read(8))
	if sr.err == nil && magic != snapMagic && magic != snapMagicV1 {
		return nil, fmt.Errorf("magic %q", magic)
	}
	sr.v1 = magic == snapMagicV1
	t := newEmpty(cfg)
	t.lastZxid = sr.int64()
	t.now = sr.int64()
	t.lastSessionID = sr.int64()
	nodeCount := sr.int64()
	if sr.err == nil && nodeCount < 1 {
		return nil, fmt.Errorf("node count %d", nodeCount)
	}
	owners := sr.nodes(t, nodeCount)
	if sr.err != nil {
		return nil, sr.err
	}
	sr.sessions(t)
	digest := sr.int64()
	var end [8]byte
	copy(end[:], sr.read(8))
	if sr.err != nil {
		return nil, sr.err
	}
	if end != snapEnd {
		return nil, fmt.Errorf("end marker %q", end)
	}
	for path, owner := range owners {
		s := t.sessions[owner]
		if s == nil {
			return nil, fmt.Errorf("ephemeral %s of unknown session %#x", path, owner)
		}
		if s.ephemerals == nil {
			s.ephemerals = make(map[string]struct{})
		}
		s.ephemerals[path] = struct{}{}
	}
	got := t.Digest()
	if sr.v1 {
		got += sr.v1Sessions - t.sessionSum
	}
	if got != uint64(digest) {
		return nil, fmt.Errorf("digest %#x, recorded %#x", got, uint64(digest))
	}
	return t, nil
}

// nodes reads the tree and returns the ephemerals' owners by path.
func (sr *snapReader) nodes(t *Tree, count int64) map[string]int64 {
	type frame struct {
		n       *node
		left    int32  // children still to read
		pathLen int    // length of n's path, 0 for the root
		last    string // the name of the last child read
	}
	owners := make(map[string]int64)
	var aclNums []uint32 // snapshot number -> table index
	var path []byte
	var stack []frame
	for read := int64(0); read < count && sr.err == nil; read++ {
		if read > 0 && len(stack) == 0 {
			sr.fail(fmt.Errorf("%d nodes declared, the tree holds %d", count, read))
			break
		}
		n, kids := sr.node(t, &aclNums)
		if sr.err != nil {
			break
		}
		if n.czxid > t.lastZxid {
			// A live snapshot tells nodes created after it began by their
			// czxid, so a tree must never hold one from its future.
			sr.fail(fmt.Errorf("node %q created at zxid %d, after the snapshot's %d", n.name, n.czxid, t.lastZxid))
			break
		}
		if len(stack) == 0 {
			if n.name != "" {
				sr.fail(fmt.Errorf("root named %q", n.name))
				break
			}
			t.root = n
			path = append(path[:0], '/')
		} else {
			parent := &stack[len(stack)-1]
			switch {
			case n.name == "" || slices.Contains([]byte(n.name), '/'):
				sr.fail(fmt.Errorf("bad name %q", n.name))
			case parent.last != "" && n.name <= parent.last:
				sr.fail(fmt.Errorf("children out of order: %q after %q", n.name, parent.last))
			}
			if sr.err != nil {
				break
			}
			path = append(append(path[:parent.pathLen], '/'), n.name...)
			addChild(parent.n, n)
			parent.last = n.name
			parent.left--
		}
		n.h = nodeHash(path, n.data)
		t.nodeCount++
		t.dataSize += int64(len(path) + len(n.data))
		if n == t.root {
			t.dataSize += int64(len(n.data)) // its alias ""
		}
		switch n.kind() {
		case kindEphemeral:
			owners[string(path)] = n.owner
		case kindContainer:
			t.containers[string(path)] = struct{}{}
		case kindTTL:
			t.ttls[string(path)] = struct{}{}
		}
		pathLen := len(path)
		if n == t.root {
			pathLen = 0
		}
		stack = append(stack, frame{n: n, left: kids, pathLen: pathLen})
		// Pop every finished node: its children are all in, so its share of
		// the digest (which counts them) is final.
		for len(stack) > 0 && stack[len(stack)-1].left == 0 {
			t.nodeSum += t.nodeContrib(stack[len(stack)-1].n)
			stack = stack[:len(stack)-1]
		}
	}
	if sr.err == nil && len(stack) != 0 {
		sr.fail(fmt.Errorf("%d nodes declared, more children announced", count))
	}
	return owners
}

// node reads one node record and returns it with its number of children.
func (sr *snapReader) node(t *Tree, aclNums *[]uint32) (*node, int32) {
	n := &node{name: string(sr.bytes(false))}
	data := sr.bytes(true)
	if data == nil {
		n.aclRef = dataNullBit
	} else if len(data) > 0 {
		n.data = string(data)
	}
	n.czxid, n.mzxid, n.pzxid = sr.int64(), sr.int64(), sr.int64()
	n.ctime, n.mtime, n.owner = sr.int64(), sr.int64(), sr.int64()
	n.version, n.creates, n.aversion = sr.int32(), sr.int32(), sr.int32()
	num := sr.int32()
	switch {
	case sr.err != nil:
		return nil, 0
	case num == -1:
		key := sr.aclList()
		if sr.err != nil {
			return nil, 0
		}
		idx := t.acls.internKey(key)
		if t.acls.lists[idx].refs != 1 {
			sr.fail(errors.New("an ACL list given twice"))
			return nil, 0
		}
		*aclNums = append(*aclNums, idx)
		n.aclRef |= idx
	case num < 0 || int(num) >= len(*aclNums):
		sr.fail(fmt.Errorf("ACL number %d of %d", num, len(*aclNums)))
		return nil, 0
	default:
		n.aclRef |= t.acls.ref((*aclNums)[num])
	}
	kids := sr.int32()
	if sr.err == nil && kids < 0 {
		sr.fail(fmt.Errorf("%d children", kids))
	}
	return n, kids
}

// aclList reads a vector of ACLs and returns its jute encoding.
func (sr *snapReader) aclList() []byte {
	count := sr.int32()
	if sr.err == nil && (count < 0 || count > maxSnapACLLen) {
		sr.fail(fmt.Errorf("ACL list of %d entries", count))
	}
	if sr.err != nil {
		return nil
	}
	key := zkproto.AppendInt32(nil, count)
	for i := int32(0); i < count && sr.err == nil; i++ {
		perms := sr.int32()
		scheme := string(sr.bytes(false))
		key = appendACL(key, perms, scheme, string(sr.bytes(false)))
	}
	return key
}

func (sr *snapReader) sessions(t *Tree) {
	count := sr.int32()
	if sr.err == nil && (count < 0 || count > maxSnapSessions) {
		sr.fail(fmt.Errorf("%d sessions", count))
	}
	last := int64(0)
	for i := int32(0); i < count && sr.err == nil; i++ {
		s := &session{id: sr.int64(), timeout: sr.int32(), passwd: string(sr.bytes(false)), lastSeen: sr.int64()}
		var v1Has, v1Cxid uint64
		if sr.v1 {
			if sr.bool() {
				v1Has = 1
			}
			v1Cxid = uint64(uint32(sr.int32()))
		} else {
			s.owner, s.lastSeq, s.broken = sr.int64(), sr.int64(), sr.bool()
		}
		s.lastCode = zkproto.Code(sr.int32())
		s.lastBody = append([]byte(nil), sr.bytes(false)...)
		if sr.v1 {
			h := hashBytes(hashBytes(0, s.passwd), s.lastBody)
			sr.v1Sessions += hashWords(h, uint64(s.id), uint64(uint32(s.timeout)), uint64(s.lastSeen),
				v1Has, v1Cxid, uint64(uint32(s.lastCode)))
			s.lastCode, s.lastBody = zkproto.OK, s.lastBody[:0] // an empty sequence
		}
		if sr.err != nil {
			return
		}
		if s.id <= last {
			sr.fail(fmt.Errorf("session %#x out of order", s.id))
			return
		}
		if s.id > t.lastSessionID {
			// Likewise for sessions, told apart by id.
			sr.fail(fmt.Errorf("session %#x above the last id given, %#x", s.id, t.lastSessionID))
			return
		}
		last = s.id
		s.contrib = s.computeContrib()
		t.sessionSum += s.contrib
		t.sessions[s.id] = s
	}
}
