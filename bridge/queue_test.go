package bridge

import (
	"errors"
	"runtime"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/vrkeeper/vrkeeper/consensus"
	"github.com/vrkeeper/vrkeeper/internal/budget"
)

// TestProposalQueueBounds: the proposal queue refuses a command over the
// size limit at once (so its proposer can answer its client), and refuses
// commands beyond its count and byte bounds instead of growing; one
// command always fits an empty queue.
func TestProposalQueueBounds(t *testing.T) {
	lim := Limits{Command: 100, QueuedProposals: 3, QueuedProposalBytes: 150}
	tests := []struct {
		name   string
		queued []int // sizes proposed first, all accepted
		size   int
		want   error
	}{
		{"over the command limit", nil, 101, ErrTooLarge},
		{"at the command limit", nil, 100, nil},
		{"count bound", []int{1, 1, 1}, 1, ErrBusy},
		{"byte bound", []int{100}, 51, ErrBusy},
		{"exactly the byte bound", []int{100}, 50, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := &vrReplicator{lim: lim, wake: make(chan struct{}, 1)}
			for _, n := range tc.queued {
				if err := v.propose(make([]byte, n)); err != nil {
					t.Fatalf("setup: %v", err)
				}
			}
			if err := v.propose(make([]byte, tc.size)); !errors.Is(err, tc.want) {
				t.Fatalf("propose %d bytes: %v, want %v", tc.size, err, tc.want)
			}
		})
	}
}

// TestReadQueueBound: a read beyond the queue's bound fails at once
// (ok false) instead of waiting in an ever longer queue.
func TestReadQueueBound(t *testing.T) {
	v := &vrReplicator{lim: Limits{QueuedReads: 2}, wake: make(chan struct{}, 1)}
	failed := 0
	for range 3 {
		v.readIndex(func(_ int64, ok bool) {
			if !ok {
				failed++
			}
		})
	}
	if failed != 1 || len(v.reads) != 2 {
		t.Fatalf("%d reads failed, %d queued; want 1 and 2", failed, len(v.reads))
	}
}

// TestPeerInboxBytesBound: a peer's messages wait for room in the
// replica's inbox (so its connection is not read) once the bytes queued
// reach the bound, and go in as the replica takes messages out.
func TestPeerInboxBytesBound(t *testing.T) {
	v := &vrReplicator{log: hclog.NewNullLogger(), index: map[uint64]consensus.ReplicaID{2: 1},
		inbox: make(chan inbound, 16), inboxBytes: budget.New(0, 1000), stop: make(chan struct{})}
	frame := peerFrame(t, &consensus.Forward{Cmds: [][]byte{make([]byte, 550)}})
	v.deliver(2, frame) // the first takes the room
	delivered := make(chan struct{})
	go func() {
		v.deliver(2, frame)
		close(delivered)
	}()
	for v.inboxBytes.Waiting() == 0 { // the second waits for room
		select {
		case <-delivered:
			t.Fatal("a message was queued beyond the inbox's byte bound")
		default:
			runtime.Gosched()
		}
	}
	in := <-v.inbox // the replica takes the first out
	v.inboxBytes.Give(in.size)
	<-delivered
	if items, bytes := v.inboxBytes.Held(); items != 1 || bytes != len(frame) || len(v.inbox) != 1 {
		t.Fatalf("held %d messages of %d bytes, %d queued", items, bytes, len(v.inbox))
	}
	// Once the replica stops, a waiting deliver gives up.
	go v.deliver(2, frame)
	for v.inboxBytes.Waiting() == 0 {
		runtime.Gosched()
	}
	close(v.stop)
	for v.inboxBytes.Waiting() != 0 {
		runtime.Gosched()
	}
}
