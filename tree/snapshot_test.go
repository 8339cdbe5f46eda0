package tree

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/vrkeeper/vrkeeper/zkproto"
)

// buildTree makes a tree with every kind of node, several ACLs, sessions
// with ephemerals and duplicate-table entries, and enough children under one
// parent to switch its child set to a map. With shuffled set, the same state
// is laid out differently inside: its ACL lists sit in other table slots.
func buildTree(t *testing.T, shuffled bool) *Tree {
	h := newHarness(t, Config{})
	h.policy = PolicyExtendedTypes
	if shuffled {
		var idx []uint32
		for i := 0; i < 3; i++ {
			key := zkproto.AppendACLs(nil, []zkproto.ACL{{Perms: int32(i), ID: zkproto.Id{Scheme: "x", ID: "y"}}})
			idx = append(idx, h.tree.acls.internKey(key))
		}
		for _, i := range idx {
			h.tree.acls.release(i)
		}
	}
	a := h.open()
	b := h.open()
	names := []string{"/c1", "/c2", "/c3", "/c4", "/c5", "/c6", "/c7", "/c8", "/c9", "/c10"}
	for _, n := range names {
		h.mustCreate(a, n, []byte(n), 0)
	}
	h.write(a, nil, zkproto.OpCreate, &zkproto.CreateRequest{Path: "/r", ACL: readACL, Data: nil})
	h.write(a, []zkproto.Id{{Scheme: "digest", ID: "u:h"}}, zkproto.OpCreate,
		&zkproto.CreateRequest{Path: "/d", ACL: []zkproto.ACL{{Perms: 31, ID: zkproto.Id{Scheme: "auth"}}}, Data: []byte{}})
	h.write(a, nil, zkproto.OpCreateContainer, &zkproto.CreateRequest{Path: "/c1/box", ACL: openACL})
	h.write(a, nil, zkproto.OpCreateTTL, &zkproto.CreateTTLRequest{Path: "/c2/ttl", ACL: openACL, Flags: zkproto.ModePersistentWithTTL, TTL: 99})
	h.mustCreate(b, "/c3/eb", nil, zkproto.ModeEphemeral)
	h.mustCreate(a, "/c3/ea", nil, zkproto.ModeEphemeral)
	// Same final cxids and answers for both orders.
	h.cxid[a], h.cxid[b] = 100, 200
	h.mustCreate(a, "/last", nil, 0)
	h.mustCreate(b, "/last2", nil, 0)
	h.tree.lastZxid = 1000
	h.tree.now = 5000
	return h.tree
}

func TestSnapshotIsDeterministic(t *testing.T) {
	x, y := buildTree(t, false), buildTree(t, true)
	if x.lookup("/d").aclIndex() == y.lookup("/d").aclIndex() {
		t.Fatal("the shuffled tree should use other ACL slots")
	}
	if x.Digest() != y.Digest() {
		t.Fatal("equal states, different digests")
	}
	sx, sy := snapshotBytes(t, x), snapshotBytes(t, y)
	if !bytes.Equal(sx, sy) {
		t.Fatal("equal states, different snapshots")
	}
	r, err := Restore(bytes.NewReader(sx), Config{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Digest() != x.Digest() || !bytes.Equal(snapshotBytes(t, r), sx) {
		t.Error("restore changed the state")
	}
	checkInvariants(t, r)
	compareReads(t, x, r)
	if len(r.containers) != 1 || len(r.ttls) != 1 {
		t.Errorf("indexes after restore: %d containers, %d TTL nodes", len(r.containers), len(r.ttls))
	}
}

func TestRestoreRejectsDamage(t *testing.T) {
	snap := snapshotBytes(t, buildTree(t, false))
	for n := 0; n < len(snap); n++ {
		if _, err := Restore(bytes.NewReader(snap[:n]), Config{}); !errors.Is(err, ErrBadSnapshot) {
			t.Fatalf("truncated to %d bytes: %v", n, err)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		bad := append([]byte(nil), snap...)
		bad[r.IntN(len(bad))] ^= byte(1 + r.IntN(255))
		if _, err := Restore(bytes.NewReader(bad), Config{}); err == nil {
			// A flip may leave a valid encoding only if the digest still
			// matches, which it must not.
			t.Fatalf("flip %d accepted", i)
		}
	}
}
