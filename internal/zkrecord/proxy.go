package zkrecord

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"

	"github.com/vrkeeper/vrkeeper/zkproto"
)

// maxRecordedFrame is the largest frame the proxy passes on. It is larger
// than any server's jute.maxbuffer so that the proxy never decides for them.
const maxRecordedFrame = 16 << 20

// Proxy is a recording TCP proxy between ZooKeeper clients and one server.
type Proxy struct {
	ln       net.Listener
	upstream string
	rec      *Recorder

	mu     sync.Mutex
	next   int                 // number of the last connection accepted
	open   map[int][2]net.Conn // client and server side of each open connection
	closed bool
	wg     sync.WaitGroup // the accept loop and every connection's pumps
}

// Listen starts a proxy on addr (for example "127.0.0.1:0") that forwards
// each connection to upstream and records it in rec.
func Listen(addr, upstream string, rec *Recorder) (*Proxy, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("zkrecord: listen on %s: %w", addr, err)
	}
	p := &Proxy{ln: ln, upstream: upstream, rec: rec, open: make(map[int][2]net.Conn)}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr returns the address clients should connect to.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Sever closes every open connection at once, as a network failure would,
// so that clients reconnect (and resume their sessions) through the proxy.
func (p *Proxy) Sever() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for n, c := range p.open {
		p.rec.Comment("proxy: severed connection %d", n)
		c[0].Close()
		c[1].Close()
	}
}

// Close stops accepting, closes every open connection and waits until
// every frame in flight has been recorded.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	for _, c := range p.open {
		c[0].Close()
		c[1].Close()
	}
	p.mu.Unlock()
	err := p.ln.Close()
	p.wg.Wait()
	return err
}

// Wait waits until every connection accepted so far has ended, without
// closing any: use it after clients have closed their sessions.
func (p *Proxy) Wait() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.ln.Close()
	p.wg.Wait()
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			client.Close()
			return
		}
		p.next++
		n := p.next
		p.wg.Add(1)
		p.mu.Unlock()
		go p.serve(n, client)
	}
}

// serve connects connection n to the upstream server and pumps frames both
// ways until both directions have ended.
func (p *Proxy) serve(n int, client net.Conn) {
	defer p.wg.Done()
	server, err := net.Dial("tcp", p.upstream)
	if err != nil {
		p.rec.Comment("proxy: connection %d: dial %s: %v", n, p.upstream, err)
		client.Close()
		return
	}
	p.mu.Lock()
	p.open[n] = [2]net.Conn{client, server}
	p.mu.Unlock()

	var pumps sync.WaitGroup
	pumps.Add(2)
	go func() { defer pumps.Done(); p.pump(n, FromClient, client, server) }()
	go func() { defer pumps.Done(); p.pump(n, FromServer, server, client) }()
	pumps.Wait()

	client.Close()
	server.Close()
	p.mu.Lock()
	delete(p.open, n)
	p.mu.Unlock()
}

// pump records and forwards the frames src sends to dst. Each frame is
// recorded before it is forwarded, so a reply is never recorded before the
// request it answers. When src ends, dst's writing half is shut (or dst is
// closed) so the peer sees the same end.
func (p *Proxy) pump(n int, dir Direction, src, dst net.Conn) {
	who := map[Direction]string{FromClient: "client", FromServer: "server"}[dir]
	fr := zkproto.NewFrameReader(src, maxRecordedFrame)
	var out []byte
	for {
		payload, err := fr.ReadFrame()
		if err != nil {
			switch {
			case errors.Is(err, io.EOF):
				p.rec.Comment("proxy: connection %d: %s closed the connection", n, who)
			case errors.Is(err, net.ErrClosed):
			default:
				p.rec.Comment("proxy: connection %d: read from %s: %v", n, who, err)
			}
			if tc, ok := dst.(*net.TCPConn); ok && errors.Is(err, io.EOF) {
				tc.CloseWrite()
			} else {
				dst.Close()
			}
			return
		}
		p.rec.Frame(n, dir, payload)
		out = binary.BigEndian.AppendUint32(out[:0], uint32(len(payload)))
		out = append(out, payload...)
		if _, err := dst.Write(out); err != nil {
			src.Close()
			return
		}
	}
}
