package zkrecord

import (
	"context"
	"encoding/binary"
	"testing"
)

func requestPayload(xid, op int32) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(xid))
	return binary.BigEndian.AppendUint32(b, uint32(op))
}

func replyPayload(xid int32, zxid int64, code int32) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(xid))
	b = binary.BigEndian.AppendUint64(b, uint64(zxid))
	return binary.BigEndian.AppendUint32(b, uint32(code))
}

// TestLabelsTrackXidsPerConnection feeds frames as a proxy would and checks
// each label: handshakes, requests, replies matched by xid on their own
// connection (pipelined and out of band), errors and notifications.
func TestLabelsTrackXidsPerConnection(t *testing.T) {
	r := NewRecorder()
	steps := []struct {
		conn    int
		dir     Direction
		payload []byte
		want    string
	}{
		{1, FromClient, make([]byte, 45), "connect"},
		{1, FromServer, make([]byte, 37), "connect"},
		{2, FromClient, make([]byte, 44), "connect"},
		{1, FromClient, requestPayload(1, 4), "getData#1"},
		{1, FromClient, requestPayload(-4, 100), "auth#-4"},
		{1, FromClient, requestPayload(2, 14), "multi#2"},
		{2, FromServer, make([]byte, 36), "connect"},
		{2, FromClient, requestPayload(1, 1), "create#1"},
		{1, FromServer, replyPayload(-1, -1, 0), "notification"},
		{1, FromServer, replyPayload(-4, 0, 0), "auth#-4"},
		{1, FromServer, replyPayload(1, 7, -101), "getData#1:NONODE"},
		{2, FromServer, replyPayload(1, 8, 0), "create#1"},
		{1, FromServer, replyPayload(2, 9, 0), "multi#2"},
		{1, FromServer, replyPayload(2, 9, 0), "unknown#2"},
		{1, FromServer, replyPayload(3, 9, -999), "unknown#3:-999"},
		{1, FromClient, []byte{1, 2}, "short-request"},
		{1, FromServer, []byte{1, 2}, "short-reply"},
	}
	for i, s := range steps {
		if got := r.Frame(s.conn, s.dir, s.payload); got != s.want {
			t.Errorf("step %d: label %q, want %q", i, got, s.want)
		}
	}
	if n := len(r.Entries()); n != len(steps) {
		t.Errorf("%d entries recorded, want %d", n, len(steps))
	}
}

func TestFrameCopiesThePayload(t *testing.T) {
	r := NewRecorder()
	p := requestPayload(1, 4)
	r.Frame(1, FromClient, p)
	p[0] = 0xff
	if got := r.Entries()[0].Payload[0]; got != 0 {
		t.Errorf("recorded payload changed with the caller's buffer: %#x", got)
	}
}

func TestWaitForWakesOnAppend(t *testing.T) {
	r := NewRecorder()
	done := make(chan error, 1)
	go func() {
		done <- r.WaitFor(context.Background(), func(es []Entry) bool { return len(es) == 2 })
	}()
	r.Comment("one")
	r.Comment("two")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := r.WaitFor(ctx, func([]Entry) bool { return false }); err == nil {
		t.Error("WaitFor on a cancelled context returned nil")
	}
}
