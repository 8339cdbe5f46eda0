package bridge

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/vrkeeper/vrkeeper/tree"
	"github.com/vrkeeper/vrkeeper/zkproto"
)

// jobTree is a tree of n nodes with 100-byte values (a few slices' worth)
// and the session that made them.
func jobTree(t *testing.T, n int) (*tree.Tree, int64, *int64) {
	tr := tree.New(tree.Config{})
	var out tree.Output
	zxid := int64(1)
	if err := tr.Apply(zxid, tree.AppendOpenSession(nil, 1, 1<<30, make([]byte, 16)), &out); err != nil {
		t.Fatal(err)
	}
	session := out.Opened.ID
	for i := range n {
		zxid++
		if err := tr.Apply(zxid, createCmd(session, -1, fmt.Sprintf("/n%05d", i), bytes.Repeat([]byte("v"), 100)), &out); err != nil || out.Code != zkproto.OK {
			t.Fatalf("create %d: %v %v", i, err, out.Code)
		}
	}
	return tr, session, &zxid
}

func setDataCmd(session int64, path string) []byte {
	body := (&zkproto.SetDataRequest{Path: path, Data: []byte("changed"), Version: -1}).Append(nil)
	return tree.AppendClientWrite(nil, &tree.ClientWrite{SessionID: session, Cxid: -1, Time: 2, Op: zkproto.OpSetData, Body: body})
}

// TestSnapshotJobWritesTheStateAtItsStart feeds a job as the apply loop
// does, with applies between the slices, to a writer as Save runs it: the
// bytes written are the snapshot of the tree when the job began.
func TestSnapshotJobWritesTheStateAtItsStart(t *testing.T) {
	tr, session, zxid := jobTree(t, 3000)
	var want bytes.Buffer
	if err := tr.Snapshot(&want); err != nil {
		t.Fatal(err)
	}
	job := newSnapshotJob(tr.BeginSnapshot())
	var got bytes.Buffer
	written := make(chan error, 1)
	go func() { written <- job.write(&got) }()
	var out tree.Output
	slices := 0
	for finished := false; !finished; slices++ {
		for i := range 3 {
			*zxid++
			cmd := setDataCmd(session, fmt.Sprintf("/n%05d", (slices*37+i*1000)%3000))
			if i == 2 {
				cmd = createCmd(session, -1, fmt.Sprintf("/new%05d", slices), nil)
			}
			if err := tr.Apply(*zxid, cmd, &out); err != nil || out.Code != zkproto.OK {
				t.Fatalf("apply: %v %v", err, out.Code)
			}
		}
		job.out <- job.next
		finished = job.handedOver()
	}
	if err := <-written; err != nil {
		t.Fatalf("write: %v", err)
	}
	if slices < 4 {
		t.Fatalf("the snapshot took %d slices; the test wants several", slices)
	}
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Fatalf("the job wrote %d bytes that differ from the snapshot at its start (%d bytes)", got.Len(), want.Len())
	}
}

// TestSnapshotJobAbandon: an abandoned job's writer fails with
// errSnapshotAbandoned (so Save discards the file), and the tree can begin
// another snapshot at once.
func TestSnapshotJobAbandon(t *testing.T) {
	tr, _, _ := jobTree(t, 3000)
	job := newSnapshotJob(tr.BeginSnapshot())
	written := make(chan error, 1)
	go func() { written <- job.write(io.Discard) }()
	job.out <- job.next
	if job.handedOver() {
		t.Fatal("a 3000-node snapshot finished in one slice")
	}
	job.abandon()
	if err := <-written; !errors.Is(err, errSnapshotAbandoned) {
		t.Fatalf("writer of an abandoned job: %v", err)
	}
	tr.BeginSnapshot().Abort() // would panic if the first were still registered
}

// TestSnapshotJobWriterFails: a write error ends the writer with that
// error; the apply side then abandons the job without blocking.
func TestSnapshotJobWriterFails(t *testing.T) {
	tr, _, _ := jobTree(t, 3000)
	job := newSnapshotJob(tr.BeginSnapshot())
	boom := errors.New("disk full")
	written := make(chan error, 1)
	go func() { written <- job.write(failingWriter{boom}) }()
	job.out <- job.next
	job.handedOver()
	if err := <-written; !errors.Is(err, boom) {
		t.Fatalf("writer: %v, want %v", err, boom)
	}
	job.abandon()
	tr.BeginSnapshot().Abort()
}

type failingWriter struct{ err error }

func (w failingWriter) Write([]byte) (int, error) { return 0, w.err }
