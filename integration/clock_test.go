package integration

import (
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
)

// TestClockSkewOfOneServer: one server's clock runs two days ahead. Its
// commands must not move the replicated clock (only the primary's clock
// counts), so sessions renewed a moment ago stay open and a one-hour TTL
// node stays; and once that server leads, sessions still get a whole
// timeout (ZooKeeper's grace after an election) instead of being expired at
// once by the jump of the clock.
func TestClockSkewOfOneServer(t *testing.T) {
	if target != "vrkeeper" {
		t.Skip("the skew is injected through vrkeeper's test clock")
	}
	c := startCluster(t, 3)
	skewed := (c.withMode("leader") + 1) % 3
	c.kill(skewed)
	c.servers[skewed].env = []string{"VRKEEPER_TEST_CLOCK_SKEW=48h"}
	c.restart(skewed)
	other := (skewed + 1) % 3

	// The session and the TTL node exist before the skewed server proposes
	// anything: a command of its would jump the replicated clock two days
	// past their times.
	onOther := connect(t, 4*time.Second, c.servers[other].clientAddr)
	if _, err := onOther.Create("/skew-b", nil, zk.FlagEphemeral, openACL); err != nil {
		t.Fatal(err)
	}
	if _, err := onOther.CreateTTL("/skew-ttl", nil, zk.FlagTTL, openACL, time.Hour); err != nil {
		t.Fatal(err)
	}
	onSkewed := connect(t, 4*time.Second, c.servers[skewed].clientAddr)
	if _, err := onSkewed.Create("/skew-a", nil, zk.FlagEphemeral, openACL); err != nil {
		t.Fatal(err)
	}
	// Several renewal, expiry and clean-up rounds (tickTime 500 ms; the
	// sessions' timeout is 4 s): nothing may go.
	expectAlive := func(within time.Duration, paths ...string) {
		t.Helper()
		deadline := time.Now().Add(within)
		for time.Now().Before(deadline) {
			for _, p := range paths {
				if ok, _, err := onOther.Exists(p); err == nil && !ok {
					t.Fatalf("%s is gone: the skewed clock expired it", p)
				}
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	expectAlive(6*time.Second, "/skew-a", "/skew-b", "/skew-ttl")

	// Now the skewed server leads: kill primaries until it does.
	for c.withMode("leader") != skewed {
		l := c.withMode("leader")
		c.kill(l)
		c.restart(l)
		for _, s := range c.servers {
			c.waitServing(s)
		}
	}
	expectAlive(6*time.Second, "/skew-a", "/skew-b")
}
