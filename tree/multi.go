package tree

import (
	"github.com/vrkeeper/vrkeeper/zkproto"
)

// A multi applies its ops one by one, each seeing the effects of the ones
// before (as ZooKeeper's pending change records do), and records how to undo
// each. If an op fails, the undo log puts the tree back exactly as it was
// (digest included), its events are dropped, and every op gets an error
// result: OK before the failing op, its code at it, RUNTIMEINCONSISTENCY
// after. The reply header carries OK either way.

type undoKind uint8

const (
	undoCreate undoKind = iota + 1
	undoDelete
	undoSetData
)

// undoRecord is what undoing one applied op of a multi needs.
type undoRecord struct {
	kind    undoKind
	parent  *node  // create, delete
	n       *node  // the node created, deleted or changed
	path    string // create, delete: the index key of a non-persistent node
	pathLen int    // create, delete: the length of the node's path
	creates int32  // create: the parent's creates before
	pzxid   int64  // create, delete: the parent's pzxid before
	// setData: the node's fields before
	data     string
	nullData bool
	version  int32
	mzxid    int64
	mtime    int64
	h        uint64
}

// multiOp is one op of a multi request as ZooKeeper normalises it.
type multiOp struct {
	op   zkproto.OpCode
	body []byte // from the op's body to the end of the request
}

// maxMultiOps bounds the ops of one multi; each takes at least a 9-byte
// header, so a frame of the largest jute.maxbuffer a server accepts (64 MiB,
// bridge.MaxJuteMaxBuffer) holds fewer.
const maxMultiOps = (64 << 20) / 9

// multi runs a multi request and appends its MultiResponse.
func (w *writeCtx) multi(body []byte) zkproto.Code {
	t := w.t
	// Read the whole request first, as ZooKeeper deserialises it: a
	// malformed one, or one with an op a multi cannot hold, fails as a
	// whole without touching anything.
	n, ok := scanMulti(body)
	if !ok {
		return zkproto.ErrMarshallingError
	}
	w.inMulti = true
	t.s.undo = t.s.undo[:0]
	t.s.release = t.s.release[:0]
	eventsBefore := len(w.out.evs)
	bodyStart := len(w.out.Body)
	failedAt, failCode := -1, zkproto.OK

	var d zkproto.Decoder
	d.Reset(body)
	for i := 0; i < n; i++ {
		var h zkproto.MultiHeader
		h.Decode(&d)
		code := w.multiOp(h.Type, &d)
		if code != zkproto.OK {
			failedAt, failCode = i, code
			break
		}
	}
	if failedAt < 0 {
		w.out.Body = appendMultiEnd(w.out.Body)
		for _, i := range t.s.release {
			t.acls.release(i)
		}
		t.s.release = t.s.release[:0]
		clear(t.s.undo)
		t.s.undo = t.s.undo[:0]
		return zkproto.OK
	}
	t.rollback()
	w.out.truncateEvents(eventsBefore)
	w.out.Body = w.out.Body[:bodyStart]
	if failCode == zkproto.ErrMarshallingError {
		return failCode // the whole request failed, not one op
	}
	for i := 0; i < n; i++ {
		code := zkproto.OK
		switch {
		case i == failedAt:
			code = failCode
		case i > failedAt:
			code = zkproto.ErrRuntimeInconsistency
		}
		h := zkproto.MultiHeader{Type: zkproto.OpError, Err: code}
		w.out.Body = h.Append(w.out.Body)
		w.out.Body = zkproto.AppendInt32(w.out.Body, int32(code))
	}
	w.out.Body = appendMultiEnd(w.out.Body)
	return zkproto.OK
}

func appendMultiEnd(b []byte) []byte {
	h := zkproto.MultiHeader{Type: -1, Done: true, Err: -1}
	return h.Append(b)
}

// scanMulti checks a multi request's framing and op types and counts its ops.
func scanMulti(body []byte) (int, bool) {
	var d zkproto.Decoder
	d.Reset(body)
	var scratch []aclEntryView
	for n := 0; n <= maxMultiOps; n++ {
		var h zkproto.MultiHeader
		if h.Decode(&d) != nil {
			return 0, false
		}
		if h.Done {
			return n, true
		}
		switch h.Type {
		case zkproto.OpCreate, zkproto.OpCreate2, zkproto.OpCreateContainer, zkproto.OpCreateTTL:
			var r createReq
			if !r.decode(&d, h.Type == zkproto.OpCreateTTL, &scratch) {
				return 0, false
			}
		case zkproto.OpDelete, zkproto.OpCheck:
			var r versionReq
			if !r.decode(&d) {
				return 0, false
			}
		case zkproto.OpSetData:
			var r setDataReq
			if !r.decode(&d) {
				return 0, false
			}
		default:
			// Read ops, or anything else: ZooKeeper refuses to mix reads
			// into a multi and fails the request with MARSHALLINGERROR.
			return 0, false
		}
	}
	return 0, false
}

