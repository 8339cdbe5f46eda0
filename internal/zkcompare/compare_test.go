package zkcompare

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vrkeeper/vrkeeper/internal/zkrecord"
	"github.com/vrkeeper/vrkeeper/zkproto"
)

// script builds a recording frame by frame, as the proxy would record it.
type script struct {
	entries []zkrecord.Entry
}

func (s *script) comment(text string) *script {
	s.entries = append(s.entries, zkrecord.Entry{Comment: text})
	return s
}

func (s *script) frame(conn int, dir zkrecord.Direction, payload []byte) *script {
	s.entries = append(s.entries, zkrecord.Entry{Frame: true, Conn: conn, Dir: dir, Line: len(s.entries) + 1, Payload: payload})
	return s
}

func (s *script) connect(conn int, session int64, passwd byte) *script {
	pw := make([]byte, 16)
	pw[0] = passwd
	s.frame(conn, zkrecord.FromClient, zkproto.Marshal(&zkproto.ConnectRequest{TimeOut: 30000, Passwd: make([]byte, 16)}))
	return s.frame(conn, zkrecord.FromServer, zkproto.Marshal(&zkproto.ConnectResponse{TimeOut: 30000, SessionID: session, Passwd: pw}))
}

func (s *script) request(conn int, xid int32, op zkproto.OpCode, body zkproto.Record) *script {
	return s.frame(conn, zkrecord.FromClient, zkproto.AppendRequestFrame(nil, &zkproto.RequestHeader{Xid: xid, Type: op}, body)[4:])
}

func (s *script) reply(conn int, xid int32, zxid int64, code zkproto.Code, body zkproto.Record) *script {
	return s.frame(conn, zkrecord.FromServer, zkproto.AppendReplyFrame(nil, &zkproto.ReplyHeader{Xid: xid, Zxid: zxid, Err: code}, body)[4:])
}

func (s *script) event(conn int, typ zkproto.EventType, path string) *script {
	return s.reply(conn, zkproto.NotificationXid, -1, zkproto.OK,
		&zkproto.WatcherEvent{Type: typ, State: zkproto.StateSyncConnected, Path: path})
}

func (s *script) build() *Conversation { return Build("test", s.entries) }

// server is what differs between two servers and runs, for the scripts below.
type server struct {
	session int64
	passwd  byte
	zxid    int64 // added to every zxid
	time    int64 // added to every time
	xid     int32 // added to every positive xid (the C client's clock start)
}

func (v server) stat(czxid, mzxid int64, owner bool) zkproto.Stat {
	st := zkproto.Stat{Czxid: czxid + v.zxid, Mzxid: mzxid + v.zxid, Pzxid: czxid + v.zxid, Ctime: v.time + 1, Mtime: v.time + 2, DataLength: 1}
	if owner {
		st.EphemeralOwner = v.session
	}
	return st
}

// conversation is a small session: create an ephemeral, set a watch,
// change the node (event, then reply), list children, ping.
func conversation(v server, mutate func(s *script, v server)) *Conversation {
	s := &script{}
	s.comment("vrkeeper golden conversation \"test\"").comment("server: " + map[bool]string{true: "A", false: "B"}[v.session%2 == 0])
	s.comment("connect").connect(1, v.session, v.passwd)
	s.comment("create")
	s.request(1, 1+v.xid, zkproto.OpCreate2, &zkproto.CreateRequest{Path: "/e", Data: []byte("x"), Flags: zkproto.ModeEphemeral})
	st := v.stat(3, 3, true)
	s.reply(1, 1+v.xid, 3+v.zxid, zkproto.OK, &zkproto.Create2Response{Path: "/e", Stat: st})
	s.comment(fmt.Sprintf("> created /e czxid=%#x ctime=%d", 3+v.zxid, v.time))
	s.comment("getData with watch")
	s.request(1, 2+v.xid, zkproto.OpGetData, &zkproto.GetDataRequest{Path: "/e", Watch: true})
	s.reply(1, 2+v.xid, 3+v.zxid, zkproto.OK, &zkproto.GetDataResponse{Data: []byte("x"), Stat: st})
	s.comment("setData")
	s.request(1, 3+v.xid, zkproto.OpSetData, &zkproto.SetDataRequest{Path: "/e", Data: []byte("y"), Version: -1})
	s.event(1, zkproto.EventNodeDataChanged, "/e")
	s.reply(1, 3+v.xid, 4+v.zxid, zkproto.OK, &zkproto.SetDataResponse{Stat: v.stat(3, 4, true)})
	s.request(1, -2, zkproto.OpPing, nil)
	s.reply(1, -2, 4+v.zxid, zkproto.OK, nil)
	s.comment("getChildren")
	s.request(1, 4+v.xid, zkproto.OpGetChildren, &zkproto.GetChildrenRequest{Path: "/"})
	children := []string{"zookeeper", "e"}
	if v.session%2 == 0 {
		slices.Reverse(children)
	}
	s.reply(1, 4+v.xid, 4+v.zxid, zkproto.OK, &zkproto.GetChildrenResponse{Children: children})
	s.comment("> [" + strings.Join(children, ", ") + "]")
	if mutate != nil {
		mutate(s, v)
	}
	return s.build()
}

