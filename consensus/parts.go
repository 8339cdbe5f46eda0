package consensus

// Log suffixes in parts.
//
// DoViewChange, StartView, NewState and the primary's RecoveryResponse
// carry a log suffix: the entries After+1..Op (a bounded NewState stops
// short of Op, see sendNewState). That suffix may be tens of MB (up to
// MaxRetainedBytes of committed log plus the uncommitted ops), while every
// other message is bounded by a batch. So a sender splits the suffix into
// parts of at most Config.MaxPartBytes (commands plus entryOverhead per
// entry; an entry larger than that travels alone): one message per part,
// each carrying every scalar field of the whole message (the suffix
// message's "header": view, After, AfterView, Op, Commit, ..., and Bytes and
// Sum, the command bytes and fingerprint of the whole suffix) and a run of
// consecutive entries within After+1..Op. A message whose entries are the
// whole suffix is simply the message of before.
//
// Why not act on a part. A replica that installs a StartView (or a
// NewState that makes it a member of a view) claims last-normal-view = that
// view, and VR's view change relies on such a replica holding every op
// committed before the view started; a DoViewChange must present the
// sender's whole suffix so that the new primary picks the right log; a
// recovering replica must install the primary's whole log before it vouches
// for anything. So the receiver acts on none of these until it holds the
// whole suffix, and then does exactly what it did with the message in one
// piece (the handlers below are the handlers of before, called with the
// assembled message). Nothing of a partial assembly is persisted or
// acknowledged; it lives in memory only and a restart forgets it (the
// senders resend, see below).
//
// Which parts are assembled together. The receiver keeps one assembly per
// sender and kind, for one start point: the view and After, AfterView and
// snapshot of the suffix (and the nonce, for a RecoveryResponse). Parts of
// several messages with the same start point are merged by op: they carry
// the same entries at the same op, because
//
//   - StartView and NewState of view v come from the primary of v, whose
//     log in v only grows (a primary never truncates in its view, and a
//     restarted primary never leads its view again);
//   - a DoViewChange for v comes from a replica in view change to v, whose
//     log does not change while it is (it appends nothing; installing a
//     StartView or NewState of v ends the view change, and a restart only
//     loses a suffix of what it had);
//   - a RecoveryResponse to one nonce comes from the primary of its view,
//     as a StartView.
//
// The assembly takes the header of the newest message seen (largest Op) and
// completes when its run of entries reaches that Op. The argument above is
// not taken on trust: the receiver recomputes the completed suffix's bytes
// and fingerprint (the (op, view) of every entry: equal (op, view) means
// equal command) and drops the assembly if they differ from the header's
// (an invariant violation). Resends of an unchanged message merge with what
// arrived before, so duplicates and reordering only cost bandwidth, and a
// lost part is made good by the next resend, which sends every part: the
// DoViewChange every heartbeat of a view change, the StartView whenever a
// replica of the view change asks again (StartViewChange, DoViewChange),
// the NewState on every GetState (repeated every heartbeat), the
// RecoveryResponse on the recovering replica's repeated Recovery.
//
// Memory. An assembly is discarded when the view moves past its view (the
// handlers would ignore it), when its receiver installs that view, when a
// part with another start point and a view at least its own arrives from
// the same sender (the sender has moved on), and when the bytes it holds
// exceed the header's Bytes (the whole suffix's: parts of the same start
// point never hold more). So a receiver holds at most one suffix per sender
// and kind, as big as the sender's message, which is what a DoViewChange
// held in full by the primary took before.
//
// A NewState that reaches a replica already normal in its view is not
// assembled: such a replica only extends its log with the entries that
// follow it (any run of the primary's log of its view will do, as a
// Prepare's), so each part is taken alone.

// entryOverhead is what one entry adds to a part's size beyond its command
// (the wire's op, view and length: 20 bytes), rounded up.
const entryOverhead = 32

// suffixKind names the messages that carry a log suffix.
type suffixKind uint8

const (
	kindDoViewChange suffixKind = iota
	kindStartView
	kindNewState
	kindRecoveryResponse
	numSuffixKinds
)

// startKey is what the parts of messages assembled together share.
type startKey struct {
	view, after, afterView uint64
	snapOp, snapView       uint64
	hasSnap                bool
	nonce                  uint64
}

// suffix is the suffix a message carries.
type suffix struct {
	kind       suffixKind
	start      startKey
	op         uint64
	bytes, sum uint64
	entries    []Entry
}

