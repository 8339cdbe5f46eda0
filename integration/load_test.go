package integration

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
)

// writers create nodes under a root from several sessions until stopped,
// recording which creates were acknowledged: what a fault must not lose.
type writers struct {
	mu      sync.Mutex
	acked   []string
	wg      sync.WaitGroup
	stop    chan struct{}
	expired atomic.Int64 // writes that failed with SESSIONEXPIRED
	// onAck, if set, is called after each acknowledged create with the time
	// it was sent.
	onAck func(sent time.Time)
}

// startWriters starts n writers creating nodes under root; writer i talks
// to addrs[i % len(addrs)] (and moves to no other server).
func startWriters(t *testing.T, root string, addrs []string, n int, onAck func(sent time.Time)) *writers {
	w := &writers{stop: make(chan struct{}), onAck: onAck}
	for i := range n {
		s := connect(t, 20*time.Second, addrs[i%len(addrs)])
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			for k := 0; ; k++ {
				select {
				case <-w.stop:
					return
				default:
				}
				p := fmt.Sprintf("%s/w%d-%d", root, i, k)
				sent := time.Now()
				_, err := s.Create(p, []byte(p), 0, openACL)
				switch {
				case err == nil:
					w.mu.Lock()
					w.acked = append(w.acked, p)
					w.mu.Unlock()
					if w.onAck != nil {
						w.onAck(sent)
					}
				case errors.Is(err, zk.ErrSessionExpired):
					w.expired.Add(1)
				}
			}
		}()
	}
	return w
}

// count returns how many creates were acknowledged so far.
func (w *writers) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.acked)
}

// waitCount waits until at least n creates were acknowledged, polling the
// counter (the writers' progress is the event awaited).
func (w *writers) waitCount(t *testing.T, n int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for w.count() < n {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d writes acknowledged within %v", w.count(), n, within)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// finish stops the writers and returns every acknowledged path.
func (w *writers) finish() []string {
	close(w.stop)
	w.wg.Wait()
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.acked
}
