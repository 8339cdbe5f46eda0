package integration

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
)

// TestSessionMoveDuringViewChangeCreatesOnce: a client creating sequential
// nodes from several goroutines (pipelined on one session) through a
// backup loses that connection (cut on its side only: the backup still
// holds it with writes in flight) just as the primary is killed, and
// resumes its session on the other backup during the view change. Every
// create it sent applies at most once, every acknowledged one exactly once
// at the path it was told. The backup that lost the client proposes its
// unanswered writes again after the view change, some of them already
// committed; before writes were keyed by the server (owner, sequence
// number), such a copy applied again once the session had moved.
func TestSessionMoveDuringViewChangeCreatesOnce(t *testing.T) {
	c := startCluster(t, 3)
	leader := c.withMode("leader")
	others := c.addrsExcept(leader)
	proxy := startCutProxy(t, others[0])
	conn, events, err := zk.Connect([]string{proxy.Addr(), others[1]}, 10*time.Second,
		zk.WithLogger(quiet), zk.WithHostProvider(&firstUntilConnected{}))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	s := &session{Conn: conn, events: events}
	s.waitState(t, zk.StateHasSession)
	id := s.SessionID()
	if _, err := s.Create("/mv", nil, 0, openACL); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	acked := map[string]string{} // data -> path
	var expired, moved int
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; ; k++ {
				select {
				case <-stop:
					return
				default:
				}
				data := fmt.Sprintf("g%d-%d", g, k)
				p, err := s.Create("/mv/n-", []byte(data), zk.FlagSequence, openACL)
				mu.Lock()
				switch {
				case err == nil:
					acked[data] = p
				case errors.Is(err, zk.ErrSessionExpired):
					expired++
				case errors.Is(err, zk.ErrSessionMoved):
					moved++
				}
				mu.Unlock()
			}
		}()
	}
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(acked) }
	waitFor := func(n int) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for count() < n {
			if time.Now().After(deadline) {
				close(stop)
				t.Fatalf("only %d of %d creates acknowledged", count(), n)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitFor(300)
	c.kill(leader)
	proxy.Cut()
	waitFor(count() + 300)
	close(stop)
	wg.Wait()

	if s.SessionID() != id || s.Server() != others[1] {
		t.Errorf("session %x on %s after the move; want %x on %s", s.SessionID(), s.Server(), id, others[1])
	}
	if expired > 0 || moved > 0 {
		t.Errorf("%d creates failed with SESSIONEXPIRED, %d with SESSIONMOVED", expired, moved)
	}
	kids, _, err := s.Children("/mv")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for _, k := range kids {
		d, _, err := s.Get("/mv/" + k)
		if err != nil {
			t.Fatal(err)
		}
		if prev, dup := seen[string(d)]; dup {
			t.Errorf("create %s applied twice: /mv/%s and %s", d, k, prev)
		}
		seen[string(d)] = "/mv/" + k
	}
	for data, p := range acked {
		if seen[data] != p {
			t.Errorf("acknowledged create %s at %s; the tree has it at %q", data, p, seen[data])
		}
	}
	var unacked []string
	for data := range seen {
		if _, ok := acked[data]; !ok {
			unacked = append(unacked, data)
		}
	}
	t.Logf("%d creates acknowledged, %d nodes; applied without an answer (connection lost): %s",
		len(acked), len(kids), strings.Join(unacked, " "))
}

// firstUntilConnected is a go-zookeeper host provider that tries the first
// server until a session is established through it (a server may close a
// handshake while the cluster settles), then only the others.
type firstUntilConnected struct {
	servers   []string
	connected bool
	next      int
}

func (h *firstUntilConnected) Init(servers []string) error { h.servers = servers; return nil }
func (h *firstUntilConnected) Len() int                    { return len(h.servers) }
func (h *firstUntilConnected) Connected()                  { h.connected = true }
func (h *firstUntilConnected) Next() (string, bool) {
	if !h.connected {
		return h.servers[0], false
	}
	h.next++
	return h.servers[1+h.next%(len(h.servers)-1)], h.next%(len(h.servers)-1) == 0
}
