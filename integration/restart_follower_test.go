package integration

import (
	"testing"
	"time"
)

// TestRestartedFollowerKeepsTheLeader: a healthy follower restarted (kill -9
// and start, as an operator's restart or a crash) rejoins the view the
// cluster is in; it never deposes the leader (before pre-vote it started a
// view change 0.4 s after boot, before it had heard from anyone, in 5 of 7
// tries).
func TestRestartedFollowerKeepsTheLeader(t *testing.T) {
	c := startCluster(t, 3)
	w := startWriters(t, "", c.addrs(), 2, nil)
	defer w.finish()
	leader := c.withMode("leader")
	before := c.countLog("starting view change")
	for range 5 {
		f := (leader + 1) % 3
		c.kill(f)
		c.restart(f)
		w.waitCount(t, w.count()+50, 30*time.Second) // writes go on through every server
	}
	if after := c.withMode("leader"); after != leader {
		t.Fatalf("the leader moved from server %d to server %d", c.servers[leader].id, c.servers[after].id)
	}
	if n := c.countLog("starting view change") - before; n != 0 && target == "vrkeeper" {
		t.Fatalf("%d view changes while a follower restarted", n)
	}
}
