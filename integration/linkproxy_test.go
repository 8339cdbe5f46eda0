package integration

import (
	"io"
	"net"
	"sync"
	"testing"
)

// linkProxy carries one server's connections to another server's peer
// port, so a test can cut the link (a network partition in one direction:
// what server A sends to server B) and heal it again.
type linkProxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	conns []net.Conn
	cut   bool
}

// startLinkProxy listens on a free port of host and forwards to target
// until the test ends.
func startLinkProxy(t testing.TB, host, target string) *linkProxy {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(host, freePort(t, host)))
	if err != nil {
		t.Fatal(err)
	}
	p := &linkProxy{ln: ln, target: target}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		p.Cut()
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
			p.conns = append(p.conns, c, s)
			p.mu.Unlock()
			wg.Add(2)
			go func() { defer wg.Done(); io.Copy(s, c); s.Close() }()
			go func() { defer wg.Done(); io.Copy(c, s); c.Close() }()
		}
	}()
	return p
}

// Addr is the address the sending server dials.
func (p *linkProxy) Addr() string { return p.ln.Addr().String() }

// Cut drops the link: open connections end and new ones are refused.
func (p *linkProxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// Heal lets connections through again.
func (p *linkProxy) Heal() {
	p.mu.Lock()
	p.cut = false
	p.mu.Unlock()
}