var (
	zookeeper = server{session: 0x100005775720009, passwd: 7, zxid: 0x100, time: 1_700_000_000_000}
	vrkeeper  = server{session: 0x01a214d8e4470002, passwd: 9, zxid: 0x7, time: 1_800_000_000_000, xid: 1_795_646_006}
)

func kinds(ds []Difference) []Kind {
	var out []Kind
	for _, d := range ds {
		out = append(out, d.Kind)
	}
	return out
}

// TestCompareNormalisesWhatServersMayDiffer: two servers with different
// session ids, passwords, zxids, times, xid starts, children orders, pings
// and printed numbers compare the same; each real difference is caught and
// classified.
func TestCompareNormalisesWhatServersMayDiffer(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(s *script, v server) // applied to the compared (vrkeeper) run only
		want   []Kind
	}{
		{"same", nil, nil},
		{"an error code", func(s *script, v server) {
			s.request(1, 5+v.xid, zkproto.OpDelete, &zkproto.DeleteRequest{Path: "/e", Version: 9})
			s.reply(1, 5+v.xid, 5+v.zxid, zkproto.ErrNoNode, nil)
		}, []Kind{KindFrames}},
		{"a stat field", func(s *script, v server) {
			s.request(1, 5+v.xid, zkproto.OpExists, &zkproto.ExistsRequest{Path: "/e"})
			st := v.stat(3, 4, true)
			st.Version = 2
			s.reply(1, 5+v.xid, 4+v.zxid, zkproto.OK, &zkproto.ExistsResponse{Stat: st})
		}, []Kind{KindFrames}},
		{"an mzxid that is not the last write's", func(s *script, v server) {
			s.request(1, 5+v.xid, zkproto.OpExists, &zkproto.ExistsRequest{Path: "/e"})
			s.reply(1, 5+v.xid, 4+v.zxid, zkproto.OK, &zkproto.ExistsResponse{Stat: v.stat(3, 3, true)})
		}, []Kind{KindFrames}},
		{"an ephemeral owner that is another session", func(s *script, v server) {
			s.request(1, 5+v.xid, zkproto.OpExists, &zkproto.ExistsRequest{Path: "/e"})
			st := v.stat(3, 4, true)
			st.EphemeralOwner++
			s.reply(1, 5+v.xid, 4+v.zxid, zkproto.OK, &zkproto.ExistsResponse{Stat: st})
		}, []Kind{KindFrames}},
		{"replies out of request order", func(s *script, v server) {
			s.request(1, 5+v.xid, zkproto.OpSync, &zkproto.SyncRequest{Path: "/"})
			s.request(1, 6+v.xid, zkproto.OpSync, &zkproto.SyncRequest{Path: "/"})
			s.reply(1, 6+v.xid, 4+v.zxid, zkproto.OK, &zkproto.SyncResponse{Path: "/"})
			s.reply(1, 5+v.xid, 4+v.zxid, zkproto.OK, &zkproto.SyncResponse{Path: "/"})
		}, []Kind{KindFrames}},
		{"a frame on one side only", func(s *script, v server) {
			s.event(1, zkproto.EventNodeDeleted, "/e")
		}, []Kind{KindFrames}},
		{"a printed line on one side only", func(s *script, v server) {
			s.comment("> KeeperErrorCode = ConnectionLoss")
		}, []Kind{KindOutput}},
		{"two printed lines run into one", func(s *script, v server) {
			s.comment("> [eZxid = 0x7]") // the last line of conversation(), and this
		}, []Kind{KindOutput}},
		{"a client that failed", func(s *script, v server) {
			s.comment("one more call")
		}, []Kind{KindSteps}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ref := conversation(zookeeper, nil)
			if tc.name != "same" {
				ref = conversation(zookeeper, reference(tc.name))
			}
			got := conversation(vrkeeper, tc.mutate)
			ds := Compare(ref, got)
			k := kinds(Failing(ds))
			slices.Sort(k)
			if k = slices.Compact(k); !slices.Equal(k, tc.want) {
				t.Errorf("differences %v, want %v\n%+v", k, tc.want, ds)
			}
		})
	}
}

