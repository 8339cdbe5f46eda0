package integration

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
)

// TestMixedACLConfigSameState: servers configured differently for ACLs
// (server 1 with skipACL and the x509 provider, the others with neither,
// as during a rolling change of configuration) answer each write as the
// server that accepted it is configured, and every replica ends with the
// same state: no replica's own configuration enters the replicated state
// machine. Before writes carried their ACL policy, server 1 applied every
// write with checks off and the others with checks on, and the digests
// parted at the first write only skipACL allowed.
func TestMixedACLConfigSameState(t *testing.T) {
	if target != "vrkeeper" {
		t.Skip("compares vrkeeper's state digests; ZooKeeper's leader decides for all")
	}
	c := startClusterEach(t, 3, func(s *server) []string {
		if s.id == 1 {
			return []string{"skipACL=yes",
				"authProvider.x509=org.apache.zookeeper.server.auth.X509AuthenticationProvider"}
		}
		return nil
	})
	lax := connect(t, 10*time.Second, c.servers[0].clientAddr)
	strict := connect(t, 10*time.Second, c.servers[1].clientAddr)
	closed := zk.DigestACL(zk.PermAll, "nobody", "secret")
	x509ACL := []zk.ACL{{Perms: zk.PermAll, Scheme: "x509", ID: "CN=app,O=Example"}}
	expect := func(what string, err, want error) {
		t.Helper()
		if !errors.Is(err, want) && !(want == nil && err == nil) {
			t.Errorf("%s: %v, want %v", what, err, want)
		}
	}

	_, err := strict.Create("/closed", []byte("v0"), 0, closed)
	expect("create /closed", err, nil)
	_, err = lax.Set("/closed", []byte("v1"), -1)
	expect("setData under skipACL", err, nil)
	_, err = strict.Set("/closed", []byte("v2"), -1)
	expect("setData with checks on", err, zk.ErrNoAuth)
	_, err = lax.Create("/closed/kid", nil, 0, openACL)
	expect("create a child under skipACL", err, nil)
	_, err = strict.Create("/closed/kid2", nil, 0, openACL)
	expect("create a child with checks on", err, zk.ErrNoAuth)
	_, err = lax.Multi(&zk.SetDataRequest{Path: "/closed", Data: []byte("v3"), Version: -1},
		&zk.CreateRequest{Path: "/closed/kid3", Acl: closed})
	expect("multi under skipACL", err, nil)
	_, err = strict.Multi(&zk.CreateRequest{Path: "/open", Acl: openACL},
		&zk.DeleteRequest{Path: "/closed/kid3", Version: -1})
	expect("multi with checks on", err, zk.ErrNoAuth)

	// The x509 scheme is valid where its provider is on, as in ZooKeeper.
	_, err = lax.Create("/x509", nil, 0, x509ACL)
	expect("create with an x509 ACL, provider on", err, nil)
	_, err = strict.Create("/x509b", nil, 0, x509ACL)
	expect("create with an x509 ACL, provider off", err, zk.ErrInvalidACL)
	_, err = strict.SetACL("/x509", x509ACL, -1)
	expect("setACL x509, provider off", err, zk.ErrInvalidACL)
	_, err = lax.SetACL("/closed", x509ACL, -1)
	expect("setACL x509 under skipACL, provider on", err, nil)

	// Reads are this server's own business: skipACL lets server 1 read.
	if _, err := lax.Sync("/closed"); err != nil {
		t.Fatal(err)
	}
	if data, _, err := lax.Get("/closed"); err != nil || string(data) != "v3" {
		t.Errorf("read under skipACL: %q, %v", data, err)
	}
	if _, _, err := strict.Get("/closed"); !errors.Is(err, zk.ErrNoAuth) {
		t.Errorf("read with checks on: %v, want %v", err, zk.ErrNoAuth)
	}
	waitSameDigest(t, c)
}

