package frontend

import (
	"strings"
	"time"

	"github.com/vrkeeper/vrkeeper/bridge"
	"github.com/vrkeeper/vrkeeper/metrics"
	"github.com/vrkeeper/vrkeeper/tree"
	"github.com/vrkeeper/vrkeeper/zkproto"
)

// request takes a request from c's reader.
func (k *core) request(a *bridge.Apply, c *conn, r *request) {
	if c.gone {
		return
	}
	if c.sess == nil {
		// The session is still being opened or resumed: clients send their
		// first requests (auth, setWatches) right behind the handshake.
		c.waiting = append(c.waiting, r)
		return
	}
	k.process(a, c, r)
}

// process starts serving r and answers what can be answered.
func (k *core) process(a *bridge.Apply, c *conn, r *request) {
	sess := c.sess
	if r.op == zkproto.OpAuth && r.xid == zkproto.AuthXid {
		// Auth with its reserved xid is answered at once, out of band, as
		// ZooKeeper does; later requests see the new identities.
		k.auth(a, c, r)
		return
	}
	if r.op == zkproto.OpSASL {
		k.saslExchange(a, c, r) // security.go: out of band too
		return
	}
	if k.enforced(c, r) { // enforce.auth: closed without an identity of its schemes
		return
	}
	r.kind = classify(r.op)
	sess.queue = append(sess.queue, r)
	switch r.kind {
	case kindWrite:
		c.writeSeq++
		r.seq = c.writeSeq
		cmd, err := a.Write(&tree.ClientWrite{
			SessionID: sess.id, Cxid: r.xid, Owner: c.owner, Seq: r.seq,
			Auth: c.auth, Policy: k.s.cfg.writePolicy(), Op: r.op, Body: r.body,
		})
		r.cmd, r.body = cmd, nil
		if err != nil {
			k.refused(c, err)
			return
		}
		if r.op == zkproto.OpCloseSession {
			r.closeAfter = true
		}
	case kindRead:
		// Local (sequential) reads only while this server follows a live
		// primary: a server cut off from it may be arbitrarily stale, and
		// ZooKeeper stops serving then too; the read-index path fails or
		// waits instead.
		if k.s.cfg.SequentialReads && a.Role() != bridge.RoleNone {
			r.ready = true
		} else {
			k.awaitReadIndex(a, c, r)
		}
	case kindSync:
		k.awaitReadIndex(a, c, r)
	case kindLocal:
		r.ready = true
	}
	k.pump(a, sess)
}

// awaitReadIndex queues r for the next read-index round.
func (k *core) awaitReadIndex(a *bridge.Apply, c *conn, r *request) {
	k.collecting = append(k.collecting, readRef{c, r})
	if !k.roundInFlight {
		k.startRound(a)
	}
}

// startRound asks for one read index for every read collected so far.
func (k *core) startRound(a *bridge.Apply) {
	batch := k.collecting
	k.collecting = nil
	k.roundInFlight = true
	began := time.Now()
	a.AfterReadIndex(func(a *bridge.Apply, ok bool) {
		k.roundInFlight = false
		if ok {
			k.s.cfg.Metrics.ObserveDuration(metrics.VRReadBarrier, time.Since(began))
			k.s.cfg.Metrics.Observe(metrics.VRReadsPerBarrier, float64(len(batch)))
		}
		for _, ref := range batch {
			if ref.c.gone || ref.c.sess == nil {
				continue
			}
			if !ok {
				// No primary to confirm the read: the client will retry
				// elsewhere, as with a ZooKeeper follower that lost its leader.
				ref.c.close()
				continue
			}
			ref.r.ready = true
		}
		for _, ref := range batch {
			if !ref.c.gone && ref.c.sess != nil {
				k.pump(a, ref.c.sess)
			}
		}
		if len(k.collecting) > 0 {
			k.startRound(a)
		}
	})
}

