package tree

import (
	"testing"
	"time"

	"github.com/vrkeeper/vrkeeper/internal/zkraw"
	"github.com/vrkeeper/vrkeeper/zkproto"
)

// zkExec runs steps against a real ZooKeeper through raw connections.
type zkExec struct {
	t     *testing.T
	addr  string
	conns map[string]*zkraw.Conn
	names map[int64]string
}

func newZKExec(t *testing.T, addr string) *zkExec {
	return &zkExec{t: t, addr: addr, conns: map[string]*zkraw.Conn{}, names: map[int64]string{}}
}

// sessionTimeout is asked for by every session; ZooKeeper with tickTime
// 2000 grants between 4 and 40 s.
const sessionTimeout = 4 * time.Second

func (z *zkExec) conn(name string) *zkraw.Conn {
	c := z.conns[name]
	if c == nil {
		z.t.Fatalf("no session %s", name)
	}
	return c
}

func (z *zkExec) open(name string) int64 {
	c, err := zkraw.Dial(z.addr, sessionTimeout)
	if err != nil {
		z.t.Fatal(err)
	}
	z.conns[name] = c
	z.names[c.SessionID] = name
	if err := c.Ping(); err != nil {
		z.t.Fatal(err)
	}
	return c.LastZxid() // the createSession txn is the last one processed
}

func (z *zkExec) closeSession(name string) reply {
	r, err := z.conn(name).CloseSession()
	if err != nil {
		z.t.Fatal(err)
	}
	delete(z.conns, name)
	return reply{zxid: r.Header.Zxid, code: r.Header.Err, body: r.Body}
}

func (z *zkExec) auth(name, scheme string, data []byte) zkproto.Code {
	code, err := z.conn(name).Auth(scheme, data)
	if err != nil {
		z.t.Fatal(err)
	}
	return code
}

func (z *zkExec) call(name string, op zkproto.OpCode, req zkproto.Record) reply {
	r, err := z.conn(name).Call(op, req)
	if err != nil {
		z.t.Fatalf("%s %s: %v", name, op, err)
	}
	return reply{zxid: r.Header.Zxid, code: r.Header.Err, body: r.Body}
}

func (z *zkExec) setWatches(name string, rel int64, sw *zkproto.SetWatches2) {
	req := *sw
	req.RelativeZxid = rel
	var r zkraw.Reply
	var err error
	if len(req.PersistentWatches) == 0 && len(req.PersistentRecursiveWatches) == 0 {
		r, err = z.conn(name).CallXid(zkproto.SetWatchesXid, zkproto.OpSetWatches, &zkproto.SetWatches{
			RelativeZxid: rel, DataWatches: req.DataWatches, ExistWatches: req.ExistWatches, ChildWatches: req.ChildWatches})
	} else {
		r, err = z.conn(name).CallXid(zkproto.SetWatchesXid, zkproto.OpSetWatches2, &req)
	}
	if err != nil || r.Header.Err != zkproto.OK {
		z.t.Fatalf("setWatches: %v %v", err, r.Header.Err)
	}
}

func (z *zkExec) addWatch(name, path string, mode zkproto.AddWatchMode) reply {
	return z.call(name, zkproto.OpAddWatch, &zkproto.AddWatchRequest{Path: path, Mode: mode})
}

func (z *zkExec) sleep(ms int64) { time.Sleep(time.Duration(ms) * time.Millisecond) }

// keepAlive pings every session (queueing any events for events) so that
// none expires while a step waits.
func (z *zkExec) keepAlive() {
	for _, c := range z.conns {
		if err := c.Ping(); err != nil {
			z.t.Fatal(err)
		}
	}
}

func (z *zkExec) awaitGone(path string) int64 {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		r := z.call(monitor, zkproto.OpExists, &zkproto.ExistsRequest{Path: path})
		if r.code == zkproto.ErrNoNode {
			return r.zxid // the removal is the last txn processed
		}
		z.keepAlive()
		time.Sleep(20 * time.Millisecond)
	}
	z.t.Fatalf("%s still exists after 15 s", path)
	return 0
}

func (z *zkExec) expire(name, path string) int64 {
	z.conn(name).Close()
	delete(z.conns, name)
	return z.awaitGone(path)
}

func (z *zkExec) events(name string) []zkproto.WatcherEvent {
	c := z.conn(name)
	if err := c.Ping(); err != nil {
		z.t.Fatal(err)
	}
	return c.TakeEvents()
}

func (z *zkExec) sessionName(id int64) string { return z.names[id] }

func (z *zkExec) shutdown() {
	for _, c := range z.conns {
		c.Close()
	}
}
