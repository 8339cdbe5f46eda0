package integration

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestOutOfDescriptors: a server whose file descriptors are all taken by
// connections (it runs under a low RLIMIT_NOFILE) fails to accept more,
// serves its sessions meanwhile, and accepts again once connections go
// away; it waits between failed accepts instead of retrying at once.
func TestOutOfDescriptors(t *testing.T) {
	limit, failed := 64, "accepting a connection failed"
	if target == "zookeeper" {
		limit, failed = 512, "Too many open files" // the JVM needs more to start
	}
	c := startCluster(t, 1)
	c.wrap = []string{"prlimit", fmt.Sprintf("--nofile=%d:%d", limit, limit)}
	c.kill(0)
	c.restart(0)
	addr := c.servers[0].clientAddr
	s := connect(t, 30*time.Second, addr)
	if _, err := s.Create("/fd", []byte("0"), 0, openACL); err != nil {
		t.Fatal(err)
	}
	// Take every descriptor: connections beyond the limit wait in the
	// listen backlog, which the kernel completes without the server.
	var held []net.Conn
	defer func() {
		for _, nc := range held {
			nc.Close()
		}
	}()
	for range limit + 16 {
		nc, err := net.DialTimeout("tcp", addr, 10*time.Second)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		held = append(held, nc)
	}
	logPath := filepath.Join(c.servers[0].dir, "server.log")
	failures := func() int {
		b, _ := os.ReadFile(logPath)
		return strings.Count(string(b), failed)
	}
	deadline := time.Now().Add(30 * time.Second)
	for failures() == 0 { // the server's log is the only witness
		if time.Now().After(deadline) {
			t.Fatalf("the server never ran out of descriptors (no %q in its log)", failed)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The session it serves goes on being served.
	if _, err := s.Set("/fd", []byte("1"), -1); err != nil {
		t.Fatalf("a write while out of descriptors: %v", err)
	}
	for _, nc := range held {
		nc.Close()
	}
	held = nil
	// Descriptors free again: a new session is accepted.
	s2 := connect(t, 30*time.Second, addr)
	if d, _, err := s2.Get("/fd"); err != nil || string(d) != "1" {
		t.Fatalf("a new session after descriptors came back: %q %v", d, err)
	}
	t.Logf("%d failed accepts logged", failures())
	// Pauses from 5 ms doubling to 1 s: a handful of failures per second
	// at most, where retrying at once logs thousands.
	if n := failures(); target == "vrkeeper" && n > 200 {
		t.Fatalf("%d failed accepts logged: the accept loop spins", n)
	}
}
