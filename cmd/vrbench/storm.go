package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-zookeeper/zk"
)

// runStorm is `vrbench storm`: a reconnect storm. It opens --sessions
// go-zookeeper sessions over every server (the client picks one at random
// and moves to another when its server fails, keeping its session), runs
// --kill (a shell command that kills the primary or leader) and measures
// how long until every session that lost its connection has its session
// again, and the latency of gets from --probe of the sessions meanwhile.
func runStorm(args []string) error {
	fs := flag.NewFlagSet("storm", flag.ExitOnError)
	targets := fs.String("target", "127.0.0.1:2181", "host:port[,host:port...]")
	sessions := fs.Int("sessions", 10000, "sessions")
	kill := fs.String("kill", "", "shell command that kills a server (the primary)")
	probe := fs.Int("probe", 32, "sessions that keep doing gets, one in flight each")
	within := fs.Duration("within", 120*time.Second, "give up waiting for the sessions after this long")
	timeout := fs.Duration("session-timeout", 30*time.Second, "session timeout asked for")
	fs.Parse(args)
	addrs := targetsOf(*targets)
	if *kill == "" {
		return fmt.Errorf("storm: --kill is required")
	}

	// Per session: when it last lost its connection and last had its
	// session, as ns since start (0: never).
	type state struct {
		lost, back atomic.Int64
		expired    atomic.Bool
	}
	origin := time.Now()
	states := make([]state, *sessions)
	conns := make([]*zk.Conn, *sessions)
	quiet := zk.WithLogger(log.New(io.Discard, "", 0))
	var connected sync.WaitGroup
	connected.Add(*sessions)
	start := time.Now()
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	const openers = 64
	for o := range openers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := o; i < *sessions; i += openers {
				st := &states[i]
				var once sync.Once
				cb := zk.WithEventCallback(func(ev zk.Event) {
					if ev.Type != zk.EventSession {
						return
					}
					now := int64(time.Since(origin))
					switch ev.State {
					case zk.StateDisconnected:
						st.lost.Store(now)
					case zk.StateHasSession:
						st.back.Store(now)
						once.Do(connected.Done)
					case zk.StateExpired:
						st.expired.Store(true)
					}
				})
				c, _, err := zk.Connect(addrs, *timeout, quiet, cb, zk.WithMaxBufferSize(64<<10), zk.WithMaxConnBufferSize(8<<10))
				if err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
					connected.Done()
					return
				}
				conns[i] = c
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	connected.Wait()
	fmt.Printf("%d go-zookeeper sessions connected in %.2f s\n", *sessions, time.Since(start).Seconds())

	// The probe: gets of / from a few sessions, timestamped.
	type sample struct {
		at, lat time.Duration
		err     bool
	}
	var samples []sample
	stop := make(chan struct{})
	var probes sync.WaitGroup
	for i := range min(*probe, *sessions) {
		c := conns[i]
		probes.Add(1)
		go func() {
			defer probes.Done()
			var local []sample
			for {
				select {
				case <-stop:
					mu.Lock()
					samples = append(samples, local...)
					mu.Unlock()
					return
				default:
				}
				sent := time.Now()
				_, _, err := c.Get("/")
				local = append(local, sample{at: sent.Sub(origin), lat: time.Since(sent), err: err != nil})
				if err != nil {
					time.Sleep(10 * time.Millisecond) // a client backs off after a failure; so does the probe
				}
			}
		}()
	}
	time.Sleep(2 * time.Second) // the probe's baseline before the kill
	killedAt := time.Since(origin)
	cmd := exec.Command("sh", "-c", *kill)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		close(stop)
		probes.Wait()
		return fmt.Errorf("storm: kill command: %w", err)
	}
	fmt.Printf("killed at %.2f s: %s\n", killedAt.Seconds(), *kill)

	// Wait until every session that lost its connection after the kill has
	// its session again.
	deadline := time.Now().Add(*within)
	var lost, pending, expired int
	for {
		lost, pending, expired = 0, 0, 0
		for i := range states {
			st := &states[i]
			if st.expired.Load() {
				expired++
			}
			if l := st.lost.Load(); l >= int64(killedAt) {
				lost++
				if st.back.Load() < l {
					pending++
				}
			}
		}
		if pending == 0 && time.Since(origin) > killedAt+time.Second {
			break
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond) // polling the sessions' states: they are the measured outcome
	}
	allBack := time.Since(origin)
	time.Sleep(time.Second)
	close(stop)
	probes.Wait()

	var reconnect []time.Duration
	var last time.Duration
	for i := range states {
		st := &states[i]
		if l := st.lost.Load(); l >= int64(killedAt) && st.back.Load() >= l {
			d := time.Duration(st.back.Load()) - killedAt
			reconnect = append(reconnect, d)
			last = max(last, d)
		}
	}
	slices.Sort(reconnect)
	pct := func(v []time.Duration, p float64) float64 {
		if len(v) == 0 {
			return 0
		}
		return ms(v[min(len(v)-1, int(p*float64(len(v))))])
	}
	fmt.Printf("sessions that lost their connection: %d of %d; re-established: %d; still without: %d; expired: %d\n",
		lost, *sessions, len(reconnect), pending, expired)
	fmt.Printf("time from the kill until every session was back: %.2f s (reconnect p50 %.0f ms, p99 %.0f ms)\n",
		last.Seconds(), pct(reconnect, 0.5), pct(reconnect, 0.99))
	var during []time.Duration
	errs := 0
	for _, s := range samples {
		if s.at >= killedAt && s.at <= allBack {
			during = append(during, s.lat)
			if s.err {
				errs++
			}
		}
	}
	slices.Sort(during)
	fmt.Printf("probe gets during the storm: %d (%d failed), p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
		len(during), errs, pct(during, 0.5), pct(during, 0.99), pct(during, 1))
	if pending > 0 {
		return fmt.Errorf("%d sessions never came back within %v", pending, *within)
	}
	return nil
}
