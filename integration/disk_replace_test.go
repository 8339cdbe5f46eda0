package integration

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// wipe empties server i's data directory as a disk replacement does,
// keeping only its myid (the operator's configuration).
func (c *cluster) wipe(i int) {
	c.t.Helper()
	s := c.servers[i]
	data := filepath.Join(s.dir, "data")
	if err := os.RemoveAll(data); err != nil {
		c.t.Fatal(err)
	}
	if err := os.MkdirAll(data, 0o755); err != nil {
		c.t.Fatal(err)
	}
	if len(c.servers) > 1 {
		if err := os.WriteFile(filepath.Join(data, "myid"), []byte(fmt.Sprint(s.id)), 0o644); err != nil {
			c.t.Fatal(err)
		}
	}
}

// stop ends server i with SIGTERM (a clean shutdown) and waits for it.
func (c *cluster) stop(i int) {
	s := c.servers[i]
	if s.cmd == nil {
		return
	}
	syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		c.t.Fatalf("server %d did not stop within 30s of SIGTERM", s.id)
	}
	s.logFile.Close()
	s.cmd = nil
}

// neverServes watches the given servers for a while and fails if one of
// them reports a serving mode: a server without a quorum that holds the
// acknowledged writes must not answer clients at all. Watching for a fixed
// time is the only way to see that something does not happen; it spans
// many view-change timeouts (tickTime 500 ms in the test clusters).
func (c *cluster) neverServes(within time.Duration, idx ...int) {
	c.t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		for _, i := range idx {
			switch m := mode(c.servers[i].clientAddr); m {
			case "leader", "follower", "standalone":
				c.t.Fatalf("server %d serves (%s) without the acknowledged writes", c.servers[i].id, m)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// createAcked creates n nodes under root through a session on addrs and
// returns their paths (each acknowledged).
func createAcked(t *testing.T, root string, n int, addrs ...string) []string {
	t.Helper()
	s := connect(t, 10*time.Second, addrs...)
	if _, err := s.Create(root, nil, 0, openACL); err != nil {
		t.Fatal(err)
	}
	var acked []string
	for i := range n {
		p := fmt.Sprintf("%s/n%03d", root, i)
		if _, err := s.Create(p, []byte(p), 0, openACL); err != nil {
			t.Fatalf("create %s: %v", p, err)
		}
		acked = append(acked, p)
	}
	s.Close()
	return acked
}

// checkAckedOn asserts every acknowledged node exists on the given server.
func checkAckedOn(t *testing.T, addr string, acked []string) {
	t.Helper()
	s := connect(t, 10*time.Second, addr)
	defer s.Close()
	for _, p := range acked {
		d, _, err := s.Get(p)
		if err != nil || string(d) != p {
			t.Fatalf("%s: acknowledged %s reads %q, %v", addr, p, d, err)
		}
	}
}

// TestReplacedDiskKeepsWrites is the sequence that lost every acknowledged
// write before servers had a durable identity: C is down with an old log,
// A and B (primary) acknowledge 200 creates, A's disk is replaced (its data
// directory emptied, myid kept), B goes down, and A is restarted with the
// same command line, then C. A must not pass for a new member: A and C
// must not serve (C's log lacks the writes, A has nothing), and once B is
// back every write is there, on every server. ZooKeeper 3.8 loses the
// writes here (an emptied member votes with zxid 0); vrkeeper must not.
func TestReplacedDiskKeepsWrites(t *testing.T) {
	if target != "vrkeeper" {
		t.Skip("Apache ZooKeeper loses these writes: the emptied server votes with zxid 0")
	}
	c := startCluster(t, 3)
	b := c.withMode("leader")
	a, cc := (b+1)%3, (b+2)%3
	c.kill(cc)
	acked := createAcked(t, "/replaced", 200, c.servers[a].clientAddr, c.servers[b].clientAddr)
	c.kill(a)
	c.wipe(a)
	c.kill(b)
	c.start(c.servers[a])
	c.start(c.servers[cc])
	c.neverServes(6*time.Second, a, cc)
	if log, err := os.ReadFile(filepath.Join(c.servers[a].dir, "server.log")); err != nil ||
		!bytes.Contains(log, []byte("no durable state")) {
		t.Errorf("the emptied server did not log what it is doing (%v)", err)
	}
	c.start(c.servers[b])
	for _, s := range c.servers {
		c.waitServing(s)
	}
	for _, s := range c.servers {
		checkAckedOn(t, s.clientAddr, acked)
	}
}

// TestMajorityDiskLossReseed: two of three disks are lost. The cluster
// stays unavailable (the survivor alone cannot know it holds every
// committed write) until the operator runs vrkeeper reseed on the survivor
// and empties the others; then it serves every acknowledged write again.
func TestMajorityDiskLossReseed(t *testing.T) {
	if target != "vrkeeper" {
		t.Skip("vrkeeper reseed is vrkeeper's own tool")
	}
	c := startCluster(t, 3)
	b := c.withMode("leader")
	acked := createAcked(t, "/majority", 200, c.servers[b].clientAddr)
	for i := range c.servers {
		c.stop(i) // clean stops: the survivor's log holds every acknowledged write
	}
	lost := []int{(b + 1) % 3, (b + 2) % 3}
	for _, i := range lost {
		c.wipe(i)
	}
	for _, s := range c.servers {
		c.start(s)
	}
	c.neverServes(6*time.Second, 0, 1, 2)
	for i := range c.servers {
		c.stop(i)
	}

	cfg := filepath.Join(c.servers[b].dir, "zoo.cfg")
	report := reseedCmd(t, "--config", cfg)
	if !strings.Contains(report, "Nothing was changed") || !strings.Contains(report, "may be lost") {
		t.Fatalf("reseed without --yes:\n%s", report)
	}
	if out := reseedCmd(t, "--yes", "--config", cfg); !strings.Contains(out, "Seeded") {
		t.Fatalf("reseed --yes:\n%s", out)
	}
	for _, i := range lost {
		c.wipe(i)
	}
	for _, s := range c.servers {
		c.start(s)
	}
	for _, s := range c.servers {
		c.waitServing(s)
	}
	for _, s := range c.servers {
		checkAckedOn(t, s.clientAddr, acked)
	}
	// The cluster takes writes again, on every server.
	w := connect(t, 10*time.Second, c.servers[lost[0]].clientAddr)
	if _, err := w.Create("/majority/after", nil, 0, openACL); err != nil {
		t.Fatal(err)
	}
}

// reseedCmd runs vrkeeper reseed and returns its output.
func reseedCmd(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(vrkeeperBin, append([]string{"reseed"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("vrkeeper reseed %v: %v\n%s", args, err, out)
	}
	return string(out)
}
