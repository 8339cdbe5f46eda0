package tree

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/vrkeeper/vrkeeper/zkproto"
)

// A command is what the log replicates: one client write or one session or
// clean-up event, with everything that makes applying it deterministic (the
// requester, the primary's clock, the requester's identities). Replicas
// validate and execute it in Apply, so they reach the same state and the same
// answer. The encoding is compact and versioned:
//
//	byte    format version (commandFormat)
//	byte    kind
//	...     the kind's fields, big-endian as in jute:
//
//	client write:    int64 session, int32 cxid, int64 owner, int64 seq,
//	                 int64 time, byte policy, int32 n,
//	                 n × (ustring scheme, ustring id), int32 opcode, then
//	                 the client's request body, unchanged, to the end of
//	                 the command
//	open session:    int64 time, int32 timeout (ms), buffer password,
//	                 int64 owner
//	expire sessions: int64 time, int32 n, n × int64 session
//	renew sessions:  int64 time, int32 n, n × int64 session
//	clean-up:        int64 time, int64 maxNeverUsed (ms; format 3 only)
//	attach session:  int64 time, int64 session, int64 owner
//
// Time is the proposing primary's wall clock in ms since the epoch; it is the
// only clock the tree knows. Owner and seq identify a client write for
// duplicate suppression and session ownership (see dedup.go); format 1,
// which a log written before them holds, lacks them (a client write without
// owner and seq, an open without owner), and is still applied, as owner 0
// and seq 0. Policy (WritePolicy) is the part of the accepting server's
// configuration that decides how a write applies (ACL providers, skipACL,
// extended types); maxNeverUsed is the proposing primary's
// znode.container.maxNeverUsedIntervalMs (0: never-used containers stay).
// Formats 2 and 1, which lack both, are still applied with policy 0 (no
// x509 or sasl scheme, every check on, no TTL nodes) and maxNeverUsed 0,
// ZooKeeper's defaults. Formats 2 and 3 differ in nothing else.

// commandFormat is the version byte of every command this package writes;
// commandFormat2 is the one before the policy and the clean-up's
// maxNeverUsed, commandFormat1 the one before owners and sequence numbers,
// both still read.
const (
	commandFormat  = 3
	commandFormat2 = 2
	commandFormat1 = 1
)

// CommandKind says what a command does.
type CommandKind uint8

// The command kinds.
const (
	// KindClientWrite is a client's write request: create, create2,
	// createContainer, createTTL, delete, setData, setACL, check (only inside
	// multi), multi, reconfig and closeSession.
	KindClientWrite CommandKind = 1
	// KindOpenSession opens a session; the tree assigns its id.
	KindOpenSession CommandKind = 2
	// KindExpireSessions ends the listed sessions that have expired by the
	// command's time.
	KindExpireSessions CommandKind = 3
	// KindRenewSessions records that the listed sessions were alive at the
	// command's time.
	KindRenewSessions CommandKind = 4
	// KindCleanup removes the containers and TTL nodes that qualify at the
	// command's time, by the proposer's maxNeverUsed.
	KindCleanup CommandKind = 5
	// KindAttachSession records that a connection (named by an owner id the
	// server assigned) resumed the session: the session is renewed, the
	// connection becomes its owner with a fresh write sequence, writes of
	// any other connection fail with SESSIONMOVED from then on, and every
	// server closes its older connection of the session when it applies it.
	KindAttachSession CommandKind = 6
)

func (k CommandKind) String() string {
	switch k {
	case KindClientWrite:
		return "client-write"
	case KindOpenSession:
		return "open-session"
	case KindExpireSessions:
		return "expire-sessions"
	case KindRenewSessions:
		return "renew-sessions"
	case KindCleanup:
		return "cleanup"
	case KindAttachSession:
		return "attach-session"
	}
	return fmt.Sprintf("kind%d", uint8(k))
}

// ErrBadCommand is returned (wrapped) by Apply and DecodeCommand for bytes
// that are not a well-formed command of a known format version.
var ErrBadCommand = errors.New("tree: malformed command")

