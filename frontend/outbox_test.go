package frontend

import (
	"bytes"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// tcpPair returns both ends of a loopback TCP connection.
func tcpPair(t *testing.T) (server, client net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	t.Cleanup(func() { server.Close(); client.Close() })
	return server, client
}

// TestOutboxDeliversInOrderAndCloses: frames from many producers arrive
// whole, each producer's in its order, and closeAfterFlush closes the
// connection only after everything was written.
func TestOutboxDeliversInOrderAndCloses(t *testing.T) {
	server, client := tcpPair(t)
	o := newOutbox(server, 64<<20, 5*time.Second)
	const producers, frames = 4, 500
	var wg sync.WaitGroup
	for p := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range frames {
				o.append(func(b []byte) []byte { return append(b, byte(p), byte(i>>8), byte(i)) })
			}
		}()
	}
	wg.Wait()
	o.closeAfterFlush()
	all, err := io.ReadAll(client) // ends when the server side closes
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != producers*frames*3 {
		t.Fatalf("got %d bytes, want %d", len(all), producers*frames*3)
	}
	next := make([]int, producers)
	for i := 0; i < len(all); i += 3 {
		p, n := int(all[i]), int(all[i+1])<<8|int(all[i+2])
		if n != next[p] {
			t.Fatalf("producer %d: frame %d arrived when %d was due", p, n, next[p])
		}
		next[p]++
	}
	<-o.done
	if o.append(func(b []byte) []byte { return append(b, 1) }) {
		t.Fatal("append after close succeeded")
	}
}

// TestOutboxOverflowDisconnects: a client that does not read is cut off once
// its queue passes the limit, and producers are never blocked by it.
func TestOutboxOverflowDisconnects(t *testing.T) {
	server, client := tcpPair(t)
	o := newOutbox(server, 1<<20, 5*time.Second)
	chunk := bytes.Repeat([]byte("x"), 64<<10)
	ok := true
	for i := 0; i < 10000 && ok; i++ {
		ok = o.append(func(b []byte) []byte { return append(b, chunk...) })
	}
	if ok {
		t.Fatal("a client that never reads was never cut off")
	}
	client.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.Copy(io.Discard, client); err != nil {
		t.Fatalf("the connection did not end cleanly: %v", err)
	}
	<-o.done
}
