package bridge

import (
	"errors"
	"fmt"

	"github.com/vrkeeper/vrkeeper/bridge/peer"
	"github.com/vrkeeper/vrkeeper/consensus"
	"github.com/vrkeeper/vrkeeper/storage"
	"github.com/vrkeeper/vrkeeper/zkproto"
)

// Limits are the sizes a server bounds its work with. They all follow from
// one setting, ZooKeeper's jute.maxbuffer (the largest request frame a
// client may send), so that whatever ZooKeeper serves with a given
// jute.maxbuffer vrkeeper serves too, on a primary and through a backup
// (whose command crosses to the primary in a Forward), and so that every
// queue between a client and the disk has a bound in count and in bytes.
//
// The chain a write follows, and the limit at each step:
//
//	client frame       ≤ MaxBuffer                     (frontend: larger closes the connection, as ZooKeeper)
//	outstanding        ≤ ConnRequests, ConnBytes per connection; TotalRequests, TotalBytes per server
//	                   (frontend: a connection over its share is not read until replies go out)
//	command            ≤ Command = body + identities (≤ AuthBytes) + command fields
//	bridge and core    ≤ QueuedProposals, QueuedProposalBytes (room for every server's outstanding writes)
//	Prepare, Forward   ≤ PeerMessage (Batch bytes of commands, or one command alone)
//	log suffixes       ≤ PeerMessage per part (view change, state transfer, recovery: Batch bytes
//	                   of entries per part, or one entry alone; consensus MaxPartBytes)
//	peer frame         ≤ PeerFrame = 4 PeerMessages
//	peer send queue    ≤ PeerQueueFrames, PeerQueueBytes per peer (beyond, dropped: the protocol resends)
//	log entry, write   ≤ WALEntry, WALBatch
//
// Replies and events wait in a connection's outbox: beyond OutboxSoft the
// connection is not read, beyond OutboxHard (a client that does not read)
// it is closed.
type Limits struct {
	// MaxBuffer is jute.maxbuffer: the largest request frame, without its
	// 4-byte length.
	MaxBuffer int
	// AuthBytes bounds the encoded identities of one connection (each
	// digest auth adds one; they travel in every write command). As
	// ZooKeeper's jute.maxbuffer.extrasize, it defaults to MaxBuffer.
	AuthBytes int
	// Command bounds one replicated command (consensus MaxCommandBytes): a
	// request body, the identities and the command's own fields; at least
	// 1 MiB.
	Command int
	// Batch bounds the command bytes of one Prepare or Forward; a larger
	// command travels alone.
	Batch int
	// BatchOps bounds the commands of one Prepare or Forward.
	BatchOps int
	// PeerMessage bounds every peer message: a batch, or one command, with
	// the headers. The log suffixes of view change, state transfer and
	// recovery travel in parts of Batch bytes of entries (consensus
	// MaxPartBytes, see consensus/parts.go), snapshots in chunks
	// (bridge/transfer).
	PeerMessage int
	// PeerFrame is the largest frame a peer may send or receive: a small
	// multiple of PeerMessage (room for the frame and transport headers).
	PeerFrame int
	// PeerQueueFrames and PeerQueueBytes bound the frames waiting for one
	// peer's link; one frame is always taken into an empty queue.
	PeerQueueFrames int
	PeerQueueBytes  int
	// PeerInboxBytes bounds the received peer messages waiting for the
	// replica; a peer's link is not read beyond it.
	PeerInboxBytes int
	// QueuedProposals and QueuedProposalBytes bound the commands waiting
	// to be prepared or forwarded, in the bridge and in the consensus core
	// each: room for the outstanding writes of every server of the cluster
	// twice (a view change proposes unanswered writes again).
	QueuedProposals     int
	QueuedProposalBytes int
	// QueuedReads bounds the read-index requests waiting for the replica.
	QueuedReads int
	// WALEntry bounds one log entry's bytes, WALBatch those of one group
	// write (a larger mutation is still written alone).
	WALEntry, WALBatch int
	// TotalRequests and TotalBytes bound the requests read and not yet
	// answered across a server's connections (TotalRequests is
	// ZooKeeper's globalOutstandingLimit); ConnRequests and ConnBytes
	// those of one connection. A request over a byte bound is still taken
	// when nothing else is outstanding.
	TotalRequests, TotalBytes int
	ConnRequests, ConnBytes   int
	// OutboxSoft and OutboxHard bound a connection's unsent replies and
	// events: beyond the soft bound it is not read, beyond the hard one it
	// is closed.
	OutboxSoft, OutboxHard int
}

