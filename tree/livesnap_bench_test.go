package tree

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/vrkeeper/vrkeeper/zkproto"
)

// BenchmarkLiveSnapshot takes a live snapshot of 1M znodes with 100-byte
// values (1000 parents of 1000 children, or 1M children of one parent)
// while applies go on: between every two slices of 64 KiB it applies 64
// commands (half setData of a random existing node, a quarter creates of
// new nodes, a quarter deletes of random nodes). It reports the longest
// and the 99th-percentile slice (the longest applies wait), the whole
// snapshot's time, the time spent in Next (what the snapshot costs the
// goroutine that applies), the most node pre-images kept at once, and the time a
// plain Snapshot of the same tree pauses applies for. The bytes are
// checked against a plain snapshot at the start.
//
//	go test ./tree -run XXX -bench LiveSnapshot -benchtime 1x
func BenchmarkLiveSnapshot(b *testing.B) {
	for _, layout := range []struct {
		name    string
		parents int
	}{{"1000x1000", 1000}, {"flat", 1}} {
		b.Run(layout.name, func(b *testing.B) {
			benchLiveSnapshot(b, 1_000_000, layout.parents)
		})
	}
}

// liveBenchLoad applies the benchmark's commands to a tree of parents with
// children named like fillBench's.
type liveBenchLoad struct {
	tr      *Tree
	r       *rand.Rand
	zxid    *int64
	parents int
	per     int
	set     cmdTemplate
	create  cmdTemplate
	del     cmdTemplate
	next    int // the next new node's number
	out     Output
}

func (l *liveBenchLoad) apply(b *testing.B) {
	p := l.r.IntN(l.parents)
	var c *cmdTemplate
	n := l.r.IntN(l.per)
	switch k := l.r.IntN(4); {
	case k < 2:
		c = &l.set
	case k < 3:
		c, n = &l.create, l.per+l.next
		l.next++
	default:
		c = &l.del
	}
	c.setParent(p)
	c.set(n, -1)
	*l.zxid++
	if err := l.tr.Apply(*l.zxid, c.cmd, &l.out); err != nil {
		b.Fatal(err)
	}
}

func benchLiveSnapshot(b *testing.B, total, parents int) {
	tr, sid, zxid := benchTree(b)
	per := total / parents
	for p := 0; p < parents; p++ {
		parent := fmt.Sprintf("/bench/p%08d", p)
		*zxid++
		cmd := AppendClientWrite(nil, &ClientWrite{SessionID: sid, Cxid: -1, Op: zkproto.OpCreate,
			Body: zkproto.Marshal(&zkproto.CreateRequest{Path: parent, ACL: openACL})})
		if err := tr.Apply(*zxid, cmd, new(Output)); err != nil {
			b.Fatal(err)
		}
		fillBench(b, tr, sid, zxid, parent+"/node-00000000", per)
	}
	const path = "/bench/p00000000/node-00000000"
	load := &liveBenchLoad{tr: tr, r: rand.New(rand.NewPCG(1, 2)), zxid: zxid, parents: parents, per: per,
		set:    newCmdTemplate(sid, zkproto.OpSetData, &zkproto.SetDataRequest{Path: path, Data: value100, Version: -1}, path),
		create: newCmdTemplate(sid, zkproto.OpCreate, &zkproto.CreateRequest{Path: path, Data: value100, ACL: openACL}, path),
		del:    newCmdTemplate(sid, zkproto.OpDelete, &zkproto.DeleteRequest{Path: path, Version: -1}, path),
	}
	var plain bytes.Buffer
	plain.Grow(int(tr.NodeCount()) * 200)
	runtime.GC() // the build's garbage is not the snapshot's
	start := time.Now()
	if err := tr.Snapshot(&plain); err != nil {
		b.Fatal(err)
	}
	plainTime := time.Since(start)
	b.ResetTimer()
	var pauses []time.Duration
	var whole, inNext time.Duration
	var applied, peakImages int
	for i := 0; i < b.N; i++ {
		want := plain.Bytes()
		if i > 0 {
			b.StopTimer()
			plain.Reset()
			if err := tr.Snapshot(&plain); err != nil {
				b.Fatal(err)
			}
			want = plain.Bytes()
			b.StartTimer()
		}
		got := make([]byte, 0, len(want)+1<<20)
		pauses = pauses[:0]
		start := time.Now()
		sn := tr.BeginSnapshot()
		chunk := make([]byte, 0, 128<<10)
		for done := false; !done; {
			for range 64 {
				load.apply(b)
				applied++
			}
			t0 := time.Now()
			chunk, done = sn.Next(chunk[:0], 64<<10)
			pause := time.Since(t0)
			pauses = append(pauses, pause)
			inNext += pause
			peakImages = max(peakImages, len(sn.images))
			got = append(got, chunk...)
		}
		whole = time.Since(start)
		if !bytes.Equal(got, want) {
			b.Fatalf("the live snapshot differs from the state at its start at byte %d", firstDifference(got, want))
		}
	}
	slices.Sort(pauses)
	b.ReportMetric(float64(pauses[len(pauses)-1].Microseconds()), "max-slice-µs")
	b.ReportMetric(float64(pauses[len(pauses)*99/100].Microseconds()), "p99-slice-µs")
	b.ReportMetric(float64(len(pauses)), "slices")
	b.ReportMetric(float64(whole.Milliseconds()), "whole-ms")
	b.ReportMetric(float64(inNext.Milliseconds())/float64(b.N), "next-ms")
	b.ReportMetric(float64(plainTime.Milliseconds()), "plain-pause-ms")
	b.ReportMetric(float64(applied)/float64(b.N), "applies/snapshot")
	b.ReportMetric(float64(peakImages), "peak-preserved-nodes")
}

// setParent writes p as the parent's 8 digits in the template's path
// (/bench/pNNNNNNNN/node-NNNNNNNN).
func (c *cmdTemplate) setParent(p int) {
	at := c.digits - len("/node-") - 8
	for i := 7; i >= 0; i-- {
		c.cmd[at+i] = byte('0' + p%10)
		p /= 10
	}
}

// BenchmarkApplyDuringLiveSnapshot is BenchmarkApplySetData and
// BenchmarkApplyCreateDelete with a live snapshot half written: the cost
// of the hooks when a snapshot is in progress (the first change of a node
// the snapshot has yet to write copies it; later ones find the copy).
func BenchmarkApplyDuringLiveSnapshot(b *testing.B) {
	for _, bench := range []struct {
		name string
		run  func(*testing.B, *Tree, int64, *int64)
	}{{"setData", benchSetData}, {"createDelete", benchCreateDelete}} {
		b.Run(bench.name, func(b *testing.B) {
			tr, sid, zxid := benchTree(b)
			fillBench(b, tr, sid, zxid, benchNodePath, 1000)
			var whole bytes.Buffer
			if err := tr.Snapshot(&whole); err != nil {
				b.Fatal(err)
			}
			sn := tr.BeginSnapshot()
			defer sn.Abort()
			sn.Next(nil, whole.Len()/2)
			bench.run(b, tr, sid, zxid)
		})
	}
}
