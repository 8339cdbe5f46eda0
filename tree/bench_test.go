package tree

import (
	"bytes"
	"fmt"
	"runtime"
	"testing"

	"github.com/vrkeeper/vrkeeper/zkproto"
)

// value100 is the 100-byte value of the benchmarks.
var value100 = bytes.Repeat([]byte("v"), 100)

// cmdTemplate is a client write whose path ends in digits that a benchmark
// overwrites in place, so building the next command costs nothing.
type cmdTemplate struct {
	cmd      []byte
	digits   int // offset of the path's last 8 digits
	cxidAt   int // offset of the cxid
	sessions int64
}

func newCmdTemplate(sid int64, op zkproto.OpCode, req zkproto.Record, path string) cmdTemplate {
	cmd := AppendClientWrite(nil, &ClientWrite{SessionID: sid, Cxid: 1, Time: treeClockStart, Op: op, Body: req.Append(nil)})
	i := bytes.Index(cmd, []byte(path))
	return cmdTemplate{cmd: cmd, digits: i + len(path) - 8, cxidAt: 2 + 8}
}

// set writes n as the path's last 8 digits and cxid as the cxid.
func (c *cmdTemplate) set(n int, cxid int32) {
	for i := 7; i >= 0; i-- {
		c.cmd[c.digits+i] = byte('0' + n%10)
		n /= 10
	}
	zkproto.AppendInt32(c.cmd[c.cxidAt:c.cxidAt], cxid)
}

func benchTree(b *testing.B) (*Tree, int64, *int64) {
	tr := New(Config{})
	var out Output
	zxid := int64(1)
	if err := tr.Apply(zxid, AppendOpenSession(nil, treeClockStart, 30000, make([]byte, 16)), &out); err != nil {
		b.Fatal(err)
	}
	sid := out.Opened.ID
	zxid++
	cmd := AppendClientWrite(nil, &ClientWrite{SessionID: sid, Cxid: -1, Time: treeClockStart, Op: zkproto.OpCreate,
		Body: zkproto.Marshal(&zkproto.CreateRequest{Path: "/bench", ACL: openACL})})
	if err := tr.Apply(zxid, cmd, &out); err != nil || out.Code != zkproto.OK {
		b.Fatal(err, out.Code)
	}
	return tr, sid, &zxid
}

// fillBench creates n nodes named like path with 100-byte values.
func fillBench(b *testing.B, tr *Tree, sid int64, zxid *int64, path string, n int) {
	create := newCmdTemplate(sid, zkproto.OpCreate, &zkproto.CreateRequest{Path: path, Data: value100, ACL: openACL}, path)
	var out Output
	for i := 0; i < n; i++ {
		create.set(i, -1) // untracked by the duplicate table
		*zxid++
		if err := tr.Apply(*zxid, create.cmd, &out); err != nil || out.Code != zkproto.OK {
			b.Fatal(err, out.Code)
		}
	}
}

// BenchmarkApplyCreate measures applying a create of a node with a 100-byte
// value under one parent (the command is built in place, not counted).
func BenchmarkApplyCreate(b *testing.B) {
	tr, sid, zxid := benchTree(b)
	const path = "/bench/node-00000000"
	tpl := newCmdTemplate(sid, zkproto.OpCreate, &zkproto.CreateRequest{Path: path, Data: value100, ACL: openACL}, path)
	var out Output
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tpl.set(i, int32(i+1))
		*zxid++
		if err := tr.Apply(*zxid, tpl.cmd, &out); err != nil || out.Code != zkproto.OK {
			b.Fatalf("%v %v", err, out.Code)
		}
	}
}

// BenchmarkApplyCreateDelete measures a create and a delete of a node with a
// 100-byte value among 1000 siblings: the cost at a steady tree size.
func BenchmarkApplyCreateDelete(b *testing.B) {
	tr, sid, zxid := benchTree(b)
	fillBench(b, tr, sid, zxid, benchNodePath, 1000)
	benchCreateDelete(b, tr, sid, zxid)
}

// BenchmarkApplySetData measures applying a setData of a 100-byte value to
// one of 1000 nodes.
func BenchmarkApplySetData(b *testing.B) {
	tr, sid, zxid := benchTree(b)
	fillBench(b, tr, sid, zxid, benchNodePath, 1000)
	benchSetData(b, tr, sid, zxid)
}

// benchNodePath is the path of the benchmarks' nodes, numbered in place.
const benchNodePath = "/bench/node-00000000"

// benchCreateDelete times creates and deletes of nodes next to the 1000 of
// benchNodePath that fillBench made.
func benchCreateDelete(b *testing.B, tr *Tree, sid int64, zxid *int64) {
	create := newCmdTemplate(sid, zkproto.OpCreate, &zkproto.CreateRequest{Path: benchNodePath, Data: value100, ACL: openACL}, benchNodePath)
	del := newCmdTemplate(sid, zkproto.OpDelete, &zkproto.DeleteRequest{Path: benchNodePath, Version: -1}, benchNodePath)
	var out Output
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n := 1000 + i%1000
		for _, c := range []*cmdTemplate{&create, &del} {
			c.set(n, -1)
			*zxid++
			if err := tr.Apply(*zxid, c.cmd, &out); err != nil || out.Code != zkproto.OK {
				b.Fatalf("%v %v", err, out.Code)
			}
		}
	}
}

