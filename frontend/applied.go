package frontend

import (
	"time"

	"github.com/vrkeeper/vrkeeper/bridge"
	"github.com/vrkeeper/vrkeeper/tree"
	"github.com/vrkeeper/vrkeeper/zkproto"
)

// BeforeApply implements bridge.Handler. A write of a session connected
// here is about to change the tree: the reads and local requests the
// session sent before it are answered now, against the state before the
// write, and sent, so the client gets them (and registers their watches)
// before the write's events. Answering a read here needs no read index:
// every write acknowledged before the read arrived has an op-number below
// this write's, which the primary assigned after the read arrived.
func (k *core) BeforeApply(a *bridge.Apply, zxid int64, cmd []byte) {
	id, cxid, ok := tree.PeekClientWrite(cmd)
	if !ok {
		return
	}
	sess := k.sessions[id]
	if sess == nil || sess.conn == nil {
		return
	}
	for _, r := range sess.queue {
		if r.kind == kindWrite && r.xid == cxid && !r.done {
			break
		}
		if !r.done && r.kind != kindWrite {
			r.ready = true
		}
	}
	k.pump(a, sess)
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
		// it over: the older one is closed, as ZooKeeper does.
		if sess := k.sessions[out.Attached.ID]; sess != nil && sess.conn != nil && sess.conn.token != out.Attached.Owner {
			c := sess.conn
			k.detach(c)
			c.close()
		}
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
		if !tree.CheckPerm(ev.ACL, zkproto.PermRead, c.auth) {
			return // ZooKeeper consumes the watch without telling the client
		}
		c.sendEvent(ev.Type, ev.Path)
	})
}

// answerWrite records a write's answer on the request waiting for it, if
// its session is connected here.
func (k *core) answerWrite(a *bridge.Apply, out *tree.Output) {
	sess := k.sessions[out.SessionID]
	if sess == nil || sess.conn == nil || !awaits(sess.queue, out.Cxid) {
		// Not a write of this connection: one the session's previous
		// connection sent, applied after the session moved here. Its client
		// saw a connection loss; nothing here waits for it.
		return
	}
	for _, r := range sess.queue {
		if r.kind != kindWrite || r.done {
			continue
		}
		if r.xid != out.Cxid {
			// An earlier write of this session was lost (its primary failed
			// before replicating it) while a later one was applied: the
			// session's order cannot be kept on this connection. Close it;
			// the client sees a connection loss for both, as ZooKeeper
			// clients do when a server fails.
			c := sess.conn
			k.detach(c)
			c.close()
			return
		}
		if out.Dup == tree.DupStale {
			c := sess.conn
			k.detach(c)
			c.close()
			return
		}
		r.done = true
		r.code = out.Code
		r.reply = append([]byte(nil), out.Body...)
		k.pump(a, sess)
		return
	}
}

// awaits reports whether a write with xid cxid waits for its answer in
// queue.
func awaits(queue []*request, cxid int32) bool {
	for _, r := range queue {
		if r.kind == kindWrite && !r.done && r.xid == cxid {
			return true
		}
	}
	return false
}

// RoleChanged implements bridge.Handler. Proposals made before a view
// change may have been lost with the old primary: they are proposed again,
// in each session's order. One that did commit is answered from the
// session's duplicate table the second time, so it is applied once; a
// later write that overtook a lost one is caught by answerWrite.
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
				a.Propose(r.cmd)
			}
		}
	}
	for p, c := range k.opening {
		delete(k.opening, p)
		c.close() // the client retries the handshake
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
	for p, c := range k.opening {
		delete(k.opening, p)
		c.close()
	}
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
			a.Propose(tree.AppendRenewSessions(nil, a.Now(), rs.ids))
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
			a.Propose(tree.AppendExpireSessions(nil, a.Now(), due))
		}
	}
	if now.Sub(rs.lastCleanup) >= time.Second {
		rs.lastCleanup = now
		if a.Tree().NeedsCleanup(a.Now()) {
			a.Propose(tree.AppendCleanup(nil, a.Now()))
		}
	}
}