// multiOp runs one op of a multi and appends its result. ZooKeeper rebuilds
// each create from its flags (MultiOperationRecord), so inside a multi the
// header type does not matter for creates: flags 4 make a container, the TTL
// flags a TTL node (createTTL only), anything else a node of the mode,
// answered as a plain create. MARSHALLINGERROR fails the whole multi.
func (w *writeCtx) multiOp(typ zkproto.OpCode, d *zkproto.Decoder) zkproto.Code {
	switch typ {
	case zkproto.OpCreate, zkproto.OpCreate2, zkproto.OpCreateContainer, zkproto.OpCreateTTL:
		var r createReq
		r.decode(d, typ == zkproto.OpCreateTTL, &w.t.s.acl)
		op := zkproto.OpCreate
		mode := zkproto.CreateMode(r.flags)
		switch {
		case mode == zkproto.ModeContainer:
			op = zkproto.OpCreateContainer
		case mode.TTL() && typ == zkproto.OpCreateTTL:
			op = zkproto.OpCreateTTL
		case mode.TTL():
			// A TTL mode without a ttl field: ZooKeeper cannot even build
			// the op and fails the whole multi.
			return zkproto.ErrMarshallingError
		case typ == zkproto.OpCreateTTL:
			r.ttl = -1 // ZooKeeper drops the ttl of a non-TTL mode
		}
		n, path, code := w.create(op, &r)
		if code != zkproto.OK {
			return code
		}
		if op == zkproto.OpCreate {
			w.appendResultHeader(zkproto.OpCreate)
			w.out.Body = appendBytesString(w.out.Body, path)
		} else {
			w.appendResultHeader(zkproto.OpCreate2)
			w.out.Body = appendBytesString(w.out.Body, path)
			w.out.Body = n.appendStat(w.out.Body)
		}
	case zkproto.OpDelete, zkproto.OpCheck:
		var r versionReq
		r.decode(d)
		run := w.delete
		if typ == zkproto.OpCheck {
			run = w.check
		}
		if code := run(&r); code != zkproto.OK {
			return code
		}
		w.appendResultHeader(typ)
	case zkproto.OpSetData:
		var r setDataReq
		r.decode(d)
		n, code := w.setData(&r)
		if code != zkproto.OK {
			return code
		}
		w.appendResultHeader(zkproto.OpSetData)
		w.out.Body = n.appendStat(w.out.Body)
	}
	return zkproto.OK
}

func (w *writeCtx) appendResultHeader(op zkproto.OpCode) {
	h := zkproto.MultiHeader{Type: op, Err: zkproto.OK}
	w.out.Body = h.Append(w.out.Body)
}

// rollback undoes the ops recorded in the undo log, last first.
func (t *Tree) rollback() {
	u := t.s.undo
	for i := len(u) - 1; i >= 0; i-- {
		r := &u[i]
		switch r.kind {
		case undoCreate:
			t.setStat(r.parent, func(p *node) {
				removeChild(p, r.n)
				p.creates, p.pzxid = r.creates, r.pzxid
			})
			unlinkNode(t, r.n, r.path, r.pathLen)
			t.acls.release(r.n.aclIndex())
		case undoDelete:
			t.setStat(r.parent, func(p *node) {
				addChild(p, r.n)
				p.pzxid = r.pzxid
			})
			linkNode(t, r.n, r.path, r.pathLen)
		case undoSetData:
			t.addDataSize(r.n, len(r.data)-len(r.n.data))
			t.setStat(r.n, func(n *node) {
				n.data, n.version, n.mzxid, n.mtime, n.h = r.data, r.version, r.mzxid, r.mtime, r.h
				n.aclRef &^= dataNullBit
				if r.nullData {
					n.aclRef |= dataNullBit
				}
			})
		}
	}
	clear(u)
	t.s.undo = u[:0]
	t.s.release = t.s.release[:0]
}
