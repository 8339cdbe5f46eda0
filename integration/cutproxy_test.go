package integration

import (
	"io"
	"net"
	"sync"
	"testing"
)

// cutProxy forwards TCP connections to one server. Cut ends them on the
// client's side only: the server keeps its end open and hears nothing, as
// after a network cut it has not noticed yet, so it still holds the
// session's connection (and its unanswered writes) while the client moves
// to another server.
type cutProxy struct {
	ln     net.Listener
	target string

	mu      sync.Mutex
	clients []net.Conn
	servers []net.Conn
	cut     bool
}

// startCutProxy listens on a free port of 127.0.0.1 below the ephemeral
// range and forwards to target until the test ends.
func startCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", freePort(t, "127.0.0.1")))
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		for _, c := range append(p.clients, p.servers...) {
			c.Close()
		}
		p.mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			if p.cut {
				p.mu.Unlock()
				c.Close()
				s.Close()
				continue
			}
			p.clients, p.servers = append(p.clients, c), append(p.servers, s)
			p.mu.Unlock()
			wg.Add(2)
			go func() { defer wg.Done(); io.Copy(s, c) }()
			go func() { defer wg.Done(); io.Copy(c, s) }()
		}
	}()
	return p
}

// Addr is the address clients dial.
func (p *cutProxy) Addr() string { return p.ln.Addr().String() }

// Cut stops accepting and closes the client side of every connection.
func (p *cutProxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	p.ln.Close()
	for _, c := range p.clients {
		c.Close()
	}
}