// pump sends the replies at the head of the session's queue that are known
// or can be computed now, in request order.
func (k *core) pump(a *bridge.Apply, sess *sessionState) {
	c := sess.conn
	for len(sess.queue) > 0 && c != nil {
		r := sess.queue[0]
		if !r.done {
			if r.kind == kindWrite || !r.ready {
				return
			}
			k.execute(a, c, r)
		}
		sess.queue[0] = nil
		sess.queue = sess.queue[1:]
		k.reply(a, c, r)
		if r.closeAfter {
			k.detach(c)
			c.close()
			return
		}
	}
}

// reply sends r's answer.
func (k *core) reply(a *bridge.Apply, c *conn, r *request) {
	h := zkproto.ReplyHeader{Xid: r.xid, Zxid: a.Applied(), Err: r.code}
	switch r.op {
	case zkproto.OpAuth:
		h.Zxid = 0 // ZooKeeper answers auth outside the pipeline, at zxid 0
	case zkproto.OpPing:
		h.Xid = zkproto.PingXid // ZooKeeper answers every ping so, whatever its xid
	}
	c.send(&h, r.reply)
	r.sent = true
	c.answered(r, h.Zxid)
	k.s.stats.answered(k.s.cfg.Metrics, r.op, r.kind, time.Since(r.arrived))
}

// execute computes the answer of a read or local request at the head of
// its session's queue, against the current tree.
func (k *core) execute(a *bridge.Apply, c *conn, r *request) {
	r.done = true
	t := a.Tree()
	switch r.kind {
	case kindRead, kindSync:
		r.reply, r.code = t.Read(r.op, r.body, c.sess.id, c.readAuth(), nil)
		k.registerWatch(c, r)
		return
	}
	switch r.op {
	case zkproto.OpPing:
		r.code = zkproto.OK
	case zkproto.OpAuth:
		k.applyAuth(c, r)
		r.closeAfter = r.code != zkproto.OK
	case zkproto.OpSetWatches, zkproto.OpSetWatches2:
		r.code = k.setWatches(t, c, r)
	case zkproto.OpCheckWatches, zkproto.OpRemoveWatches:
		var req zkproto.CheckWatchesRequest // same layout as RemoveWatchesRequest
		if zkproto.Unmarshal(r.body, &req) != nil {
			r.code = zkproto.ErrMarshallingError
			return
		}
		var found bool
		if r.op == zkproto.OpCheckWatches {
			found = k.registry.Has(req.Path, WatcherID(c.id), req.Type)
		} else {
			found = k.registry.Remove(req.Path, WatcherID(c.id), req.Type)
		}
		if !found {
			r.code = zkproto.ErrNoWatcher
		}
	case zkproto.OpAddWatch:
		var req zkproto.AddWatchRequest
		if zkproto.Unmarshal(r.body, &req) != nil {
			r.code = zkproto.ErrMarshallingError
			return
		}
		switch req.Mode {
		case zkproto.AddWatchPersistent, zkproto.AddWatchPersistentRecursive:
			k.registry.AddPersistent(req.Path, WatcherID(c.id), req.Mode == zkproto.AddWatchPersistentRecursive)
			r.reply = zkproto.AppendInt32(nil, 0) // ErrorResponse{OK}
		default:
			r.code = zkproto.ErrBadArguments
		}
	case zkproto.OpWhoAmI:
		resp := zkproto.WhoAmIResponse{}
		ids := append([]zkproto.Id(nil), c.auth...)
		tree.OrderIdentities(ids) // ZooKeeper lists them in its hash set's order
		for _, id := range ids {
			user := id.ID
			if id.Scheme == "digest" {
				user, _, _ = strings.Cut(user, ":")
			}
			resp.ClientInfo = append(resp.ClientInfo, zkproto.ClientInfo{AuthScheme: id.Scheme, User: user})
		}
		r.reply = resp.Append(nil)
	default:
		r.code = zkproto.ErrUnimplemented
	}
}

