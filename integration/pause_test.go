package integration

import (
	"syscall"
	"testing"
	"time"
)

// TestPausedPrimary: SIGSTOP the primary for longer than the view-change
// timeout while clients write through every server, then SIGCONT it. The
// cluster keeps serving meanwhile, the old primary rejoins as a backup,
// and every acknowledged write is readable through every server.
func TestPausedPrimary(t *testing.T) {
	c := startCluster(t, 3)
	setup := connect(t, 10*time.Second, c.addrs()...)
	if _, err := setup.Create("/pause", nil, 0, openACL); err != nil {
		t.Fatal(err)
	}
	leader := c.withMode("leader")
	w := startWriters(t, "/pause", c.addrsExcept(leader), 4, nil)
	w.waitCount(t, 100, 60*time.Second)
	pid := c.servers[leader].cmd.Process.Pid
	syscall.Kill(-pid, syscall.SIGSTOP)
	paused := time.Now()
	// Writes must go on without the paused primary.
	w.waitCount(t, w.count()+200, 30*time.Second)
	t.Logf("writes resumed %v after the pause began", time.Since(paused))
	time.Sleep(time.Second) // keep the old primary paused a while longer
	syscall.Kill(-pid, syscall.SIGCONT)
	// Let it run, and learn it was deposed, under load.
	w.waitCount(t, w.count()+200, 30*time.Second)
	acked := w.finish()
	c.waitServing(c.servers[leader])
	for _, srv := range c.servers {
		r := connect(t, 10*time.Second, srv.clientAddr)
		kids, _, err := r.Children("/pause")
		if err != nil {
			t.Fatal(err)
		}
		have := map[string]bool{}
		for _, k := range kids {
			have["/pause/"+k] = true
		}
		for _, p := range acked {
			if !have[p] {
				t.Fatalf("server %d: acknowledged %s missing", srv.id, p)
			}
		}
	}
}
