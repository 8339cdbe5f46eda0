package tree

import "github.com/vrkeeper/vrkeeper/zkproto"

// Output is what applying one command produced. Reuse one Output across
// Apply calls: its slices keep their capacity, so a steady stream of
// commands allocates nothing for results. Body, Events (and their paths) and
// Closed are valid until the next Apply with the same Output; copy what must
// outlive it.
type Output struct {
	Kind CommandKind

	// For a client write: the requesting session, the request's xid and op,
	// and the connection that sent it with the write's number among that
	// connection's writes. Route the reply by Owner and Seq (only the server
	// holding that connection sends it); never by Cxid, which clients may
	// repeat.
	SessionID int64
	Cxid      int32
	Op        zkproto.OpCode
	Owner     int64
	Seq       int64

	// Dup tells whether the command was applied (or failed) now, or was
	// refused by the session's duplicate table (dedup.go).
	Dup DupStatus

	// Code is the reply header's error code. A failed multi has Code OK and
	// its per-op codes in Body, as in ZooKeeper.
	Code zkproto.Code

	// Body is the encoded reply body, to be written right after the
	// ReplyHeader; empty when Code is not OK and for ops without a body.
	Body []byte

	// Events are the watch triggers of the change, in the order ZooKeeper
	// fires them. Deliver them to this server's watchers before any reply
	// that reflects the change.
	Events []Event

	// Opened is set by an open-session command.
	Opened OpenedSession

	// Attached is set by an attach-session command for an open session.
	Attached AttachedSession

	// Closed lists the sessions this command ended (closeSession, expiry),
	// whose connections should now be closed.
	Closed []int64

	arena []byte      // backing store of the event paths
	evs   []eventSpan // events, with paths as spans of arena
}

// AttachedSession names the connection that now owns a session.
type AttachedSession struct {
	ID    int64 // 0: nothing attached (the session is gone)
	Owner int64 // the attaching connection's id, set for every attach command
}

// DupStatus says how a client write met the duplicate table.
type DupStatus uint8

// The duplicate statuses.
const (
	// DupNone: the command was applied (or rejected, SESSIONMOVED included)
	// now.
	DupNone DupStatus = iota
	// DupRepeat: a copy of the owner's last applied write; nothing was
	// applied and Code and Body are the recorded answer.
	DupRepeat
	// DupStale: a copy of an earlier write of the owner; it was not applied
	// and its answer is no longer known. Code is CONNECTIONLOSS.
	DupStale
	// DupGap: an earlier write of the owner is missing from the log (or was
	// refused so); not applied, and no later write of that owner will be.
	// Code is CONNECTIONLOSS: the connection must close.
	DupGap
)

// OpenedSession describes a session an open-session command created.
type OpenedSession struct {
	ID      int64 // never 0; 0 means no session was opened
	Timeout int32 // ms, as proposed
	Passwd  []byte
}

// Event is one watch trigger.
//
// Routing, as ZooKeeper's WatchManager does it for a path P and a watcher
// set per connection (each connection gets at most one copy of an event):
//   - NodeCreated(P), NodeDataChanged(P): data and exist watches on P,
//     persistent watches on P, persistent-recursive watches on P or any
//     ancestor of P.
//   - NodeDeleted(P): the same, plus child watches on P (a connection with
//     both a data and a child watch on P gets one event).
//   - NodeChildrenChanged(P): child watches on P and persistent watches on
//     P; never persistent-recursive ones.
//
// One-shot (data, exist, child) watches are removed when they fire.
// ZooKeeper (3.8 with CVE-2024-23944 fixed, as the anchor runs) delivers an
// event only to watchers whose identities hold READ on ACL: check with
// CheckPerm(ev.ACL, zkproto.PermRead, auth). A watch dropped by that check is
// still consumed.
type Event struct {
	Type zkproto.EventType
	Path []byte // valid until the next Apply with the same Output
	// ACL is the node's ACL: the created, changed or deleted node's, and for
	// NodeChildrenChanged the parent's. Read-only; it stays valid.
	ACL []zkproto.ACL
	// Zxid is the zxid of the change (the command's zxid).
	Zxid int64
}

type eventSpan struct {
	typ        zkproto.EventType
	start, end int
	acl        []zkproto.ACL
}

// reset prepares o for a new command.
func (o *Output) reset(kind CommandKind) {
	o.Kind = kind
	o.SessionID, o.Cxid, o.Op, o.Owner, o.Seq = 0, 0, 0, 0, 0
	o.Dup = DupNone
	o.Code = zkproto.OK
	o.Body = o.Body[:0]
	o.Events = o.Events[:0]
	o.Opened = OpenedSession{Passwd: o.Opened.Passwd[:0]}
	o.Closed = o.Closed[:0]
	o.Attached = AttachedSession{}
	o.arena = o.arena[:0]
	o.evs = o.evs[:0]
}

// addEvent records an event, copying its path into the output's arena.
func addEvent[P byteString](o *Output, typ zkproto.EventType, acl []zkproto.ACL, path P) {
	start := len(o.arena)
	o.arena = append(o.arena, path...)
	o.evs = append(o.evs, eventSpan{typ: typ, start: start, end: len(o.arena), acl: acl})
}

// addParentEvent records NodeChildrenChanged for the parent of path (which
// ends at lastSlash); the root's path is "/".
func addParentEvent[P byteString](o *Output, acl []zkproto.ACL, path P, slash int) {
	if slash == 0 {
		addEvent(o, zkproto.EventNodeChildrenChanged, acl, "/")
		return
	}
	addEvent(o, zkproto.EventNodeChildrenChanged, acl, path[:slash])
}

// truncateEvents drops events recorded after the first n (a failed multi).
func (o *Output) truncateEvents(n int) {
	if n < len(o.evs) {
		o.arena = o.arena[:o.evs[n].start]
		o.evs = o.evs[:n]
	}
}

// finish turns the event spans into Events.
func (o *Output) finish(zxid int64) {
	for _, e := range o.evs {
		o.Events = append(o.Events, Event{
			Type: e.typ, Path: o.arena[e.start:e.end:e.end], ACL: e.acl, Zxid: zxid,
		})
	}
}
