package tree

import (
	"errors"
	"fmt"

	"github.com/vrkeeper/vrkeeper/zkproto"
)

// ErrZxidOrder is returned by Apply for a zxid not above the last applied
// one; nothing is applied.
var ErrZxidOrder = errors.New("tree: zxid out of order")

// Apply applies one command under zxid and describes the result in out
// (reset first; reuse it across calls). Every replica calling Apply with the
// same commands in the same order reaches the same state and the same
// outputs.
//
// Every command consumes its zxid: failed writes, duplicates and even a
// malformed command (for which Apply returns an error wrapping ErrBadCommand
// and sets out.Code to MARSHALLINGERROR, changing nothing else) advance
// LastZxid, so replicas stay in step whatever they were given. A zxid not
// above LastZxid is refused with ErrZxidOrder and changes nothing.
//
// The tree's clock advances to the command's time if that is later (never
// back), and every time the tree stores or compares comes from that clock.
func (t *Tree) Apply(zxid int64, cmd []byte, out *Output) error {
	if zxid <= t.lastZxid {
		return fmt.Errorf("%w: %d after %d", ErrZxidOrder, zxid, t.lastZxid)
	}
	var h cmdHeader
	err := h.parse(cmd)
	if err != nil {
		out.reset(0)
		out.Code = zkproto.ErrMarshallingError
		t.lastZxid = zxid
		return err
	}
	out.reset(h.kind)
	t.lastZxid = zxid
	t.now = max(t.now, h.time)
	switch h.kind {
	case KindClientWrite:
		t.applyClientWrite(zxid, &h, out)
	case KindOpenSession:
		t.applyOpenSession(&h, out)
	case KindExpireSessions:
		t.applyExpireSessions(zxid, &h, out)
	case KindRenewSessions:
		t.applyRenewSessions(&h)
	case KindCleanup:
		t.applyCleanup(zxid, h.maxNeverUsed, out)
	case KindAttachSession:
		t.applyAttachSession(&h, out)
	}
	out.finish(zxid)
	return nil
}

// applyClientWrite applies a client's write request: a session that is not
// open gets SESSIONEXPIRED (but closing it succeeds); a write its owner did
// not send gets SESSIONMOVED, a copy of an applied write is answered from
// the duplicate table, one out of sequence is refused (dedup.go); anything
// else runs and its answer is recorded.
func (t *Tree) applyClientWrite(zxid int64, h *cmdHeader, out *Output) {
	out.SessionID, out.Cxid, out.Op = h.session, h.cxid, h.op
	out.Owner, out.Seq = h.owner, h.seq
	s := t.sessions[h.session]
	if s == nil {
		// Closing a session that is gone succeeds: a closeSession
		// re-forwarded after a failover finds its session already closed.
		if h.op != zkproto.OpCloseSession {
			out.Code = zkproto.ErrSessionExpired
		}
		return
	}
	dup, code := s.admit(h.owner, h.seq)
	switch {
	case dup == DupRepeat:
		out.Dup, out.Code = dup, code
		out.Body = append(out.Body, s.lastBody...)
		return
	case dup == DupGap && !s.broken:
		t.updateSession(s, func(s *session) { s.broken = true })
		fallthrough
	case dup != DupNone, code != zkproto.OK:
		out.Dup, out.Code = dup, code
		return
	}
	if h.op == zkproto.OpCloseSession {
		t.closeSession(zxid, s, out)
		return
	}
	w := writeCtx{t: t, zxid: zxid, session: s.id, auth: t.decodeAuth(h), policy: h.policy, out: out}
	out.Code = w.exec(h.op, h.body)
	if out.Code != zkproto.OK {
		out.Body = out.Body[:0]
	}
	t.updateSession(s, func(s *session) {
		s.lastSeen = t.now
		s.record(h.seq, out.Code, out.Body)
	})
}

// maxInternedStrings bounds the cache of identity strings.
const maxInternedStrings = 4096

// decodeAuth decodes the command's identities into scratch storage, with
// strings from a small cache so that the usual few identities cost no
// allocation per command.
func (t *Tree) decodeAuth(h *cmdHeader) []zkproto.Id {
	ids := t.s.auth[:0]
	var d zkproto.Decoder
	d.Reset(h.auth)
	for i := 0; i < h.nAuth; i++ {
		scheme := t.internString(d.BytesView())
		ids = append(ids, zkproto.Id{Scheme: scheme, ID: t.internString(d.BytesView())})
	}
	t.s.auth = ids
	return ids
}

func (t *Tree) internString(b []byte) string {
	if s, ok := t.s.strings[string(b)]; ok {
		return s
	}
	if len(t.s.strings) >= maxInternedStrings {
		clear(t.s.strings)
	}
	s := string(b)
	t.s.strings[s] = s
	return s
}

// writeCtx is one client write being applied.
type writeCtx struct {
	t       *Tree
	zxid    int64
	session int64
	auth    []zkproto.Id
	policy  WritePolicy // the accepting server's, from the command
	out     *Output
	inMulti bool // inside a multi: record undo information, defer ACL releases
}

// exec runs one write request and returns its code, appending the reply
// body to out.Body.
func (w *writeCtx) exec(op zkproto.OpCode, body []byte) zkproto.Code {
	var d zkproto.Decoder
	d.Reset(body)
	switch op {
	case zkproto.OpCreate, zkproto.OpCreate2, zkproto.OpCreateContainer, zkproto.OpCreateTTL:
		var r createReq
		if !r.decode(&d, op == zkproto.OpCreateTTL, &w.t.s.acl) {
			return zkproto.ErrMarshallingError
		}
		return w.createAndReply(op, &r)
	case zkproto.OpDelete:
		var r versionReq
		if !r.decode(&d) {
			return zkproto.ErrMarshallingError
		}
		return w.delete(&r)
	case zkproto.OpSetData:
		var r setDataReq
		if !r.decode(&d) {
			return zkproto.ErrMarshallingError
		}
		return w.setDataAndReply(&r)
	case zkproto.OpSetACL:
		var r setACLReq
		if !r.decode(&d, &w.t.s.acl) {
			return zkproto.ErrMarshallingError
		}
		return w.setACL(&r)
	case zkproto.OpMulti:
		return w.multi(body)
	case zkproto.OpSync:
		path := d.BytesView()
		if d.Err() != nil {
			return zkproto.ErrMarshallingError
		}
		w.out.Body = appendBytesString(w.out.Body, path)
		return zkproto.OK
	case zkproto.OpReconfig:
		return zkproto.ErrReconfigDisabled
	case zkproto.OpCheck:
		// Only inside a multi (ZOOKEEPER-2623); 3.8.0 applies it and then
		// fails to answer at all.
		return zkproto.ErrUnimplemented
	}
	return zkproto.ErrUnimplemented
}

func appendBytesString[P byteString](b []byte, s P) []byte {
	b = zkproto.AppendInt32(b, int32(len(s)))
	return append(b, s...)
}