func suffixOf(m Message) (suffix, bool) {
	snapKey := func(k *startKey, s *Snapshot) {
		if s != nil {
			k.hasSnap, k.snapOp, k.snapView = true, s.Op, s.View
		}
	}
	switch m := m.(type) {
	case *DoViewChange:
		return suffix{kindDoViewChange, startKey{view: m.View, after: m.After, afterView: m.AfterView}, m.Op, m.Bytes, m.Sum, m.Entries}, true
	case *StartView:
		return suffix{kindStartView, startKey{view: m.View, after: m.After, afterView: m.AfterView}, m.Op, m.Bytes, m.Sum, m.Entries}, true
	case *NewState:
		s := suffix{kindNewState, startKey{view: m.View, after: m.After, afterView: m.AfterView}, m.Op, m.Bytes, m.Sum, m.Entries}
		snapKey(&s.start, m.Snapshot)
		return s, true
	case *RecoveryResponse:
		s := suffix{kindRecoveryResponse, startKey{view: m.View, after: m.After, nonce: m.Nonce}, m.Op, m.Bytes, m.Sum, m.Entries}
		snapKey(&s.start, m.Snapshot)
		return s, true
	}
	return suffix{}, false
}

// withEntries returns a shallow copy of m carrying es, with the whole
// suffix's bytes and fingerprint.
func withEntries(m Message, es []Entry, bytes, sum uint64) Message {
	switch m := m.(type) {
	case *DoViewChange:
		c := *m
		c.Entries, c.Bytes, c.Sum = es, bytes, sum
		return &c
	case *StartView:
		c := *m
		c.Entries, c.Bytes, c.Sum = es, bytes, sum
		return &c
	case *NewState:
		c := *m
		c.Entries, c.Bytes, c.Sum = es, bytes, sum
		return &c
	case *RecoveryResponse:
		c := *m
		c.Entries, c.Bytes, c.Sum = es, bytes, sum
		return &c
	}
	panic("consensus: invariant suffix-message: " + m.String())
}

// fingerprint returns the command bytes of es and a fingerprint of their
// (op, view): by log matching, equal (op, view) means equal entries.
func fingerprint(es []Entry) (bytes, sum uint64) {
	sum = 0x9e3779b97f4a7c15
	for i := range es {
		bytes += uint64(len(es[i].Cmd))
		sum = mix64(mix64(sum^es[i].Op) ^ es[i].View)
	}
	return bytes, sum
}

// mix64 is SplitMix64's finalizer.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// splitEntries cuts es into runs of at most MaxPartBytes (commands plus
// entryOverhead each) and, if maxOps > 0, maxOps entries; an entry larger
// than a part travels alone. No entries make one empty part.
func (r *Replica) splitEntries(es []Entry, maxOps int) [][]Entry {
	if len(es) == 0 {
		return [][]Entry{nil}
	}
	var parts [][]Entry
	for len(es) > 0 {
		k, size := 0, 0
		for k < len(es) && (maxOps <= 0 || k < maxOps) {
			s := len(es[k].Cmd) + entryOverhead
			if k > 0 && size+s > r.cfg.MaxPartBytes {
				break
			}
			size += s
			k++
		}
		parts = append(parts, es[:k:k])
		es = es[k:]
	}
	return parts
}

// suffixParts returns m, a message carrying its whole suffix, as the
// messages of its parts (see splitEntries).
func (r *Replica) suffixParts(m Message, maxOps int) []Message {
	s, _ := suffixOf(m)
	bytes, sum := fingerprint(s.entries)
	parts := r.splitEntries(s.entries, maxOps)
	ms := make([]Message, len(parts))
	for i, es := range parts {
		ms[i] = withEntries(m, es, bytes, sum)
	}
	return ms
}

// sendSuffix sends every part of m (a message carrying its whole suffix)
// to to, after persistence if afterPersist.
func (r *Replica) sendSuffix(to ReplicaID, m Message, afterPersist bool) {
	r.sendParts(to, r.suffixParts(m, 0), afterPersist)
}

func (r *Replica) sendParts(to ReplicaID, ms []Message, afterPersist bool) {
	for _, p := range ms {
		if afterPersist {
			r.sendAfterPersist(to, p)
		} else {
			r.send(to, p)
		}
	}
}

// assembly gathers the parts of one sender's suffix (see the top of the
// file).
type assembly struct {
	start startKey
	head  Message // header of the newest message seen (its entries unused)
	op    uint64  // head's Op
	bytes uint64  // head's Bytes
	sum   uint64  // head's Sum
	// run holds the entries start.after+1 … start.after+len(run);
	// pending, parts beyond it, sorted by first op.
	run     []Entry
	pending [][]Entry
	held    uint64 // command bytes in run and pending
}