// ClientWrite is a client write request as a command.
type ClientWrite struct {
	SessionID int64
	// Cxid is the request's xid, opaque: clients may repeat it, send it out
	// of order or start it again from 1. It is echoed in Output.Cxid and
	// never compared.
	Cxid int32
	// Owner names the connection the request came on (assigned by the
	// server); a write whose owner is not the session's current owner fails
	// with SESSIONMOVED. 0 is the owner of a session opened without one.
	Owner int64
	// Seq numbers the owner's writes in arrival order from 1, with no gaps:
	// the duplicate-suppression key (see dedup.go). 0 applies the write
	// without duplicate suppression (tools and tests).
	Seq  int64
	Time int64 // the primary's clock, ms since the epoch
	// Auth holds the requester's identities: its ip id, every digest id it
	// authenticated, and {super, ""} if one of them is the super digest
	// (and its x509 and sasl ids, and theirs for super users).
	Auth []zkproto.Id
	// Policy is the configuration of the server that accepted the request
	// as far as it decides how the write applies (its ACL providers,
	// skipACL, extended types): the replicas apply the write by it,
	// whatever their own configuration.
	Policy WritePolicy
	Op     zkproto.OpCode
	Body   []byte // the request body exactly as the client sent it
}

// ClientWriteSize returns the encoded size of w's command, so that a
// proposer can allocate it once.
func ClientWriteSize(w *ClientWrite) int {
	n := 2 + 8 + 4 + 8 + 8 + 8 + 1 + 4 + 4 + len(w.Body) // ... time, policy, n, ..., opcode
	for i := range w.Auth {
		n += 8 + len(w.Auth[i].Scheme) + len(w.Auth[i].ID)
	}
	return n
}

// AppendClientWrite appends the command for a client write to dst.
func AppendClientWrite(dst []byte, w *ClientWrite) []byte {
	dst = append(dst, commandFormat, byte(KindClientWrite))
	dst = zkproto.AppendInt64(dst, w.SessionID)
	dst = zkproto.AppendInt32(dst, w.Cxid)
	dst = zkproto.AppendInt64(dst, w.Owner)
	dst = zkproto.AppendInt64(dst, w.Seq)
	dst = zkproto.AppendInt64(dst, w.Time)
	dst = append(dst, byte(w.Policy))
	dst = zkproto.AppendInt32(dst, int32(len(w.Auth)))
	for i := range w.Auth {
		dst = w.Auth[i].Append(dst)
	}
	dst = zkproto.AppendInt32(dst, int32(w.Op))
	return append(dst, w.Body...)
}

// AppendOpenSession appends the command that opens a session with the
// negotiated timeout (ms) and a password the proposer drew at random
// (zkproto.PasswordSize bytes), owned by owner 0 (for tools and tests; a
// server names the connection with AppendOwnedOpenSession). The password
// also identifies the open in Output.Opened, so the proposer can find the
// connection waiting for it.
func AppendOpenSession(dst []byte, time int64, timeout int32, passwd []byte) []byte {
	return AppendOwnedOpenSession(dst, time, timeout, passwd, 0)
}

// AppendOwnedOpenSession is AppendOpenSession for a session owned by the
// connection named owner: only writes carrying that owner apply to it
// until an attach names another.
func AppendOwnedOpenSession(dst []byte, time int64, timeout int32, passwd []byte, owner int64) []byte {
	dst = append(dst, commandFormat, byte(KindOpenSession))
	dst = zkproto.AppendInt64(dst, time)
	dst = zkproto.AppendInt32(dst, timeout)
	dst = zkproto.AppendBuffer(dst, passwd)
	return zkproto.AppendInt64(dst, owner)
}

// AppendExpireSessions appends the command that expires the given sessions;
// Apply ends only those that, by the command's time, have not been renewed
// within their timeout.
func AppendExpireSessions(dst []byte, time int64, ids []int64) []byte {
	return appendSessionList(dst, KindExpireSessions, time, ids)
}

// AppendRenewSessions appends the command that marks the given sessions alive
// at time.
func AppendRenewSessions(dst []byte, time int64, ids []int64) []byte {
	return appendSessionList(dst, KindRenewSessions, time, ids)
}

