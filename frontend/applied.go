package frontend

import (
	"bytes"
	"time"

	"github.com/vrkeeper/vrkeeper/bridge"
	"github.com/vrkeeper/vrkeeper/tree"
	"github.com/vrkeeper/vrkeeper/zkproto"
)

// BeforeApply implements bridge.Handler. A write of a connection here is
// about to change the tree: the reads and local requests its session sent
// before it are answered now, against the state before the write, and
// sent, so the client gets them (and registers their watches) before the
// write's events. Answering a read here needs no read index: every write
// acknowledged before the read arrived has an op-number below this write's,
// which the primary assigned after the read arrived.
func (k *core) BeforeApply(a *bridge.Apply, zxid int64, cmd []byte) {
	key, ok := tree.PeekClientWrite(cmd)
	if !ok {
		return
	}
	sess := k.sessions[key.SessionID]
	if sess == nil || sess.conn == nil || sess.conn.owner != key.Owner {
		return
	}
	w := pendingWrite(sess.queue, key.Seq)
	if w < 0 {
		return // a copy of a write answered already
	}
	for _, r := range sess.queue[:w] {
		if !r.done && r.kind != kindWrite {
			r.ready = true
		}
	}
	k.pump(a, sess)
}

// pendingWrite returns the index in queue of the unanswered write numbered
// seq, or -1.
func pendingWrite(queue []*request, seq int64) int {
	for i, r := range queue {
		if r.kind == kindWrite && !r.done && r.seq == seq {
			return i
		}
	}
	return -1
}

// Applied implements bridge.Handler: deliver the change's watch events,
// then route the command's answer to the connection waiting for it.
func (k *core) Applied(a *bridge.Apply, zxid int64, out *tree.Output) {
	for i := range out.Events {
		k.deliver(&out.Events[i])
	}
	switch out.Kind {
	case tree.KindOpenSession:
		if c := k.opening[string(out.Opened.Passwd)]; c != nil {
			delete(k.opening, string(out.Opened.Passwd))
			if !c.gone {
				k.attach(a, c, out.Opened.ID, c.timeoutMs.Load(), append([]byte(nil), out.Opened.Passwd...))
			}
		}
	case tree.KindClientWrite:
		k.answerWrite(a, out)
	case tree.KindAttachSession:
		// A newer connection of the session (here or on another server) took
		// it over: the older one is closed, as ZooKeeper's leader does
		// (see docs/compat.md), and its writes still in flight fail with
		// SESSIONMOVED.
		if sess := k.sessions[out.Attached.ID]; sess != nil && sess.conn != nil && sess.conn.owner != out.Attached.Owner {
			c := sess.conn
			k.detach(c)
			c.close()
		}
		k.attached(a, out.Attached)
	}
	for _, id := range out.Closed {
		// Sessions ended by expiry (or by a close from another server's
		// connection): their connection here is closed. A session closed by
		// its own closeSession here was answered above, and is gone already.
		if sess := k.sessions[id]; sess != nil && sess.conn != nil {
			c := sess.conn
			k.detach(c)
			c.close()
		}
	}
}

// deliver sends an event to the watchers it reaches that may read the node.
func (k *core) deliver(ev *tree.Event) {
	k.registry.Trigger(string(ev.Path), ev.Type, func(w WatcherID) {
		c := k.conns[w]
		if c == nil || c.gone {
			return
		}
		if !k.s.cfg.Security.SkipACL && !tree.CheckPerm(ev.ACL, zkproto.PermRead, c.auth) {
			return // ZooKeeper consumes the watch without telling the client
		}
		c.sendEvent(ev.Type, ev.Path)
	})
}

// answerWrite records a write's answer on the request waiting for it, if
// the connection that sent it is here. Writes are matched by the key the
// server gave them (owner and sequence number), never by xid.
func (k *core) answerWrite(a *bridge.Apply, out *tree.Output) {
	sess := k.sessions[out.SessionID]
	if sess == nil || sess.conn == nil || sess.conn.owner != out.Owner || out.Seq == 0 {
		// Not a write of this session's connection here: one of another
		// server's connection, or of the session's previous connection
		// (applied after the session moved; its client saw a connection
		// loss, nothing waits for it).
		return
	}
	var r *request
	for _, q := range sess.queue {
		if q.kind == kindWrite && !q.done {
			r = q
			break
		}
	}
	if r == nil || out.Seq < r.seq {
		return // a copy of a write answered already (proposed again after a view change)
	}
	if out.Seq > r.seq || out.Dup == tree.DupStale || out.Dup == tree.DupGap || out.Code == zkproto.ErrSessionMoved {
		// An earlier write of this connection was lost (its primary failed
		// before replicating it) while a later one reached the log, which
		// refused it to keep the session's order; or the session moved
		// away. Close without answering: the client sees a connection loss
		// for every outstanding request, as ZooKeeper clients do when a
		// server fails, and as ZooKeeper closes a connection whose write met
		// SESSIONMOVED.
		c := sess.conn
		k.detach(c)
		c.close()
		return
	}
	r.done = true
	r.code = out.Code
	// The reply goes out now if nothing before it waits (the common case);
	// only a reply kept for later needs its own copy of the body.
	r.reply = out.Body
	k.pump(a, sess)
	if !r.sent {
		r.reply = bytes.Clone(out.Body)
	}
}

