package tree

import "github.com/vrkeeper/vrkeeper/zkproto"

// Duplicate suppression and session ownership.
//
// A write may reach the log more than once: a server proposes again, after
// a view change, every write it has not seen applied, and the first copy
// may have been committed after all. Each copy must apply once, and nothing
// about the client can tell copies apart: xids are opaque to ZooKeeper,
// which answers a session's requests in arrival order whatever their xids
// (they may repeat, go backwards, or start again from 1 when a new client
// handle resumes the session).
//
// So the key is the server's: every session has an owner, the connection
// that opened or last resumed it (an id the server assigned to that
// connection), and the server numbers the owner's writes 1, 2, 3... in
// arrival order (Seq). A write applies only if it comes from the owner and
// is the owner's next one; the session keeps the last applied number and
// that write's answer:
//
//   - another owner: the session moved (an attach named a newer
//     connection); the write fails with SESSIONMOVED, as in ZooKeeper, and
//     changes nothing. This also stops a copy, proposed again after the
//     move, of a write applied before it.
//   - seq = last + 1: applied and recorded.
//   - seq = last: a copy of the last write, answered from the table
//     (DupRepeat); seq < last: an older copy, whose answer is gone
//     (DupStale); neither applies.
//   - seq > last + 1: an earlier write of the connection never reached the
//     log (lost with a primary); applying this one would break the
//     session's order, so it is refused (DupGap), and so is every later
//     write of that owner: the session's applied writes stay a prefix of
//     what the connection sent, and its server closes the connection.
//
// An attach starts a new owner at 0; seq 0 (commands of tools, tests and
// logs from before sequence numbers) applies without these checks.

// admit tells whether a write of owner numbered seq applies to s, and what
// to answer if not.
func (s *session) admit(owner, seq int64) (DupStatus, zkproto.Code) {
	switch {
	case owner != s.owner:
		return DupNone, zkproto.ErrSessionMoved
	case seq == 0:
		return DupNone, zkproto.OK
	case s.broken:
		return DupGap, zkproto.ErrConnectionLoss
	case seq == s.lastSeq:
		return DupRepeat, s.lastCode
	case seq < s.lastSeq:
		return DupStale, zkproto.ErrConnectionLoss
	case seq > s.lastSeq+1:
		return DupGap, zkproto.ErrConnectionLoss
	}
	return DupNone, zkproto.OK
}

// record stores the answer of the owner's write numbered seq.
func (s *session) record(seq int64, code zkproto.Code, body []byte) {
	if seq == 0 {
		return
	}
	s.lastSeq, s.lastCode = seq, code
	s.lastBody = append(s.lastBody[:0], body...)
}

// setOwner makes owner the session's owner with an empty sequence.
func (s *session) setOwner(owner int64) {
	s.owner, s.lastSeq, s.broken = owner, 0, false
	s.lastCode, s.lastBody = zkproto.OK, s.lastBody[:0]
}
