package tree

import (
	"strings"
	"testing"

	"github.com/vrkeeper/vrkeeper/zkproto"
)

// treeExec runs steps against a Tree, with a model of the frontend's watch
// registry that routes the tree's events as ZooKeeper's WatchManager does.
type treeExec struct {
	t       *testing.T
	tree    *Tree
	out     Output
	zxid    int64
	clock   int64
	ids     map[string]int64
	names   map[int64]string
	auths   map[string][]zkproto.Id
	cxids   map[string]int32
	watches *watchModel
}

// treeClockStart is the tree's clock at the start of a script; each command
// advances it by a millisecond.
const treeClockStart = 1_700_000_000_000

func newTreeExec(t *testing.T) *treeExec {
	return &treeExec{
		t: t, tree: New(Config{}), clock: treeClockStart,
		ids: map[string]int64{}, names: map[int64]string{}, auths: map[string][]zkproto.Id{},
		cxids: map[string]int32{}, watches: newWatchModel(),
	}
}

// apply applies one command and routes its events.
func (e *treeExec) apply(cmd []byte) *Output {
	e.zxid++
	e.clock++
	if err := e.tree.Apply(e.zxid, cmd, &e.out); err != nil {
		e.t.Fatalf("apply: %v", err)
	}
	for _, ev := range e.out.Events {
		e.watches.trigger(ev, e.auths)
	}
	return &e.out
}

func (e *treeExec) open(name string) int64 {
	out := e.apply(AppendOpenSession(nil, e.clock, int32(sessionTimeout.Milliseconds()), make([]byte, 16)))
	e.ids[name] = out.Opened.ID
	e.names[out.Opened.ID] = name
	e.auths[name] = []zkproto.Id{IPID("127.0.0.1")}
	return e.zxid
}

func (e *treeExec) write(name string, op zkproto.OpCode, body []byte) reply {
	e.cxids[name]++
	out := e.apply(AppendClientWrite(nil, &ClientWrite{
		SessionID: e.ids[name], Cxid: e.cxids[name], Time: e.clock, Auth: e.auths[name],
		Policy: PolicyExtendedTypes, Op: op, Body: body, // the recording ZooKeeper has extended types on
	}))
	return reply{zxid: e.zxid, code: out.Code, body: append([]byte(nil), out.Body...)}
}

func (e *treeExec) closeSession(name string) reply {
	r := e.write(name, zkproto.OpCloseSession, nil)
	e.watches.drop(name)
	return r
}

func (e *treeExec) auth(name, scheme string, data []byte) zkproto.Code {
	if scheme != SchemeDigest {
		return zkproto.ErrAuthFailed
	}
	e.auths[name] = append(e.auths[name], DigestAuth(data, goldenSuperDigest)...)
	return zkproto.OK
}

// goldenSuperDigest is the super digest the recording ZooKeeper runs with
// ("super:secret").
const goldenSuperDigest = "super:lK75jTNcA+U9vtVEw5vB51mj/w4="

func (e *treeExec) call(name string, op zkproto.OpCode, req zkproto.Record) reply {
	var body []byte
	if req != nil {
		body = req.Append(nil)
	}
	if op.IsWrite() {
		return e.write(name, op, body)
	}
	res, code := e.tree.Read(op, body, e.ids[name], e.auths[name], nil)
	e.watches.register(name, op, req, code)
	return reply{zxid: e.zxid, code: code, body: res}
}

func (e *treeExec) setWatches(name string, rel int64, sw *zkproto.SetWatches2) {
	kinds := []struct {
		kind  WatchKind
		paths []string
	}{{WatchData, sw.DataWatches}, {WatchExist, sw.ExistWatches}, {WatchChild, sw.ChildWatches}}
	for _, k := range kinds {
		for _, p := range k.paths {
			if ev, fire := e.tree.CatchUp(k.kind, p, rel); fire {
				e.watches.deliver(name, ev, p)
			} else if k.kind == WatchChild {
				e.watches.add(e.watches.child, p, name, oneShot)
			} else {
				e.watches.add(e.watches.data, p, name, oneShot)
			}
		}
	}
	for _, p := range sw.PersistentWatches {
		e.watches.addBoth(p, name, persistentWatch)
	}
	for _, p := range sw.PersistentRecursiveWatches {
		e.watches.addBoth(p, name, recursiveWatch)
	}
}

func (e *treeExec) addWatch(name, path string, mode zkproto.AddWatchMode) reply {
	if mode == zkproto.AddWatchPersistentRecursive {
		e.watches.addBoth(path, name, recursiveWatch)
	} else {
		e.watches.addBoth(path, name, persistentWatch)
	}
	return reply{zxid: e.zxid, body: zkproto.Marshal(&zkproto.ErrorResponse{})}
}

func (e *treeExec) sleep(ms int64) { e.clock += ms }

// awaitGone applies a clean-up command at the first time the node at path
// qualifies (as ZooKeeper's clean-up loop would get to it), no earlier than
// now.
func (e *treeExec) awaitGone(path string) int64 {
	if n := e.tree.lookup(path); n != nil && n.kind() == kindTTL {
		e.clock = max(e.clock, n.mtime+n.ttl()+1)
	}
	e.apply(AppendCleanup(nil, e.clock, 0)) // the recording ZooKeeper's default interval
	if e.tree.lookup(path) != nil {
		e.t.Fatalf("clean-up left %s", path)
	}
	return e.zxid
}