// RoleChanged implements bridge.Handler. Proposals made before a view
// change may have been lost with the old primary: they are proposed again,
// in each connection's order, with the same owner and sequence number. One
// that did commit is refused by the session's duplicate table the second
// time, so it applies once; a later write that overtook a lost one is
// refused by the tree, and answerWrite closes its connection.
func (k *core) RoleChanged(a *bridge.Apply, role bridge.Role) {
	k.role = role
	if role == bridge.RolePrimary || role == bridge.RoleStandalone {
		k.primarySince = time.Now()
	}
	if role == bridge.RoleNone {
		return
	}
	for _, sess := range k.sessions {
		for _, r := range sess.queue {
			if r.kind == kindWrite && !r.done && r.cmd != nil {
				if err := a.Repropose(r.cmd); err != nil {
					k.refused(sess.conn, err)
					break
				}
			}
		}
	}
	// A session's attach is proposed again like a write (attaching twice
	// to the same connection changes nothing); a new session's open is
	// not (it could open two): its client tries again.
	for owner, res := range k.resuming {
		if err := a.AttachSession(res.id, owner); err != nil {
			delete(k.resuming, owner)
			k.refused(res.c, err)
		}
	}
	for p, c := range k.opening {
		delete(k.opening, p)
		c.close()
	}
}

// expireHandshakes closes the connections whose attach has waited longer
// than a read may (no primary to apply it): the client tries again, here
// or elsewhere, as it does when a ZooKeeper follower lost its leader.
func (k *core) expireHandshakes(a *bridge.Apply, now time.Time) {
	for owner, res := range k.resuming {
		if now.Sub(res.since) > a.ReadTimeout() {
			delete(k.resuming, owner)
			res.c.close()
		}
	}
}

// dropHandshakes closes the connections whose open or attach was proposed
// and not yet applied: it may have been lost. Their clients retry the
// handshake.
func (k *core) dropHandshakes() {
	for p, c := range k.opening {
		delete(k.opening, p)
		c.close()
	}
	for owner, res := range k.resuming {
		delete(k.resuming, owner)
		res.c.close()
	}
}

// Restored implements bridge.Handler: the tree was replaced by a peer's
// snapshot, so every connection is closed; clients reconnect, resume their
// sessions and re-register their watches.
func (k *core) Restored(a *bridge.Apply) {
	for _, c := range k.conns {
		k.detach(c)
		c.close()
	}
	k.dropHandshakes()
}

// renewState paces session renewals and expiry.
type renewState struct {
	lastRenew   time.Time
	lastExpire  time.Time
	lastCleanup time.Time
	ids         []int64
}

// Tick implements bridge.Handler: renew the sessions connected here that
// were heard from, and, on the primary, expire silent sessions and clean up
// containers and TTL nodes.
func (k *core) Tick(a *bridge.Apply) {
	now := time.Now()
	k.expireHandshakes(a, now)
	rs := &k.renew
	if interval := k.s.cfg.MinSessionTimeout / 3; now.Sub(rs.lastRenew) >= interval {
		since := rs.lastRenew.UnixMilli()
		rs.ids = rs.ids[:0]
		for id, sess := range k.sessions {
			if c := sess.conn; c != nil && c.lastHeard.Load() >= since {
				rs.ids = append(rs.ids, id)
			}
		}
		rs.lastRenew = now
		if len(rs.ids) > 0 {
			for _, ids := range sessionChunks(rs.ids) {
				a.RenewSessions(ids)
			}
		}
	}
	if k.role != bridge.RolePrimary && k.role != bridge.RoleStandalone {
		return
	}
	if now.Sub(rs.lastExpire) >= k.s.cfg.TickTime/2 {
		rs.lastExpire = now
		// A new primary gives every session a whole timeout before it
		// expires any: renewals sent to the old primary may have been lost.
		expired := a.Tree().ExpiredSessions(a.Now(), nil)
		var due []int64
		for _, id := range expired {
			info, ok := a.Tree().Session(id)
			if ok && now.Sub(k.primarySince) > time.Duration(info.Timeout)*time.Millisecond {
				due = append(due, id)
			}
		}
		if len(due) > 0 {
			for _, ids := range sessionChunks(due) {
				a.ExpireSessions(ids)
			}
		}
	}
	if now.Sub(rs.lastCleanup) >= time.Second {
		rs.lastCleanup = now
		if a.Tree().NeedsCleanup(a.Now(), k.s.cfg.ContainerMaxNeverUsed) {
			a.Cleanup(k.s.cfg.ContainerMaxNeverUsed)
		}
	}
}

// maxSessionsPerCommand bounds the sessions one renew or expire command
// names (8 bytes each), so that it stays far below the command limit
// however many sessions a server holds.
const maxSessionsPerCommand = 1 << 14

// sessionChunks splits ids into runs of at most maxSessionsPerCommand.
func sessionChunks(ids []int64) [][]int64 {
	var out [][]int64
	for len(ids) > maxSessionsPerCommand {
		out = append(out, ids[:maxSessionsPerCommand])
		ids = ids[maxSessionsPerCommand:]
	}
	return append(out, ids)
}
