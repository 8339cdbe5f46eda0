package integration

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
)

// BenchmarkCatchUp measures a server restarted after missing VRK_CATCHUP_MB
// (default 100) MB of writes: the time until it serves reads of the latest
// write, the view changes anywhere meanwhile, and the errors of clients
// writing through the other servers meanwhile.
//
//	VRK_NORACE=1 go test ./integration -run XXX -bench CatchUp -benchtime 1x
func BenchmarkCatchUp(b *testing.B) {
	mb := 100
	if v, err := strconv.Atoi(os.Getenv("VRK_CATCHUP_MB")); err == nil && v > 0 {
		mb = v
	}
	c := startCluster(b, 3)
	lagging := c.withMode("follower")
	c.kill(lagging)
	s := connect(b, 20*time.Second, c.addrsExcept(lagging)...)
	if _, err := s.Create("/cu", nil, 0, openACL); err != nil {
		b.Fatal(err)
	}
	value := bytes.Repeat([]byte("c"), 4096)
	const per = 50
	n := mb << 20 / len(value)
	for i := 0; i < n; i += per {
		ops := make([]any, 0, per)
		for j := i; j < min(n, i+per); j++ {
			ops = append(ops, &zk.CreateRequest{Path: fmt.Sprintf("/cu/n%07d", j), Data: value, Acl: openACL})
		}
		if _, err := s.Multi(ops...); err != nil {
			b.Fatalf("multi at %d: %v", i, err)
		}
	}
	viewChangesBefore := c.countLog("starting view change")
	var clientErrors, clientOps atomic.Int64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		w := connect(b, 20*time.Second, c.addrsExcept(lagging)...)
		for k := 0; ; k++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := w.Create(fmt.Sprintf("/cu/w%d", k), nil, 0, openACL); err != nil {
				clientErrors.Add(1)
			}
			clientOps.Add(1)
		}
	}()
	b.ResetTimer()
	start := time.Now()
	c.start(c.servers[lagging])
	c.waitServing(c.servers[lagging])
	r := connect(b, 60*time.Second, c.servers[lagging].clientAddr)
	if _, err := r.Sync("/cu"); err != nil {
		b.Fatal(err)
	}
	if _, _, err := r.Get(fmt.Sprintf("/cu/n%07d", n-1)); err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	close(stop)
	<-done
	b.ReportMetric(elapsed.Seconds(), "s-to-caught-up")
	b.ReportMetric(float64(c.countLog("starting view change")-viewChangesBefore), "view-changes")
	b.ReportMetric(float64(clientErrors.Load()), "client-errors")
	b.ReportMetric(float64(clientOps.Load()), "client-ops")
}

// countLog counts the lines of every server's log that contain s.
func (c *cluster) countLog(s string) int {
	n := 0
	for _, srv := range c.servers {
		b, _ := os.ReadFile(filepath.Join(srv.dir, "server.log"))
		n += strings.Count(string(b), s)
	}
	return n
}
