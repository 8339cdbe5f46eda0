package integration

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

// nemesisDuration is how long TestNemesis injects faults: a short run in CI,
// VRK_NEMESIS=10m (scripts/nemesis) for a long one. VRK_NEMESIS_SEED
// replays a fault schedule.
func nemesisDuration() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("VRK_NEMESIS")); err == nil && d > 0 {
		return d
	}
	return 12 * time.Second
}

// TestNemesis runs three servers under a combined nemesis (kill -9 and
// restart, SIGSTOP and SIGCONT, peer links cut in one or both directions,
// and a disk wiped and its server restarted empty), one fault at a time,
// while clients write and read registers (checked for linearizability
// with porcupine) and create nodes (every acknowledged one must survive).
func TestNemesis(t *testing.T) {
	if target != "vrkeeper" {
		t.Skip("the nemesis cuts vrkeeper's peer links through its own proxies")
	}
	seed := uint64(time.Now().UnixNano())
	if s, err := strconv.ParseUint(os.Getenv("VRK_NEMESIS_SEED"), 10, 64); err == nil {
		seed = s
	}
	t.Logf("nemesis seed %d (replay the schedule with VRK_NEMESIS_SEED=%d)", seed, seed)
	c := startClusterWith(t, 3, true)
	keys := []string{"/nem-a", "/nem-b", "/nem-c"}
	setup := connect(t, 10*time.Second, c.addrs()...)
	for _, k := range append(keys, "/nem-n") {
		if _, err := setup.Create(k, []byte(""), 0, openACL); err != nil {
			t.Fatal(err)
		}
	}
	setup.Close()

	start := time.Now()
	var (
		mu      sync.Mutex
		history []porcupine.Operation
		acked   []string
		wg      sync.WaitGroup
	)
	stop := make(chan struct{})
	const clients = 6
	for id := range clients {
		s := connect(t, 20*time.Second, rotate(c.addrs(), id)...)
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(id)))
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				if rng.IntN(4) == 0 {
					p := fmt.Sprintf("/nem-n/c%d-%d", id, n)
					if _, err := s.Create(p, []byte(p), 0, openACL); err == nil {
						mu.Lock()
						acked = append(acked, p)
						mu.Unlock()
					}
					continue
				}
				op, ok := registerOp(s, id, n, keys, rng, start)
				if !ok {
					continue
				}
				mu.Lock()
				history = append(history, op)
				mu.Unlock()
			}
		}()
	}

	faults := runNemesis(t, c, seed, nemesisDuration())
	c.healAll()
	for _, s := range c.servers {
		c.waitServing(s)
	}
	// Let the clients see the healed cluster before they stop.
	time.Sleep(500 * time.Millisecond)
	close(stop)
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	for _, s := range c.servers {
		checkAckedOn(t, s.clientAddr, acked)
	}
	res, info := porcupine.CheckOperationsVerbose(registerModel, history, 120*time.Second)
	switch res {
	case porcupine.Ok:
	case porcupine.Illegal:
		path := t.TempDir() + "/history.html"
		porcupine.VisualizePath(registerModel, info, path)
		t.Fatalf("%d operations are not linearizable (see %s); faults: %s", len(history), path, strings.Join(faults, ", "))
	default:
		t.Fatalf("the checker could not decide on %d operations", len(history))
	}
	t.Logf("%d register operations linearizable, %d acknowledged creates all present (lost writes: 0); %d faults: %s",
		len(history), len(acked), len(faults), strings.Join(faults, ", "))
}

// rotate returns addrs starting at index i, so clients spread over servers
// and fail over to the others.
func rotate(addrs []string, i int) []string {
	i %= len(addrs)
	return append(append([]string(nil), addrs[i:]...), addrs[:i]...)
}

// runNemesis injects one fault at a time for d and returns what it did.
func runNemesis(t *testing.T, c *cluster, seed uint64, d time.Duration) []string {
	rng := rand.New(rand.NewPCG(seed, 0x6e656d))
	var done []string
	pause := func(lo, hi int) { time.Sleep(time.Duration(lo+rng.IntN(hi-lo)) * time.Millisecond) }
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		pause(300, 1200)
		i := rng.IntN(len(c.servers))
		s := c.servers[i]
		switch rng.IntN(5) {
		case 0:
			c.kill(i)
			pause(200, 2000)
			c.start(s)
			done = append(done, fmt.Sprintf("kill -9 s%d", s.id))
		case 1:
			pid := s.cmd.Process.Pid
			syscall.Kill(-pid, syscall.SIGSTOP)
			pause(200, 3000)
			syscall.Kill(-pid, syscall.SIGCONT)
			done = append(done, fmt.Sprintf("SIGSTOP s%d", s.id))
		case 2:
			c.isolate(i, true)
			pause(500, 4000)
			c.isolate(i, false)
			done = append(done, fmt.Sprintf("isolate s%d", s.id))
		case 3:
			j := (i + 1 + rng.IntN(len(c.servers)-1)) % len(c.servers)
			c.links[i][j].Cut()
			pause(500, 4000)
			c.links[i][j].Heal()
			done = append(done, fmt.Sprintf("cut s%d->s%d", s.id, c.servers[j].id))
		case 4:
			// A disk replacement: only when every server serves (so the
			// wiped one is the only server without its data).
			if !c.allServing() {
				continue
			}
			c.kill(i)
			c.wipe(i)
			pause(200, 1500)
			c.start(s)
			c.waitServing(s) // rebuilt from the others before anything else fails
			done = append(done, fmt.Sprintf("wipe s%d", s.id))
		}
	}
	return done
}

// isolate cuts (or heals) every link to and from server i.
func (c *cluster) isolate(i int, on bool) {
	for j := range c.servers {
		if j == i {
			continue
		}
		for _, l := range []*linkProxy{c.links[i][j], c.links[j][i]} {
			if on {
				l.Cut()
			} else {
				l.Heal()
			}
		}
	}
}

// healAll heals every link and restarts every server that is down.
func (c *cluster) healAll() {
	for i := range c.links {
		for _, l := range c.links[i] {
			if l != nil {
				l.Heal()
			}
		}
	}
	for _, s := range c.servers {
		if s.cmd == nil {
			c.start(s)
		}
	}
}

// allServing reports whether every server reports a serving mode now.
func (c *cluster) allServing() bool {
	for _, s := range c.servers {
		switch mode(s.clientAddr) {
		case "leader", "follower", "standalone":
		default:
			return false
		}
	}
	return true
}
