package frontend

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/vrkeeper/vrkeeper/bridge"
	"github.com/vrkeeper/vrkeeper/internal/accept/accepttest"
	"github.com/vrkeeper/vrkeeper/internal/leakcheck"
	"github.com/vrkeeper/vrkeeper/tree"
	"github.com/vrkeeper/vrkeeper/zkproto"
)

// limitServer is a frontend on a single-node bridge with adjustable
// limits, and the means to stop it.
type limitServer struct {
	*Server
	node *bridge.Node
	stop func() // cancels and waits for Serve and Run
}

func startLimitServer(t *testing.T, mutate func(*Config), opts func(*bridge.Options)) *limitServer {
	t.Helper()
	cfg := Config{ClientAddr: "127.0.0.1:0", TickTime: 200 * time.Millisecond,
		MinSessionTimeout: 400 * time.Millisecond, MaxSessionTimeout: 60 * time.Second, ExtendedTypes: true}
	if mutate != nil {
		mutate(&cfg)
	}
	log := hclog.NewNullLogger()
	srv := New(cfg, log)
	o := bridge.Options{ID: 1, DataDir: t.TempDir(), Tick: 20 * time.Millisecond}
	if opts != nil {
		opts(&o)
	}
	node, err := bridge.NewNode(o, srv.Handler(), log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	nodeDone, serveDone := make(chan error, 1), make(chan error, 1)
	go func() { nodeDone <- node.Run(ctx) }()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { serveDone <- srv.serveOn(ctx, node, ln) }()
	stopped := false
	ls := &limitServer{Server: srv, node: node, stop: func() {
		if !stopped {
			stopped = true
			cancel()
			<-serveDone
			<-nodeDone
		}
	}}
	t.Cleanup(ls.stop)
	<-node.Serving()
	waitUntil(t, "the listener is up", func() bool { return srv.Addr() != nil })
	return ls
}

// waitUntil waits for cond, an event in another goroutine that the test
// can only observe; it fails after 10 seconds.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// serverConn returns the server's side of r.
func (ls *limitServer) serverConn(t *testing.T, r *rawConn) *conn {
	t.Helper()
	var found *conn
	waitUntil(t, "the connection is accepted", func() bool {
		ls.mu.Lock()
		defer ls.mu.Unlock()
		for c := range ls.conns {
			if c.remote == r.nc.LocalAddr().String() {
				found = c
			}
		}
		return found != nil
	})
	return found
}

// holdApply blocks the node's apply goroutine until the returned function
// is called (or the test ends): requests read meanwhile stay outstanding.
func (ls *limitServer) holdApply(t *testing.T) (release func()) {
	entered, gate := make(chan struct{}), make(chan struct{})
	ls.node.Submit(func(*bridge.Apply) {
		close(entered)
		<-gate
	})
	<-entered
	var once sync.Once
	release = func() { once.Do(func() { close(gate) }) }
	t.Cleanup(release)
	return release
}

// TestConnectionNotReadBeyondItsShare: a connection whose outstanding
// requests reach its bound in count or bytes, or the server's bound, is not
// read until replies go out; then every request is answered, in order, and
// every share is given back.
func TestConnectionNotReadBeyondItsShare(t *testing.T) {
	tests := []struct {
		name    string
		cfg     func(*Config)
		data    int   // setData of this many bytes
		sends   []int // requests per connection, sent in turn
		held    []int // requests each connection holds once its reader waits
		onTotal []bool
		total   int // requests the server holds then
	}{
		{"connection's count", func(c *Config) { c.MaxOutstanding = 4 }, 0, []int{10}, []int{4}, []bool{false}, 4},
		{"connection's bytes", func(c *Config) { c.MaxOutstanding, c.MaxOutstandingBytes = 100, 2000 }, 500, []int{10}, []int{3}, []bool{false}, 3},
		{"server's count", func(c *Config) { c.MaxOutstanding, c.TotalOutstanding = 4, 6 }, 0, []int{10, 10}, []int{4, 2}, []bool{false, true}, 6},
		{"server's bytes", func(c *Config) { c.MaxOutstandingBytes, c.TotalOutstandingBytes = 2000, 2500 }, 500, []int{10, 10}, []int{3, 1}, []bool{false, true}, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ls := startLimitServer(t, tc.cfg, nil)
			addr := ls.Addr().String()
			setup := newSession(t, addr)
			if code, _ := setup.call(zkproto.OpCreate, &zkproto.CreateRequest{Path: "/d", ACL: open}, nil); code != zkproto.OK {
				t.Fatal(code)
			}
			var clients []*rawConn
			for range tc.sends {
				clients = append(clients, newSession(t, addr))
			}
			release := ls.holdApply(t)
			onTotal := 0
			for i, r := range clients {
				c := ls.serverConn(t, r)
				for range tc.sends[i] {
					// Writes: reads are served on the reader, outside
					// these bounds (fastpath.go).
					r.send(zkproto.OpSetData, &zkproto.SetDataRequest{Path: "/d", Data: make([]byte, tc.data), Version: -1})
				}
				if tc.onTotal[i] {
					onTotal++
				}
				waitUntil(t, "the reader waits", func() bool {
					if tc.onTotal[i] {
						return ls.total.Waiting() == onTotal
					}
					return c.own.Waiting() == 1
				})
				// A reader waiting on the server's bound holds its
				// connection's share of the request it read.
				want := tc.held[i]
				if tc.onTotal[i] {
					want++
				}
				if held, _ := c.own.Held(); held != want || c.received.Load() != int64(1+tc.held[i]+1) {
					t.Fatalf("connection %d holds %d requests and read %d frames; want %d and %d", i, held, c.received.Load(), want, 2+tc.held[i])
				}
			}
			if held, _ := ls.total.Held(); held != tc.total {
				t.Fatalf("the server holds %d requests, want %d", held, tc.total)
			}
			release()
			for i, r := range clients {
				for xid := int32(1); xid <= int32(tc.sends[i]); xid++ {
					if h, _ := r.frame(); h.Xid != xid || h.Err != zkproto.OK {
						t.Fatalf("connection %d: reply %+v, want xid %d OK", i, h, xid)
					}
				}
			}
			waitUntil(t, "every share is given back", func() bool {
				items, bytes := ls.total.Held()
				return items == 0 && bytes == 0
			})
		})
	}
}

