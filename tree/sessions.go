package tree

import (
	"slices"

	"github.com/vrkeeper/vrkeeper/zkproto"
)

// session is an open session: replicated state, so every replica agrees
// which sessions live and which ephemerals they own.
type session struct {
	id       int64
	timeout  int32  // ms
	passwd   string // as the open command carried it
	lastSeen int64  // tree time of the open, the last renewal or the last write

	// ephemerals holds the paths of the session's ephemeral nodes.
	ephemerals map[string]struct{}

	// Ownership and the duplicate table (dedup.go): the connection that
	// owns the session, the sequence number of its last applied write and
	// that write's answer.
	owner    int64
	lastSeq  int64
	broken   bool // the owner's sequence had a gap: none of its writes apply
	lastCode zkproto.Code
	lastBody []byte

	contrib uint64 // the session's share of the digest, as last computed
}

func (s *session) computeContrib() uint64 {
	h := hashBytes(hashBytes(0, s.passwd), s.lastBody)
	broken := uint64(0)
	if s.broken {
		broken = 1
	}
	return hashWords(h, uint64(s.id), uint64(uint32(s.timeout)), uint64(s.lastSeen),
		uint64(s.owner), uint64(s.lastSeq), broken, uint64(uint32(s.lastCode)))
}

// update changes s through f, keeping the digest up to date.
func (t *Tree) updateSession(s *session, f func(*session)) {
	t.beforeSessionChange(s)
	t.sessionSum -= s.contrib
	f(s)
	s.contrib = s.computeContrib()
	t.sessionSum += s.contrib
}

// applyOpenSession opens a session. Its id is the larger of the last id + 1
// and the command time shifted left by 16 bits: unique for ever (the last id
// is part of the state), never 0, and unlike a bare counter it does not
// restart at 1 when a cluster is wiped, so a client of the old cluster
// cannot resume a new session by accident.
func (t *Tree) applyOpenSession(h *cmdHeader, out *Output) {
	id := max(t.lastSessionID+1, t.now<<16)
	if id <= 0 {
		id = t.lastSessionID + 1
	}
	t.lastSessionID = id
	s := &session{id: id, timeout: h.timeout, passwd: string(h.passwd), lastSeen: t.now, owner: h.owner}
	s.contrib = s.computeContrib()
	t.sessionSum += s.contrib
	t.sessions[id] = s
	out.SessionID = id
	out.Opened = OpenedSession{ID: id, Timeout: h.timeout, Passwd: append(out.Opened.Passwd[:0], h.passwd...)}
}

// expired reports whether s has gone more than its timeout without renewal.
func (s *session) expired(now int64) bool { return now-s.lastSeen > int64(s.timeout) }

// applyRenewSessions marks the listed sessions alive now.
func (t *Tree) applyRenewSessions(h *cmdHeader) {
	for i := 0; i < h.nIDs; i++ {
		if s := t.sessions[h.id(i)]; s != nil && s.lastSeen < t.now {
			t.updateSession(s, func(s *session) { s.lastSeen = t.now })
		}
	}
}

// applyAttachSession renews a resumed session and makes the attaching
// connection its owner, with a fresh write sequence (see dedup.go): from now
// on a write of any other connection, including a copy of one applied
// before, fails with SESSIONMOVED. out.Attached names the owner, with ID 0
// if the session is gone.
func (t *Tree) applyAttachSession(h *cmdHeader, out *Output) {
	out.Attached = AttachedSession{Owner: h.owner}
	s := t.sessions[h.session]
	if s == nil {
		return
	}
	t.updateSession(s, func(s *session) {
		s.lastSeen = max(s.lastSeen, t.now)
		s.setOwner(h.owner)
	})
	out.Attached.ID = h.session
}

// applyExpireSessions ends the listed sessions that have expired by now;
// the others (renewed meanwhile, or already gone) are left alone.
func (t *Tree) applyExpireSessions(zxid int64, h *cmdHeader, out *Output) {
	for i := 0; i < h.nIDs; i++ {
		if s := t.sessions[h.id(i)]; s != nil && s.expired(t.now) {
			t.closeSession(zxid, s, out)
		}
	}
}

// closeSession deletes the session's ephemerals (in path order, each with
// its events, the parents' pzxid set to zxid) and then the session.
func (t *Tree) closeSession(zxid int64, s *session, out *Output) {
	paths := t.s.paths[:0]
	for p := range s.ephemerals {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	for _, p := range paths {
		t.removeByPath(zxid, p, out)
	}
	clear(paths)
	t.s.paths = paths[:0]
	t.beforeSessionClose(s)
	delete(t.sessions, s.id)
	t.sessionSum -= s.contrib
	out.Closed = append(out.Closed, s.id)
}

// removeByPath removes the childless node at path (an ephemeral of a closing
// session, or a container or TTL node being cleaned up).
func (t *Tree) removeByPath(zxid int64, path string, out *Output) {
	slash := lastSlash(path)
	parent := t.lookup(path[:slash])
	if parent == nil {
		panic("tree: invariant violated: an indexed node's parent is missing: " + path)
	}
	n := childOf(parent, path[slash+1:])
	if n == nil || n.kids != nil {
		panic("tree: invariant violated: an indexed node is missing or has children: " + path)
	}
	removeNode(t, zxid, parent, n, path, slash, out, nil)
}

// SessionInfo describes an open session, for resuming it on any server.
type SessionInfo struct {
	ID       int64
	Timeout  int32  // ms
	Passwd   []byte // compare with the client's; do not modify
	LastSeen int64  // tree time of the open, last renewal or last write, ms
}

// Session returns the open session id, or false if there is none (never
// opened, closed or expired): a client resuming it must then be told it
// expired.
func (t *Tree) Session(id int64) (SessionInfo, bool) {
	s := t.sessions[id]
	if s == nil {
		return SessionInfo{}, false
	}
	return SessionInfo{ID: s.id, Timeout: s.timeout, Passwd: []byte(s.passwd), LastSeen: s.lastSeen}, true
}

// ExpiredSessions appends to dst, in increasing order, the sessions that by
// time now (ms) have gone more than their timeout without a renewal or a
// write: the ones an expire command at now would end.
func (t *Tree) ExpiredSessions(now int64, dst []int64) []int64 {
	start := len(dst)
	now = max(now, t.now)
	for id, s := range t.sessions {
		if s.expired(now) {
			dst = append(dst, id)
		}
	}
	slices.Sort(dst[start:])
	return dst
}

// SessionIDs appends the ids of all open sessions to dst in increasing order.
func (t *Tree) SessionIDs(dst []int64) []int64 {
	start := len(dst)
	for id := range t.sessions {
		dst = append(dst, id)
	}
	slices.Sort(dst[start:])
	return dst
}

// Ephemerals appends to dst the paths of the session's ephemerals, sorted
// (for the dump four-letter word).
func (t *Tree) Ephemerals(sessionID int64, dst []string) []string {
	s := t.sessions[sessionID]
	if s == nil {
		return dst
	}
	start := len(dst)
	for p := range s.ephemerals {
		dst = append(dst, p)
	}
	slices.Sort(dst[start:])
	return dst
}
