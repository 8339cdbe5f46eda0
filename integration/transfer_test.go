package integration

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
)

// rssOf returns a process's resident set size in bytes (VmRSS).
func rssOf(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// rssWatch samples processes' resident sizes until stopped and keeps the
// peak of each.
type rssWatch struct {
	mu   sync.Mutex
	peak map[int]int64
	stop chan struct{}
	done chan struct{}
}

func watchRSS(pids ...int) *rssWatch {
	w := &rssWatch{peak: map[int]int64{}, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for {
			for _, p := range pids {
				if r := rssOf(p); r > 0 {
					w.mu.Lock()
					w.peak[p] = max(w.peak[p], r)
					w.mu.Unlock()
				}
			}
			select {
			case <-w.stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	return w
}

func (w *rssWatch) finish() map[int]int64 {
	close(w.stop)
	<-w.done
	return w.peak
}

// TestStateTransferBoundedMemory: a server whose disk was wiped rebuilds a
// large state (tens of MB of snapshot) from the others while clients
// write. The snapshot travels in chunks from file to file: neither side
// holds it in memory, so the source's memory hardly grows and the
// receiver's peak stays near the size of the tree it ends with. (Before,
// the source read the whole snapshot into memory for every send and the
// receiver held it several times over.)
func TestStateTransferBoundedMemory(t *testing.T) {
	if target != "vrkeeper" {
		t.Skip("measures vrkeeper's processes")
	}
	// A tighter garbage collector in the servers, so that their resident
	// size follows what they hold rather than the collector's headroom.
	t.Setenv("GOGC", "50")
	// Snapshots every 100 commands (of 160 KB here): the rebuilt server gets
	// a snapshot and a short log, whatever the timing.
	c := startCluster(t, 3, "snapCount=100")
	lost := c.withMode("follower")
	c.kill(lost)
	s := connect(t, 20*time.Second, c.addrsExcept(lost)...)
	if _, err := s.Create("/big", nil, 0, openACL); err != nil {
		t.Fatal(err)
	}
	const znodes, per = 6000, 40
	value := bytes.Repeat([]byte("x"), 4096) // 24 MB of values in all
	for i := 0; i < znodes; i += per {
		ops := make([]any, per)
		for j := range ops {
			ops[j] = &zk.CreateRequest{Path: fmt.Sprintf("/big/n%06d", i+j), Data: value, Acl: openACL}
		}
		if _, err := s.Multi(ops...); err != nil {
			t.Fatalf("multi at %d: %v", i, err)
		}
	}
	leader := c.withMode("leader")
	sourceBefore := rssOf(c.servers[leader].cmd.Process.Pid)
	c.wipe(lost)

	// Clients write while the wiped server rebuilds.
	w := startWriters(t, "/big", c.addrsExcept(lost), 2, nil)
	c.start(c.servers[lost])
	watch := watchRSS(c.servers[leader].cmd.Process.Pid, c.servers[lost].cmd.Process.Pid)
	c.waitServing(c.servers[lost])
	acked := w.finish()

	// The read waits until the rebuilt server has installed the snapshot
	// and applied everything acknowledged: the watch covers that too.
	r := connect(t, 20*time.Second, c.servers[lost].clientAddr)
	kids, _, err := r.Children("/big")
	peaks := watch.finish()
	if err != nil || len(kids) < znodes+len(acked) {
		t.Fatalf("the rebuilt server has %d children (%v), want %d", len(kids), err, znodes+len(acked))
	}
	sourceGrowth := peaks[c.servers[leader].cmd.Process.Pid] - sourceBefore
	receiverPeak := peaks[c.servers[lost].cmd.Process.Pid]
	t.Logf("source RSS %d MiB before, grew by %d MiB during the transfer; receiver peak %d MiB",
		sourceBefore>>20, sourceGrowth>>20, receiverPeak>>20)
	// The source holds the tree and the log above its snapshot; sending the
	// snapshot must not add a copy of it (or several, as when it was read
	// whole for every send); the receiver ends with the tree and holds
	// at most a chunk of the snapshot on the way.
	if sourceGrowth > sourceBefore*3/4 {
		t.Errorf("the source's memory grew by %d MiB (from %d MiB) while sending a snapshot of 24 MiB", sourceGrowth>>20, sourceBefore>>20)
	}
	// The receiver may also hold the log after the snapshot it fetched, an
	// older one than the source's latest when a fetch under way was
	// finished: it stays within the bound for a catch-up, 1.5× a
	// server's resident memory.
	if receiverPeak > sourceBefore*3/2 {
		t.Errorf("the receiver peaked at %d MiB, more than 1.5× the source's %d MiB", receiverPeak>>20, sourceBefore>>20)
	}
}
