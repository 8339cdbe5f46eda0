package integration

import (
	"errors"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
)

// TestDigestACL: a node readable only with digest credentials refuses
// others with NOAUTH and serves the authenticated session.
func TestDigestACL(t *testing.T) { forSizes(t, testDigestACL) }

func testDigestACL(t *testing.T, c *cluster) {
	alice := connect(t, 10*time.Second, c.addrs()...)
	if err := alice.AddAuth("digest", []byte("alice:secret")); err != nil {
		t.Fatal(err)
	}
	acl := zk.DigestACL(zk.PermAll, "alice", "secret")
	if _, err := alice.Create("/private", []byte("mine"), 0, acl); err != nil {
		t.Fatal(err)
	}
	if d, _, err := alice.Get("/private"); err != nil || string(d) != "mine" {
		t.Fatalf("owner read: %q %v", d, err)
	}
	bob := connect(t, 10*time.Second, c.addrs()...)
	if _, _, err := bob.Get("/private"); !errors.Is(err, zk.ErrNoAuth) {
		t.Fatalf("stranger read: %v", err)
	}
	if _, err := bob.Set("/private", []byte("x"), -1); !errors.Is(err, zk.ErrNoAuth) {
		t.Fatalf("stranger write: %v", err)
	}
	if _, err := bob.Create("/private/c", nil, 0, openACL); !errors.Is(err, zk.ErrNoAuth) {
		t.Fatalf("stranger create: %v", err)
	}
	if err := bob.AddAuth("digest", []byte("alice:wrong")); err != nil {
		t.Fatal(err) // a wrong password is a different identity, not an auth failure
	}
	if _, _, err := bob.Get("/private"); !errors.Is(err, zk.ErrNoAuth) {
		t.Fatalf("read with a wrong password: %v", err)
	}
	got, st, err := alice.GetACL("/private")
	if err != nil || len(got) != 1 || got[0].Scheme != "digest" || st.Aversion != 0 {
		t.Fatalf("getACL: %+v %+v %v", got, st, err)
	}
	if _, err := alice.SetACL("/private", openACL, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.SetACL("/private", openACL, 0); !errors.Is(err, zk.ErrBadVersion) {
		t.Fatalf("setACL with a stale aversion: %v", err)
	}
	if d, _, err := bob.Get("/private"); err != nil || string(d) != "mine" {
		t.Fatalf("read after opening the ACL: %q %v", d, err)
	}
}

// TestMulti: a multi applies all its ops or none, and reports the failing
// op's error.
func TestMulti(t *testing.T) { forSizes(t, testMulti) }

func testMulti(t *testing.T, c *cluster) {
	s := connect(t, 10*time.Second, c.addrs()...)
	res, err := s.Multi(
		&zk.CreateRequest{Path: "/m", Data: []byte("1"), Acl: openACL},
		&zk.CreateRequest{Path: "/m/a", Acl: openACL},
		&zk.SetDataRequest{Path: "/m", Data: []byte("2"), Version: 0},
		&zk.CheckVersionRequest{Path: "/m", Version: 1},
	)
	if err != nil || len(res) != 4 || res[0].String != "/m" || res[1].String != "/m/a" || res[2].Stat == nil || res[2].Stat.Version != 1 {
		t.Fatalf("multi: %+v %v", res, err)
	}
	_, err = s.Multi(
		&zk.CreateRequest{Path: "/m/b", Acl: openACL},
		&zk.DeleteRequest{Path: "/m/nope", Version: -1},
		&zk.SetDataRequest{Path: "/m", Data: []byte("3"), Version: -1},
	)
	if !errors.Is(err, zk.ErrNoNode) {
		t.Fatalf("failing multi: %v", err)
	}
	if ok, _, _ := s.Exists("/m/b"); ok {
		t.Fatal("a failed multi left its first op applied")
	}
	if d, _, _ := s.Get("/m"); string(d) != "2" {
		t.Fatalf("a failed multi changed data: %q", d)
	}
}
