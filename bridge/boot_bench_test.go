package bridge

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/vrkeeper/vrkeeper/storage"
	"github.com/vrkeeper/vrkeeper/tree"
	"github.com/vrkeeper/vrkeeper/zkproto"
)

// nopHandler is a Handler that does nothing: the boot benchmark has no
// clients.
type nopHandler struct{}

func (nopHandler) BeforeApply(*Apply, int64, []byte)   {}
func (nopHandler) Applied(*Apply, int64, *tree.Output) {}
func (nopHandler) Tick(*Apply)                         {}
func (nopHandler) Restored(*Apply)                     {}
func (nopHandler) RoleChanged(*Apply, Role)            {}

var bootACL = []zkproto.ACL{{Perms: zkproto.PermAll, ID: zkproto.Id{Scheme: "world", ID: "anyone"}}}

func createCmd(session int64, cxid int32, path string, data []byte) []byte {
	body := (&zkproto.CreateRequest{Path: path, Data: data, ACL: bootACL}).Append(nil)
	return tree.AppendClientWrite(nil, &tree.ClientWrite{SessionID: session, Cxid: cxid, Time: 1, Op: zkproto.OpCreate, Body: body})
}

// BenchmarkBootLarge measures a restart with a large snapshot and a long
// log tail: the time from NewNode until the node has applied every
// committed entry. Sizes: -boot-znodes (default 1M) and -boot-tail (100k).
//
//	go test ./bridge -run XXX -bench BootLarge -benchtime 1x
func BenchmarkBootLarge(b *testing.B) {
	const znodes, tail = 1_000_000, 100_000
	dir := b.TempDir()
	data := bytes.Repeat([]byte("v"), 100)
	// A tree of 1000 parents with 1000 children each, 100-byte values.
	t := tree.New(tree.Config{})
	var out tree.Output
	zxid := int64(0)
	apply := func(cmd []byte) {
		zxid++
		if err := t.Apply(zxid, cmd, &out); err != nil || out.Code != zkproto.OK {
			b.Fatalf("apply %d: %v %v", zxid, err, out.Code)
		}
	}
	zxid++
	if err := t.Apply(zxid, tree.AppendOpenSession(nil, 1, 1<<30, make([]byte, 16)), &out); err != nil {
		b.Fatal(err)
	}
	session := out.Opened.ID
	cxid := int32(0)
	for p := 0; p < znodes/1000; p++ {
		parent := fmt.Sprintf("/parent-%06d", p)
		cxid++
		apply(createCmd(session, cxid, parent, nil))
		for c := 0; c < 1000-1; c++ {
			cxid++
			apply(createCmd(session, cxid, fmt.Sprintf("%s/child-with-a-thirty-byte-nm%03d", parent, c), data))
		}
	}
	store, _, err := storage.Open(storage.Options{DataDir: dir})
	if err != nil {
		b.Fatal(err)
	}
	snapOp := uint64(zxid)
	if err := store.Snapshots.Save(storage.SnapshotMeta{Op: snapOp}, func(w io.Writer) error { return t.Snapshot(w) }); err != nil {
		b.Fatal(err)
	}
	// The tail: setData commands after the snapshot, committed.
	var entries []storage.Entry
	set := (&zkproto.SetDataRequest{Path: "/parent-000000", Data: data, Version: -1}).Append(nil)
	for i := 1; i <= tail; i++ {
		cxid++
		cmd := tree.AppendClientWrite(nil, &tree.ClientWrite{SessionID: session, Cxid: cxid, Time: 2, Op: zkproto.OpSetData, Body: set})
		entries = append(entries, storage.Entry{Op: snapOp + uint64(i), View: 1, Data: cmd})
	}
	if _, err := store.WAL.ReplaceFrom(snapOp+1, entries); err != nil {
		b.Fatal(err)
	}
	store.WAL.SetCommitted(snapOp + tail)
	if err := store.WAL.Sync(); err != nil {
		b.Fatal(err)
	}
	if err := store.State.Save(storage.HardState{View: 1, LastNormalView: 1}); err != nil {
		b.Fatal(err)
	}
	store.Close()
	want := int64(snapOp + tail)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		n, err := NewNode(Options{ID: 1, DataDir: dir}, nopHandler{}, hclog.NewNullLogger())
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- n.Run(ctx) }()
		for {
			applied := make(chan int64, 1)
			n.Submit(func(a *Apply) { applied <- a.Applied() })
			if <-applied >= want {
				break
			}
			time.Sleep(time.Millisecond)
		}
		b.ReportMetric(time.Since(start).Seconds(), "s/boot")
		cancel()
		<-done
	}
}
