package peer

import (
	"encoding/binary"
	"fmt"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

type inbox struct {
	mu   sync.Mutex
	got  map[uint64][]string
	cond *sync.Cond
}

func newInbox() *inbox {
	in := &inbox{got: map[uint64][]string{}}
	in.cond = sync.NewCond(&in.mu)
	return in
}

func (in *inbox) deliver(from uint64, frame []byte) {
	in.mu.Lock()
	in.got[from] = append(in.got[from], string(frame))
	in.mu.Unlock()
	in.cond.Broadcast()
}

// waitFor blocks until pred holds over the received frames.
func (in *inbox) waitFor(t *testing.T, pred func(map[uint64][]string) bool) {
	t.Helper()
	timer := time.AfterFunc(10*time.Second, func() { in.cond.Broadcast() })
	defer timer.Stop()
	deadline := time.Now().Add(10 * time.Second)
	in.mu.Lock()
	defer in.mu.Unlock()
	for !pred(in.got) {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met; received %v", in.got)
		}
		in.cond.Wait()
	}
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestTransportDelivers: frames arrive in the order sent (frames sent while
// a link is still connecting may be dropped, never reordered), sending to a
// down peer does not block, and a peer that comes up late receives what is
// sent once it is up.
func TestTransportDelivers(t *testing.T) {
	addrs := map[uint64]string{1: freeAddr(t), 2: freeAddr(t), 3: freeAddr(t)}
	inboxes := map[uint64]*inbox{}
	var transports []*Transport
	start := func(id uint64) *Transport {
		in := newInbox()
		inboxes[id] = in
		tr, err := New(id, addrs[id], addrs, in.deliver, hclog.NewNullLogger(), Options{})
		if err != nil {
			t.Fatal(err)
		}
		transports = append(transports, tr)
		return tr
	}
	t1, t2 := start(1), start(2)
	defer func() {
		for _, tr := range transports {
			tr.Close()
		}
	}()
	// Peer 3 is down: frames to it are dropped, not blocking.
	received := func(m map[uint64][]string) bool { return len(m[1]) >= 100 }
	for i := 0; ; i++ {
		if err := t1.Send(3, []byte("early")); err != nil {
			t.Fatal(err)
		}
		if err := t1.Send(2, []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
		inboxes[2].mu.Lock()
		done := received(inboxes[2].got)
		inboxes[2].mu.Unlock()
		if done {
			break
		}
		if i%100 == 99 {
			time.Sleep(time.Millisecond) // let the link connect; pacing, not synchronisation
		}
	}
	inboxes[2].mu.Lock()
	prev := -1
	for _, f := range inboxes[2].got[1] {
		var n int
		fmt.Sscan(f, &n)
		if n <= prev {
			t.Fatalf("frame %d arrived after %d", n, prev)
		}
		prev = n
	}
	inboxes[2].mu.Unlock()
	start(3)
	// Keep sending until peer 3's link is up and a frame gets through.
	got := make(chan struct{})
	go func() {
		inboxes[3].waitFor(t, func(m map[uint64][]string) bool { return len(m[1]) > 0 && len(m[2]) > 0 })
		close(got)
	}()
	for done := false; !done; {
		t1.Send(3, []byte("late"))
		t2.Send(3, []byte("late"))
		select {
		case <-got:
			done = true
		case <-time.After(20 * time.Millisecond):
		}
	}
	if err := t1.Send(9, []byte("x")); err == nil {
		t.Fatal("send to an unknown peer succeeded")
	}
}

// TestTransportRefusesStrangers: a connection without the hello, or from an
// unknown id, gets nothing delivered.
func TestTransportRefusesStrangers(t *testing.T) {
	addr := freeAddr(t)
	in := newInbox()
	tr, err := New(1, addr, map[uint64]string{1: addr, 2: freeAddr(t)}, in.deliver, hclog.NewNullLogger(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	conn.Write([]byte{0, 0, 0, 44, 0, 0, 0, 0}) // a ZooKeeper client's connect
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Read(make([]byte, 1)); err == nil {
		t.Fatal("the transport answered a stranger")
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if len(in.got) != 0 {
		t.Fatalf("delivered %v from a stranger", in.got)
	}
}

// TestTransportHugeFrameCostsNothing: a connection that passes the hello
// and announces a frame near the limit, then sends a few bytes, does not
// make the receiver allocate the announced size.
func TestTransportHugeFrameCostsNothing(t *testing.T) {
	addr := freeAddr(t)
	in := newInbox()
	tr, err := New(1, addr, map[uint64]string{1: addr, 2: freeAddr(t)}, in.deliver, hclog.NewNullLogger(), Options{MaxFrame: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	hello := binary.BigEndian.AppendUint32(nil, uint32(helloSize))
	hello = append(hello, helloMagic...)
	hello = binary.BigEndian.AppendUint64(hello, 2)
	hello = binary.BigEndian.AppendUint64(hello, 1)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	conn.Write(hello)
	conn.Write(append(binary.BigEndian.AppendUint32(nil, 1<<29), make([]byte, 10)...))
	conn.Close()
	// The old receiver allocated the announced size as soon as the length
	// arrived; watch for half a second that nothing like it happens.
	for range 50 {
		time.Sleep(10 * time.Millisecond)
		runtime.ReadMemStats(&after)
		if d := after.TotalAlloc - before.TotalAlloc; d > 64<<20 {
			t.Fatalf("allocated %d bytes for a frame that never came", d)
		}
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if len(in.got) != 0 {
		t.Fatal("a partial frame was delivered")
	}
}