// reference is what the reference run does in each case of the test
// above, so that only the named thing differs.
func reference(name string) func(s *script, v server) {
	switch name {
	case "an error code":
		return func(s *script, v server) {
			s.request(1, 5+v.xid, zkproto.OpDelete, &zkproto.DeleteRequest{Path: "/e", Version: 9})
			s.reply(1, 5+v.xid, 5+v.zxid, zkproto.ErrBadVersion, nil)
		}
	case "a stat field", "an mzxid that is not the last write's", "an ephemeral owner that is another session":
		return func(s *script, v server) {
			s.request(1, 5+v.xid, zkproto.OpExists, &zkproto.ExistsRequest{Path: "/e"})
			s.reply(1, 5+v.xid, 4+v.zxid, zkproto.OK, &zkproto.ExistsResponse{Stat: v.stat(3, 4, true)})
		}
	case "replies out of request order":
		return func(s *script, v server) {
			s.request(1, 5+v.xid, zkproto.OpSync, &zkproto.SyncRequest{Path: "/"})
			s.request(1, 6+v.xid, zkproto.OpSync, &zkproto.SyncRequest{Path: "/"})
			s.reply(1, 5+v.xid, 4+v.zxid, zkproto.OK, &zkproto.SyncResponse{Path: "/"})
			s.reply(1, 6+v.xid, 4+v.zxid, zkproto.OK, &zkproto.SyncResponse{Path: "/"})
		}
	}
	return nil
}

// TestClientReorderingIsAChildrenOrderNote: a client that walks children
// in the order the server listed them sends the same requests in another
// order; that is reported, but does not fail.
func TestClientReorderingIsAChildrenOrderNote(t *testing.T) {
	walk := func(v server, order ...string) *Conversation {
		return conversation(v, func(s *script, v server) {
			for i, p := range order {
				s.request(1, int32(5+i)+v.xid, zkproto.OpDelete, &zkproto.DeleteRequest{Path: p, Version: -1})
			}
			for i := range order {
				s.reply(1, int32(5+i)+v.xid, int64(5+i)+v.zxid, zkproto.OK, nil)
			}
		})
	}
	ds := Compare(walk(zookeeper, "/a", "/b", "/c"), walk(vrkeeper, "/b", "/c", "/a"))
	if got := kinds(ds); !slices.Equal(got, []Kind{KindOrder}) || len(Failing(ds)) != 0 {
		t.Fatalf("differences %v, want one children-order note\n%+v", got, ds)
	}
	ds = Compare(walk(zookeeper, "/a", "/b"), walk(vrkeeper, "/a", "/c"))
	if len(Failing(ds)) == 0 {
		t.Fatal("different requests passed as a reordering")
	}
}

// TestUnmergePrintedLines: a line two client threads printed into each
// other on one side matches the two lines on the other.
func TestUnmergePrintedLines(t *testing.T) {
	line := func(text string) outputLine { return outputLine{text: text} }
	a := []outputLine{line("Watcher SESSION_EVENT state = CONNECTED_STATECreating [/x] node"), line("only here")}
	b := []outputLine{line("Creating [/x] node"), line("Watcher SESSION_EVENT state = CONNECTED_STATE")}
	ra, rb := unmerge(a, b)
	if len(ra) != 1 || ra[0].text != "only here" || len(rb) != 0 {
		t.Errorf("unmerge left %v and %v", ra, rb)
	}
	ra, rb = unmerge(b, a)
	if len(rb) != 1 || rb[0].text != "only here" || len(ra) != 0 {
		t.Errorf("unmerge the other way left %v and %v", ra, rb)
	}
}

// TestUnansweredRequestIsTiming: a request the client sent on one side
// only, and that nothing answered there (the server closed first), is a
// race between client and server; one that was answered is a difference.
func TestUnansweredRequestIsTiming(t *testing.T) {
	base := conversation(zookeeper, nil)
	lastWord := func(answered bool) *Conversation {
		return conversation(vrkeeper, func(s *script, v server) {
			s.request(1, 5+v.xid, zkproto.OpCloseSession, nil)
			if answered {
				s.reply(1, 5+v.xid, 5+v.zxid, zkproto.OK, nil)
			}
		})
	}
	if ds := Compare(base, lastWord(false)); len(ds) != 1 || ds[0].Kind != KindMoved {
		t.Errorf("unanswered request on one side: %+v, want one timing note", ds)
	}
	if ds := Failing(Compare(base, lastWord(true))); len(ds) == 0 {
		t.Error("an answered request on one side only passed")
	}
}

