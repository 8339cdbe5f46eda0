package frontend

import (
	"bytes"
	"crypto/rand"
	"time"

	"github.com/vrkeeper/vrkeeper/bridge"
	"github.com/vrkeeper/vrkeeper/tree"
	"github.com/vrkeeper/vrkeeper/zkproto"
)

// core is the frontend's state that must move in step with the tree: the
// sessions connected here and their queues of requests, the watch
// registry, the reads waiting for a read index. It lives on the node's
// apply goroutine (it is the node's Handler), so a watch registered by a
// read and the events of the writes applied after it are ordered by that
// goroutine alone, and an event is always queued on a connection before
// any reply that reflects its change.
type core struct {
	s        *Server
	sessions map[int64]*sessionState // sessions with a connection here
	conns    map[WatcherID]*conn
	registry *Registry
	// opening maps the password of a proposed open-session command to the
	// connection waiting for it.
	opening map[string]*conn
	// resuming maps the owner id of a proposed attach-session command to
	// the resume waiting for it.
	resuming map[int64]*resume

	// Reads wait for a read index in rounds: one round in flight, and the
	// reads that arrive meanwhile share the next one.
	collecting    []readRef
	roundInFlight bool

	renew        renewState
	primarySince time.Time
	role         bridge.Role
}

// sessionState is a session whose connection is on this server.
type sessionState struct {
	id    int64
	conn  *conn
	queue []*request // requests in arrival order, not yet answered
}

// resume is a connection resuming a session, waiting for its attach.
type resume struct {
	c       *conn
	id      int64
	timeout int32
	passwd  []byte
	since   time.Time // when the attach was first proposed
}

// readRef is a read waiting for a read index.
type readRef struct {
	c *conn
	r *request
}

func newCore(s *Server) *core {
	return &core{
		s:        s,
		sessions: map[int64]*sessionState{},
		conns:    map[WatcherID]*conn{},
		registry: NewRegistry(),
		opening:  map[string]*conn{},
		resuming: map[int64]*resume{},
	}
}

// negotiate clamps a requested session timeout into [min, max] (ms).
func (k *core) negotiate(requested int32) int32 {
	lo := int32(k.s.cfg.MinSessionTimeout / time.Millisecond)
	hi := int32(k.s.cfg.MaxSessionTimeout / time.Millisecond)
	return min(max(requested, lo), hi)
}

// connect handles a ConnectRequest: a new session is proposed; a session
// to resume is checked (after a read index, so a server that is behind does
// not call a live session expired) and attached.
func (k *core) connect(a *bridge.Apply, c *conn, req *zkproto.ConnectRequest) {
	if c.gone {
		return
	}
	if a.Role() == bridge.RoleNone {
		// Not serving (no primary, or still starting): ZooKeeper closes the
		// connection and the client tries again, here or elsewhere.
		c.close()
		return
	}
	k.conns[WatcherID(c.id)] = c
	c.hasRO = req.HasReadOnly
	c.auth = append(c.auth[:0], tree.IPID(c.ip))
	c.authBytes.Store(int64(idSize(c.auth[0])))
	k.addIdentities(c, c.tlsIDs) // x509, from the TLS handshake (security.go)
	timeout := k.negotiate(req.TimeOut)
	if req.SessionID == 0 && req.LastZxidSeen <= a.Applied() {
		k.open(a, c, timeout)
		return
	}
	a.AfterReadIndex(func(a *bridge.Apply, ok bool) {
		if c.gone {
			return
		}
		if !ok || req.LastZxidSeen > a.Applied() {
			// ZooKeeper closes without an answer; the client tries another
			// server.
			c.close()
			return
		}
		if req.SessionID == 0 {
			k.open(a, c, timeout)
			return
		}
		info, found := a.Tree().Session(req.SessionID)
		if !found || !bytes.Equal(info.Passwd, req.Passwd) {
			k.refuse(c)
			return
		}
		// Tell every server that this connection owns the session now (an
		// older one elsewhere is closed, and its writes fail with
		// SESSIONMOVED) and that it is alive (it may have been silent while
		// the client looked for a server). The handshake is answered once
		// the attach is applied, as ZooKeeper answers after revalidating the
		// session with its leader: every write of this connection then
		// comes after the attach in the log.
		k.resuming[c.owner] = &resume{c: c, id: req.SessionID, timeout: timeout, passwd: info.Passwd, since: time.Now()}
		if err := a.AttachSession(req.SessionID, c.owner); err != nil {
			delete(k.resuming, c.owner)
			k.refused(c, err)
		}
	})
}

