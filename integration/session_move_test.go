package integration

import (
	"testing"
	"time"

	"github.com/vrkeeper/vrkeeper/internal/zkraw"
	"github.com/vrkeeper/vrkeeper/zkproto"
)

// TestNewerConnectionClosesOlder: when a session is resumed through
// another server, its older connection is closed, as ZooKeeper does; the
// session and its ephemerals carry on through the new connection.
func TestNewerConnectionClosesOlder(t *testing.T) {
	c := startCluster(t, 3)
	old, err := zkraw.Dial(c.servers[0].clientAddr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	eph := zkproto.CreateRequest{Path: "/owned", ACL: []zkproto.ACL{{Perms: zkproto.PermAll, ID: zkproto.Id{Scheme: "world", ID: "anyone"}}}, Flags: zkproto.ModeEphemeral}
	if r, err := old.Call(zkproto.OpCreate, &eph); err != nil || r.Header.Err != zkproto.OK {
		t.Fatalf("create: %+v %v", r, err)
	}
	moved, err := zkraw.Resume(c.servers[1].clientAddr, 10*time.Second, old.SessionID, old.Passwd)
	if err != nil {
		t.Fatal(err)
	}
	defer moved.Close()
	// The old connection is closed by its server once the move is applied
	// there: a request on it then fails.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := old.Ping(); err != nil {
			break // closed (zkraw.ErrClosed, or a reset)
		}
		if time.Now().After(deadline) {
			t.Fatal("the older connection is still served 10s after the session moved")
		}
	}
	var st zkproto.ExistsResponse
	if r, err := moved.Call(zkproto.OpExists, &zkproto.ExistsRequest{Path: "/owned"}); err != nil || r.Header.Err != zkproto.OK {
		t.Fatalf("exists through the new connection: %+v %v", r, err)
	} else if zkproto.Unmarshal(r.Body, &st); st.Stat.EphemeralOwner != old.SessionID {
		t.Fatalf("owner %x, session %x", st.Stat.EphemeralOwner, old.SessionID)
	}
}
