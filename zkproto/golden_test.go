package zkproto_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vrkeeper/vrkeeper/internal/zkrecord"
	"github.com/vrkeeper/vrkeeper/zkproto"
)

// The golden files in testdata/golden are conversations between real
// clients and a real ZooKeeper 3.8, recorded by scripts/capture-golden
// (format: testdata/golden/README.md). These tests decode every frame of
// them with the codec, demand that nothing is left over and that encoding
// the decoded records gives the same bytes, and check the values of frames
// that show a rule of the protocol.

// goldenFrame is one frame of a golden file and what the codec made of it.
type goldenFrame struct {
	file  string
	entry zkrecord.Entry

	connectReq  *zkproto.ConnectRequest  // a client's handshake
	connectResp *zkproto.ConnectResponse // the server's handshake
	reqHeader   zkproto.RequestHeader    // a request (client frame after the handshake)
	request     zkproto.Record           // its body; nil for none
	replyHeader zkproto.ReplyHeader      // a reply or notification (server frame after the handshake)
	replyOp     zkproto.OpCode           // the op of the request the reply answers
	reply       zkproto.Record           // its body; nil for none
	event       *zkproto.WatcherEvent    // a notification's body
}

func (f *goldenFrame) String() string {
	return fmt.Sprintf("%s:%d %s%d %s", f.file, f.entry.Line, f.entry.Dir, f.entry.Conn, f.entry.Label)
}

// goldenConn is what decoding one connection must remember.
type goldenConn struct {
	handshake map[zkrecord.Direction]bool
	pending   map[int32]zkproto.OpCode // xid -> op of requests not yet answered
}

// loadGolden reads and decodes every golden file, failing the test on any
// frame the codec does not decode exactly or re-encode byte for byte.
func loadGolden(t *testing.T) map[string][]*goldenFrame {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "golden", "*.golden"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) < 6 {
		t.Fatalf("found %d golden files in testdata/golden, want at least 6", len(paths))
	}
	all := make(map[string][]*goldenFrame)
	for _, p := range paths {
		name := strings.TrimSuffix(filepath.Base(p), ".golden")
		all[name] = decodeGoldenFile(t, p, name)
	}
	return all
}

func decodeGoldenFile(t *testing.T, path, name string) []*goldenFrame {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := zkrecord.Parse(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	conns := make(map[int]*goldenConn)
	var frames []*goldenFrame
	for _, e := range entries {
		if !e.Frame {
			continue
		}
		c := conns[e.Conn]
		if c == nil {
			c = &goldenConn{handshake: map[zkrecord.Direction]bool{}, pending: map[int32]zkproto.OpCode{}}
			conns[e.Conn] = c
		}
		f := &goldenFrame{file: name, entry: e}
		if err := c.decode(f); err != nil {
			t.Errorf("%v: %v\n  payload %x", f, err, e.Payload)
			continue
		}
		frames = append(frames, f)
	}
	return frames
}

// decode decodes one frame according to the connection's state, checks
// that no byte is left over, that re-encoding gives the payload back, and
// that the label the recorder wrote agrees with what the codec read.
func (c *goldenConn) decode(f *goldenFrame) error {
	p := f.entry.Payload
	d := zkproto.NewDecoder(p)
	var out []byte
	var label string
	switch {
	case !c.handshake[f.entry.Dir] && f.entry.Dir == zkrecord.FromClient:
		c.handshake[f.entry.Dir] = true
		f.connectReq = &zkproto.ConnectRequest{}
		if err := f.connectReq.Decode(d); err != nil {
			return fmt.Errorf("ConnectRequest: %w", err)
		}
		out, label = f.connectReq.Append(nil), "connect"
	case !c.handshake[f.entry.Dir]:
		c.handshake[f.entry.Dir] = true
		f.connectResp = &zkproto.ConnectResponse{}
		if err := f.connectResp.Decode(d); err != nil {
			return fmt.Errorf("ConnectResponse: %w", err)
		}
		out, label = f.connectResp.Append(nil), "connect"
	case f.entry.Dir == zkrecord.FromClient:
		h := &f.reqHeader
		if err := h.Decode(d); err != nil {
			return fmt.Errorf("RequestHeader: %w", err)
		}
		f.request = zkproto.NewRequest(h.Type)
		if f.request == nil {
			return fmt.Errorf("no request type for op %v", h.Type)
		}
		if err := f.request.Decode(d); err != nil {
			return fmt.Errorf("%v request: %w", h.Type, err)
		}
		c.pending[h.Xid] = h.Type
		out = f.request.Append(h.Append(nil))
		label = fmt.Sprintf("%v#%d", h.Type, h.Xid)
	default:
		h := &f.replyHeader
		if err := h.Decode(d); err != nil {
			return fmt.Errorf("ReplyHeader: %w", err)
		}
		if h.Xid == zkproto.NotificationXid {
			f.event = &zkproto.WatcherEvent{}
			if err := f.event.Decode(d); err != nil {
				return fmt.Errorf("WatcherEvent: %w", err)
			}
			out, label = f.event.Append(h.Append(nil)), "notification"
			break
		}
		op, ok := c.pending[h.Xid]
		if !ok {
			return fmt.Errorf("reply to xid %d, which no request is waiting for", h.Xid)
		}
		delete(c.pending, h.Xid)
		f.replyOp = op
		label = fmt.Sprintf("%v#%d", op, h.Xid)
		if h.Err != zkproto.OK {
			label += ":" + h.Err.Name()
		}
		body, known := zkproto.NewResponse(op)
		if !known {
			return fmt.Errorf("no response type for op %v", op)
		}
		if h.Err == zkproto.OK && body != nil {
			if err := body.Decode(d); err != nil {
				return fmt.Errorf("%v response: %w", op, err)
			}
			f.reply = body
		}
		out = zkproto.AppendReplyFrame(nil, h, f.reply)[4:]
	}
	if n := d.Remaining(); n != 0 {
		return fmt.Errorf("%d bytes left after decoding", n)
	}
	if !bytes.Equal(out, p) {
		return fmt.Errorf("re-encoding differs:\n  got  %x\n  want %x", out, p)
	}
	if label != f.entry.Label {
		return fmt.Errorf("decoded as %q, recorded as %q", label, f.entry.Label)
	}
	return nil
}

func TestGoldenConversationsDecodeAndReencodeExactly(t *testing.T) {
	all := loadGolden(t)
	for name, frames := range all {
		if len(frames) < 10 {
			t.Errorf("%s: only %d frames decoded", name, len(frames))
		}
	}
}