// TestKnownDifferences: the documented differences are recognised, and
// reported without failing; anything else in the same frames still fails.
func TestKnownDifferences(t *testing.T) {
	getData := func(data string, version int32) func(s *script, v server) {
		return func(s *script, v server) {
			s.comment("read")
			s.request(1, 5+v.xid, zkproto.OpGetData, &zkproto.GetDataRequest{Path: "/zookeeper/x"})
			st := v.stat(3, 3, false)
			st.Version = version
			s.reply(1, 5+v.xid, 4+v.zxid, zkproto.OK, &zkproto.GetDataResponse{Data: []byte(data), Stat: st})
			s.comment("> " + data)
		}
	}
	for _, tc := range []struct {
		name     string
		ref, got func(s *script, v server)
		known    string
		fails    bool
	}{
		{"quota stats", getData("count=1,bytes=2", 0), getData("count=0,bytes=0", 0), "quota stats", false},
		{"quota stats and a version", getData("count=1,bytes=2", 0), getData("count=0,bytes=0", 1), "", true},
		{"ensemble config", getData("server.1=127.0.0.1:2888:3888:participant\nversion=0", -1), getData("", 0), "ensemble config", false},
		{"other data", getData("count=1,bytes=2", 0), getData("hello", 0), "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ds := Compare(conversation(zookeeper, tc.ref), conversation(vrkeeper, tc.got))
			if fails := len(Failing(ds)) > 0; fails != tc.fails {
				t.Fatalf("fails %v, want %v: %+v", fails, tc.fails, ds)
			}
			if tc.known == "" {
				return
			}
			for _, d := range ds {
				if d.Kind != KindKnown || d.Known != tc.known {
					t.Errorf("difference %+v, want only %q", d, tc.known)
				}
			}
			if len(ds) == 0 {
				t.Error("no difference reported")
			}
		})
	}
}

// TestMaskOutput: what a client prints is compared with numbers, dates,
// protected-name GUIDs and list orders masked.
func TestMaskOutput(t *testing.T) {
	for in, want := range map[string]string{
		"cZxid = 0x100000002":                                               "cZxid = 0x#",
		"ctime = Wed Nov 25 22:34:10 UTC 2026":                              "ctime = DATE",
		"\tmtime=Wed Nov 25 23:00:42 2026":                                  "mtime=DATE",
		"czxid=2a mzxid=1c0":                                                "czxid=# mzxid=#",
		"[/gozk/_c_0123456789abcdef0123456789abcdef-lock-0000000004, b, a]": "[/gozk/_c_GUID-lock-# a b]",
		"ok: ['s-0000000002', 'e']":                                         "ok: ['e' 's-#']",
		"KeeperErrorCode = NoNode for /x":                                   "KeeperErrorCode = NoNode for /x",
		"   ":                                                               "",
	} {
		if got := maskOutput(in); got != want {
			t.Errorf("maskOutput(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestGoldenFilesCompareWithThemselves: every checked-in recording decodes
// without a frame the comparison cannot read, and equals itself.
func TestGoldenFilesCompareWithThemselves(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("..", "..", "zkproto", "testdata", "golden", "*.golden"))
	if err != nil || len(paths) < 6 {
		t.Fatalf("golden files: %v %v", paths, err)
	}
	for _, p := range paths {
		name := strings.TrimSuffix(filepath.Base(p), ".golden")
		c, err := Load(filepath.Dir(p), name)
		if err != nil {
			t.Fatal(err)
		}
		frames := 0
		for _, conn := range c.Conns {
			for _, f := range conn.Frames {
				frames++
				if strings.Contains(f.Body, "undecodable") || strings.Contains(f.Body, "left over") || strings.HasPrefix(f.Label, "unknown") {
					t.Errorf("%s line %d: %s", name, f.Line, f.Text())
				}
			}
		}
		if frames < 10 || len(c.Steps) < 5 {
			t.Errorf("%s: %d frames, %d calls", name, frames, len(c.Steps))
		}
		if ds := Compare(c, c); len(ds) != 0 {
			t.Errorf("%s differs from itself: %+v", name, ds)
		}
	}
}