func appendSessionList(dst []byte, k CommandKind, time int64, ids []int64) []byte {
	dst = append(dst, commandFormat, byte(k))
	dst = zkproto.AppendInt64(dst, time)
	dst = zkproto.AppendInt32(dst, int32(len(ids)))
	for _, id := range ids {
		dst = zkproto.AppendInt64(dst, id)
	}
	return dst
}

// AppendAttachSession appends the command that records that the
// connection named owner resumed session id (see KindAttachSession).
func AppendAttachSession(dst []byte, time, id, owner int64) []byte {
	dst = append(dst, commandFormat, byte(KindAttachSession))
	dst = zkproto.AppendInt64(dst, time)
	dst = zkproto.AppendInt64(dst, id)
	return zkproto.AppendInt64(dst, owner)
}

// AppendCleanup appends the command that removes the containers and TTL
// nodes that qualify at time; maxNeverUsed is the proposer's
// znode.container.maxNeverUsedIntervalMs: a container that never had a
// child goes once it is older than that (ms), and never if it is 0 (or
// negative). The command carries it so that every replica removes the same
// nodes, whatever its own configuration.
func AppendCleanup(dst []byte, time, maxNeverUsed int64) []byte {
	dst = append(dst, commandFormat, byte(KindCleanup))
	dst = zkproto.AppendInt64(dst, time)
	return zkproto.AppendInt64(dst, maxNeverUsed)
}

// Command is a decoded command, for tools and tests; Apply decodes without it.
type Command struct {
	Kind       CommandKind
	Time       int64
	Write      ClientWrite // KindClientWrite
	Timeout    int32       // KindOpenSession
	Passwd     []byte      // KindOpenSession
	Owner      int64       // KindOpenSession, KindAttachSession
	SessionID  int64       // KindAttachSession
	SessionIDs []int64     // KindExpireSessions, KindRenewSessions
	// MaxNeverUsed is a clean-up's maxNeverUsed (ms; 0 for format 2 and
	// before).
	MaxNeverUsed int64 // KindCleanup
}

// DecodeCommand decodes b into c. Slices in c alias b.
func DecodeCommand(b []byte, c *Command) error {
	var h cmdHeader
	if err := h.parse(b); err != nil {
		return err
	}
	*c = Command{Kind: h.kind, Time: h.time}
	switch h.kind {
	case KindClientWrite:
		c.Write = ClientWrite{SessionID: h.session, Cxid: h.cxid, Owner: h.owner, Seq: h.seq, Time: h.time,
			Policy: h.policy, Op: h.op, Body: h.body}
		d := zkproto.NewDecoder(h.auth)
		for d.Remaining() > 0 {
			var id zkproto.Id
			if err := id.Decode(d); err != nil {
				return fmt.Errorf("%w: identity: %v", ErrBadCommand, err)
			}
			c.Write.Auth = append(c.Write.Auth, id)
		}
	case KindOpenSession:
		c.Timeout, c.Passwd, c.Owner = h.timeout, h.passwd, h.owner
	case KindAttachSession:
		c.SessionID, c.Owner = h.session, h.owner
	case KindCleanup:
		c.MaxNeverUsed = h.maxNeverUsed
	case KindExpireSessions, KindRenewSessions:
		for i := 0; i < h.nIDs; i++ {
			c.SessionIDs = append(c.SessionIDs, h.id(i))
		}
	}
	return nil
}

// cmdHeader is a parsed command; its slices alias the command bytes.
type cmdHeader struct {
	kind    CommandKind
	time    int64
	session int64       // client write
	cxid    int32       // client write
	seq     int64       // client write
	policy  WritePolicy // client write
	nAuth   int         // client write: number of identities
	auth    []byte      // client write: the encoded identities
	op      zkproto.OpCode
	body    []byte // client write
	timeout int32  // open session
	passwd  []byte // open session
	nIDs    int    // expire, renew
	ids     []byte // expire, renew: nIDs big-endian int64s
	owner   int64  // client write, open, attach

	maxNeverUsed int64 // clean-up
}

