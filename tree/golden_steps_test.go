package tree

import (
	"fmt"
	"strings"

	"github.com/vrkeeper/vrkeeper/zkproto"
)

// script is a named sequence of steps.
type script struct {
	name  string
	about string
	steps []step
}

type stepKind int

const (
	stepOpen stepKind = iota + 1
	stepClose
	stepAuth
	stepCall
	stepSetWatches
	stepAddWatch
	stepSleep
	stepAwait
	stepExpire
)

// unordered reports whether a step's events may come in any order: the
// steps that remove several nodes at once, which ZooKeeper does in hash
// order.
func (k stepKind) unordered() bool { return k == stepClose || k == stepExpire || k == stepAwait }

type step struct {
	kind    stepKind
	session string
	op      zkproto.OpCode
	req     zkproto.Record
	scheme  string
	data    []byte
	relStep int
	sw      *zkproto.SetWatches2
	path    string
	mode    zkproto.AddWatchMode
	ms      int64
}

type stepResult struct {
	zxid int64
	text string
}

// run runs the step as step number idx; a zxid the step consumed is
// labelled with idx before its answer is normalised.
func (st step) run(ex executor, n *normalizer, idx int) stepResult {
	switch st.kind {
	case stepOpen:
		return stepResult{zxid: ex.open(st.session)}
	case stepClose:
		r := ex.closeSession(st.session)
		n.label(r.zxid, idx)
		return stepResult{zxid: r.zxid, text: n.reply(zkproto.OpCloseSession, r)}
	case stepAuth:
		return stepResult{text: ex.auth(st.session, st.scheme, st.data).Name()}
	case stepCall:
		r := ex.call(st.session, st.op, st.req)
		var res stepResult
		if st.op.IsWrite() {
			res.zxid = r.zxid
			n.label(r.zxid, idx)
		}
		res.text = n.reply(st.op, r)
		return res
	case stepSetWatches:
		ex.setWatches(st.session, n.stepZxid[st.relStep], st.sw)
	case stepAddWatch:
		return stepResult{text: n.reply(zkproto.OpAddWatch, ex.addWatch(st.session, st.path, st.mode))}
	case stepSleep:
		ex.sleep(st.ms)
	case stepAwait:
		return stepResult{zxid: ex.awaitGone(st.path)}
	case stepExpire:
		return stepResult{zxid: ex.expire(st.session, st.path)}
	}
	return stepResult{}
}

func (st step) describe() string {
	switch st.kind {
	case stepOpen:
		return st.session + " open"
	case stepClose:
		return st.session + " close"
	case stepAuth:
		return fmt.Sprintf("%s auth %s %q", st.session, st.scheme, st.data)
	case stepCall:
		return st.session + " " + describeRequest(st.op, st.req)
	case stepSetWatches:
		sw := st.sw
		return fmt.Sprintf("%s setWatches rel=@%d data=%v exist=%v child=%v persistent=%v recursive=%v",
			st.session, st.relStep, sw.DataWatches, sw.ExistWatches, sw.ChildWatches,
			sw.PersistentWatches, sw.PersistentRecursiveWatches)
	case stepAddWatch:
		return fmt.Sprintf("%s addWatch %s mode=%d", st.session, st.path, st.mode)
	case stepSleep:
		return fmt.Sprintf("sleep %dms", st.ms)
	case stepAwait:
		return "await removal of " + st.path
	case stepExpire:
		return fmt.Sprintf("%s expires (await removal of %s)", st.session, st.path)
	}
	return "?"
}

