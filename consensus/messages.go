package consensus

import (
	"fmt"
	"strings"
)

// Message is one VR protocol message. Every message carries the epoch and the
// sender's view (Header). The concrete types are op-specific; entries and
// snapshots inside them are shared by reference (slices of immutable entries,
// snapshot handles), never copied per message. A message handed to the driver
// or received from it must not be modified.
type Message interface {
	header() *Header
	// validate checks the message's internal consistency (bounded input).
	validate() error
	String() string
}

// Header is carried by every message.
type Header struct {
	Epoch uint64 // configuration epoch
	View  uint64 // sender's view
}

func (h *Header) header() *Header { return h }

// Envelope addresses a message.
type Envelope struct {
	From, To ReplicaID
	Msg      Message
}

func (e Envelope) String() string { return fmt.Sprintf("%d->%d %s", e.From, e.To, e.Msg) }

// Prepare carries a batch of consecutive entries starting at After+1 (Entries
// may be empty only in retransmissions), the primary's commit-number,
// global_min_accept and current read round.
type Prepare struct {
	Header
	After           uint64  // op preceding Entries[0]
	Entries         []Entry // consecutive, Entries[i].Op == After+1+i
	Commit          uint64
	GlobalMinAccept uint64
	ReadRound       uint64 // latest read round of the primary; acks echo it
	Lease           LeaseGrant
}

// PrepareOk acknowledges that the sender's log, up to Op, is durable and equal
// to the primary's log of View. Gap says the sender dropped a Prepare it could
// not append (it lacks earlier ops): the primary resends from Op+1.
type PrepareOk struct {
	Header
	Op        uint64
	Gap       bool
	ReadRound uint64 // highest read round seen from the primary in View
	LeaseReq  uint64 // read lease request (lease.go); 0: none
	Promise   uint64 // the sender's promise length in ns (lease.go); 0: none
}

// Commit is the primary's heartbeat: commit-number, global_min_accept and the
// current read round (a read round asks every backup to answer).
type Commit struct {
	Header
	Commit          uint64
	GlobalMinAccept uint64
	ReadRound       uint64
	Lease           LeaseGrant
}

// CommitOk answers Commit: the backup is normal in View, its durable log
// reaches Op and it has seen read round ReadRound.
type CommitOk struct {
	Header
	Op        uint64
	Commit    uint64
	ReadRound uint64
	LeaseReq  uint64 // read lease request (lease.go); 0: none
	Promise   uint64 // the sender's promise length in ns (lease.go); 0: none
}

// StartViewChange announces that the sender moved to View (durably).
type StartViewChange struct{ Header }

// DoViewChange is sent to the primary of View. It carries the sender's log
// suffix after After (= max(global_min_accept, log start)), in parts (see
// parts.go): one message per part, each with the whole suffix's fields and
// a run of its entries. The primary counts it once every part arrived.
type DoViewChange struct {
	Header
	LastNormalView  uint64
	Op              uint64 // last op of the sender's log
	Commit          uint64
	GlobalMinAccept uint64
	After           uint64
	AfterView       uint64 // view of the entry at After (0 when unknown)
	Bytes, Sum      uint64 // of the whole suffix: see Suffix
	Entries         []Entry
}

// StartView installs the new primary's log: entries after After (the new
// primary's global_min_accept), in parts like DoViewChange; a replica
// installs it once every part arrived.
type StartView struct {
	Header
	Op              uint64 // the primary's last op
	Commit          uint64
	GlobalMinAccept uint64
	After           uint64
	AfterView       uint64
	Bytes, Sum      uint64 // of the whole suffix: see Suffix
	Entries         []Entry
}

// GetState asks the primary of View for its log after Op (the requester's
// commit-number).
type GetState struct {
	Header
	Op             uint64
	LastNormalView uint64 // requester's; below View, the answer must hold the whole log
}

// NewState answers GetState (or is sent unsolicited to a backup whose next op
// was garbage collected): an optional snapshot, then the primary's entries
// after After. For a replica already normal in View it may stop short of Op
// (at most Config.MaxStateOps entries; Prepares bring the rest); for one that
// joins View it holds the whole log up to Op, in parts like StartView.
type NewState struct {
	Header
	Snapshot        *Snapshot // non-nil: After == Snapshot.Op and the receiver installs it
	Op              uint64    // the primary's last op; Entries may stop short of it
	Commit          uint64
	GlobalMinAccept uint64
	After           uint64
	AfterView       uint64
	Bytes, Sum      uint64 // of the whole suffix After+1..Op: see Suffix
	Entries         []Entry
}

