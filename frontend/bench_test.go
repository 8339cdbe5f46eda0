package frontend

import (
	"fmt"
	"sync"
	"testing"

	"github.com/vrkeeper/vrkeeper/zkproto"
)

// benchPipelined drives the server with clients that each keep window
// requests in flight; b.N requests in all.
func benchPipelined(b *testing.B, clients, window int, build func(i int) (zkproto.OpCode, zkproto.Record)) {
	addr := startServer(b, nil)
	setup := newSession(b, addr)
	setup.call(zkproto.OpCreate, &zkproto.CreateRequest{Path: "/b", Data: make([]byte, 100), ACL: open}, nil)
	conns := make([]*rawConn, clients)
	for i := range conns {
		conns[i] = newSession(b, addr)
	}
	b.ResetTimer()
	b.ReportAllocs()
	var wg sync.WaitGroup
	per := b.N / clients
	for _, c := range conns {
		wg.Add(1)
		go func(c *rawConn) {
			defer wg.Done()
			sent, got := 0, 0
			for got < per {
				for sent < per && sent-got < window {
					op, body := build(sent)
					c.send(op, body)
					sent++
				}
				if h, _ := c.frame(); h.Err != zkproto.OK {
					panic(fmt.Sprint(h))
				}
				got++
			}
		}(c)
	}
	wg.Wait()
}

func BenchmarkServerGetData(b *testing.B) {
	req := &zkproto.GetDataRequest{Path: "/b"}
	benchPipelined(b, 8, 16, func(int) (zkproto.OpCode, zkproto.Record) { return zkproto.OpGetData, req })
}

func BenchmarkServerSetData(b *testing.B) {
	req := &zkproto.SetDataRequest{Path: "/b", Data: make([]byte, 100), Version: -1}
	benchPipelined(b, 8, 16, func(int) (zkproto.OpCode, zkproto.Record) { return zkproto.OpSetData, req })
}
