package integration

import (
	"syscall"
	"testing"
	"time"
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
