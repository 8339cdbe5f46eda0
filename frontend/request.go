package frontend

import (
	"time"

	"github.com/vrkeeper/vrkeeper/bridge"
	"github.com/vrkeeper/vrkeeper/zkproto"
)

// reqKind says how a request is served.
type reqKind uint8

const (
	// kindWrite requests are replicated as commands and answered when this
	// server applies them.
	kindWrite reqKind = iota
	// kindRead requests read the tree; in linearizable mode they wait for a
	// quorum-confirmed read index first.
	kindRead
	// kindSync waits for a read index in every mode: it is the barrier.
	kindSync
	// kindLocal requests are answered from this server's own state (watches,
	// identities, pings) once the requests before them are answered.
	kindLocal
)

// request is one client request from its arrival to its reply. It is its
// own task on the apply goroutine (Run).
type request struct {
	c       *conn
	xid     int32
	op      zkproto.OpCode
	body    []byte // the request body as received
	arrived time.Time
	kind    reqKind
	cmd     []byte // a write's command, kept to propose it again after a view change
	seq     int64  // a write's number among its connection's writes
	charge  int    // its share of the outstanding bounds, until answered (admission.go)

	ready bool // a read's index is applied, or a local op may run
	done  bool // the reply is known (code and reply)
	code  zkproto.Code
	reply []byte // the reply body, for code OK
	// closeAfter closes the connection once the reply is sent
	// (closeSession).
	closeAfter bool
	sent       bool // the reply is queued
}

// Run hands the request to the core, on the apply goroutine.
func (r *request) Run(a *bridge.Apply) { r.c.srv.core.request(a, r.c, r) }

// classify returns how op is served.
func classify(op zkproto.OpCode) reqKind {
	switch op {
	case zkproto.OpCreate, zkproto.OpCreate2, zkproto.OpCreateContainer, zkproto.OpCreateTTL,
		zkproto.OpDelete, zkproto.OpSetData, zkproto.OpSetACL, zkproto.OpCheck,
		zkproto.OpMulti, zkproto.OpReconfig, zkproto.OpCloseSession:
		return kindWrite
	case zkproto.OpExists, zkproto.OpGetData, zkproto.OpGetChildren, zkproto.OpGetChildren2,
		zkproto.OpGetACL, zkproto.OpGetAllChildrenNumber, zkproto.OpGetEphemerals, zkproto.OpMultiRead:
		return kindRead
	case zkproto.OpSync:
		return kindSync
	}
	return kindLocal
}
