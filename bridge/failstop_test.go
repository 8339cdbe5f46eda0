package bridge

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/vrkeeper/vrkeeper/storage"
	"github.com/vrkeeper/vrkeeper/storage/faultfs"
	"github.com/vrkeeper/vrkeeper/tree"
	"github.com/vrkeeper/vrkeeper/zkproto"
)

// TestFailStopOnSyncError: when the log's fdatasync fails, the node stops
// with the error instead of acknowledging or serving on: nothing after the
// failure is applied.
func TestFailStopOnSyncError(t *testing.T) {
	fs := faultfs.New()
	n, err := NewNode(Options{ID: 1, DataDir: "/data", FS: fs, WAL: storage.WALOptions{SegmentSize: 64 << 10}},
		nopHandler{}, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- n.Run(context.Background()) }()
	<-n.Serving()
	open := tree.AppendOpenSession(nil, 1, 10000, make([]byte, 16))
	applied := make(chan int64, 1)
	n.Submit(func(a *Apply) { a.Propose(open) })
	// Wait for the open to apply: storage works so far.
	for {
		n.Submit(func(a *Apply) { applied <- a.Applied() })
		if <-applied > 0 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	before := make(chan int64, 1)
	n.Submit(func(a *Apply) { before <- a.Applied() })
	last := <-before
	injected := errors.New("injected: fdatasync failed")
	fs.SetHook(func(op faultfs.Op) error {
		if op.Kind == faultfs.OpSync {
			return injected
		}
		return nil
	})
	body := (&zkproto.CreateRequest{Path: "/x", ACL: bootACL}).Append(nil)
	n.Submit(func(a *Apply) {
		a.Propose(tree.AppendClientWrite(nil, &tree.ClientWrite{SessionID: 1, Cxid: 1, Time: 2, Op: zkproto.OpCreate, Body: body}))
	})
	select {
	case err := <-done:
		if !errors.Is(err, injected) {
			t.Fatalf("node stopped with %v, want the injected sync failure", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the node kept running after its log failed to sync")
	}
	if n.apply.applied != last {
		t.Fatalf("applied %d after the sync failure (was %d)", n.apply.applied, last)
	}
}
