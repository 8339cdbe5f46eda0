package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/vrkeeper/vrkeeper/internal/zkrecord"
)

// fixedHost is a go-zookeeper HostProvider with one server that never asks
// for the client's one-second pause before retrying, so a cut connection
// is re-established at once.
type fixedHost string

func (h fixedHost) Init([]string) error   { return nil }
func (h fixedHost) Len() int              { return 1 }
func (h fixedHost) Next() (string, bool)  { return string(h), false }
func (h fixedHost) Connected()            {}
func (quietLogger) Printf(string, ...any) {}

// quietLogger keeps go-zookeeper's connection log out of the capture output.
type quietLogger struct{}

// goZKStep is one go-zookeeper call of the "gozk" scenario; ok lists the
// errors the call is meant to get (besides nil).
type goZKStep struct {
	what string
	call func(c *zk.Conn) (any, error)
	ok   []error
}

// runGoZK drives go-zookeeper through the proxy.
func runGoZK(ctx context.Context, env *env, p *zkrecord.Proxy, rec *zkrecord.Recorder) error {
	rec.Comment("zk.Connect(<proxy>, 4s): connect (negotiates 4000 ms, so a ping follows about 1.3 s later)")
	// Session events go to a channel of our own: go-zookeeper's channel
	// drops events when nobody reads it.
	events := make(chan zk.Event, 1024)
	c, _, err := zk.Connect([]string{p.Addr()}, 4*time.Second,
		zk.WithHostProvider(fixedHost(p.Addr())), zk.WithLogger(quietLogger{}),
		zk.WithEventCallback(func(ev zk.Event) {
			if ev.Type == zk.EventSession {
				select {
				case events <- ev:
				default:
				}
			}
		}))
	if err != nil {
		return err
	}
	defer c.Close()
	if err := waitState(ctx, events, zk.StateHasSession); err != nil {
		return err
	}
	open := zk.WorldACL(zk.PermAll)
	run := func(steps []goZKStep) error {
		for _, s := range steps {
			rec.Comment("go-zookeeper: %s", s.what)
			res, err := s.call(c)
			if err != nil && !isOneOf(err, s.ok) {
				return fmt.Errorf("%s: %w", s.what, err)
			}
			rec.Comment("> %v %v", res, err)
		}
		return nil
	}
	steps := []goZKStep{
		{"Create /gozk flags 0", func(c *zk.Conn) (any, error) { return c.Create("/gozk", []byte("go"), 0, open) }, nil},
		{"Create /gozk/e FlagEphemeral", func(c *zk.Conn) (any, error) { return c.Create("/gozk/e", []byte("e"), zk.FlagEphemeral, open) }, nil},
		{"Create /gozk/s- FlagSequence", func(c *zk.Conn) (any, error) { return c.Create("/gozk/s-", []byte("s"), zk.FlagSequence, open) }, nil},
		{"Create /gozk/es- FlagEphemeralSequential", func(c *zk.Conn) (any, error) {
			return c.Create("/gozk/es-", []byte("es"), zk.FlagEphemeralSequential, open)
		}, nil},
		{"CreateProtectedEphemeralSequential /gozk/lock-", func(c *zk.Conn) (any, error) {
			return c.CreateProtectedEphemeralSequential("/gozk/lock-", nil, open)
		}, nil},
		{"Create /gozk/nil with nil data", func(c *zk.Conn) (any, error) { return c.Create("/gozk/nil", nil, 0, open) }, nil},
		{"CreateContainer /gozk/box", func(c *zk.Conn) (any, error) {
			return c.CreateContainer("/gozk/box", []byte("box"), zk.FlagContainer, open)
		}, nil},
		{"CreateTTL /gozk/ttl 60s", func(c *zk.Conn) (any, error) {
			return c.CreateTTL("/gozk/ttl", []byte("t"), zk.FlagTTL, open, time.Minute)
		}, nil},
		{"CreateTTL /gozk/ttls- sequential 90s", func(c *zk.Conn) (any, error) {
			return c.CreateTTL("/gozk/ttls-", []byte("t"), zk.FlagPersistentSequentialWithTTL, open, 90*time.Second)
		}, nil},
		{"Create /gozk again: NODEEXISTS", func(c *zk.Conn) (any, error) { return c.Create("/gozk", nil, 0, open) }, []error{zk.ErrNodeExists}},
		{"Get /gozk", func(c *zk.Conn) (any, error) { d, st, err := c.Get("/gozk"); return fmt.Sprintf("%q %+v", d, st), err }, nil},
		{"Get /gozk/nil (null data)", func(c *zk.Conn) (any, error) { d, _, err := c.Get("/gozk/nil"); return d == nil, err }, nil},
		{"Get /gozk/none: NONODE", func(c *zk.Conn) (any, error) { _, _, err := c.Get("/gozk/none"); return nil, err }, []error{zk.ErrNoNode}},
		{"Set /gozk version 0", func(c *zk.Conn) (any, error) { return c.Set("/gozk", []byte("go2"), 0) }, nil},
		{"Set /gozk version 0 again: BADVERSION", func(c *zk.Conn) (any, error) { return c.Set("/gozk", []byte("go3"), 0) }, []error{zk.ErrBadVersion}},
		{"Exists /gozk", func(c *zk.Conn) (any, error) { ok, _, err := c.Exists("/gozk"); return ok, err }, nil},
		{"Exists /gozk/none (NONODE reply, false)", func(c *zk.Conn) (any, error) { ok, _, err := c.Exists("/gozk/none"); return ok, err }, nil},
		{"Children /gozk (getChildren2)", func(c *zk.Conn) (any, error) { ch, _, err := c.Children("/gozk"); return ch, err }, nil},
		{"GetACL /gozk", func(c *zk.Conn) (any, error) { a, _, err := c.GetACL("/gozk"); return a, err }, nil},
		{"AddAuth digest golden:secret (go-zookeeper uses a client xid, not -4)", func(c *zk.Conn) (any, error) {
			return nil, c.AddAuth("digest", []byte("golden:secret"))
		}, nil},
		{"SetACL /gozk/nil DigestACL(golden) version 0", func(c *zk.Conn) (any, error) {
			return c.SetACL("/gozk/nil", zk.DigestACL(zk.PermAll, "golden", "secret"), 0)
		}, nil},
		{"SetACL /gozk/nil AuthACL(read) version 5: BADVERSION", func(c *zk.Conn) (any, error) {
			return c.SetACL("/gozk/nil", zk.AuthACL(zk.PermRead), 5)
		}, []error{zk.ErrBadVersion}},
		{"Sync /gozk", func(c *zk.Conn) (any, error) { return c.Sync("/gozk") }, nil},
		{"Multi success: create, setData, check, delete", func(c *zk.Conn) (any, error) {
			return c.Multi(
				&zk.CreateRequest{Path: "/gozk/m", Data: []byte("m"), Acl: open},
				&zk.SetDataRequest{Path: "/gozk/m", Data: []byte("m2"), Version: 0},
				&zk.CheckVersionRequest{Path: "/gozk/m", Version: 1},
				&zk.DeleteRequest{Path: "/gozk/m", Version: 1})
		}, nil},
		{"Multi failing at op 2: create ok, delete of a missing node NONODE, setData RUNTIMEINCONSISTENCY", func(c *zk.Conn) (any, error) {
			return c.Multi(
				&zk.CreateRequest{Path: "/gozk/f", Data: []byte("f"), Acl: open},
				&zk.DeleteRequest{Path: "/gozk/missing", Version: -1},
				&zk.SetDataRequest{Path: "/gozk", Data: []byte("never"), Version: -1})
		}, []error{zk.ErrNoNode}},
		{"IncrementalReconfig joining server.5, leaving none: RECONFIGDISABLED", func(c *zk.Conn) (any, error) {
			return c.IncrementalReconfig([]string{"server.5=127.0.0.1:2888:3888;2181"}, nil, -1)
		}, []error{zk.ErrReconfigDisabled}},
		{"Reconfig members server.1 version 7: RECONFIGDISABLED", func(c *zk.Conn) (any, error) {
			return c.Reconfig([]string{"server.1=127.0.0.1:2888:3888;2181"}, 7)
		}, []error{zk.ErrReconfigDisabled}},
		{"Create /gozk/w", func(c *zk.Conn) (any, error) { return c.Create("/gozk/w", []byte("w"), 0, open) }, nil},
	}
	if err := run(steps); err != nil {
		return err
	}

	rec.Comment("go-zookeeper: GetW /gozk/w, ExistsW /gozk/later (missing), ChildrenW /gozk/w")
	_, _, dataW, err := c.GetW("/gozk/w")
	if err != nil {
		return err
	}
	_, _, existW, err := c.ExistsW("/gozk/later")
	if err != nil {
		return err
	}
	_, _, childW, err := c.ChildrenW("/gozk/w")
	if err != nil {
		return err
	}
	rec.Comment("proxy severs the connection: go-zookeeper reconnects with its session, re-sends its auth and its watches (setWatches, client xid)")
	p.Sever()
	if err := waitState(ctx, events, zk.StateHasSession); err != nil {
		return err
	}
	err = rec.WaitFor(ctx, func(es []zkrecord.Entry) bool {
		for _, e := range es {
			if e.Frame && e.Dir == zkrecord.FromServer && strings.HasPrefix(e.Label, "setWatches#") {
				return true
			}
		}
		return false
	})
	if err != nil {
		return err
	}
	steps = []goZKStep{
		{"Set /gozk/w: the data watch fires", func(c *zk.Conn) (any, error) { return c.Set("/gozk/w", []byte("w2"), -1) }, nil},
		{"Create /gozk/later: the exist watch fires", func(c *zk.Conn) (any, error) { return c.Create("/gozk/later", nil, 0, open) }, nil},
		{"Create /gozk/w/c: the child watch fires", func(c *zk.Conn) (any, error) { return c.Create("/gozk/w/c", nil, 0, open) }, nil},
	}
	if err := run(steps); err != nil {
		return err
	}
	for _, w := range []<-chan zk.Event{dataW, existW, childW} {
		select {
		case ev := <-w:
			rec.Comment("> watch event %v %s", ev.Type, ev.Path)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	steps = []goZKStep{
		{"CreateTTL /gozk/badttl with ttl 0: BADARGUMENTS (go-zookeeper does not check the ttl)", func(c *zk.Conn) (any, error) {
			return c.CreateTTL("/gozk/badttl", nil, zk.FlagTTL, open, 0)
		}, []error{zk.ErrBadArguments}},
		{"Create /gozk/c4 with FlagContainer but opcode create (what does the server make of it?)", func(c *zk.Conn) (any, error) {
			return c.Create("/gozk/c4", nil, zk.FlagContainer, open)
		}, nil},
		{"Exists /gozk/c4", func(c *zk.Conn) (any, error) { _, st, err := c.Exists("/gozk/c4"); return st, err }, nil},
	}
	if err := run(steps); err != nil {
		return err
	}
	rec.Comment("go-zookeeper: idle until it pings (xid -2)")
	err = rec.WaitFor(ctx, func(es []zkrecord.Entry) bool {
		for _, e := range es {
			if e.Frame && e.Dir == zkrecord.FromServer && e.Label == "ping#-2" {
				return true
			}
		}
		return false
	})
	if err != nil {
		return err
	}
	rec.Comment("go-zookeeper: Close (closeSession)")
	c.Close()
	return nil
}

// waitState waits for a session event with the given state.
func waitState(ctx context.Context, events <-chan zk.Event, want zk.State) error {
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				return fmt.Errorf("go-zookeeper closed its events before %v", want)
			}
			if ev.Type == zk.EventSession && ev.State == want {
				return nil
			}
		case <-ctx.Done():
			return fmt.Errorf("wait for %v: %w", want, ctx.Err())
		}
	}
}

func isOneOf(err error, errs []error) bool {
	for _, e := range errs {
		if err == e {
			return true
		}
	}
	return false
}