// registerWatch registers the watch a successful read asked for: exists
// watches a missing node too (for NodeCreated).
func (k *core) registerWatch(c *conn, r *request) { c.watchRead(r.op, r.body, r.code) }

// setWatches re-registers a reconnecting client's watches, sending at once
// the events it missed (before the reply, as ZooKeeper does).
func (k *core) setWatches(t *tree.Tree, c *conn, r *request) zkproto.Code {
	var req zkproto.SetWatches2
	var err error
	if r.op == zkproto.OpSetWatches {
		var old zkproto.SetWatches
		err = zkproto.Unmarshal(r.body, &old)
		req = zkproto.SetWatches2{RelativeZxid: old.RelativeZxid, DataWatches: old.DataWatches,
			ExistWatches: old.ExistWatches, ChildWatches: old.ChildWatches}
	} else {
		err = zkproto.Unmarshal(r.body, &req)
	}
	if err != nil {
		return zkproto.ErrMarshallingError
	}
	w := WatcherID(c.id)
	oneShot := func(paths []string, kind tree.WatchKind, add func(string, WatcherID)) {
		for _, p := range paths {
			if ev, fire := t.CatchUp(kind, p, req.RelativeZxid); fire {
				c.sendEvent(ev, []byte(p))
			} else {
				add(p, w)
			}
		}
	}
	oneShot(req.DataWatches, tree.WatchData, k.registry.AddData)
	oneShot(req.ExistWatches, tree.WatchExist, k.registry.AddData)
	oneShot(req.ChildWatches, tree.WatchChild, k.registry.AddChild)
	for _, p := range req.PersistentWatches {
		k.registry.AddPersistent(p, w, false)
	}
	for _, p := range req.PersistentRecursiveWatches {
		k.registry.AddPersistent(p, w, true)
	}
	return zkproto.OK
}

// auth handles an auth packet with the reserved xid: answered at once.
func (k *core) auth(a *bridge.Apply, c *conn, r *request) {
	k.applyAuth(c, r)
	h := zkproto.ReplyHeader{Xid: r.xid, Zxid: 0, Err: r.code}
	c.send(&h, nil)
	c.release(r)
	if r.code != zkproto.OK {
		c.close() // ZooKeeper closes the connection after a failed auth
	}
}

// applyAuth adds the identities of an auth packet to c, or sets
// AUTHFAILED for a scheme it does not know or a malformed packet.
func (k *core) applyAuth(c *conn, r *request) {
	var p zkproto.AuthPacket
	if zkproto.Unmarshal(r.body, &p) != nil {
		r.code = zkproto.ErrAuthFailed
		return
	}
	switch p.Scheme {
	case "digest":
		ids := tree.DigestAuth(p.Auth, k.s.cfg.SuperDigest)
		if len(ids) == 0 {
			r.code = zkproto.ErrAuthFailed
			k.s.stats.authFailed.Add(1)
			k.s.cfg.Metrics.Add(metrics.AuthFailedCount, 1)
			return
		}
		size := c.authBytes.Load()
		for _, id := range ids {
			if !containsID(c.auth, id) {
				size += int64(idSize(id))
			}
		}
		if size > int64(k.s.cfg.AuthBytes) {
			// The identities travel in every write of the connection: past
			// the bound its writes would not fit a command (see Config).
			r.code = zkproto.ErrAuthFailed
			return
		}
		for _, id := range ids {
			if !containsID(c.auth, id) {
				c.auth = append(c.auth, id)
			}
		}
		c.authBytes.Store(size)
		r.code = zkproto.OK
	default:
		r.code = zkproto.ErrAuthFailed
		k.s.stats.authFailed.Add(1)
		k.s.cfg.Metrics.Add(metrics.AuthFailedCount, 1)
	}
}

// idSize is an identity's encoded size in a command.
func idSize(id zkproto.Id) int { return 8 + len(id.Scheme) + len(id.ID) }

func containsID(ids []zkproto.Id, id zkproto.Id) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}
