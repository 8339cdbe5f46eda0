package peer

import (
	"bytes"
	"encoding/binary"
	"net"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

// bytesConn is a net.Conn that reads a fixed input and discards writes.
type bytesConn struct{ r *bytes.Reader }

func (c bytesConn) Read(b []byte) (int, error)       { return c.r.Read(b) }
func (c bytesConn) Write(b []byte) (int, error)      { return len(b), nil }
func (c bytesConn) Close() error                     { return nil }
func (c bytesConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c bytesConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c bytesConn) SetDeadline(time.Time) error      { return nil }
func (c bytesConn) SetReadDeadline(time.Time) error  { return nil }
func (c bytesConn) SetWriteDeadline(time.Time) error { return nil }

// helloFrame is a valid hello from one member to another, framed.
func helloFrame(from, to uint64) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(helloSize))
	b = append(b, helloMagic...)
	b = binary.BigEndian.AppendUint64(b, from)
	return binary.BigEndian.AppendUint64(b, to)
}

// FuzzHandshake feeds arbitrary bytes to the accepting side of a peer
// connection (the hello, then frames): it must never crash or hang, must
// deliver nothing unless a valid hello from a configured member to this
// server came first, and every frame it delivers must lie within the
// input and the frame bound.
func FuzzHandshake(f *testing.F) {
	ok := helloFrame(2, 1)
	f.Add(ok)
	f.Add(append(append([]byte{}, ok...), 0, 0, 0, 3, 'a', 'b', 'c'))
	f.Add(append(helloFrame(9, 1), 0, 0, 0, 1, 'x'))
	f.Add(append(helloFrame(2, 7), 0, 0, 0, 1, 'x'))
	f.Add([]byte("\x00\x00\x00\x18VRKPEER0\x00\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x01"))
	f.Add([]byte("\xff\xff\xff\xff"))
	f.Add([]byte("\x16\x03\x01\x00\x05hello")) // a TLS ClientHello on a plain port
	f.Fuzz(func(t *testing.T, in []byte) {
		const maxFrame = 1 << 10
		tr := &Transport{self: 1, log: hclog.NewNullLogger(), opts: Options{MaxFrame: maxFrame},
			peers: map[uint64]*peerLink{2: {id: 2, addr: "127.0.0.2:1"}, 3: {id: 3, addr: "127.0.0.3:1"}}}
		delivered := 0
		tr.deliver = func(from uint64, frame []byte) {
			if from != 2 && from != 3 {
				t.Fatalf("frame delivered from %d, not a member", from)
			}
			if len(frame) > maxFrame {
				t.Fatalf("frame of %d bytes over the bound", len(frame))
			}
			delivered++
		}
		tr.receive(bytesConn{bytes.NewReader(in)})
		if delivered > 0 {
			if len(in) < 4+helloSize {
				t.Fatal("delivered without a hello")
			}
			from := binary.BigEndian.Uint64(in[4+len(helloMagic):])
			to := binary.BigEndian.Uint64(in[4+len(helloMagic)+8:])
			if string(in[4:4+len(helloMagic)]) != helloMagic || to != 1 || (from != 2 && from != 3) {
				t.Fatalf("delivered after hello %q", in[:4+helloSize])
			}
		}
	})
}
