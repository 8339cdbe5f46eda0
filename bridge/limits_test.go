package bridge

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/vrkeeper/vrkeeper/consensus"
	"github.com/vrkeeper/vrkeeper/consensus/wire"
	"github.com/vrkeeper/vrkeeper/storage"
	"github.com/vrkeeper/vrkeeper/tree"
	"github.com/vrkeeper/vrkeeper/zkproto"
)

// largestCommand encodes the largest write a client may send within l: a
// request body filling a jute.maxbuffer frame, from a connection holding
// AuthBytes of identities.
func largestCommand(l Limits) []byte {
	var auth []zkproto.Id
	for left := l.AuthBytes; left > 8+len("digest")+1; {
		id := zkproto.Id{Scheme: "digest", ID: strings.Repeat("u", min(left-8-len("digest"), 64<<10))}
		auth = append(auth, id)
		left -= 8 + len(id.Scheme) + len(id.ID)
	}
	return tree.AppendClientWrite(nil, &tree.ClientWrite{SessionID: -1, Cxid: -1, Owner: -1, Seq: 1 << 62, Time: 1 << 62,
		Auth: auth, Op: zkproto.OpSetData, Body: make([]byte, l.MaxBuffer-zkproto.RequestHeaderSize)})
}

// peerFrame encodes m as the driver does: cluster id, then the message.
func peerFrame(t *testing.T, m consensus.Message) []byte {
	t.Helper()
	b, err := wire.Encode(binary.BigEndian.AppendUint64(nil, 1<<63), m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestLimitsHoldWhatTheyCarry: for every jute.maxbuffer and cluster size,
// the largest command a client can cause fits the command limit, and the
// largest Prepare and Forward (one such command, or a full batch) fit a
// peer message, a peer frame, a peer queue, a peer inbox, a log entry and
// a log write; the client-side bounds take the largest request.
func TestLimitsHoldWhatTheyCarry(t *testing.T) {
	for _, maxBuffer := range []int{1 << 10, 0, zkproto.DefaultMaxPacketSize, 4 << 20} {
		for _, replicas := range []int{1, 3, 5} {
			t.Run(fmt.Sprintf("maxbuffer_%d_replicas_%d", maxBuffer, replicas), func(t *testing.T) {
				l, err := DeriveLimits(maxBuffer, replicas)
				if err != nil {
					t.Fatal(err)
				}
				cmd := largestCommand(l)
				if len(cmd) > l.Command {
					t.Fatalf("the largest command has %d bytes, limit %d", len(cmd), l.Command)
				}
				small := make([]byte, l.Batch/l.BatchOps)
				full := make([]consensus.Entry, l.BatchOps)
				cmds := make([][]byte, l.BatchOps)
				for i := range full {
					full[i] = consensus.Entry{Op: uint64(i) + 1, View: 1 << 40, Cmd: small}
					cmds[i] = small
				}
				// The largest parts of a log suffix (consensus MaxPartBytes =
				// Batch: commands plus 32 bytes per entry, or one entry
				// alone): one command, or Batch/32 empty commands.
				big := uint64(1) << 62
				one := []consensus.Entry{{Op: big + 1, View: big, Cmd: cmd}}
				empties := make([]consensus.Entry, l.Batch/32)
				for i := range empties {
					empties[i] = consensus.Entry{Op: big + 1 + uint64(i), View: big, Cmd: []byte{}}
				}
				snap := &consensus.Snapshot{Op: big, View: big, Data: wire.SnapshotRef{Op: big, View: big}}
				h := consensus.Header{Epoch: big, View: big}
				msgs := map[string]consensus.Message{
					"prepare of one command":  &consensus.Prepare{After: 1 << 50, Entries: []consensus.Entry{{Op: 1<<50 + 1, View: 1 << 40, Cmd: cmd}}},
					"prepare of a full batch": &consensus.Prepare{Entries: full},
					"forward of one command":  &consensus.Forward{Cmds: [][]byte{cmd}},
					"forward of a full batch": &consensus.Forward{Cmds: cmds},
				}
				for what, es := range map[string][]consensus.Entry{"one command": one, "a full part": empties} {
					msgs["do-view-change part of "+what] = &consensus.DoViewChange{Header: h, LastNormalView: big, Op: 2 * big, Commit: big,
						GlobalMinAccept: big, After: big, AfterView: big, Bytes: big, Sum: big, Entries: es}
					msgs["start-view part of "+what] = &consensus.StartView{Header: h, Op: 2 * big, Commit: big,
						GlobalMinAccept: big, After: big, AfterView: big, Bytes: big, Sum: big, Entries: es}
					msgs["new-state part of "+what] = &consensus.NewState{Header: h, Snapshot: snap, Op: 2 * big, Commit: big,
						GlobalMinAccept: big, After: big, AfterView: big, Bytes: big, Sum: big, Entries: es}
					msgs["recovery-response part of "+what] = &consensus.RecoveryResponse{Header: h, Nonce: big, Cluster: big, Primary: true,
						Normal: true, Snapshot: snap, Op: 2 * big, Commit: big, GlobalMinAccept: big, After: big, Bytes: big, Sum: big, Entries: es}
				}
				var c consensus.Config
				l.applyConsensus(&c)
				if c.MaxPartBytes != l.Batch {
					t.Errorf("consensus parts of %d bytes, want the batch's %d (the parts checked below)", c.MaxPartBytes, l.Batch)
				}
				if l.PeerFrame > 4*l.PeerMessage {
					t.Errorf("peer frame %d is more than 4 peer messages (%d)", l.PeerFrame, l.PeerMessage)
				}
				for name, m := range msgs {
					n := len(peerFrame(t, m))
					if n > l.PeerMessage || n > l.PeerFrame || n > l.PeerQueueBytes || n > l.PeerInboxBytes || n > l.WALBatch {
						t.Errorf("%s: %d bytes; limits %+v", name, n, l)
					}
				}
				charge := 4 + l.MaxBuffer + l.AuthBytes // admission.go's charge of the largest request
				switch {
				case l.WALEntry < l.Command || l.WALEntry > 256<<20:
					t.Errorf("WAL entry limit %d: below the command limit %d, or above storage's cap", l.WALEntry, l.Command)
				case l.ConnBytes < charge || l.TotalBytes < l.ConnBytes || l.ConnRequests > l.TotalRequests:
					t.Errorf("client bounds %+v do not take the largest request (%d bytes)", l, charge)
				case l.QueuedProposalBytes < 2*replicas*l.TotalBytes || l.QueuedProposals < 2*replicas*l.TotalRequests:
					t.Errorf("proposal queue %d/%d has no room for every server's outstanding writes", l.QueuedProposals, l.QueuedProposalBytes)
				case l.OutboxSoft < l.MaxBuffer || l.OutboxHard < 4*l.OutboxSoft:
					t.Errorf("outbox bounds %d/%d", l.OutboxSoft, l.OutboxHard)
				}
			})
		}
	}
}

// TestLimitsLargestJuteMaxBuffer: the largest accepted jute.maxbuffer still
// fits storage's entry cap; beyond and below the range it is refused.
func TestLimitsLargestJuteMaxBuffer(t *testing.T) {
	l, err := DeriveLimits(MaxJuteMaxBuffer, 3)
	if err != nil {
		t.Fatal(err)
	}
	if l.WALEntry > 256<<20 || l.PeerMessage > l.PeerFrame || l.WALBatch < l.PeerMessage {
		t.Fatalf("limits %+v", l)
	}
	for _, bad := range []int{-1, 1023, MaxJuteMaxBuffer + 1} {
		if _, err := DeriveLimits(bad, 3); err == nil {
			t.Errorf("jute.maxbuffer %d accepted", bad)
		}
	}
}

// TestLargestCommandIsLogged: a command of the limit's size is written to
// and read back from the log under the derived WAL options.
func TestLargestCommandIsLogged(t *testing.T) {
	l, err := DeriveLimits(0, 3)
	if err != nil {
		t.Fatal(err)
	}
	var o storage.WALOptions
	l.applyWAL(&o)
	w, _, err := storage.OpenWAL(t.TempDir(), o)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	cmd := make([]byte, l.Command)
	seq, err := w.Append([]storage.Entry{{Op: 1, View: 1, Data: cmd}, {Op: 2, View: 1, Data: make([]byte, l.Batch)}})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WaitDurable(seq); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Append([]storage.Entry{{Op: 3, View: 1, Data: make([]byte, l.WALEntry+1)}}); !errors.Is(err, storage.ErrTooLarge) {
		t.Fatalf("an entry over the limit: %v", err)
	}
}