func (e *treeExec) expire(name, path string) int64 {
	id := e.ids[name]
	e.clock += int64(sessionTimeout.Milliseconds()) + 1
	// The other sessions stay alive: renew them first.
	var others []int64
	for n, oid := range e.ids {
		if n != name {
			others = append(others, oid)
		}
	}
	e.apply(AppendRenewSessions(nil, e.clock, others))
	out := e.apply(AppendExpireSessions(nil, e.clock, []int64{id}))
	if len(out.Closed) != 1 || out.Closed[0] != id {
		e.t.Fatalf("expire %s: closed %v", name, out.Closed)
	}
	delete(e.ids, name)
	e.watches.drop(name)
	if e.tree.lookup(path) != nil {
		e.t.Fatalf("expiry left %s", path)
	}
	return e.zxid
}

func (e *treeExec) events(name string) []zkproto.WatcherEvent {
	return e.watches.take(name)
}

func (e *treeExec) sessionName(id int64) string { return e.names[id] }

// watchModel is a minimal watch registry with ZooKeeper's routing rules,
// standing in for the frontend's. Like ZooKeeper's WatchManager it keeps two
// tables, data (getData, exists) and child (getChildren), each holding one
// mode per path and session: a later watch on the same path replaces the
// mode of an earlier one in that table (a one-shot getData watch after a
// persistent watch makes the data side one-shot: ZooKeeper does exactly
// this).
type watchModel struct {
	data    map[string]map[string]watchMode
	child   map[string]map[string]watchMode
	pending map[string][]zkproto.WatcherEvent
}

type watchMode int

const (
	oneShot watchMode = iota + 1
	persistentWatch
	recursiveWatch
)

func newWatchModel() *watchModel {
	return &watchModel{data: map[string]map[string]watchMode{}, child: map[string]map[string]watchMode{},
		pending: map[string][]zkproto.WatcherEvent{}}
}

func (w *watchModel) add(table map[string]map[string]watchMode, path, session string, mode watchMode) {
	if table[path] == nil {
		table[path] = map[string]watchMode{}
	}
	table[path][session] = mode
}

// addBoth adds a persistent or recursive watch, which lives in both tables.
func (w *watchModel) addBoth(path, session string, mode watchMode) {
	w.add(w.data, path, session, mode)
	w.add(w.child, path, session, mode)
}

// register adds the watch a read asked for, by ZooKeeper's rules: exists
// watches a missing node too; the others watch only when they succeed.
func (w *watchModel) register(session string, op zkproto.OpCode, req zkproto.Record, code zkproto.Code) {
	switch r := req.(type) {
	case *zkproto.ExistsRequest:
		if r.Watch && (code == zkproto.OK || code == zkproto.ErrNoNode) {
			w.add(w.data, r.Path, session, oneShot)
		}
	case *zkproto.GetDataRequest:
		if r.Watch && code == zkproto.OK {
			w.add(w.data, r.Path, session, oneShot)
		}
	case *zkproto.GetChildrenRequest:
		if r.Watch && code == zkproto.OK {
			w.add(w.child, r.Path, session, oneShot)
		}
	case *zkproto.GetChildren2Request:
		if r.Watch && code == zkproto.OK {
			w.add(w.child, r.Path, session, oneShot)
		}
	}
}

func (w *watchModel) drop(session string) {
	for _, table := range []map[string]map[string]watchMode{w.data, w.child} {
		for _, set := range table {
			delete(set, session)
		}
	}
	delete(w.pending, session)
}

func (w *watchModel) deliver(session string, typ zkproto.EventType, path string) {
	w.pending[session] = append(w.pending[session], zkproto.WatcherEvent{Type: typ, State: zkproto.StateSyncConnected, Path: path})
}

func (w *watchModel) take(session string) []zkproto.WatcherEvent {
	evs := w.pending[session]
	delete(w.pending, session)
	return evs
}

// collect is WatchManager.triggerWatch on one table: the sessions watching
// path itself (one-shot watches are consumed) or, with recursive watches, an
// ancestor of it (never for NodeChildrenChanged).
func collect(table map[string]map[string]watchMode, path string, typ zkproto.EventType, got map[string]bool) {
	for p := path; ; p = parentPath(p) {
		for s, mode := range table[p] {
			switch {
			case mode == recursiveWatch:
				if typ != zkproto.EventNodeChildrenChanged {
					got[s] = true
				}
			case p == path:
				got[s] = true
				if mode == oneShot {
					delete(table[p], s)
				}
			}
		}
		if p == "/" {
			return
		}
	}
}

// trigger routes one event: each session gets it at most once, and sessions
// without READ on the node get nothing (their one-shot watches are still
// consumed).
func (w *watchModel) trigger(ev Event, auths map[string][]zkproto.Id) {
	path := string(ev.Path)
	got := map[string]bool{}
	switch ev.Type {
	case zkproto.EventNodeChildrenChanged:
		collect(w.child, path, ev.Type, got)
	case zkproto.EventNodeDeleted:
		collect(w.data, path, ev.Type, got)
		collect(w.child, path, ev.Type, got)
	default:
		collect(w.data, path, ev.Type, got)
	}
	var sessions []string
	for s := range got {
		sessions = append(sessions, s)
	}
	sortStrings(sessions)
	for _, s := range sessions {
		if CheckPerm(ev.ACL, zkproto.PermRead, auths[s]) {
			w.deliver(s, ev.Type, path)
		}
	}
}

func parentPath(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i <= 0 {
		return "/"
	}
	return p[:i]
}
