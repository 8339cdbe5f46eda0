package integration

import (
	"fmt"
	"io"
	"log"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
)

var openACL = zk.WorldACL(zk.PermAll)

// session is a go-zookeeper connection with its event stream.
type session struct {
	*zk.Conn
	events <-chan zk.Event
}

// connect opens a session to the given servers (go-zookeeper picks one) and
// waits until it has a session.
func connect(t testing.TB, timeout time.Duration, addrs ...string) *session {
	t.Helper()
	conn, events, err := zk.Connect(addrs, timeout, zk.WithLogger(log.New(io.Discard, "", 0)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.Close)
	s := &session{Conn: conn, events: events}
	s.waitState(t, zk.StateHasSession)
	return s
}

// waitState reads session events until the given state arrives.
func (s *session) waitState(t testing.TB, want zk.State) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case ev := <-s.events:
			if ev.Type == zk.EventSession && ev.State == want {
				return
			}
		case <-timeout:
			t.Fatalf("session never reached %v", want)
		}
	}
}

// nextEvent waits for a watch event.
func nextEvent(t *testing.T, ch <-chan zk.Event) zk.Event {
	t.Helper()
	select {
	case ev := <-ch:
		return ev
	case <-time.After(30 * time.Second):
		t.Fatal("no watch event within 30s")
	}
	return zk.Event{}
}

// mustHaveEvent asserts that an event is already delivered: ZooKeeper sends
// a watch event before the reply of any read that sees the change, and
// go-zookeeper hands events to the channel before the later reply.
func mustHaveEvent(t *testing.T, ch <-chan zk.Event, want zk.EventType, path string) {
	t.Helper()
	select {
	case ev := <-ch:
		if ev.Type != want || ev.Path != path {
			t.Fatalf("event %v on %s, want %v on %s", ev.Type, ev.Path, want, path)
		}
	default:
		t.Fatalf("no %v event on %s before the reply that saw the change", want, path)
	}
}

// quiet discards go-zookeeper's log.
var quiet = log.New(io.Discard, "", 0)

// forSizes runs a test on a single server and on a three-server cluster
// (its clients spread over the servers).
func forSizes(t *testing.T, test func(t *testing.T, c *cluster)) {
	for _, n := range []int{1, 3} {
		t.Run(fmt.Sprintf("%d servers", n), func(t *testing.T) { test(t, startCluster(t, n)) })
	}
}

// syncForZooKeeper makes a read through another session see the latest
// writes on ZooKeeper, whose reads are only sequentially consistent; on
// vrkeeper reads are linearizable and the test must pass without it.
func syncForZooKeeper(s *session, path string) {
	if target == "zookeeper" {
		s.Sync(path)
	}
}
