package frontend

import (
	"fmt"
	"sync"
	"testing"

	"github.com/vrkeeper/vrkeeper/zkproto"
)

// TestFastReadsKeepWatchOrder: readers served on their connection's
// goroutine (fastpath.go) while another connection writes: a watch a read
// set fires once for the next change, and its event arrives before any
// reply that reflects that change.
func TestFastReadsKeepWatchOrder(t *testing.T) {
	addr := startServer(t, nil)
	writer := newSession(t, addr)
	if code, _ := writer.call(zkproto.OpCreate, &zkproto.CreateRequest{Path: "/s", Data: []byte("0"), ACL: open}, nil); code != zkproto.OK {
		t.Fatal(code)
	}
	const writes, watchers = 200, 4
	var wg sync.WaitGroup
	errs := make(chan string, watchers)
	for range watchers {
		r := newSession(t, addr)
		wg.Add(1)
		go func() {
			defer wg.Done()
			get := func(watch bool) (int32, []zkproto.WatcherEvent) {
				var resp zkproto.GetDataResponse
				code, events := r.call(zkproto.OpGetData, &zkproto.GetDataRequest{Path: "/s", Watch: watch}, &resp)
				if code != zkproto.OK {
					errs <- fmt.Sprint("getData: ", code)
				}
				return resp.Stat.Version, events
			}
			for {
				watched, _ := get(true)
				if watched >= writes {
					return
				}
				// Read until a reply shows a later version: its event must
				// have come first, and only one.
				fired := 0
				for {
					v, events := get(false)
					for _, ev := range events {
						if ev.Type != zkproto.EventNodeDataChanged || ev.Path != "/s" {
							errs <- "unexpected event " + ev.Path
							return
						}
						fired++
					}
					if v > watched {
						if fired != 1 {
							errs <- "a reply reflects a change whose event did not come first (or came twice)"
						}
						break
					}
					if fired > 0 {
						errs <- "an event before the change it reports"
						return
					}
				}
			}
		}()
	}
	for i := 1; i <= writes; i++ {
		if code, _ := writer.call(zkproto.OpSetData, &zkproto.SetDataRequest{Path: "/s", Data: []byte{byte(i)}, Version: -1}, nil); code != zkproto.OK {
			t.Fatal(code)
		}
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestFastBatchThenCore: reads sent together with a write are answered in
// request order: those before the write on the reader, the write and what
// follows it by the core, and the reads after the write see it.
func TestFastBatchThenCore(t *testing.T) {
	addr := startServer(t, nil)
	r := newSession(t, addr)
	if code, _ := r.call(zkproto.OpCreate, &zkproto.CreateRequest{Path: "/b", Data: []byte("a"), ACL: open}, nil); code != zkproto.OK {
		t.Fatal(code)
	}
	var batch []byte
	xid := int32(100)
	add := func(op zkproto.OpCode, body zkproto.Record) {
		xid++
		batch = zkproto.AppendRequestFrame(batch, &zkproto.RequestHeader{Xid: xid, Type: op}, body)
	}
	for range 5 {
		add(zkproto.OpGetData, &zkproto.GetDataRequest{Path: "/b"})
	}
	add(zkproto.OpPing, nil)
	add(zkproto.OpSetData, &zkproto.SetDataRequest{Path: "/b", Data: []byte("b"), Version: -1})
	for range 5 {
		add(zkproto.OpGetData, &zkproto.GetDataRequest{Path: "/b"})
	}
	r.write(batch) // one write: the server reads them together
	for want := int32(101); want <= xid; want++ {
		h, body := r.frame()
		if want == 106 {
			if h.Xid != zkproto.PingXid {
				t.Fatalf("reply %d: xid %d, want the ping's", want, h.Xid)
			}
			continue
		}
		if h.Xid != want || h.Err != zkproto.OK {
			t.Fatalf("reply xid %d err %v, want xid %d", h.Xid, h.Err, want)
		}
		if want > 107 {
			var resp zkproto.GetDataResponse
			zkproto.Unmarshal(body, &resp)
			if string(resp.Data) != "b" {
				t.Fatalf("a read after the write saw %q", resp.Data)
			}
		}
	}
}
