package integration

import (
	"fmt"
	"sync"
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
	var (
		mu    sync.Mutex
		acked []string
		wg    sync.WaitGroup
	)
	stop := make(chan struct{})
	for w := range 4 {
		s := connect(t, 20*time.Second, c.addrsExcept(leader)[w%2])
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				p := fmt.Sprintf("/pause/w%d-%d", w, i)
				if _, err := s.Create(p, []byte(p), 0, openACL); err == nil {
					mu.Lock()
					acked = append(acked, p)
					mu.Unlock()
				}
			}
		}()
	}
	pid := c.servers[leader].cmd.Process.Pid
	syscall.Kill(-pid, syscall.SIGSTOP)
	paused := time.Now()
	// Writes must go on without the paused primary.
	mu.Lock()
	before := len(acked)
	mu.Unlock()
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n > before+200 {
			break
		}
		if time.Since(paused) > 30*time.Second {
			t.Fatal("no progress within 30s of pausing the primary")
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("writes resumed %v after the pause began", time.Since(paused))
	time.Sleep(time.Second) // keep the old primary paused a while longer
	syscall.Kill(-pid, syscall.SIGCONT)
	time.Sleep(time.Second) // let it run (and learn it was deposed) under load
	close(stop)
	wg.Wait()
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
		mu.Lock()
		for _, p := range acked {
			if !have[p] {
				t.Fatalf("server %d: acknowledged %s missing", srv.id, p)
			}
		}
		mu.Unlock()
	}
}
