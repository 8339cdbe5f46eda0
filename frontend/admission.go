package frontend

import "github.com/vrkeeper/vrkeeper/internal/budget"

// Admission. A request read from a connection holds a share of the
// connection's bounds (Config.MaxOutstanding, MaxOutstandingBytes) and of
// the server's (TotalOutstanding, TotalOutstandingBytes) from the moment it
// is read until its reply is queued, or until the connection is gone. While
// a bound is reached the connection's reader waits, so the connection is
// not read: its requests wait in the socket and then in the client, as
// with ZooKeeper's globalOutstandingLimit. A connection whose outbox holds
// more than OutboxSoftBytes of unsent replies is not read either. Everything
// a request can fill on its way (the session's queue, the reads waiting for
// a read index, the proposals waiting for replication) is thereby bounded
// by what the connections hold.
//
// A request is charged its frame and the connection's identities, which
// every write command carries.

// newConnBudget returns the per-connection bound of c's server.
func newConnBudget(s *Server) *budget.Budget {
	return budget.New(s.cfg.MaxOutstanding, s.cfg.MaxOutstandingBytes)
}

// admit waits until a request of frameLen bytes may be taken from c and
// returns its charge; ok is false if the connection ended meanwhile. It
// runs on c's reader.
func (c *conn) admit(frameLen int) (charge int, ok bool) {
	if !c.out.waitBelow(c.srv.cfg.OutboxSoftBytes) {
		return 0, false
	}
	charge = 4 + frameLen + int(c.authBytes.Load())
	if !c.own.Take(charge, c.out.done) {
		return 0, false
	}
	if !c.srv.total.Take(charge, c.out.done) {
		c.own.Give(charge)
		return 0, false
	}
	return charge, true
}

// release gives back r's share once it is answered. It runs on the apply
// goroutine; after the connection is gone its shares are given back
// already (releaseAll).
func (c *conn) release(r *request) {
	if r.charge == 0 {
		return
	}
	c.inCore.Add(-1)
	if c.gone {
		r.charge = 0
		return
	}
	c.own.Give(r.charge)
	c.srv.total.Give(r.charge)
	r.charge = 0
}

// releaseAll gives back every share the connection holds: it is gone, and
// its requests are dropped. It runs on the apply goroutine after the reader
// ended.
func (c *conn) releaseAll() {
	items, bytes := c.own.Held()
	c.own.GiveMany(items, bytes)
	c.srv.total.GiveMany(items, bytes)
}
