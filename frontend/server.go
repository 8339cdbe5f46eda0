package frontend

import (
	"context"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/vrkeeper/vrkeeper/bridge"
	"github.com/vrkeeper/vrkeeper/internal/accept"
	"github.com/vrkeeper/vrkeeper/internal/budget"
	"github.com/vrkeeper/vrkeeper/zkproto"
)

// Config is the client-facing configuration of a server.
type Config struct {
	ClientAddr        string
	MinSessionTimeout time.Duration
	MaxSessionTimeout time.Duration
	MaxClientCnxns    int             // per client IP address; 0: no limit
	FourLetterWords   map[string]bool // allowed words; srvr always
	// MaxPacketSize is jute.maxbuffer, the largest request frame; a larger
	// one closes its connection, as in ZooKeeper. The bounds below that
	// are left 0 follow from it (bridge.DeriveLimits).
	MaxPacketSize int
	// SequentialReads serves reads from the local tree without a quorum
	// round, as ZooKeeper does; by default reads are linearizable.
	SequentialReads bool
	SuperDigest     string        // "super:<base64 sha1>", or ""
	TickTime        time.Duration // ZooKeeper's tickTime
	// HandshakeTimeout closes a connection that has not completed its
	// handshake (half-open, or a stranger) in time.
	HandshakeTimeout time.Duration
	// MaxOutstanding and MaxOutstandingBytes bound the requests of one
	// connection that are read but not yet answered; the connection is not
	// read beyond them (see admission.go).
	MaxOutstanding      int
	MaxOutstandingBytes int
	// TotalOutstanding and TotalOutstandingBytes bound the same across
	// every connection of the server (TotalOutstanding is ZooKeeper's
	// globalOutstandingLimit): beyond them no connection is read.
	TotalOutstanding      int
	TotalOutstandingBytes int
	// OutboxSoftBytes and MaxQueuedBytes bound one connection's unsent
	// replies and events: beyond the first the connection is not read, and
	// a client that still does not read is disconnected beyond the second.
	OutboxSoftBytes int
	MaxQueuedBytes  int
	// AuthBytes bounds the identities (encoded) a connection may hold: they
	// travel in each of its writes. An auth beyond it fails.
	AuthBytes int
	// Conf and Env are the lines the conf and envi words print.
	Conf, Env [][2]string
}

func (c *Config) fill() {
	if c.TickTime == 0 {
		c.TickTime = 2 * time.Second
	}
	if c.MinSessionTimeout == 0 {
		c.MinSessionTimeout = 2 * c.TickTime
	}
	if c.MaxSessionTimeout == 0 {
		c.MaxSessionTimeout = 20 * c.TickTime
	}
	if c.MaxPacketSize == 0 {
		c.MaxPacketSize = zkproto.DefaultMaxPacketSize
	}
	lim, err := bridge.DeriveLimits(c.MaxPacketSize, 1)
	if err != nil { // the node refuses it; the defaults serve meanwhile
		lim, _ = bridge.DeriveLimits(0, 1)
	}
	def := func(v *int, x int) {
		if *v == 0 {
			*v = x
		}
	}
	def(&c.MaxOutstanding, lim.ConnRequests)
	def(&c.MaxOutstandingBytes, lim.ConnBytes)
	def(&c.TotalOutstanding, lim.TotalRequests)
	def(&c.TotalOutstandingBytes, lim.TotalBytes)
	def(&c.OutboxSoftBytes, lim.OutboxSoft)
	def(&c.MaxQueuedBytes, lim.OutboxHard)
	def(&c.AuthBytes, lim.AuthBytes)
	if c.HandshakeTimeout == 0 {
		c.HandshakeTimeout = max(c.MinSessionTimeout, 5*time.Second)
	}
	if c.FourLetterWords == nil {
		c.FourLetterWords = map[string]bool{"srvr": true}
	}
}