func describeRequest(op zkproto.OpCode, req zkproto.Record) string {
	switch r := req.(type) {
	case *zkproto.CreateRequest:
		return fmt.Sprintf("%s %q data=%s acl=%s flags=%d", op, r.Path, quote(r.Data), formatACL(r.ACL), r.Flags)
	case *zkproto.CreateTTLRequest:
		return fmt.Sprintf("%s %q data=%s acl=%s flags=%d ttl=%d", op, r.Path, quote(r.Data), formatACL(r.ACL), r.Flags, r.TTL)
	case *zkproto.DeleteRequest:
		return fmt.Sprintf("%s %q version=%d", op, r.Path, r.Version)
	case *zkproto.CheckVersionRequest:
		return fmt.Sprintf("%s %q version=%d", op, r.Path, r.Version)
	case *zkproto.SetDataRequest:
		return fmt.Sprintf("%s %q data=%s version=%d", op, r.Path, quote(r.Data), r.Version)
	case *zkproto.SetACLRequest:
		return fmt.Sprintf("%s %q acl=%s version=%d", op, r.Path, formatACL(r.ACL), r.Version)
	case *zkproto.ExistsRequest:
		return fmt.Sprintf("%s %q watch=%v", op, r.Path, r.Watch)
	case *zkproto.GetDataRequest:
		return fmt.Sprintf("%s %q watch=%v", op, r.Path, r.Watch)
	case *zkproto.GetChildrenRequest:
		return fmt.Sprintf("%s %q watch=%v", op, r.Path, r.Watch)
	case *zkproto.GetChildren2Request:
		return fmt.Sprintf("%s %q watch=%v", op, r.Path, r.Watch)
	case *zkproto.GetACLRequest:
		return fmt.Sprintf("%s %q", op, r.Path)
	case *zkproto.GetAllChildrenNumberRequest:
		return fmt.Sprintf("%s %q", op, r.Path)
	case *zkproto.GetEphemeralsRequest:
		return fmt.Sprintf("%s %q", op, r.PrefixPath)
	case *zkproto.SyncRequest:
		return fmt.Sprintf("%s %q", op, r.Path)
	case *zkproto.MultiRequest:
		parts := make([]string, len(r.Ops))
		for i, o := range r.Ops {
			parts[i] = describeRequest(o.Type, o.Body)
		}
		return fmt.Sprintf("%s [%s]", op, strings.Join(parts, " | "))
	case rawBody:
		return fmt.Sprintf("%s raw=%x", op, []byte(r))
	case nil:
		return op.String()
	}
	return fmt.Sprintf("%s %+v", op, req)
}

// rawBody is a request body given as bytes, sent unchecked.
type rawBody []byte

func (r rawBody) Append(b []byte) []byte { return append(b, r...) }

func (r rawBody) Decode(*zkproto.Decoder) error { return fmt.Errorf("rawBody is write-only") }

// Step constructors: a script reads as sessions making calls, e.g.
// A.create("/a", b("x"), openAll, 0).

// sess names a session in a script.
type sess string

func (s sess) open() step  { return step{kind: stepOpen, session: string(s)} }
func (s sess) close() step { return step{kind: stepClose, session: string(s)} }

func (s sess) auth(scheme, data string) step {
	return step{kind: stepAuth, session: string(s), scheme: scheme, data: []byte(data)}
}

func (s sess) call(op zkproto.OpCode, req zkproto.Record) step {
	return step{kind: stepCall, session: string(s), op: op, req: req}
}

func (s sess) create(path string, data []byte, acl []zkproto.ACL, flags zkproto.CreateMode) step {
	return s.call(zkproto.OpCreate, &zkproto.CreateRequest{Path: path, Data: data, ACL: acl, Flags: flags})
}

func (s sess) create2(path string, data []byte, acl []zkproto.ACL, flags zkproto.CreateMode) step {
	return s.call(zkproto.OpCreate2, &zkproto.CreateRequest{Path: path, Data: data, ACL: acl, Flags: flags})
}

func (s sess) createContainer(path string, data []byte, flags zkproto.CreateMode) step {
	return s.call(zkproto.OpCreateContainer, &zkproto.CreateRequest{Path: path, Data: data, ACL: openAll, Flags: flags})
}

func (s sess) createTTL(path string, data []byte, flags zkproto.CreateMode, ttl int64) step {
	return s.call(zkproto.OpCreateTTL, &zkproto.CreateTTLRequest{Path: path, Data: data, ACL: openAll, Flags: flags, TTL: ttl})
}

func (s sess) delete(path string, version int32) step {
	return s.call(zkproto.OpDelete, &zkproto.DeleteRequest{Path: path, Version: version})
}

func (s sess) setData(path string, data []byte, version int32) step {
	return s.call(zkproto.OpSetData, &zkproto.SetDataRequest{Path: path, Data: data, Version: version})
}

func (s sess) setACL(path string, acl []zkproto.ACL, version int32) step {
	return s.call(zkproto.OpSetACL, &zkproto.SetACLRequest{Path: path, ACL: acl, Version: version})
}

