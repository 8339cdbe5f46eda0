// Package peer is the transport between the servers of a cluster: one
// outgoing TCP connection to each peer for what this server sends, the
// peers' connections accepted for what it receives, opaque length-prefixed
// frames, bounded queues in count and bytes. It knows nothing of what the
// frames carry (the replica driver's messages, snapshot chunks).
package peer

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/vrkeeper/vrkeeper/internal/accept"
	"github.com/vrkeeper/vrkeeper/internal/tlsconf"
	"github.com/vrkeeper/vrkeeper/zkproto"
)

// Transport carries replication messages between the servers of a cluster
// over TCP: one outgoing connection to each peer for what this server sends,
// and the peers' connections accepted for what it receives. Messages are
// opaque, length-prefixed frames. Sending never blocks the caller: each peer
// has a queue bounded in frames and in bytes, drained by a writer goroutine
// that batches frames into one write; a full queue or a broken link drops
// messages, which the replication protocol tolerates (it retransmits on its
// timers). Receiving pushes back: a peer's connection is read no faster
// than deliver returns. Every goroutine the transport starts has ended when
// Close returns.
type Transport struct {
	self     uint64
	listener net.Listener
	deliver  func(from uint64, frame []byte) // frame is valid only during the call
	log      hclog.Logger
	opts     Options

	mu     sync.Mutex
	peers  map[uint64]*peerLink
	closed bool
	done   chan struct{} // closed by Close
	wg     sync.WaitGroup
}

// Options bounds the transport.
type Options struct {
	MaxFrame     int           // largest frame accepted or sent
	QueueFrames  int           // frames queued per peer before dropping
	QueueBytes   int           // bytes queued per peer before dropping (one frame always fits an empty queue)
	DialTimeout  time.Duration // one connection attempt
	MaxBackoff   time.Duration // longest wait between attempts
	WriteTimeout time.Duration // one batch write
	// TLS, if set, makes every link mutual TLS (ZooKeeper's sslQuorum):
	// see tls.go.
	TLS *tlsconf.Source
}

func (o *Options) fill() {
	if o.MaxFrame == 0 {
		o.MaxFrame = 64 << 20
	}
	if o.QueueFrames == 0 {
		o.QueueFrames = 4096
	}
	if o.QueueBytes == 0 {
		o.QueueBytes = 64 << 20
	}
	if o.DialTimeout == 0 {
		o.DialTimeout = time.Second
	}
	if o.MaxBackoff == 0 {
		o.MaxBackoff = time.Second
	}
	if o.WriteTimeout == 0 {
		o.WriteTimeout = 5 * time.Second
	}
}

// helloMagic starts the first frame of a peer connection, so that a
// stranger (a ZooKeeper client on the wrong port, say) is refused at once.
const helloMagic = "VRKPEER1"

// helloSize is the hello frame's length: the magic, the sender's and the
// receiver's ids.
const helloSize = len(helloMagic) + 16

// ErrClosed is returned by Send after Close.
var ErrClosed = errors.New("transport: closed")

// New listens on listenAddr for peers and prepares links to the
// given peers (id to address; self may be among them and is skipped).
// deliver is called on a receiving goroutine for each frame from a peer.
func New(self uint64, listenAddr string, peers map[uint64]string,
	deliver func(from uint64, frame []byte), log hclog.Logger, opts Options) (*Transport, error) {
	ln, err := net.Listen("tcp", listenAddr)
	if err != nil {
		return nil, fmt.Errorf("transport: listen on %s: %w", listenAddr, err)
	}
	return newOn(self, ln, peers, deliver, log, opts), nil
}

// newOn is New on a listener the caller made.
func newOn(self uint64, ln net.Listener, peers map[uint64]string,
	deliver func(from uint64, frame []byte), log hclog.Logger, opts Options) *Transport {
	opts.fill()
	t := &Transport{self: self, listener: ln, deliver: deliver, log: log, opts: opts,
		peers: map[uint64]*peerLink{}, done: make(chan struct{})}
	for id, addr := range peers {
		if id == self {
			continue
		}
		l := &peerLink{t: t, id: id, addr: addr, queue: make(chan []byte, opts.QueueFrames), stop: make(chan struct{})}
		t.peers[id] = l
		t.wg.Add(1)
		go l.run()
	}
	t.wg.Add(1)
	go t.acceptLoop()
	return t
}