// Recovery is broadcast by a replica without durable state (a new server,
// or a lost disk) or whose recovery was interrupted.
type Recovery struct {
	Header
	Nonce   uint64
	Cluster uint64 // the sender's cluster, 0 if it has none yet
}

// RecoveryResponse answers Recovery. Every replica answers; only the
// primary of a view it is normal in fills in its state.
type RecoveryResponse struct {
	Header
	Nonce           uint64
	Cluster         uint64 // the responder's cluster (0: none)
	Blank           bool   // the responder has no durable state either (or is recovering)
	Normal          bool   // the responder is normal in View
	Pristine        bool   // the responder is a member that holds no state: empty log, no snapshot, nothing committed
	Seed            bool   // the responder was seeded by an operator and is the sole source of state
	Primary         bool   // the responder is the primary of View; the fields below are its state
	Snapshot        *Snapshot
	Op              uint64
	Commit          uint64
	GlobalMinAccept uint64
	After           uint64
	Bytes, Sum      uint64 // of the whole suffix: see Suffix
	Entries         []Entry
}

// PreViewChange asks whether the receiver would change to View (the
// sender's next view) too; the sender has not moved (see prevote.go).
type PreViewChange struct{ Header }

// PreViewChangeOk grants a PreViewChange for View.
type PreViewChangeOk struct{ Header }

// Forward carries client commands from a backup to the primary.
type Forward struct {
	Header
	Cmds [][]byte
}

// ReadIndexRequest asks the primary for a read op-number for every read the
// backup registered up to Seq.
type ReadIndexRequest struct {
	Header
	Session uint64 // random per incarnation of the requester; echoed
	Seq     uint64
}

// ReadIndexResponse gives the read op-number for the backup's reads up to
// Seq: it is committed, and was the primary's op-number after the request
// arrived, confirmed by a quorum.
type ReadIndexResponse struct {
	Header
	Session uint64 // the request's Session: answers to an earlier incarnation are ignored
	Seq     uint64
	Op      uint64
}

func checkRun(after uint64, es []Entry) error {
	for i := range es {
		if es[i].Op != after+1+uint64(i) {
			return fmt.Errorf("%w: entry %d has op %d, want %d", ErrBadMessage, i, es[i].Op, after+1+uint64(i))
		}
	}
	return nil
}

func (m *Prepare) validate() error {
	if err := m.Lease.validate(); err != nil {
		return err
	}
	return checkRun(m.After, m.Entries)
}
func (m *PrepareOk) validate() error         { return nil }
func (m *Commit) validate() error            { return m.Lease.validate() }
func (m *CommitOk) validate() error          { return nil }
func (m *StartViewChange) validate() error   { return nil }
func (m *GetState) validate() error          { return nil }
func (m *Recovery) validate() error          { return nil }
func (m *ReadIndexRequest) validate() error  { return nil }
func (m *ReadIndexResponse) validate() error { return nil }
func (m *Forward) validate() error           { return nil }
func (m *PreViewChange) validate() error     { return nil }
func (m *PreViewChangeOk) validate() error   { return nil }

// checkPart checks a message that carries the part es of the log suffix
// after..op: consecutive entries within it.
func checkPart(after, op uint64, es []Entry) error {
	if op < after {
		return fmt.Errorf("%w: suffix op %d before after %d", ErrBadMessage, op, after)
	}
	if len(es) == 0 {
		if op != after {
			// (Only an empty suffix travels as an empty part.)
			return fmt.Errorf("%w: suffix %d..%d without entries", ErrBadMessage, after+1, op)
		}
		return nil
	}
	if es[0].Op <= after || es[0].Op-after-1 > op-after-uint64(len(es)) || uint64(len(es)) > op-after {
		return fmt.Errorf("%w: part ops %d..+%d outside suffix %d..%d", ErrBadMessage, es[0].Op, len(es), after+1, op)
	}
	return checkRun(es[0].Op-1, es)
}

func (m *DoViewChange) validate() error { return checkPart(m.After, m.Op, m.Entries) }
func (m *StartView) validate() error    { return checkPart(m.After, m.Op, m.Entries) }

func (m *NewState) validate() error {
	if m.Snapshot != nil && m.Snapshot.Op != m.After {
		return fmt.Errorf("%w: new-state snapshot op %d != after %d", ErrBadMessage, m.Snapshot.Op, m.After)
	}
	return checkPart(m.After, m.Op, m.Entries)
}