// attached answers the resume waiting for an applied attach, if it is
// here: the session is attached, or refused if it ended meanwhile.
func (k *core) attached(a *bridge.Apply, at tree.AttachedSession) {
	res := k.resuming[at.Owner]
	if res == nil {
		return
	}
	delete(k.resuming, at.Owner)
	switch {
	case res.c.gone:
	case at.ID == 0:
		k.refuse(res.c)
	default:
		k.attach(a, res.c, res.id, res.timeout, res.passwd)
	}
}

// open proposes a new session.
func (k *core) open(a *bridge.Apply, c *conn, timeout int32) {
	passwd := make([]byte, zkproto.PasswordSize)
	rand.Read(passwd)
	k.opening[string(passwd)] = c
	c.timeoutMs.Store(timeout)
	if err := a.OpenSession(timeout, passwd, c.owner); err != nil {
		delete(k.opening, string(passwd))
		k.refused(c, err)
	}
}

// refused closes a connection whose command replication refused (too
// large, or no room): ZooKeeper too closes the connection of a request it
// cannot take, and the client learns of it at once.
func (k *core) refused(c *conn, err error) {
	k.s.log.Warn("closing a connection whose command was refused", "remote", c.remote, "error", err)
	k.detach(c)
	c.close()
}

// refuse answers a resume of an unknown or expired session, or one with the
// wrong password, as ZooKeeper does: timeout 0, session 0, then close.
func (k *core) refuse(c *conn) {
	resp := zkproto.ConnectResponse{Passwd: make([]byte, zkproto.PasswordSize), HasReadOnly: c.hasRO}
	c.out.append(func(b []byte) []byte { return zkproto.AppendRecordFrame(b, &resp) })
	c.close()
}

// attach makes c the connection of session id and answers the handshake.
// A connection the session had before on this server is closed: the newer
// connection wins, as in ZooKeeper.
func (k *core) attach(a *bridge.Apply, c *conn, id int64, timeout int32, passwd []byte) {
	sess := k.sessions[id]
	if sess == nil {
		sess = &sessionState{id: id}
	}
	if old := sess.conn; old != nil && old != c {
		k.detach(old) // drops the session from k.sessions: it is put back below
		old.close()
	}
	k.sessions[id] = sess
	sess.conn = c
	c.sess = sess
	c.timeoutMs.Store(timeout)
	// The reader may wait for the first request under the handshake's
	// deadline: from now on a silent client has its session timeout.
	c.nc.SetReadDeadline(time.Now().Add(time.Duration(timeout) * time.Millisecond))
	c.statsMu.Lock()
	c.st.sessionID, c.st.hasSession = id, true
	c.statsMu.Unlock()
	resp := zkproto.ConnectResponse{TimeOut: timeout, SessionID: id, Passwd: passwd, HasReadOnly: c.hasRO}
	c.out.append(func(b []byte) []byte { return zkproto.AppendRecordFrame(b, &resp) })
	waiting := c.waiting
	c.waiting = nil
	for _, r := range waiting {
		k.process(a, c, r)
	}
	if c.sess == sess { // a waiting closeSession may have ended it
		// From now on the reader may serve reads itself (fastpath.go),
		// unless enforce.auth wants an identity first: its reads go to the
		// core, which closes the connection (security.go).
		c.sessID = id
		if k.authorized(c) {
			c.live.Store(true)
		}
	}
}

// detach separates c from its session, dropping its unanswered requests.
func (k *core) detach(c *conn) {
	sess := c.sess
	if sess == nil {
		return
	}
	c.sess = nil
	c.live.Store(false)
	if sess.conn == c {
		sess.conn = nil
		sess.queue = nil
		delete(k.sessions, sess.id)
	}
}

// connGone forgets a closed connection.
func (k *core) connGone(c *conn) {
	if c.gone {
		return
	}
	c.gone = true
	k.detach(c)
	k.registry.RemoveAll(WatcherID(c.id))
	delete(k.conns, WatcherID(c.id))
	for p, oc := range k.opening {
		if oc == c {
			delete(k.opening, p)
		}
	}
	delete(k.resuming, c.owner)
	c.waiting = nil
	c.releaseAll()
}
