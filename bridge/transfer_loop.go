package bridge

import (
	crand "crypto/rand"
	"encoding/binary"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/vrkeeper/vrkeeper/bridge/transfer"
	"github.com/vrkeeper/vrkeeper/metrics"
	"github.com/vrkeeper/vrkeeper/storage"
)

// transferLoop runs the snapshot transfer (package bridge/transfer) on a
// goroutine of its own: reading and writing snapshot files never holds up
// the replica loop's heartbeats. It is the driver's Fetcher.
type transferLoop struct {
	t       *transfer.Transfer
	in      chan transferFrame // frames from peers
	fetch   chan fetchRequest  // fetches the driver asks for
	cluster atomic.Uint64      // the replica's cluster id, kept by the replica loop
	log     hclog.Logger
	// fetchStart is when the current fetch began (the transfer goroutine's).
	fetchStart time.Time
	stop       chan struct{}
	done       chan struct{}
	once       sync.Once
}

type transferFrame struct {
	from  uint64
	frame []byte
}

// fetchOutcome is how a fetch ended: the snapshot arrived (done), or the
// fetch was given up.
type fetchOutcome struct {
	meta storage.SnapshotMeta
	done bool
}

type fetchRequest struct {
	from uint64
	meta storage.SnapshotMeta
}

// transferRate bounds what a server sends of snapshots, per second, so a
// catching-up replica cannot take all of the others' disk and network.
const transferRate = 64 << 20

// newTransferLoop makes the loop; run starts it.
func newTransferLoop(self uint64, store *storage.SnapshotStore, send func(to uint64, frame []byte),
	outcome func(fetchOutcome), tick time.Duration, reg *metrics.Registry, log hclog.Logger) *transferLoop {
	l := &transferLoop{in: make(chan transferFrame, 64), fetch: make(chan fetchRequest, 8), log: log,
		stop: make(chan struct{}), done: make(chan struct{})}
	var nonce [8]byte
	crand.Read(nonce[:])
	perTick := int(float64(transferRate) * tick.Seconds())
	l.t = transfer.New(transfer.Config{
		Self: self, Store: store, Send: send, Cluster: l.cluster.Load,
		Fetched: func(meta storage.SnapshotMeta, bytes int64) {
			d := time.Since(l.fetchStart)
			reg.StateTransfer(true, bytes, d)
			log.Info("state transfer done", "op", meta.Op, "bytes", bytes, "seconds", d.Seconds(),
				"mib_per_s", float64(bytes)/(1<<20)/max(d.Seconds(), 1e-3))
			outcome(fetchOutcome{meta: meta, done: true})
		},
		Abandoned: func(meta storage.SnapshotMeta) { outcome(fetchOutcome{meta: meta}) },
		Nonce:     binary.BigEndian.Uint64(nonce[:]), BytesPerTick: max(perTick, 64<<10), Log: log,
		RetryTicks: int(time.Second / tick),
	})
	return l
}

// Fetch implements driver.Fetcher: it never blocks (a request that does not
// fit is dropped; the primary repeats the message that asked for it).
func (l *transferLoop) Fetch(from uint64, meta storage.SnapshotMeta) {
	select {
	case l.fetch <- fetchRequest{from, meta}:
	default:
	}
}

// deliver queues a peer's transfer frame (a copy: the transport reuses it).
func (l *transferLoop) deliver(from uint64, frame []byte, stop <-chan struct{}) {
	if c, mine := clusterOf(frame), l.cluster.Load(); c != 0 && mine != 0 && c != mine {
		return // another cluster's
	}
	select {
	case l.in <- transferFrame{from, append([]byte(nil), frame...)}:
	case <-stop:
	case <-l.stop:
	}
}

func clusterOf(frame []byte) uint64 {
	if len(frame) < 8 {
		return 0
	}
	return binary.BigEndian.Uint64(frame)
}

// run is the transfer goroutine.
func (l *transferLoop) run(tick time.Duration) {
	defer close(l.done)
	defer l.t.Close()
	ticker := time.NewTicker(tick)
	defer ticker.Stop()
	for {
		select {
		case <-l.stop:
			return
		case f := <-l.in:
			if err := l.t.Handle(f.from, f.frame); err != nil {
				l.log.Warn("dropping a malformed snapshot-transfer frame", "from", f.from, "error", err)
			}
		case r := <-l.fetch:
			before, busy := l.t.Fetching()
			if err := l.t.Fetch(r.from, r.meta); err != nil {
				l.log.Error("cannot fetch a snapshot", "from", r.from, "op", r.meta.Op, "error", err)
			}
			if now, ok := l.t.Fetching(); ok && (!busy || now.Op != before.Op) {
				l.fetchStart = time.Now()
			}
		case <-ticker.C:
			l.t.Tick()
		}
	}
}

// close stops the goroutine and waits for it.
func (l *transferLoop) close() {
	l.once.Do(func() { close(l.stop) })
	<-l.done
}