// maxPasswordSize bounds the password an open-session command may carry.
const maxPasswordSize = 256

func (h *cmdHeader) parse(b []byte) error {
	if len(b) < 2 {
		return fmt.Errorf("%w: %d bytes", ErrBadCommand, len(b))
	}
	format := b[0]
	if format != commandFormat && format != commandFormat2 && format != commandFormat1 {
		return fmt.Errorf("%w: format version %d", ErrBadCommand, format)
	}
	h.kind = CommandKind(b[1])
	var d zkproto.Decoder
	d.Reset(b[2:])
	switch h.kind {
	case KindClientWrite:
		h.session = d.Int64()
		h.cxid = d.Int32()
		if format != commandFormat1 {
			h.owner = d.Int64()
			h.seq = d.Int64()
		}
		h.time = d.Int64()
		if format == commandFormat {
			h.policy = WritePolicy(d.Byte())
			if h.policy&^policyKnown != 0 {
				return fmt.Errorf("%w: policy %#x", ErrBadCommand, uint8(h.policy))
			}
		}
		n := d.Int32()
		if n < 0 || int(n) > d.Remaining()/8 {
			return fmt.Errorf("%w: %d identities", ErrBadCommand, n)
		}
		h.nAuth = int(n)
		start := d.Offset()
		for i := 0; i < h.nAuth; i++ {
			d.BytesView()
			d.BytesView()
		}
		h.auth = b[2+start : 2+d.Offset()]
		h.op = zkproto.OpCode(d.Int32())
		if d.Err() == nil {
			h.body = b[2+d.Offset():]
		}
	case KindOpenSession:
		h.time = d.Int64()
		h.timeout = d.Int32()
		h.passwd = d.BytesView()
		if len(h.passwd) > maxPasswordSize {
			return fmt.Errorf("%w: password of %d bytes", ErrBadCommand, len(h.passwd))
		}
		if format != commandFormat1 {
			h.owner = d.Int64()
		}
	case KindExpireSessions, KindRenewSessions:
		h.time = d.Int64()
		n := d.Int32()
		if n < 0 || int(n)*8 != d.Remaining() {
			return fmt.Errorf("%w: %d session ids in %d bytes", ErrBadCommand, n, d.Remaining())
		}
		h.nIDs = int(n)
		h.ids = b[2+d.Offset():]
	case KindCleanup:
		h.time = d.Int64()
		if format == commandFormat {
			h.maxNeverUsed = d.Int64()
		}
		if d.Err() == nil && d.Remaining() != 0 {
			return fmt.Errorf("%w: clean-up with %d bytes left over", ErrBadCommand, d.Remaining())
		}
	case KindAttachSession:
		h.time = d.Int64()
		h.session = d.Int64()
		h.owner = d.Int64()
	default:
		return fmt.Errorf("%w: kind %d", ErrBadCommand, uint8(h.kind))
	}
	if err := d.Err(); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrBadCommand, h.kind, err)
	}
	return nil
}

// id returns the i-th session id of an expire or renew command.
func (h *cmdHeader) id(i int) int64 {
	return int64(binary.BigEndian.Uint64(h.ids[8*i:]))
}

// WriteKey identifies a client write: its session, the connection that
// sent it and its place among that connection's writes.
type WriteKey struct {
	SessionID int64
	Owner     int64
	Seq       int64
}

// PeekClientWrite returns the key of a client-write command without
// decoding the rest; ok is false for other commands (and for client writes
// of format 1, which have no owner and sequence number).
func PeekClientWrite(cmd []byte) (k WriteKey, ok bool) {
	if len(cmd) < 30 || (cmd[0] != commandFormat && cmd[0] != commandFormat2) || CommandKind(cmd[1]) != KindClientWrite {
		return WriteKey{}, false
	}
	return WriteKey{
		SessionID: int64(binary.BigEndian.Uint64(cmd[2:])),
		Owner:     int64(binary.BigEndian.Uint64(cmd[14:])),
		Seq:       int64(binary.BigEndian.Uint64(cmd[22:])),
	}, true
}