// Addr returns the address peers connect to.
func (t *Transport) Addr() net.Addr { return t.listener.Addr() }

// Send queues a frame for peer to; it is dropped if the peer's queue is
// full. The transport keeps frame, so the caller must not reuse it.
func (t *Transport) Send(to uint64, frame []byte) error {
	t.mu.Lock()
	l, ok := t.peers[to]
	closed := t.closed
	t.mu.Unlock()
	if closed {
		return ErrClosed
	}
	if !ok {
		return fmt.Errorf("transport: no peer %d", to)
	}
	if len(frame) > t.opts.MaxFrame {
		return fmt.Errorf("transport: frame of %d bytes to peer %d exceeds %d", len(frame), to, t.opts.MaxFrame)
	}
	l.offer(frame) // dropped if full: the protocol will retransmit
	return nil
}

// Close stops every link and the listener and waits for the goroutines.
func (t *Transport) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	close(t.done)
	for _, l := range t.peers {
		close(l.stop)
	}
	t.mu.Unlock()
	err := t.listener.Close()
	t.wg.Wait()
	return err
}

// acceptLoop takes peers' connections until Close; a failure to accept
// (out of descriptors, say) is waited out, not taken as the end.
func (t *Transport) acceptLoop() {
	defer t.wg.Done()
	accept.Loop(t.listener, t.done, func(conn net.Conn) {
		t.wg.Add(2)
		ended := make(chan struct{})
		go func() { // close the connection when the transport closes
			defer t.wg.Done()
			select {
			case <-t.done:
				conn.Close()
			case <-ended:
			}
		}()
		go func() {
			defer t.wg.Done()
			defer close(ended)
			t.receive(conn)
		}()
	}, func(err error, pause time.Duration) {
		t.log.Warn("accepting a peer connection failed", "error", err, "retry_in", pause)
	})
}

// receive reads frames from one accepted peer connection.
func (t *Transport) receive(conn net.Conn) {
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	conn, ok := t.serverTLS(conn) // tls.go: conn itself without TLS
	if !ok {
		return
	}
	// zkproto's frame reader grows its buffer only as bytes arrive, so a
	// peer announcing a huge frame costs nothing until it sends it.
	fr := zkproto.NewFrameReader(conn, t.opts.MaxFrame)
	hello, err := readHello(fr)
	if err != nil {
		t.log.Warn("refused a peer connection without a valid hello", "remote", conn.RemoteAddr())
		return
	}
	from := binary.BigEndian.Uint64(hello[len(helloMagic):])
	to := binary.BigEndian.Uint64(hello[len(helloMagic)+8:])
	t.mu.Lock()
	l, known := t.peers[from]
	t.mu.Unlock()
	if !known || to != t.self {
		t.log.Warn("refused a peer connection", "remote", conn.RemoteAddr(), "from", from, "to", to)
		return
	}
	if err := t.verifyMember(conn, l.addr); err != nil { // tls.go
		t.log.Warn("refused a peer connection: its certificate is not that of the member it claims to be",
			"remote", conn.RemoteAddr(), "from", from, "error", err)
		return
	}
	conn.SetReadDeadline(time.Time{})
	for {
		frame, err := fr.ReadFrame()
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				t.log.Debug("peer connection ended", "from", from, "error", err)
			}
			return
		}
		t.deliver(from, frame) // frame is valid until the next read
	}
}

// readHello reads the hello frame; a length other than the hello's is
// refused at once, without waiting for the bytes it announces.
func readHello(fr *zkproto.FrameReader) ([]byte, error) {
	n, err := fr.ReadRaw(4)
	if err != nil {
		return nil, err
	}
	if binary.BigEndian.Uint32(n) != uint32(helloSize) {
		return nil, errors.New("transport: not a hello")
	}
	hello, err := fr.ReadRaw(helloSize)
	if err != nil || string(hello[:len(helloMagic)]) != helloMagic {
		return nil, errors.New("transport: not a hello")
	}
	return hello, nil
}

