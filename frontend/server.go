package frontend

import (
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/vrkeeper/vrkeeper/bridge"
	"github.com/vrkeeper/vrkeeper/internal/accept"
	"github.com/vrkeeper/vrkeeper/internal/budget"
	"github.com/vrkeeper/vrkeeper/metrics"
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
	// DataDir and DataLogDir are measured by dirs; ServerID and Servers
	// describe the cluster to the AdminServer (Servers empty for a single
	// node). Properties are the settings system_properties reports.
	DataDir, DataLogDir string
	ServerID            int
	Servers             []ServerInfo
	Properties          [][2]string
	// InitialConfig is the configuration file's text, which a single
	// server's initial_configuration command shows (ZooKeeper shows it in
	// standalone mode only).
	InitialConfig string
	// GlobalOutstanding bounds the requests read and not yet answered
	// across all connections (ZooKeeper's globalOutstandingLimit): beyond
	// it no connection is read until replies go out. 0: no bound.
	GlobalOutstanding int
	// MaxCnxns bounds the client connections in all (ZooKeeper's
	// maxCnxns); 0: no limit.
	MaxCnxns int
	// NoClientsOnPrimary refuses client connections while this server is
	// the primary (ZooKeeper's leaderServes=no).
	NoClientsOnPrimary bool
	// PeerTimeout is the failure-detection time (syncLimit ticks): a
	// backup the primary has not heard from for longer is not counted
	// among its learners.
	PeerTimeout time.Duration
	// Metrics receives the frontend's metrics and the server's state at
	// each scrape; nil turns metrics off.
	Metrics *metrics.Registry
	// Security configures TLS, x509, SASL and ACL enforcement (security.go).
	Security Security
	// ExtendedTypes is zookeeper.extendedTypesEnabled: TTL nodes may be
	// created through this server (tree.PolicyExtendedTypes); elsewhere
	// TTL creates get UNIMPLEMENTED.
	ExtendedTypes bool
	// ContainerMaxNeverUsed is znode.container.maxNeverUsedIntervalMs: the
	// clean-ups this server proposes as primary remove a container that
	// never had a child once it is older than this (ms); 0 never does.
	ContainerMaxNeverUsed int64
}

// ServerInfo is one member of the cluster, for voting_view and leader.
type ServerInfo struct {
	ID           int
	PeerAddr     string // host:port of the replication link
	ElectionAddr string // host:port given as the election address, or ""
	ClientAddr   string // host:port for clients, or ""
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
	// ZooKeeper's globalOutstandingLimit is the bound across connections.
	def(&c.TotalOutstanding, c.GlobalOutstanding)
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
	if c.PeerTimeout == 0 {
		c.PeerTimeout = 5 * c.TickTime
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
	// secureLn is the secure client port's listener (TLS), or nil.
	secureLn net.Listener
	core     *core         // owned by the node's apply goroutine
	bound    chan struct{} // closed once the client port is bound

	stats serverStats
	role  atomic.Int32 // the bridge.Role the apply goroutine last saw
	// total bounds the requests outstanding across connections
	// (globalOutstandingLimit, and bytes).
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
		bound: make(chan struct{}),
		total: budget.New(cfg.TotalOutstanding, cfg.TotalOutstandingBytes), stop: make(chan struct{})}
	s.core = newCore(s)
	cfg.Metrics.OnScrape(s.scrape)
	return s
}

// Handler returns the bridge.Handler to build the node with.
func (s *Server) Handler() bridge.Handler { return roleTracker{s.core, &s.role} }

// roleTracker is the core as the node's handler, noting each role change
// where the four-letter words and the AdminServer read it without the
// apply goroutine.
type roleTracker struct {
	*core
	role *atomic.Int32
}

// RoleChanged implements bridge.Handler.
func (h roleTracker) RoleChanged(a *bridge.Apply, role bridge.Role) {
	h.role.Store(int32(role))
	h.core.RoleChanged(a, role)
}

// Serve listens on the client address and serves until ctx ends or Close
// is called. When it returns, every connection has ended.
func (s *Server) Serve(ctx context.Context, node *bridge.Node) error {
	ln, err := net.Listen("tcp", s.cfg.ClientAddr)
	if err != nil {
		return fmt.Errorf("frontend: listen on %s: %w", s.cfg.ClientAddr, err)
	}
	if addr := s.cfg.Security.SecureClientAddr; addr != "" {
		sln, err := net.Listen("tcp", addr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("frontend: listen on the secure client port %s: %w", addr, err)
		}
		s.mu.Lock()
		s.secureLn = sln
		s.mu.Unlock()
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
	if s.secureLn != nil {
		s.wg.Add(1)
		go s.serveSecure(s.secureLn)
	}
	s.mu.Unlock()
	close(s.bound)
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

// Bound is closed once Serve has bound the client port.
func (s *Server) Bound() <-chan struct{} { return s.bound }

// Addr returns the listening address once serving.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// SecureAddr returns the secure client port's address once serving, or
// nil without one.
func (s *Server) SecureAddr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.secureLn == nil || s.ln == nil {
		return nil
	}
	return s.secureLn.Addr()
}

// accept admits a connection within the per-address limit.
func (s *Server) accept(nc net.Conn) {
	ip := remoteIP(nc)
	s.mu.Lock()
	if !s.closed && s.refuseConn() {
		s.mu.Unlock()
		nc.Close()
		return
	}
	if closed := s.closed; closed || (s.cfg.MaxClientCnxns > 0 && s.perIP[ip] >= s.cfg.MaxClientCnxns) {
		s.mu.Unlock()
		if !closed {
			s.stats.connRejected.Add(1)
			s.cfg.Metrics.Add(metrics.ConnectionRejected, 1)
			s.log.Warn("too many connections from one address", "ip", ip, "max", s.cfg.MaxClientCnxns)
		}
		nc.Close()
		return
	}
	s.stats.connRequests.Add(1)
	s.cfg.Metrics.Add(metrics.ConnectionRequestCount, 1)
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

// refuseConn reports whether a new connection must be refused before its
// handshake: beyond maxCnxns in all, or on the primary when leaderServes is
// off (ZooKeeper's leader then takes no clients). Called with s.mu held.
func (s *Server) refuseConn() bool {
	if s.cfg.MaxCnxns > 0 && len(s.conns) >= s.cfg.MaxCnxns {
		s.stats.connRejected.Add(1)
		s.cfg.Metrics.Add(metrics.ConnectionRejected, 1)
		s.log.Warn("too many connections", "max", s.cfg.MaxCnxns)
		return true
	}
	return s.cfg.NoClientsOnPrimary && s.node != nil && s.node.Status().Role == bridge.RolePrimary
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
	if s.secureLn != nil {
		s.secureLn.Close()
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