func (m *RecoveryResponse) validate() error {
	if !m.Primary {
		return nil
	}
	if m.Snapshot != nil && m.Snapshot.Op != m.After {
		return fmt.Errorf("%w: recovery-response snapshot op %d != after %d", ErrBadMessage, m.Snapshot.Op, m.After)
	}
	if m.Snapshot == nil && m.After != 0 {
		return fmt.Errorf("%w: recovery-response without snapshot starts after op %d", ErrBadMessage, m.After)
	}
	return checkPart(m.After, m.Op, m.Entries)
}

func opsString(after uint64, es []Entry) string {
	if len(es) == 0 {
		return fmt.Sprintf("after=%d ops=none", after)
	}
	return fmt.Sprintf("after=%d ops=%d..%d", after, es[0].Op, es[len(es)-1].Op)
}

func snapString(s *Snapshot) string {
	if s == nil {
		return ""
	}
	return fmt.Sprintf(" snap=%d", s.Op)
}

func (m *Prepare) String() string {
	return fmt.Sprintf("Prepare{v=%d %s commit=%d gma=%d round=%d%s}", m.View, opsString(m.After, m.Entries), m.Commit, m.GlobalMinAccept, m.ReadRound, m.Lease)
}
func (m *PrepareOk) String() string {
	gap := ""
	if m.Gap {
		gap = " gap"
	}
	return fmt.Sprintf("PrepareOk{v=%d op=%d round=%d%s%s}", m.View, m.Op, m.ReadRound, gap, leaseReqString(m.LeaseReq))
}
func (m *Commit) String() string {
	return fmt.Sprintf("Commit{v=%d commit=%d gma=%d round=%d%s}", m.View, m.Commit, m.GlobalMinAccept, m.ReadRound, m.Lease)
}
func (m *CommitOk) String() string {
	return fmt.Sprintf("CommitOk{v=%d op=%d commit=%d round=%d%s}", m.View, m.Op, m.Commit, m.ReadRound, leaseReqString(m.LeaseReq))
}
func (m *StartViewChange) String() string { return fmt.Sprintf("StartViewChange{v=%d}", m.View) }
func (m *PreViewChange) String() string   { return fmt.Sprintf("PreViewChange{v=%d}", m.View) }
func (m *PreViewChangeOk) String() string { return fmt.Sprintf("PreViewChangeOk{v=%d}", m.View) }
func (m *DoViewChange) String() string {
	return fmt.Sprintf("DoViewChange{v=%d lnv=%d op=%d commit=%d gma=%d %s}", m.View, m.LastNormalView, m.Op, m.Commit, m.GlobalMinAccept, opsString(m.After, m.Entries))
}
func (m *StartView) String() string {
	return fmt.Sprintf("StartView{v=%d op=%d commit=%d gma=%d %s}", m.View, m.Op, m.Commit, m.GlobalMinAccept, opsString(m.After, m.Entries))
}
func (m *GetState) String() string {
	return fmt.Sprintf("GetState{v=%d lnv=%d op=%d}", m.View, m.LastNormalView, m.Op)
}
func (m *NewState) String() string {
	return fmt.Sprintf("NewState{v=%d op=%d commit=%d gma=%d%s %s}", m.View, m.Op, m.Commit, m.GlobalMinAccept, snapString(m.Snapshot), opsString(m.After, m.Entries))
}
func (m *Recovery) String() string {
	return fmt.Sprintf("Recovery{v=%d nonce=%x cluster=%x}", m.View, m.Nonce, m.Cluster)
}
func (m *RecoveryResponse) String() string {
	var flags string
	for _, f := range []struct {
		on   bool
		name string
	}{{m.Blank, " blank"}, {m.Normal, " normal"}, {m.Pristine, " pristine"}, {m.Seed, " seed"}} {
		if f.on {
			flags += f.name
		}
	}
	if !m.Primary {
		return fmt.Sprintf("RecoveryResponse{v=%d nonce=%x cluster=%x%s}", m.View, m.Nonce, m.Cluster, flags)
	}
	return fmt.Sprintf("RecoveryResponse{v=%d nonce=%x cluster=%x%s primary op=%d commit=%d gma=%d%s %s}", m.View, m.Nonce, m.Cluster, flags, m.Op, m.Commit, m.GlobalMinAccept, snapString(m.Snapshot), opsString(m.After, m.Entries))
}
func (m *Forward) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Forward{v=%d cmds=%d}", m.View, len(m.Cmds))
	return b.String()
}
func (m *ReadIndexRequest) String() string {
	return fmt.Sprintf("ReadIndexRequest{v=%d seq=%d}", m.View, m.Seq)
}
func (m *ReadIndexResponse) String() string {
	return fmt.Sprintf("ReadIndexResponse{v=%d seq=%d op=%d}", m.View, m.Seq, m.Op)
}