// waitSameDigest waits until every server of c is at the same zxid, none of
// them applying anything while its digest is read, and fails unless their
// state digests are then equal.
func waitSameDigest(t *testing.T, c *cluster) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		// Sessions' renewals are writes that may come at any time: a
		// server's digest counts only if its zxid was the same before and
		// after it was read.
		zxids, hashes := map[string]bool{}, map[string]bool{}
		for _, s := range c.servers {
			before := srvrField(s.clientAddr, "Zxid: ")
			h, _ := fourLetter(s.clientAddr, "hash")
			if after := srvrField(s.clientAddr, "Zxid: "); after != before {
				before = "moving: " + s.clientAddr // equal to no other server's
			}
			zxids[before] = true
			hashes[strings.TrimSpace(h)] = true
		}
		if len(zxids) == 1 && len(hashes) == 1 {
			return
		}
		if len(zxids) == 1 && len(hashes) > 1 {
			t.Fatalf("servers at the same zxid have different digests: %v", hashes)
		}
		if time.Now().After(deadline) {
			t.Fatalf("servers never reached the same zxid: %v", zxids)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestMixedTreeConfigSameState: servers configured differently for TTL
// nodes and containers (server 1 with zookeeper.extendedTypesEnabled and
// znode.container.maxNeverUsedIntervalMs, the others with neither) answer
// each write as the server that accepted it is configured, clean up as the
// primary that proposes the clean-up is configured, and every replica ends
// with the same state. Before both travelled in the commands (the write's
// policy, the clean-up's interval), each replica applied them by its own
// configuration: server 1 removed never-used containers the others kept,
// and created TTL nodes the others refused, and the digests parted.
func TestMixedTreeConfigSameState(t *testing.T) {
	if target != "vrkeeper" {
		t.Skip("compares vrkeeper's state digests; ZooKeeper's leader decides for all")
	}
	c := startClusterEach(t, 3, func(s *server) []string {
		if s.id == 1 {
			return []string{"extendedTypesEnabled=true", "znode.container.maxNeverUsedIntervalMs=1000"}
		}
		return []string{"extendedTypesEnabled=false"} // the harness turns it on for all
	})
	// Clean-ups are the primary's: first server 1 leads.
	leadIf := func(want func(int) bool) {
		t.Helper()
		for l := c.withMode("leader"); !want(l); l = c.withMode("leader") {
			c.kill(l)
			c.restart(l)
			for _, s := range c.servers {
				c.waitServing(s)
			}
		}
		t.Logf("server %d leads", c.withMode("leader")+1)
	}
	leadIf(func(l int) bool { return l == 0 })
	sessions := func() []*session {
		var ss []*session
		for _, s := range c.servers {
			ss = append(ss, connect(t, 10*time.Second, s.clientAddr))
		}
		return ss
	}
	// waitExists waits until every server agrees that path exists (or not).
	waitExists := func(ss []*session, path string, want bool, within time.Duration) {
		t.Helper()
		deadline := time.Now().Add(within)
		for {
			differs := -1
			for i, s := range ss {
				if _, err := s.Sync(path); err != nil && !errors.Is(err, zk.ErrNoNode) {
					t.Fatalf("sync on server %d: %v", i+1, err)
				}
				ok, _, err := s.Exists(path)
				if err != nil {
					t.Fatalf("exists %s on server %d: %v", path, i+1, err)
				}
				if ok != want {
					differs = i
					break
				}
			}
			if differs < 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s exists on server %d: %v, want %v", path, differs+1, !want, want)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	ss := sessions()

	// A never-used container goes once it is older than the primary's
	// interval (1 s), whichever server created it.
	for i, path := range []string{"/never1", "/never2"} {
		if _, err := ss[i].CreateContainer(path, nil, zk.FlagContainer, openACL); err != nil {
			t.Fatalf("create container %s: %v", path, err)
		}
	}
	waitExists(ss, "/never1", false, 15*time.Second)
	waitExists(ss, "/never2", false, 15*time.Second)
	waitSameDigest(t, c)

	// TTL nodes may be created through server 1 only, and expire
	// everywhere alike.
	if _, err := ss[0].CreateTTL("/ttl", nil, zk.FlagTTL, openACL, time.Hour); err != nil {
		t.Errorf("TTL create through server 1 (extended types on): %v", err)
	}
	if _, err := ss[0].CreateTTL("/ttl-short", nil, zk.FlagTTL, openACL, 300*time.Millisecond); err != nil {
		t.Errorf("TTL create through server 1 (extended types on): %v", err)
	}
	for _, i := range []int{1, 2} {
		_, err := ss[i].CreateTTL(fmt.Sprintf("/ttl%d", i+1), nil, zk.FlagTTL, openACL, time.Hour)
		if err == nil || !strings.Contains(err.Error(), "-6") { // UNIMPLEMENTED, which go-zookeeper does not name
			t.Errorf("TTL create through server %d (extended types off): %v, want UNIMPLEMENTED (-6)", i+1, err)
		}
	}
	waitExists(ss, "/ttl", true, 10*time.Second)
	waitExists(ss, "/ttl-short", false, 15*time.Second)
	waitExists(ss, "/ttl2", false, time.Second)
	waitSameDigest(t, c)

	// Under a primary without the interval, a never-used container stays.
	leadIf(func(l int) bool { return l != 0 })
	ss = sessions()
	if _, err := ss[0].CreateContainer("/kept", nil, zk.FlagContainer, openACL); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second) // three clean-up rounds, the container three times the interval of server 1
	waitExists(ss, "/kept", true, time.Second)
	waitSameDigest(t, c)
}
