package zkrecord

import (
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"testing"
)

// writeFrame writes a length-prefixed frame.
func writeFrame(t *testing.T, w io.Writer, payload []byte) {
	t.Helper()
	if _, err := w.Write(append(binary.BigEndian.AppendUint32(nil, uint32(len(payload))), payload...)); err != nil {
		t.Fatal(err)
	}
}

func readFrame(t *testing.T, r io.Reader) []byte {
	t.Helper()
	p, err := readFrameErr(r)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// readFrameErr reads a length-prefixed frame; it is safe off the test's goroutine.
func readFrameErr(r io.Reader) ([]byte, error) {
	var n [4]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return nil, err
	}
	p := make([]byte, binary.BigEndian.Uint32(n[:]))
	_, err := io.ReadFull(r, p)
	return p, err
}

// frameBytes is a payload with its length in front.
func frameBytes(payload []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(payload))), payload...)
}

// TestProxyForwardsAndRecordsBothWays runs a client through the proxy to
// an upstream that answers a handshake and one request, and checks that
// both peers get the bytes unchanged and the record holds every frame in
// order with its direction and label.
func TestProxyForwardsAndRecordsBothWays(t *testing.T) {
	up, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	connect := bytes.Repeat([]byte{7}, 45)
	accepted := bytes.Repeat([]byte{9}, 37)
	req := requestPayload(1, 3)
	reply := replyPayload(1, 5, -101)
	upstreamGot := make(chan [][]byte, 1)
	go func() {
		c, err := up.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		var got [][]byte
		for _, answer := range [][]byte{accepted, reply} {
			f, err := readFrameErr(c)
			if err != nil {
				break
			}
			got = append(got, f)
			if _, err := c.Write(frameBytes(answer)); err != nil {
				break
			}
		}
		upstreamGot <- got
	}()

	rec := NewRecorder()
	p, err := Listen("127.0.0.1:0", up.Addr().String(), rec)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	writeFrame(t, c, connect)
	if got := readFrame(t, c); !bytes.Equal(got, accepted) {
		t.Errorf("client got handshake %x", got)
	}
	writeFrame(t, c, req)
	if got := readFrame(t, c); !bytes.Equal(got, reply) {
		t.Errorf("client got reply %x", got)
	}
	c.Close()
	if got := <-upstreamGot; len(got) != 2 || !bytes.Equal(got[0], connect) || !bytes.Equal(got[1], req) {
		t.Errorf("upstream got %x", got)
	}
	p.Wait()

	var frames []Entry
	for _, e := range rec.Entries() {
		if e.Frame {
			frames = append(frames, e)
		}
	}
	want := []Entry{
		{Frame: true, Conn: 1, Dir: FromClient, Label: "connect", Payload: connect},
		{Frame: true, Conn: 1, Dir: FromServer, Label: "connect", Payload: accepted},
		{Frame: true, Conn: 1, Dir: FromClient, Label: "exists#1", Payload: req},
		{Frame: true, Conn: 1, Dir: FromServer, Label: "exists#1:NONODE", Payload: reply},
	}
	if len(frames) != len(want) {
		t.Fatalf("recorded %+v", frames)
	}
	for i := range want {
		if frames[i].Conn != want[i].Conn || frames[i].Dir != want[i].Dir || frames[i].Label != want[i].Label ||
			!bytes.Equal(frames[i].Payload, want[i].Payload) {
			t.Errorf("frame %d = %+v, want %+v", i, frames[i], want[i])
		}
	}
}

// TestProxySeverCutsOpenConnections checks that Sever ends a connection so
// the client sees it closed, and that the next connection gets number 2.
func TestProxySeverCutsOpenConnections(t *testing.T) {
	up, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	go func() {
		for {
			c, err := up.Accept()
			if err != nil {
				return
			}
			go io.Copy(io.Discard, c)
		}
	}()
	rec := NewRecorder()
	p, err := Listen("127.0.0.1:0", up.Addr().String(), rec)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c1, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	writeFrame(t, c1, []byte("hello"))
	if err := rec.WaitFor(t.Context(), func(es []Entry) bool { return len(es) == 1 }); err != nil {
		t.Fatal(err)
	}
	p.Sever()
	if _, err := c1.Read(make([]byte, 1)); err == nil {
		t.Error("read from a severed connection succeeded")
	}
	c2, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	writeFrame(t, c2, []byte("again"))
	err = rec.WaitFor(t.Context(), func(es []Entry) bool {
		for _, e := range es {
			if e.Frame && e.Conn == 2 {
				return true
			}
		}
		return false
	})
	if err != nil {
		t.Fatal(err)
	}
}