// peerLink is the outgoing side of one peer: a queue and the goroutine that
// dials, writes in batches and redials with backoff.
type peerLink struct {
	t      *Transport
	id     uint64
	addr   string
	queue  chan []byte
	queued atomic.Int64 // bytes of the frames in queue
	stop   chan struct{}
}

// offer queues frame if the queue has room for it in frames and in bytes
// (an empty queue takes any frame); it reports whether it did.
func (l *peerLink) offer(frame []byte) bool {
	n := int64(len(frame))
	if q := l.queued.Add(n); q > int64(l.t.opts.QueueBytes) && q != n {
		l.queued.Add(-n)
		return false
	}
	select {
	case l.queue <- frame:
		return true
	default:
		l.queued.Add(-n)
		return false
	}
}

// take accounts for a frame taken from the queue.
func (l *peerLink) take(frame []byte) []byte {
	l.queued.Add(-int64(len(frame)))
	return frame
}

func (l *peerLink) run() {
	defer l.t.wg.Done()
	backoff := 10 * time.Millisecond
	for {
		conn, err := net.DialTimeout("tcp", l.addr, l.t.opts.DialTimeout)
		if err == nil {
			conn, err = l.clientTLS(conn) // tls.go: conn itself without TLS
		}
		if err == nil {
			backoff = 10 * time.Millisecond
			err = l.stream(conn)
			conn.Close()
		}
		select {
		case <-l.stop:
			return
		default:
		}
		l.t.log.Debug("peer link down", "peer", l.id, "addr", l.addr, "error", err)
		l.drain()
		select {
		case <-l.stop:
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, l.t.opts.MaxBackoff)
	}
}

// drain drops queued frames while the link is down: they would be stale by
// the time a connection is back, and the protocol retransmits.
func (l *peerLink) drain() {
	for {
		select {
		case f := <-l.queue:
			l.take(f)
		default:
			return
		}
	}
}

// stream writes the hello, then queued frames in batches until an error.
func (l *peerLink) stream(conn net.Conn) error {
	w := bufio.NewWriterSize(conn, 256<<10)
	hello := make([]byte, 0, helloSize)
	hello = append(hello, helloMagic...)
	hello = binary.BigEndian.AppendUint64(hello, l.t.self)
	hello = binary.BigEndian.AppendUint64(hello, l.id)
	if err := writeFrame(w, hello); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	// A reader that notices the peer closing lets a dead link be redialed
	// even when nothing is being sent; a watcher closes the connection on
	// Close, so that a write blocked on a peer that does not read ends at
	// once. Both have ended when stream returns.
	dead := make(chan struct{})
	var helpers sync.WaitGroup
	helpers.Add(2)
	go func() {
		defer helpers.Done()
		io.Copy(io.Discard, conn)
		close(dead)
	}()
	go func() {
		defer helpers.Done()
		select {
		case <-l.stop:
			conn.Close()
		case <-dead:
		}
	}()
	defer func() {
		conn.Close()
		helpers.Wait()
	}()
	for {
		select {
		case <-l.stop:
			return nil
		case <-dead:
			return errors.New("peer closed the connection")
		case frame := <-l.queue:
			l.take(frame)
			conn.SetWriteDeadline(time.Now().Add(l.t.opts.WriteTimeout))
			if err := writeFrame(w, frame); err != nil {
				return err
			}
			// Batch whatever else is queued into the same write.
			for more := true; more; {
				select {
				case f := <-l.queue:
					if err := writeFrame(w, l.take(f)); err != nil {
						return err
					}
				default:
					more = false
				}
			}
			if err := w.Flush(); err != nil {
				return err
			}
		}
	}
}

func writeFrame(w *bufio.Writer, frame []byte) error {
	var hdr [4]byte
	binary.BigEndian.PutUint32(hdr[:], uint32(len(frame)))
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	_, err := w.Write(frame)
	return err
}