// TestSlowReaderIsReadSlowly: a client that does not read its replies is
// not read beyond the outbox's soft bound, and is not disconnected: once
// it reads, every reply arrives, in order.
func TestSlowReaderIsReadSlowly(t *testing.T) {
	const requests, size = 1000, 32 << 10
	ls := startLimitServer(t, func(c *Config) {
		c.MaxOutstanding, c.OutboxSoftBytes, c.MaxQueuedBytes = 8, 64<<10, 16<<20
	}, nil)
	addr := ls.Addr().String()
	r := newSession(t, addr)
	r.nc.(*net.TCPConn).SetReadBuffer(64 << 10) // no receive-buffer autotuning to hide the replies in
	if code, _ := r.call(zkproto.OpCreate, &zkproto.CreateRequest{Path: "/big", Data: make([]byte, size), ACL: open}, nil); code != zkproto.OK {
		t.Fatal(code)
	}
	c := ls.serverConn(t, r)
	var batch []byte
	for xid := int32(2); xid < 2+requests; xid++ {
		batch = zkproto.AppendRequestFrame(batch, &zkproto.RequestHeader{Xid: xid, Type: zkproto.OpGetData}, &zkproto.GetDataRequest{Path: "/big"})
	}
	r.write(batch) // 20 KB: the socket takes it all
	waitUntil(t, "the reader waits for the outbox", c.out.held.Load)
	if read := c.received.Load() - 2; read >= requests || c.closed.Load() {
		t.Fatalf("read %d of %d requests, closed %v", read, requests, c.closed.Load())
	}
	for xid := int32(2); xid < 2+requests; xid++ {
		h, body := r.frame()
		if h.Xid != xid || h.Err != zkproto.OK || len(body) < size {
			t.Fatalf("reply %+v of %d bytes, want xid %d", h, len(body), xid)
		}
	}
}

// TestRefusedCommandClosesItsConnectionAtOnce: a write replication refuses
// (over the command limit, here shrunk below the frame limit) closes its
// connection at once, as ZooKeeper closes a connection whose request it
// cannot take, and nothing else waits behind it.
func TestRefusedCommandClosesItsConnectionAtOnce(t *testing.T) {
	ls := startLimitServer(t, nil, func(o *bridge.Options) {
		o.AdjustLimits = func(l *bridge.Limits) { l.Command = 400 }
	})
	addr := ls.Addr().String()
	other := dialRaw(t, addr)
	other.handshake(zkproto.ConnectRequest{TimeOut: 60000})
	if code, _ := other.call(zkproto.OpCreate, &zkproto.CreateRequest{Path: "/x", ACL: open}, nil); code != zkproto.OK {
		t.Fatal(code)
	}
	big := dialRaw(t, addr)
	big.handshake(zkproto.ConnectRequest{TimeOut: 60000}) // idle for a minute before the server would close it
	big.send(zkproto.OpSetData, &zkproto.SetDataRequest{Path: "/x", Data: make([]byte, 1000), Version: -1})
	big.expectClosed() // within 10s
	if code, _ := other.call(zkproto.OpSetData, &zkproto.SetDataRequest{Path: "/x", Data: []byte("small"), Version: -1}, nil); code != zkproto.OK {
		t.Fatalf("a write after the refused one: %v", code)
	}
}