// benchSetData times setData of the 1000 nodes of benchNodePath that
// fillBench made.
func benchSetData(b *testing.B, tr *Tree, sid int64, zxid *int64) {
	var out Output
	tpl := newCmdTemplate(sid, zkproto.OpSetData, &zkproto.SetDataRequest{Path: benchNodePath, Data: value100, Version: -1}, benchNodePath)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tpl.set(i%1000, int32(1001+i))
		*zxid++
		if err := tr.Apply(*zxid, tpl.cmd, &out); err != nil || out.Code != zkproto.OK {
			b.Fatalf("%v %v", err, out.Code)
		}
	}
}

// BenchmarkGetData measures a getData of a 100-byte value among 1000 nodes,
// from the raw request body into a reused buffer.
func BenchmarkGetData(b *testing.B) {
	tr, sid, zxid := benchTree(b)
	const path = "/bench/node-00000000"
	fillBench(b, tr, sid, zxid, path, 1000)
	req := zkproto.Marshal(&zkproto.GetDataRequest{Path: path})
	digits := len(path) + 4 - 8
	auth := []zkproto.Id{IPID("127.0.0.1")}
	var dst []byte
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n := i % 1000
		for j := 7; j >= 0; j-- {
			req[digits+j] = byte('0' + n%10)
			n /= 10
		}
		var code zkproto.Code
		dst, code = tr.Read(zkproto.OpGetData, req, sid, auth, dst[:0])
		if code != zkproto.OK {
			b.Fatal(code)
		}
	}
}

// BenchmarkMemoryPerZnode builds a tree of 1M znodes with 100-byte values
// and 30-byte names (1000 parents of 1000 children, and 1M children of one
// parent) and reports the heap each znode costs beyond its name and value.
func BenchmarkMemoryPerZnode(b *testing.B) {
	for _, layout := range []struct {
		name    string
		parents int
	}{{"1000x1000", 1000}, {"flat", 1}} {
		b.Run(layout.name, func(b *testing.B) {
			const total = 1_000_000
			var perNode float64
			for i := 0; i < b.N; i++ {
				perNode = measureTree(b, total, layout.parents)
			}
			b.ReportMetric(perNode, "overhead-B/znode")
		})
	}
}

func measureTree(b *testing.B, total, parents int) float64 {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	tr := New(Config{})
	var out Output
	zxid := int64(1)
	if err := tr.Apply(zxid, AppendOpenSession(nil, treeClockStart, 30000, make([]byte, 16)), &out); err != nil {
		b.Fatal(err)
	}
	sid := out.Opened.ID
	var cmd []byte
	apply := func(path string, data []byte) {
		zxid++
		cmd = AppendClientWrite(cmd[:0], &ClientWrite{SessionID: sid, Cxid: -1, Time: treeClockStart, Op: zkproto.OpCreate,
			Body: (&zkproto.CreateRequest{Path: path, Data: data, ACL: openACL}).Append(nil)})
		if err := tr.Apply(zxid, cmd, &out); err != nil || out.Code != zkproto.OK {
			b.Fatalf("create %s: %v %v", path, err, out.Code)
		}
	}
	var payload int64 // name and value bytes of the measured nodes
	per := total / parents
	for p := 0; p < parents; p++ {
		parent := fmt.Sprintf("/p%029d", p)
		apply(parent, value100)
		payload += int64(len(parent) - 1 + len(value100))
		for c := 0; c < per; c++ {
			name := fmt.Sprintf("item-%025d", c)
			apply(parent+"/"+name, value100)
			payload += int64(len(name) + len(value100))
		}
	}
	out = Output{}
	cmd = nil
	runtime.GC()
	runtime.ReadMemStats(&after)
	nodes := int64(parents + total)
	if tr.NodeCount() != nodes+4 {
		b.Fatalf("%d nodes", tr.NodeCount())
	}
	heap := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	runtime.KeepAlive(tr)
	return float64(heap-payload) / float64(nodes)
}

// BenchmarkSnapshot and BenchmarkRestore measure the snapshot of a tree of
// 100k znodes with 100-byte values (100 parents of 1000 children).
func BenchmarkSnapshot(b *testing.B) {
	tr := snapshotBenchTree(b)
	var buf bytes.Buffer
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		buf.Reset()
		if err := tr.Snapshot(&buf); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(buf.Len()))
}

func BenchmarkRestore(b *testing.B) {
	tr := snapshotBenchTree(b)
	var buf bytes.Buffer
	if err := tr.Snapshot(&buf); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Restore(bytes.NewReader(buf.Bytes()), Config{}); err != nil {
			b.Fatal(err)
		}
	}
}

func snapshotBenchTree(b *testing.B) *Tree {
	tr, sid, zxid := benchTree(b)
	for p := 0; p < 100; p++ {
		parent := fmt.Sprintf("/bench/p%08d", p)
		var out Output
		*zxid++
		cmd := AppendClientWrite(nil, &ClientWrite{SessionID: sid, Cxid: -1, Op: zkproto.OpCreate,
			Body: zkproto.Marshal(&zkproto.CreateRequest{Path: parent, ACL: openACL})})
		if err := tr.Apply(*zxid, cmd, &out); err != nil || out.Code != zkproto.OK {
			b.Fatal(err, out.Code)
		}
		fillBench(b, tr, sid, zxid, parent+"/node-00000000", 1000)
	}
	return tr
}