// Server accepts client connections and serves them through a bridge.Node.
type Server struct {
	cfg   Config
	node  *bridge.Node
	log   hclog.Logger
	start time.Time
	ln    net.Listener
	core  *core // owned by the node's apply goroutine
	// total bounds the requests outstanding across connections.
	total *budget.Budget

	mu     sync.Mutex
	conns  map[*conn]struct{}
	perIP  map[string]int
	nextID uint64
	closed bool
	stop   chan struct{} // closed by Close
	wg     sync.WaitGroup
}

// New returns a server for node; node must have been built with the
// server's Handler (see Handler).
func New(cfg Config, log hclog.Logger) *Server {
	cfg.fill()
	s := &Server{cfg: cfg, log: log, start: time.Now(), conns: map[*conn]struct{}{}, perIP: map[string]int{},
		total: budget.New(cfg.TotalOutstanding, cfg.TotalOutstandingBytes), stop: make(chan struct{})}
	s.core = newCore(s)
	return s
}

// Handler returns the bridge.Handler to build the node with.
func (s *Server) Handler() bridge.Handler { return s.core }

// Serve listens on the client address and serves until ctx ends or Close
// is called. When it returns, every connection has ended.
func (s *Server) Serve(ctx context.Context, node *bridge.Node) error {
	ln, err := net.Listen("tcp", s.cfg.ClientAddr)
	if err != nil {
		return fmt.Errorf("frontend: listen on %s: %w", s.cfg.ClientAddr, err)
	}
	return s.serveOn(ctx, node, ln)
}

// serveOn is Serve on a listener the caller made.
func (s *Server) serveOn(ctx context.Context, node *bridge.Node, ln net.Listener) error {
	s.node = node
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ln.Close()
	}
	s.ln = ln
	s.mu.Unlock()
	closed := make(chan struct{})
	watch := context.AfterFunc(ctx, func() {
		s.Close()
		close(closed)
	})
	// A failure to accept (out of descriptors, say) is waited out; only
	// Close ends the loop.
	accept.Loop(ln, s.stop, s.accept, func(err error, pause time.Duration) {
		s.log.Warn("accepting a connection failed", "error", err, "retry_in", pause)
	})
	if !watch() {
		<-closed // ctx ended: Close runs on the watcher
	}
	return s.Close()
}

// Addr returns the listening address once serving.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// accept admits a connection within the per-address limit.
func (s *Server) accept(nc net.Conn) {
	ip := remoteIP(nc)
	s.mu.Lock()
	if s.closed || (s.cfg.MaxClientCnxns > 0 && s.perIP[ip] >= s.cfg.MaxClientCnxns) {
		s.mu.Unlock()
		s.log.Warn("too many connections from one address", "ip", ip, "max", s.cfg.MaxClientCnxns)
		nc.Close()
		return
	}
	s.nextID++
	c := newConn(s, nc, s.nextID, ip)
	s.conns[c] = struct{}{}
	s.perIP[ip]++
	s.wg.Add(1) // under the lock: Close, once it has the lock, waits for it
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		c.serve()
		s.mu.Lock()
		delete(s.conns, c)
		if s.perIP[ip]--; s.perIP[ip] == 0 {
			delete(s.perIP, ip)
		}
		s.mu.Unlock()
	}()
}

func remoteIP(nc net.Conn) string {
	if a, ok := nc.RemoteAddr().(*net.TCPAddr); ok {
		return a.IP.String()
	}
	host, _, _ := net.SplitHostPort(nc.RemoteAddr().String())
	return host
}

// Close stops accepting, closes every connection and waits for them.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.wg.Wait()
		return nil
	}
	s.closed = true
	close(s.stop)
	var err error
	if s.ln != nil {
		err = s.ln.Close()
	}
	for c := range s.conns {
		// Abort, not just close the socket: a reader waiting for room
		// (admission.go) wakes when the outbox ends.
		c.out.abort()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

// connStats returns every connection's statistics for stat and cons.
func (s *Server) connStats() []ConnStats {
	s.mu.Lock()
	list := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		list = append(list, c)
	}
	s.mu.Unlock()
	out := make([]ConnStats, 0, len(list))
	for _, c := range list {
		out = append(out, c.stats())
	}
	return out
}
