package bridge

import (
	"context"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/vrkeeper/vrkeeper/tree"
)

// appliedHandler reports each applied zxid.
type appliedHandler struct {
	nopHandler
	applied chan int64
}

func (h appliedHandler) Applied(_ *Apply, zxid int64, _ *tree.Output) { h.applied <- zxid }

// TestStatusOfASingleNode: a standalone node reports its role, a normal
// view, and op and commit numbers that reach the write it applied.
func TestStatusOfASingleNode(t *testing.T) {
	h := appliedHandler{applied: make(chan int64, 16)}
	n, err := NewNode(Options{ID: 7, DataDir: t.TempDir()}, h, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	defer func() { cancel(); <-done }()
	<-n.Serving()
	n.Submit(func(a *Apply) { a.Propose(tree.AppendOpenSession(nil, 1, 10000, make([]byte, 16))) })
	zxid := <-h.applied
	// The replica publishes its status after the round that committed the
	// write, which may end just after the apply.
	st := n.Status()
	for deadline := time.Now().Add(10 * time.Second); st.Commit < uint64(zxid) && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
		st = n.Status()
	}
	if st.ID != 7 || st.Replicas != 1 || st.Role != RoleStandalone || st.State != "normal" {
		t.Fatalf("status %+v, want server 7 of 1, standalone and normal", st)
	}
	if st.Op < uint64(zxid) || st.Commit < uint64(zxid) || st.Primary != 7 || len(st.Peers) != 0 {
		t.Fatalf("status %+v after applying zxid %d", st, zxid)
	}
}
