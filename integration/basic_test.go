package integration

import (
	"errors"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
)

// TestCRUD covers create, get, set, delete with versions and their errors
// on a single server.
func TestCRUD(t *testing.T) { forSizes(t, testCRUD) }

func testCRUD(t *testing.T, c *cluster) {
	s := connect(t, 10*time.Second, c.addrs()...)

	p, err := s.Create("/crud", []byte("v0"), 0, openACL)
	if err != nil || p != "/crud" {
		t.Fatalf("create: %q %v", p, err)
	}
	data, st, err := s.Get("/crud")
	if err != nil || string(data) != "v0" || st.Version != 0 || st.Czxid != st.Mzxid || st.DataLength != 2 {
		t.Fatalf("get: %q %+v %v", data, st, err)
	}
	st2, err := s.Set("/crud", []byte("v1"), 0)
	if err != nil || st2.Version != 1 || st2.Mzxid <= st.Mzxid || st2.Czxid != st.Czxid {
		t.Fatalf("set: %+v %v", st2, err)
	}
	if _, err := s.Set("/crud", []byte("v2"), 0); !errors.Is(err, zk.ErrBadVersion) {
		t.Fatalf("set with a stale version: %v", err)
	}
	if _, err := s.Set("/crud", []byte("v2"), -1); err != nil {
		t.Fatalf("set with version -1: %v", err)
	}
	if _, err := s.Create("/crud", nil, 0, openACL); !errors.Is(err, zk.ErrNodeExists) {
		t.Fatalf("create twice: %v", err)
	}
	if _, _, err := s.Get("/missing"); !errors.Is(err, zk.ErrNoNode) {
		t.Fatalf("get missing: %v", err)
	}
	if _, err := s.Create("/missing/child", nil, 0, openACL); !errors.Is(err, zk.ErrNoNode) {
		t.Fatalf("create under a missing parent: %v", err)
	}
	if _, err := s.Create("/crud/child", []byte{}, 0, openACL); err != nil {
		t.Fatal(err)
	}
	_, parent, err := s.Get("/crud")
	if err != nil || parent.NumChildren != 1 || parent.Cversion != 1 || parent.Pzxid <= st2.Mzxid {
		t.Fatalf("parent after a child create: %+v %v", parent, err)
	}
	if err := s.Delete("/crud", -1); !errors.Is(err, zk.ErrNotEmpty) {
		t.Fatalf("delete a parent: %v", err)
	}
	if err := s.Delete("/crud/child", 5); !errors.Is(err, zk.ErrBadVersion) {
		t.Fatalf("delete with a wrong version: %v", err)
	}
	if err := s.Delete("/crud/child", 0); err != nil {
		t.Fatal(err)
	}
	_, parent2, _ := s.Get("/crud")
	if parent2.NumChildren != 0 || parent2.Cversion != 2 || parent2.Pzxid <= parent.Pzxid {
		t.Fatalf("parent after a child delete: %+v", parent2)
	}
	if err := s.Delete("/crud", -1); err != nil {
		t.Fatal(err)
	}
	if ok, _, err := s.Exists("/crud"); ok || err != nil {
		t.Fatalf("exists after delete: %v %v", ok, err)
	}
	children, _, err := s.Children("/")
	if err != nil || !contains(children, "zookeeper") {
		t.Fatalf("root children %v %v", children, err)
	}
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// TestSequentialAndEphemeral covers sequence numbering (which counts every
// child ever created) and ephemerals dying with their session.
func TestSequentialAndEphemeral(t *testing.T) { forSizes(t, testSequentialAndEphemeral) }

func testSequentialAndEphemeral(t *testing.T, c *cluster) {
	s := connect(t, 10*time.Second, c.addrs()...)
	if _, err := s.Create("/q", nil, 0, openACL); err != nil {
		t.Fatal(err)
	}
	var names []string
	for range 3 {
		p, err := s.Create("/q/item-", []byte("x"), zk.FlagSequence, openACL)
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, p)
	}
	want := []string{"/q/item-0000000000", "/q/item-0000000001", "/q/item-0000000002"}
	for i := range want {
		if names[i] != want[i] {
			t.Fatalf("sequential names %v, want %v", names, want)
		}
	}
	if err := s.Delete(names[2], -1); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.Create("/q/item-", nil, zk.FlagSequence, openACL); p != "/q/item-0000000003" {
		t.Fatalf("after a delete the next name is %q", p)
	}

	owner := connect(t, 10*time.Second, c.addrs()...)
	if _, err := owner.Create("/q/eph", []byte("e"), zk.FlagEphemeral, openACL); err != nil {
		t.Fatal(err)
	}
	syncForZooKeeper(s, "/q/eph")
	_, st, err := s.Get("/q/eph")
	if err != nil || st.EphemeralOwner != owner.SessionID() {
		t.Fatalf("ephemeral owner %x, session %x (%v)", st.EphemeralOwner, owner.SessionID(), err)
	}
	if _, err := owner.Create("/q/eph/child", nil, 0, openACL); !errors.Is(err, zk.ErrNoChildrenForEphemerals) {
		t.Fatalf("child of an ephemeral: %v", err)
	}
	ok, _, ch, err := s.ExistsW("/q/eph")
	if err != nil || !ok {
		t.Fatal(err)
	}
	owner.Close()
	if ev := nextEvent(t, ch); ev.Type != zk.EventNodeDeleted {
		t.Fatalf("event %v after the owner closed", ev)
	}
	if ok, _, _ := s.Exists("/q/eph"); ok {
		t.Fatal("ephemeral outlived its session")
	}
}

