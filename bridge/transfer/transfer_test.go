package transfer

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/vrkeeper/vrkeeper/storage"
	"github.com/vrkeeper/vrkeeper/storage/faultfs"
)

// pair is two servers, 1 (the source) and 2 (the fetcher), on a network
// that loses frames with the given probability and delivers the rest in
// order, one tick at a time.
type pair struct {
	t        *testing.T
	src, dst *Transfer
	stores   [3]*storage.Store
	queue    []frame
	rng      *rand.Rand
	loss     float64
	fetched  []storage.SnapshotMeta
	given    []storage.SnapshotMeta // fetches abandoned
	sentByte [3]int                 // chunk payload bytes each server sent in the current tick
}

type frame struct {
	from, to uint64
	b        []byte
}

func newPair(t *testing.T, loss float64, chunk, perTick int) *pair {
	p := &pair{t: t, rng: rand.New(rand.NewPCG(7, 7)), loss: loss}
	mk := func(id uint64) *Transfer {
		s, _, err := storage.Open(storage.Options{DataDir: "data", FS: faultfs.New(),
			WAL: storage.WALOptions{ManualSync: true, Preallocate: storage.PreallocNone}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		p.stores[id] = s
		return New(Config{Self: id, Store: s.Snapshots, Cluster: func() uint64 { return 1 }, Nonce: id,
			ChunkBytes: chunk, BytesPerTick: perTick, RetryTicks: 3,
			Send: func(to uint64, b []byte) {
				if b[frameHeader] == frameChunk {
					p.sentByte[id] += len(b) - frameHeader - 1 - chunkHeader
				}
				if p.rng.Float64() >= p.loss {
					p.queue = append(p.queue, frame{id, to, b})
				}
			},
			Fetched:   func(m storage.SnapshotMeta, _ int64) { p.fetched = append(p.fetched, m) },
			Abandoned: func(m storage.SnapshotMeta) { p.given = append(p.given, m) }})
	}
	p.src, p.dst = mk(1), mk(2)
	return p
}

// run delivers frames and ticks both sides until done or n ticks passed.
func (p *pair) run(n int, done func() bool) {
	for i := 0; i < n && !done(); i++ {
		p.sentByte = [3]int{}
		p.src.Tick()
		p.dst.Tick()
		for len(p.queue) > 0 {
			q := p.queue
			p.queue = nil
			for _, f := range q {
				to := p.src
				if f.to == 2 {
					to = p.dst
				}
				if err := to.Handle(f.from, f.b); err != nil {
					p.t.Fatal(err)
				}
			}
		}
	}
}

func (p *pair) save(op uint64, body []byte) {
	err := p.stores[1].Snapshots.Save(storage.SnapshotMeta{Op: op, View: 4}, func(w io.Writer) error {
		_, err := w.Write(body)
		return err
	})
	if err != nil {
		p.t.Fatal(err)
	}
}

func (p *pair) received(op uint64) []byte {
	var body []byte
	err := p.stores[2].Snapshots.Load(op, func(_ storage.SnapshotMeta, r io.Reader) error {
		var err error
		body, err = io.ReadAll(r)
		return err
	})
	if err != nil {
		p.t.Fatal(err)
	}
	return body
}

// TestFetchOverALossyNetwork: a snapshot of many chunks arrives whole over
// a network that loses a third of the frames: lost requests and chunks are
// asked for again from where the fetch stopped.
func TestFetchOverALossyNetwork(t *testing.T) {
	p := newPair(t, 0.33, 100, 1000)
	body := bytes.Repeat([]byte("snapshot body "), 200) // 2800 bytes: 28 chunks
	p.save(9, body)
	if err := p.dst.Fetch(1, storage.SnapshotMeta{Op: 9, View: 4}); err != nil {
		t.Fatal(err)
	}
	p.run(2000, func() bool { return len(p.fetched) > 0 })
	if len(p.fetched) != 1 || p.fetched[0].Op != 9 || p.fetched[0].View != 4 {
		t.Fatalf("fetched %+v", p.fetched)
	}
	if got := p.received(9); !bytes.Equal(got, body) {
		t.Fatalf("received %d bytes, want %d", len(got), len(body))
	}
	if _, busy := p.dst.Fetching(); busy {
		t.Fatal("still fetching after the snapshot arrived")
	}
}

// TestServingIsRateLimited: a source never sends more chunk bytes per tick
// than its budget, however many requests come.
func TestServingIsRateLimited(t *testing.T) {
	p := newPair(t, 0, 100, 250)
	p.save(3, bytes.Repeat([]byte{1}, 5000))
	if err := p.dst.Fetch(1, storage.SnapshotMeta{Op: 3}); err != nil {
		t.Fatal(err)
	}
	ticks := 0
	for i := 0; i < 500 && len(p.fetched) == 0; i++ {
		p.run(1, func() bool { return false })
		ticks++
		if p.sentByte[1] > 250+100 {
			t.Fatalf("sent %d bytes in one tick, budget 250", p.sentByte[1])
		}
	}
	if len(p.fetched) != 1 {
		t.Fatal("never fetched")
	}
	if ticks < 5000/350 {
		t.Fatalf("5000 bytes in %d ticks at 250 bytes per tick", ticks)
	}
}

// TestFetchOfAMissingSnapshotGivesUp: the source no longer has the
// snapshot (pruned): the fetch is given up and its part discarded, and a
// snapshot already in the store is reported at once.
func TestFetchOfAMissingSnapshotGivesUp(t *testing.T) {
	p := newPair(t, 0, 100, 1000)
	if err := p.dst.Fetch(1, storage.SnapshotMeta{Op: 5}); err != nil {
		t.Fatal(err)
	}
	p.run(10, func() bool { return false })
	if _, busy := p.dst.Fetching(); busy || len(p.fetched) != 0 {
		t.Fatalf("fetching %v, fetched %v", busy, p.fetched)
	}
	p.save(6, []byte("x"))
	if err := p.dst.Fetch(1, storage.SnapshotMeta{Op: 6}); err != nil {
		t.Fatal(err)
	}
	p.run(10, func() bool { return len(p.fetched) > 0 })
	if err := p.dst.Fetch(1, storage.SnapshotMeta{Op: 6}); err != nil {
		t.Fatal(err)
	}
	if len(p.fetched) != 2 {
		t.Fatalf("a snapshot already here was not reported at once: %v", p.fetched)
	}
}

// TestNewerSnapshotKeepsAProgressingFetch: while chunks keep coming, a
// newer snapshot asked for every tick (the source snapshots faster than a
// large snapshot travels, and repeats its message naming the newest) does
// not restart the fetch; the fetch ends with the snapshot it began with.
// A fetch that stalled, or one whose source is no longer the one naming
// snapshots, gives way, and its end is reported.
func TestNewerSnapshotKeepsAProgressingFetch(t *testing.T) {
	p := newPair(t, 0, 100, 100) // one chunk per tick: 30 ticks
	p.save(9, bytes.Repeat([]byte{9}, 3000))
	if err := p.dst.Fetch(1, storage.SnapshotMeta{Op: 9}); err != nil {
		t.Fatal(err)
	}
	for op := uint64(10); len(p.fetched) == 0 && op < 200; op++ {
		p.save(op, []byte{byte(op)})
		if err := p.dst.Fetch(1, storage.SnapshotMeta{Op: op}); err != nil {
			t.Fatal(err)
		}
		p.run(1, func() bool { return false })
	}
	if len(p.fetched) != 1 || p.fetched[0].Op != 9 || len(p.given) != 0 {
		t.Fatalf("fetched %v, gave up %v: want the first snapshot, fetched whole", p.fetched, p.given)
	}

	// Stalled: nothing arrives for longer than a retry.
	p.save(300, bytes.Repeat([]byte{3}, 3000))
	if err := p.dst.Fetch(1, storage.SnapshotMeta{Op: 300}); err != nil {
		t.Fatal(err)
	}
	p.loss = 1
	p.run(4, func() bool { return false })
	p.loss = 0
	p.save(301, []byte("x"))
	if err := p.dst.Fetch(1, storage.SnapshotMeta{Op: 301}); err != nil {
		t.Fatal(err)
	}
	if cur, _ := p.dst.Fetching(); cur.Op != 301 || len(p.given) != 1 || p.given[0].Op != 300 {
		t.Fatalf("fetching %d, gave up %v: a stalled fetch must give way to the newer snapshot", cur.Op, p.given)
	}

	// Another source (a new primary) names a newer snapshot: at once.
	if err := p.dst.Fetch(3, storage.SnapshotMeta{Op: 302}); err != nil {
		t.Fatal(err)
	}
	if cur, _ := p.dst.Fetching(); cur.Op != 302 || len(p.given) != 2 {
		t.Fatalf("fetching %d, gave up %v: the new source's snapshot must replace the old source's", cur.Op, p.given)
	}
}

// TestHandleRefusesGarbage: malformed frames are errors, never panics.
func TestHandleRefusesGarbage(t *testing.T) {
	p := newPair(t, 0, 100, 1000)
	for _, b := range [][]byte{nil, {1, 2, 3}, append(make([]byte, 8), frameRequest, 1), append(make([]byte, 8), frameChunk, 1, 2)} {
		if err := p.dst.Handle(1, b); err == nil {
			t.Fatalf("frame %v accepted", b)
		}
	}
}