func (a *assembly) end() uint64 { return a.start.after + uint64(len(a.run)) }

func cmdBytes(es []Entry) uint64 {
	var n uint64
	for i := range es {
		n += uint64(len(es[i].Cmd))
	}
	return n
}

// add takes the entries es (a run within the suffix).
func (a *assembly) add(es []Entry) {
	if len(es) == 0 {
		return
	}
	last := es[len(es)-1].Op
	if last <= a.end() {
		return // a duplicate
	}
	first := es[0].Op
	if first > a.end()+1 {
		// Out of order: keep it until the run reaches it (the longer of
		// two parts that start at the same op).
		i := 0
		for i < len(a.pending) && a.pending[i][0].Op < first {
			i++
		}
		if i < len(a.pending) && a.pending[i][0].Op == first {
			if len(a.pending[i]) >= len(es) {
				return
			}
			a.held -= cmdBytes(a.pending[i])
			a.pending[i] = es
		} else {
			a.pending = append(a.pending, nil)
			copy(a.pending[i+1:], a.pending[i:])
			a.pending[i] = es
		}
		a.held += cmdBytes(es)
		return
	}
	tail := es[a.end()+1-first:]
	a.run = append(a.run, tail...)
	a.held += cmdBytes(tail)
	// Parts kept aside that the run now reaches.
	for len(a.pending) > 0 && a.pending[0][0].Op <= a.end()+1 {
		p := a.pending[0]
		a.pending = a.pending[1:]
		a.held -= cmdBytes(p)
		if l := p[len(p)-1].Op; l > a.end() {
			t := p[a.end()+1-p[0].Op:]
			a.run = append(a.run, t...)
			a.held += cmdBytes(t)
		}
	}
}

// partWanted reports whether a part of m (not its whole suffix) could
// matter to a handler once complete: the filters of the handlers, checked
// before anything is held.
func (r *Replica) partWanted(from ReplicaID, m Message) bool {
	switch m := m.(type) {
	case *DoViewChange:
		return r.status != StatusRecovering && m.View >= r.view && r.primaryOf(m.View) == r.id &&
			!(m.View == r.view && r.status == StatusNormal)
	case *StartView:
		return r.status != StatusRecovering && m.View >= r.view && from == r.primaryOf(m.View) &&
			!(m.View == r.view && r.status == StatusNormal)
	case *NewState:
		return r.status != StatusRecovering && m.View >= r.view && from == r.primaryOf(m.View) &&
			!(m.View == r.view && r.status == StatusNormal)
	case *RecoveryResponse:
		return r.status == StatusRecovering && m.Nonce == r.nonce && m.Primary
	}
	return false
}

// assemble returns the message m belongs to once its whole suffix arrived
// (m itself when it carries it), or nil.
func (r *Replica) assemble(from ReplicaID, m Message) Message {
	s, _ := suffixOf(m)
	if uint64(len(s.entries)) == s.op-s.start.after {
		return m
	}
	if !r.partWanted(from, m) {
		return nil
	}
	slot := &r.asm[s.kind][from]
	a := *slot
	if a == nil || a.start != s.start {
		if a != nil && a.start.view > s.start.view {
			return nil // a part of an earlier view's message
		}
		a = &assembly{start: s.start}
		*slot = a
	}
	if a.head == nil || s.op > a.op {
		a.head, a.op, a.bytes, a.sum = m, s.op, s.bytes, s.sum
	}
	a.add(s.entries)
	if a.held > a.bytes {
		r.log.Warn("dropping a log suffix whose parts exceed its size", "from", from, "message", m.String(), "held", a.held)
		*slot = nil
		return nil
	}
	if a.end() < a.op {
		return nil
	}
	*slot = nil
	es := a.run[: a.op-a.start.after : a.op-a.start.after]
	if bytes, sum := fingerprint(es); bytes != a.bytes || sum != a.sum {
		r.log.Warn(InvariantViolated+": suffix-parts: assembled parts differ from the suffix their sender announced",
			"from", from, "message", a.head.String(), "bytes", bytes, "sum", sum)
		return nil
	}
	return withEntries(a.head, es, a.bytes, a.sum)
}

// dropAssemblies discards the assemblies of kind whose view is below v.
func (r *Replica) dropAssemblies(kind suffixKind, v uint64) {
	for i, a := range r.asm[kind] {
		if a != nil && a.start.view < v {
			r.asm[kind][i] = nil
		}
	}
}
