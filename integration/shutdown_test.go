package integration

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
)

// TestSIGTERMShutsDownCleanly: SIGTERM ends the server with exit status 0
// promptly, and a restart serves what was written before.
func TestSIGTERMShutsDownCleanly(t *testing.T) {
	c := startCluster(t, 1)
	s := connect(t, 10*time.Second, c.addrs()...)
	if _, err := s.Create("/term", []byte("kept"), 0, openACL); err != nil {
		t.Fatal(err)
	}
	srv := c.servers[0]
	srv.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-srv.exited:
	case <-time.After(20 * time.Second):
		t.Fatal("the server did not exit within 20s of SIGTERM")
	}
	if code := srv.cmd.ProcessState.ExitCode(); code != 0 && target == "vrkeeper" {
		t.Fatalf("exit status %d after SIGTERM", code)
	}
	srv.logFile.Close()
	srv.cmd = nil
	c.restart(0)
	s2 := connect(t, 10*time.Second, c.addrs()...)
	if d, _, err := s2.Get("/term"); err != nil || string(d) != "kept" {
		t.Fatalf("after the restart: %q %v", d, err)
	}
}

// TestFourLetterWordsParse: go-zookeeper's parser reads srvr, whose Mode
// says leader or follower, and cons lists the sessions. (Debian's
// ZooKeeper 3.8 fails this test: its version string has "${...}" in it.)
func TestFourLetterWordsParse(t *testing.T) {
	c := startCluster(t, 3)
	s := connect(t, 10*time.Second, c.addrs()...)
	s.Create("/flw", nil, 0, openACL)
	stats, ok := zk.FLWSrvr(c.addrs(), 5*time.Second)
	if !ok {
		for _, st := range stats {
			t.Logf("%s: %v", st.Server, st.Error)
		}
		t.Fatal("go-zookeeper could not parse srvr")
	}
	modes := map[zk.Mode]int{}
	for _, st := range stats {
		modes[st.Mode]++
		if st.NodeCount < 5 {
			t.Errorf("%s: node count %d", st.Server, st.NodeCount)
		}
	}
	if modes[zk.ModeLeader] != 1 || modes[zk.ModeFollower] != 2 {
		t.Fatalf("modes %v, want one leader and two followers", modes)
	}
	if oks := zk.FLWRuok(c.addrs(), 5*time.Second); !oks[0] || !oks[1] || !oks[2] {
		t.Fatalf("ruok: %v", oks)
	}
	// cons lists the session's connection with its details (go-zookeeper's
	// FLWCons cannot be used: it fails on the line of its own sessionless
	// connection, which ZooKeeper lists too).
	out, err := fourLetter(s.Server(), "cons")
	if err != nil || !strings.Contains(out, fmt.Sprintf("sid=0x%x,", s.SessionID())) {
		t.Fatalf("cons: %q %v", out, err)
	}
}