func (s sess) exists(path string, watch bool) step {
	return s.call(zkproto.OpExists, &zkproto.ExistsRequest{Path: path, Watch: watch})
}

func (s sess) getData(path string, watch bool) step {
	return s.call(zkproto.OpGetData, &zkproto.GetDataRequest{Path: path, Watch: watch})
}

func (s sess) getChildren(path string, watch bool) step {
	return s.call(zkproto.OpGetChildren, &zkproto.GetChildrenRequest{Path: path, Watch: watch})
}

func (s sess) getChildren2(path string, watch bool) step {
	return s.call(zkproto.OpGetChildren2, &zkproto.GetChildren2Request{Path: path, Watch: watch})
}

func (s sess) getACL(path string) step {
	return s.call(zkproto.OpGetACL, &zkproto.GetACLRequest{Path: path})
}

func (s sess) allChildren(path string) step {
	return s.call(zkproto.OpGetAllChildrenNumber, &zkproto.GetAllChildrenNumberRequest{Path: path})
}

func (s sess) ephemerals(prefix string) step {
	return s.call(zkproto.OpGetEphemerals, &zkproto.GetEphemeralsRequest{PrefixPath: prefix})
}

func (s sess) multi(ops ...zkproto.MultiOp) step {
	return s.call(zkproto.OpMulti, &zkproto.MultiRequest{Ops: ops})
}

func (s sess) multiRead(ops ...zkproto.MultiOp) step {
	return s.call(zkproto.OpMultiRead, &zkproto.MultiRequest{Ops: ops})
}

func (s sess) raw(op zkproto.OpCode, body []byte) step { return s.call(op, rawBody(body)) }

func (s sess) addWatch(path string, mode zkproto.AddWatchMode) step {
	return step{kind: stepAddWatch, session: string(s), path: path, mode: mode}
}

func (s sess) setWatches(relStep int, sw zkproto.SetWatches2) step {
	return step{kind: stepSetWatches, session: string(s), relStep: relStep, sw: &sw}
}

func (s sess) expire(path string) step { return step{kind: stepExpire, session: string(s), path: path} }

func sleep(ms int64) step { return step{kind: stepSleep, ms: ms} }

func await(path string) step { return step{kind: stepAwait, path: path} }

// Multi ops.

func opCreate(path string, data []byte, flags zkproto.CreateMode) zkproto.MultiOp {
	return zkproto.MultiOp{Type: zkproto.OpCreate, Body: &zkproto.CreateRequest{Path: path, Data: data, ACL: openAll, Flags: flags}}
}

func opDelete(path string, version int32) zkproto.MultiOp {
	return zkproto.MultiOp{Type: zkproto.OpDelete, Body: &zkproto.DeleteRequest{Path: path, Version: version}}
}

func opSetData(path string, data []byte, version int32) zkproto.MultiOp {
	return zkproto.MultiOp{Type: zkproto.OpSetData, Body: &zkproto.SetDataRequest{Path: path, Data: data, Version: version}}
}

func opCheck(path string, version int32) zkproto.MultiOp {
	return zkproto.MultiOp{Type: zkproto.OpCheck, Body: &zkproto.CheckVersionRequest{Path: path, Version: version}}
}

func opGetData(path string) zkproto.MultiOp {
	return zkproto.MultiOp{Type: zkproto.OpGetData, Body: &zkproto.GetDataRequest{Path: path}}
}

func opGetChildren(path string) zkproto.MultiOp {
	return zkproto.MultiOp{Type: zkproto.OpGetChildren, Body: &zkproto.GetChildrenRequest{Path: path}}
}

// b makes data from a string.
func b(s string) []byte { return []byte(s) }

// null is null data (-1 on the wire).
var null []byte

var (
	openAll  = []zkproto.ACL{{Perms: zkproto.PermAll, ID: zkproto.Id{Scheme: "world", ID: "anyone"}}}
	readOnly = []zkproto.ACL{{Perms: zkproto.PermRead, ID: zkproto.Id{Scheme: "world", ID: "anyone"}}}
)

func acl(perms int32, scheme, id string) zkproto.ACL {
	return zkproto.ACL{Perms: perms, ID: zkproto.Id{Scheme: scheme, ID: id}}
}