// TestWatchesBeforeReplies: every kind of one-shot watch fires, once, and
// its event is delivered before the reply of a later read that sees the
// change.
func TestWatchesBeforeReplies(t *testing.T) { forSizes(t, testWatchesBeforeReplies) }

func testWatchesBeforeReplies(t *testing.T, c *cluster) {
	w := connect(t, 10*time.Second, c.addrs()...)
	other := connect(t, 10*time.Second, c.addrs()...)

	// exists on a missing node, then NodeCreated.
	_, _, existsCh, err := w.ExistsW("/w")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Create("/w", []byte("a"), 0, openACL); err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.Get("/w"); err != nil {
		t.Fatal(err)
	}
	mustHaveEvent(t, existsCh, zk.EventNodeCreated, "/w")

	// data watch, then NodeDataChanged.
	_, _, dataCh, err := w.GetW("/w")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Set("/w", []byte("b"), -1); err != nil {
		t.Fatal(err)
	}
	if d, _, _ := w.Get("/w"); string(d) != "b" {
		t.Fatalf("read %q", d)
	}
	mustHaveEvent(t, dataCh, zk.EventNodeDataChanged, "/w")

	// child watch, then NodeChildrenChanged on the parent.
	_, _, childCh, err := w.ChildrenW("/w")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Create("/w/c", nil, 0, openACL); err != nil {
		t.Fatal(err)
	}
	if kids, _, _ := w.Children("/w"); len(kids) != 1 {
		t.Fatalf("children %v", kids)
	}
	mustHaveEvent(t, childCh, zk.EventNodeChildrenChanged, "/w")

	// data watch, then NodeDeleted.
	_, _, delCh, err := w.GetW("/w/c")
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Delete("/w/c", -1); err != nil {
		t.Fatal(err)
	}
	if ok, _, _ := w.Exists("/w/c"); ok {
		t.Fatal("deleted node exists")
	}
	mustHaveEvent(t, delCh, zk.EventNodeDeleted, "/w/c")

	// One-shot: a second change fires nothing on the old watch.
	if _, err := other.Set("/w", []byte("c"), -1); err != nil {
		t.Fatal(err)
	}
	w.Get("/w")
	select {
	case ev, open := <-dataCh: // go-zookeeper closes a channel once it fired
		if open {
			t.Fatalf("a fired one-shot watch fired again: %v", ev)
		}
	default:
	}
}