// TestAuthBeyondIdentityBound: identities travel in every write, so a
// connection's are bounded: an auth past the bound fails and closes the
// connection, as a failed auth does in ZooKeeper.
func TestAuthBeyondIdentityBound(t *testing.T) {
	ls := startLimitServer(t, func(c *Config) { c.AuthBytes = 120 }, nil)
	r := newSession(t, ls.Addr().String())
	auth := func(user string) zkproto.Code {
		r.write(zkproto.AppendRequestFrame(nil, &zkproto.RequestHeader{Xid: zkproto.AuthXid, Type: zkproto.OpAuth},
			&zkproto.AuthPacket{Scheme: "digest", Auth: []byte(user + ":pw")}))
		h, _ := r.frame()
		return h.Err
	}
	if code := auth("u"); code != zkproto.OK {
		t.Fatalf("a small auth: %v", code)
	}
	if code := auth(strings.Repeat("u", 60)); code != zkproto.ErrAuthFailed {
		t.Fatalf("an auth past the bound: %v", code)
	}
	r.expectClosed()
}

// TestShutdownJoinsEveryGoroutine: stopping a server with connections in
// every state (idle, before the handshake, waiting for room) ends every
// goroutine of the frontend, the bridge and storage.
func TestShutdownJoinsEveryGoroutine(t *testing.T) {
	before := leakcheck.Snapshot()
	ls := startLimitServer(t, func(c *Config) { c.MaxOutstanding = 2 }, nil)
	addr := ls.Addr().String()
	idle := newSession(t, addr)
	_ = idle
	busy := newSession(t, addr)
	c := ls.serverConn(t, busy)
	release := ls.holdApply(t)
	for range 5 {
		busy.send(zkproto.OpSetData, &zkproto.SetDataRequest{Path: "/", Version: -1})
	}
	waitUntil(t, "the reader waits", func() bool { return c.own.Waiting() == 1 })
	dialRaw(t, addr) // no handshake
	// Closing the frontend ends its connections, the waiting reader's too,
	// without the apply goroutine's help (it may be stuck, or stopped).
	closed := make(chan error, 1)
	go func() { closed <- ls.Close() }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close waited for a reader that waits for room")
	}
	release()
	ls.stop()
	leakcheck.Check(t, before, "github.com/vrkeeper/vrkeeper/frontend", "github.com/vrkeeper/vrkeeper/bridge",
		"github.com/vrkeeper/vrkeeper/storage")
}

// failingListener fails its first accepts with EMFILE, as a server out of
// file descriptors does, then accepts for real.
// TestAcceptOutlivesEMFILE: a client listener that fails to accept for a
// while (out of descriptors) goes on accepting afterwards; before, each
// failure was retried at once, spinning a core for as long as it lasted.
func TestAcceptOutlivesEMFILE(t *testing.T) {
	log := hclog.NewNullLogger()
	srv := New(Config{}, log)
	node, err := bridge.NewNode(bridge.Options{ID: 1, DataDir: t.TempDir()}, srv.Handler(), log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	nodeDone, serveDone := make(chan error, 1), make(chan error, 1)
	go func() { nodeDone <- node.Run(ctx) }()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fl := &accepttest.FailingListener{Listener: ln}
	fl.Fails.Store(6)
	go func() { serveDone <- srv.serveOn(ctx, node, fl) }()
	defer func() {
		cancel()
		<-serveDone
		<-nodeDone
	}()
	<-node.Serving()
	r := newSession(t, ln.Addr().String()) // waits in the backlog while the listener fails
	if code, _ := r.call(zkproto.OpExists, &zkproto.ExistsRequest{Path: "/"}, nil); code != zkproto.OK {
		t.Fatal(code)
	}
	if fl.Fails.Load() >= 0 {
		t.Fatalf("the listener still had %d failures to give", fl.Fails.Load()+1)
	}
}

// TestSessionChunks: renewals and expiries of any number of sessions go
// out in commands of a bounded size.
func TestSessionChunks(t *testing.T) {
	for _, n := range []int{1, maxSessionsPerCommand, maxSessionsPerCommand + 1, 5*maxSessionsPerCommand + 7} {
		ids := make([]int64, n)
		for i := range ids {
			ids[i] = int64(i)
		}
		total, next := 0, int64(0)
		for _, c := range sessionChunks(ids) {
			if len(c) == 0 || len(c) > maxSessionsPerCommand {
				t.Fatalf("%d sessions: a chunk of %d", n, len(c))
			}
			for _, id := range c {
				if id != next {
					t.Fatalf("%d sessions: %d after %d", n, id, next-1)
				}
				next++
			}
			total += len(c)
		}
		if total != n {
			t.Fatalf("%d sessions: %d in chunks", n, total)
		}
	}
	if l, _ := bridge.DeriveLimits(1<<10, 1); 4*len(tree.AppendRenewSessions(nil, 0, make([]int64, maxSessionsPerCommand))) > l.Command {
		t.Fatal("a chunk's command is not far below the smallest command limit")
	}
}
