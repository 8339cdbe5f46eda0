package peer

import (
	"net"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/vrkeeper/vrkeeper/internal/accept/accepttest"
	"github.com/vrkeeper/vrkeeper/internal/leakcheck"
)

// TestPeerQueueBounds: a peer's send queue takes frames while it has room
// in frames and in bytes, takes any one frame when empty, and gives the
// room back as the writer takes frames.
func TestPeerQueueBounds(t *testing.T) {
	tests := []struct {
		name   string
		queued []int // frames offered first (all taken)
		size   int
		want   bool
	}{
		{"empty queue takes a frame over the byte bound", nil, 500, true},
		{"within the byte bound", []int{60}, 40, true},
		{"over the byte bound", []int{60}, 41, false},
		{"behind a large frame", []int{500}, 1, false},
		{"frame bound", []int{1, 1, 1}, 1, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := &peerLink{t: &Transport{opts: Options{QueueFrames: 3, QueueBytes: 100}}, queue: make(chan []byte, 3)}
			for _, n := range tc.queued {
				if !l.offer(make([]byte, n)) {
					t.Fatalf("setup: frame of %d refused", n)
				}
			}
			if got := l.offer(make([]byte, tc.size)); got != tc.want {
				t.Fatalf("offer %d bytes: %v, want %v", tc.size, got, tc.want)
			}
			for len(l.queue) > 0 {
				l.take(<-l.queue)
			}
			if l.queued.Load() != 0 {
				t.Fatalf("%d bytes accounted after the queue emptied", l.queued.Load())
			}
		})
	}
}

// TestPeerQueueStaysBoundedWhenThePeerDoesNotRead: sending to a peer that
// accepts and never reads neither blocks nor queues beyond the bound.
func TestPeerQueueStaysBoundedWhenThePeerDoesNotRead(t *testing.T) {
	sink, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	held := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := sink.Accept()
			if err != nil {
				return
			}
			held <- c // never read
		}
	}()
	defer func() {
		for len(held) > 0 {
			(<-held).Close()
		}
	}()
	addr := freeAddr(t)
	const bound = 1 << 20
	tr, err := New(1, addr, map[uint64]string{1: addr, 2: sink.Addr().String()}, func(uint64, []byte) {},
		hclog.NewNullLogger(), Options{QueueBytes: bound})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	frame := make([]byte, 64<<10)
	l := tr.peers[2]
	for range 4096 { // 256 MiB: far more than the socket buffers hold
		if err := tr.Send(2, frame); err != nil {
			t.Fatal(err)
		}
		if q := l.queued.Load(); q > bound {
			t.Fatalf("%d bytes queued, bound %d", q, bound)
		}
	}
}

// failingListener fails its first n accepts with EMFILE, as a server out
// of file descriptors does, then accepts for real.
// TestTransportAcceptOutlivesEMFILE: a peer listener that fails to accept
// for a while (out of descriptors) accepts again afterwards, and every
// goroutine of the transports has ended once Close returned.
func TestTransportAcceptOutlivesEMFILE(t *testing.T) {
	before := leakcheck.Snapshot()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fl := &accepttest.FailingListener{Listener: ln}
	fl.Fails.Store(5)
	addr2 := freeAddr(t)
	peers := map[uint64]string{1: ln.Addr().String(), 2: addr2}
	in := newInbox()
	t1 := newOn(1, fl, peers, in.deliver, hclog.NewNullLogger(), Options{})
	t2, err := New(2, addr2, peers, func(uint64, []byte) {}, hclog.NewNullLogger(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Frames sent while the link is still connecting may be dropped: send
	// until one arrives.
	deadline := time.Now().Add(10 * time.Second)
	for {
		t2.Send(1, []byte("after EMFILE"))
		in.mu.Lock()
		n := len(in.got[2])
		in.mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no frame arrived within 10s: the listener stopped accepting")
		}
		time.Sleep(20 * time.Millisecond) // pacing the resends, not synchronisation
	}
	if fl.Fails.Load() >= 0 {
		t.Fatalf("the listener still had %d failures to give", fl.Fails.Load()+1)
	}
	t1.Close()
	t2.Close()
	leakcheck.Check(t, before, "github.com/vrkeeper/vrkeeper/bridge")
}