// MaxJuteMaxBuffer is the largest jute.maxbuffer a server accepts: a
// node's data must fit a snapshot's string limit (tree: 64 MiB), and its
// commands (up to twice as large, with identities) a log entry (storage:
// 256 MiB).
const MaxJuteMaxBuffer = 64 << 20

// commandFields is room for a command's own fields around the request body
// and the identities (tree.AppendClientWrite: 47 bytes today).
const commandFields = 1 << 10

// entryHeader is what the wire adds to each entry of a Prepare or Forward
// (op, view, length: 20 bytes), rounded up.
const entryHeader = 32

// messageHeader is room for a message's fixed fields and the frame header.
const messageHeader = 4 << 10

// peerFrameMessages is PeerFrame in PeerMessages.
const peerFrameMessages = 4

// DeriveLimits returns the limits for jute.maxbuffer maxBuffer (0 is
// ZooKeeper's default, 0xfffff) in a cluster of the given size.
func DeriveLimits(maxBuffer, replicas int) (Limits, error) {
	if maxBuffer == 0 {
		maxBuffer = zkproto.DefaultMaxPacketSize
	}
	if maxBuffer < 1<<10 || maxBuffer > MaxJuteMaxBuffer {
		return Limits{}, fmt.Errorf("bridge: jute.maxbuffer %d out of range [1024, %d]", maxBuffer, MaxJuteMaxBuffer)
	}
	replicas = max(replicas, 1)
	l := Limits{MaxBuffer: maxBuffer, AuthBytes: maxBuffer, Batch: 1 << 20, BatchOps: 512}
	// At least 1 MiB, which the server's own commands (session renewals
	// and expiries, in runs of bounded length) stay well below.
	l.Command = max(1<<20, maxBuffer-zkproto.RequestHeaderSize+l.AuthBytes+commandFields)
	l.PeerMessage = max(l.Batch, l.Command) + l.BatchOps*entryHeader + messageHeader
	l.PeerFrame = peerFrameMessages * l.PeerMessage
	l.PeerQueueFrames = 4096
	l.PeerQueueBytes = max(64<<20, 4*l.PeerMessage)
	l.PeerInboxBytes = max(64<<20, 4*l.PeerMessage)
	l.WALEntry = max(16<<20, l.Command)
	l.WALBatch = max(8<<20, l.PeerMessage)

	// ZooKeeper's globalOutstandingLimit is 1000; one connection may hold
	// half of it, so that no one client holds up the others' reading.
	l.TotalRequests = 1000
	l.TotalBytes = max(32<<20, 4*l.Command)
	l.ConnRequests = l.TotalRequests / 2
	l.ConnBytes = max(8<<20, 2*l.Command)
	l.OutboxSoft = max(4<<20, 2*maxBuffer)
	l.OutboxHard = max(64<<20, 8*maxBuffer)

	l.QueuedProposals = max(8192, 2*replicas*l.TotalRequests+1024)
	l.QueuedProposalBytes = max(64<<20, 2*replicas*l.TotalBytes+l.Command)
	l.QueuedReads = 8192
	return l, nil
}

// applyConsensus sets the core's bounds in c.
func (l *Limits) applyConsensus(c *consensus.Config) {
	c.MaxCommandBytes = l.Command
	c.MaxBatchBytes = l.Batch
	c.MaxBatchOps = l.BatchOps
	// A part of a log suffix: Batch bytes of commands and entry headers, or
	// one entry alone (≤ Command), so a part's frame is ≤ PeerMessage.
	c.MaxPartBytes = l.Batch
	c.MaxQueuedProposals = l.QueuedProposals
	c.MaxQueuedBytes = l.QueuedProposalBytes
	c.MaxPendingReads = l.QueuedReads
}

// applyWAL sets the log's bounds in o where the caller left them unset.
func (l *Limits) applyWAL(o *storage.WALOptions) {
	if o.MaxEntrySize == 0 {
		o.MaxEntrySize = l.WALEntry
	}
	if o.MaxBatchBytes == 0 {
		o.MaxBatchBytes = l.WALBatch
	}
}

// transport returns the peer transport's bounds.
func (l *Limits) transport() peer.Options {
	return peer.Options{MaxFrame: l.PeerFrame, QueueFrames: l.PeerQueueFrames, QueueBytes: l.PeerQueueBytes}
}

// Errors of Apply.Propose.
var (
	// ErrTooLarge refuses a command over Limits.Command.
	ErrTooLarge = errors.New("bridge: command too large")
	// ErrBusy refuses a command while the proposal queue is full.
	ErrBusy = errors.New("bridge: proposal queue full")
)

// Limits returns the node's limits.
func (n *Node) Limits() Limits { return n.vr.lim }
