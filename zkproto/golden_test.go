package zkproto_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/vrkeeper/vrkeeper/internal/zkrecord"
	"github.com/vrkeeper/vrkeeper/zkproto"
)

// The golden files in testdata/golden are conversations between real
// clients and a real ZooKeeper 3.8, recorded by scripts/capture-golden
// (format: testdata/golden/README.md). These tests decode every frame of
// them with the codec, demand that nothing is left over and that encoding
// the decoded records gives the same bytes, and check the values of frames
// that show a rule of the protocol.

// goldenFrame is one frame of a golden file and what the codec made of it.
type goldenFrame struct {
	file  string
	entry zkrecord.Entry

	connectReq  *zkproto.ConnectRequest  // a client's handshake
	connectResp *zkproto.ConnectResponse // the server's handshake
	reqHeader   zkproto.RequestHeader    // a request (client frame after the handshake)
	request     zkproto.Record           // its body; nil for none
	replyHeader zkproto.ReplyHeader      // a reply or notification (server frame after the handshake)
	replyOp     zkproto.OpCode           // the op of the request the reply answers
	reply       zkproto.Record           // its body; nil for none
	event       *zkproto.WatcherEvent    // a notification's body
}

func (f *goldenFrame) String() string {
	return fmt.Sprintf("%s:%d %s%d %s", f.file, f.entry.Line, f.entry.Dir, f.entry.Conn, f.entry.Label)
}

// goldenConn is what decoding one connection must remember.
type goldenConn struct {
	handshake map[zkrecord.Direction]bool
	pending   map[int32]zkproto.OpCode // xid -> op of requests not yet answered
}

// loadGolden reads and decodes every golden file, failing the test on any
// frame the codec does not decode exactly or re-encode byte for byte.
func loadGolden(t *testing.T) map[string][]*goldenFrame {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "golden", "*.golden"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) < 6 {
		t.Fatalf("found %d golden files in testdata/golden, want at least 6", len(paths))
	}
	all := make(map[string][]*goldenFrame)
	for _, p := range paths {
		name := strings.TrimSuffix(filepath.Base(p), ".golden")
		all[name] = decodeGoldenFile(t, p, name)
	}
	return all
}

func decodeGoldenFile(t *testing.T, path, name string) []*goldenFrame {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := zkrecord.Parse(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	conns := make(map[int]*goldenConn)
	var frames []*goldenFrame
	for _, e := range entries {
		if !e.Frame {
			continue
		}
		c := conns[e.Conn]
		if c == nil {
			c = &goldenConn{handshake: map[zkrecord.Direction]bool{}, pending: map[int32]zkproto.OpCode{}}
			conns[e.Conn] = c
		}
		f := &goldenFrame{file: name, entry: e}
		if err := c.decode(f); err != nil {
			t.Errorf("%v: %v\n  payload %x", f, err, e.Payload)
			continue
		}
		frames = append(frames, f)
	}
	return frames
}

// decode decodes one frame according to the connection's state, checks
// that no byte is left over, that re-encoding gives the payload back, and
// that the label the recorder wrote agrees with what the codec read.
func (c *goldenConn) decode(f *goldenFrame) error {
	p := f.entry.Payload
	d := zkproto.NewDecoder(p)
	var out []byte
	var label string
	switch {
	case !c.handshake[f.entry.Dir] && f.entry.Dir == zkrecord.FromClient:
		c.handshake[f.entry.Dir] = true
		f.connectReq = &zkproto.ConnectRequest{}
		if err := f.connectReq.Decode(d); err != nil {
			return fmt.Errorf("ConnectRequest: %w", err)
		}
		out, label = f.connectReq.Append(nil), "connect"
	case !c.handshake[f.entry.Dir]:
		c.handshake[f.entry.Dir] = true
		f.connectResp = &zkproto.ConnectResponse{}
		if err := f.connectResp.Decode(d); err != nil {
			return fmt.Errorf("ConnectResponse: %w", err)
		}
		out, label = f.connectResp.Append(nil), "connect"
	case f.entry.Dir == zkrecord.FromClient:
		h := &f.reqHeader
		if err := h.Decode(d); err != nil {
			return fmt.Errorf("RequestHeader: %w", err)
		}
		f.request = zkproto.NewRequest(h.Type)
		if f.request == nil {
			return fmt.Errorf("no request type for op %v", h.Type)
		}
		if err := f.request.Decode(d); err != nil {
			return fmt.Errorf("%v request: %w", h.Type, err)
		}
		c.pending[h.Xid] = h.Type
		out = f.request.Append(h.Append(nil))
		label = fmt.Sprintf("%v#%d", h.Type, h.Xid)
	default:
		h := &f.replyHeader
		if err := h.Decode(d); err != nil {
			return fmt.Errorf("ReplyHeader: %w", err)
		}
		if h.Xid == zkproto.NotificationXid {
			f.event = &zkproto.WatcherEvent{}
			if err := f.event.Decode(d); err != nil {
				return fmt.Errorf("WatcherEvent: %w", err)
			}
			out, label = f.event.Append(h.Append(nil)), "notification"
			break
		}
		op, ok := c.pending[h.Xid]
		if !ok {
			return fmt.Errorf("reply to xid %d, which no request is waiting for", h.Xid)
		}
		delete(c.pending, h.Xid)
		f.replyOp = op
		label = fmt.Sprintf("%v#%d", op, h.Xid)
		if h.Err != zkproto.OK {
			label += ":" + h.Err.Name()
		}
		body, known := zkproto.NewResponse(op)
		if !known {
			return fmt.Errorf("no response type for op %v", op)
		}
		if h.Err == zkproto.OK && body != nil {
			if err := body.Decode(d); err != nil {
				return fmt.Errorf("%v response: %w", op, err)
			}
			f.reply = body
		}
		out = zkproto.AppendReplyFrame(nil, h, f.reply)[4:]
	}
	if n := d.Remaining(); n != 0 {
		return fmt.Errorf("%d bytes left after decoding", n)
	}
	if !bytes.Equal(out, p) {
		return fmt.Errorf("re-encoding differs:\n  got  %x\n  want %x", out, p)
	}
	if label != f.entry.Label {
		return fmt.Errorf("decoded as %q, recorded as %q", label, f.entry.Label)
	}
	return nil
}

func TestGoldenConversationsDecodeAndReencodeExactly(t *testing.T) {
	all := loadGolden(t)
	for name, frames := range all {
		if len(frames) < 10 {
			t.Errorf("%s: only %d frames decoded", name, len(frames))
		}
	}
}

// pick returns the first frame of a golden file written as spec, the
// start of its line: "<dir><conn> <label>", e.g. "S1 multi#12".
func pick(t *testing.T, all map[string][]*goldenFrame, file, spec string) *goldenFrame {
	t.Helper()
	for _, f := range all[file] {
		e := f.entry
		if fmt.Sprintf("%v%d %s", e.Dir, e.Conn, e.Label) == spec {
			return f
		}
	}
	t.Fatalf("%s: no frame %q", file, spec)
	return nil
}

// openACL is world:anyone with every permission, the ACL every client's
// "open" constant sends.
var openACL = []zkproto.ACL{{Perms: 31, ID: zkproto.Id{Scheme: "world", ID: "anyone"}}}

func errResult(c zkproto.Code) zkproto.MultiResult {
	return zkproto.MultiResult{Type: zkproto.OpError, Err: c, Body: &zkproto.ErrorResponse{Err: c}}
}

// TestGoldenValues checks what the codec decodes from frames that show a
// rule of the protocol, as real ZooKeeper and real clients wrote them.
func TestGoldenValues(t *testing.T) {
	all := loadGolden(t)
	tests := []struct {
		name, file, spec string
		check            func(t *testing.T, f *goldenFrame)
	}{
		{"failed multi: 0 before the failing op, its code, RUNTIMEINCONSISTENCY after", "java-ops", "S1 multi#12",
			func(t *testing.T, f *goldenFrame) {
				if f.replyHeader.Err != zkproto.OK {
					t.Errorf("header err = %v, want OK for a failed multi", f.replyHeader.Err)
				}
				want := []zkproto.MultiResult{errResult(zkproto.OK), errResult(zkproto.ErrNoNode), errResult(zkproto.ErrRuntimeInconsistency)}
				if got := f.reply.(*zkproto.MultiResponse).Results; !reflect.DeepEqual(got, want) {
					t.Errorf("results = %+v, want %+v", got, want)
				}
			}},
		{"multi failing at its first op", "java-ops", "S1 multi#13",
			func(t *testing.T, f *goldenFrame) {
				want := []zkproto.MultiResult{errResult(zkproto.ErrBadVersion), errResult(zkproto.ErrRuntimeInconsistency)}
				if got := f.reply.(*zkproto.MultiResponse).Results; !reflect.DeepEqual(got, want) {
					t.Errorf("results = %+v, want %+v", got, want)
				}
			}},
		{"go-zookeeper's failed multi", "gozk", "S1 multi#25",
			func(t *testing.T, f *goldenFrame) {
				want := []zkproto.MultiResult{errResult(zkproto.OK), errResult(zkproto.ErrNoNode), errResult(zkproto.ErrRuntimeInconsistency)}
				if got := f.reply.(*zkproto.MultiResponse).Results; !reflect.DeepEqual(got, want) {
					t.Errorf("results = %+v, want %+v", got, want)
				}
			}},
		{"multi request: op types and a TTL op inside", "java-ops", "C1 multi#11",
			func(t *testing.T, f *goldenFrame) {
				ops := f.request.(*zkproto.MultiRequest).Ops
				var types []zkproto.OpCode
				for _, op := range ops {
					types = append(types, op.Type)
				}
				want := []zkproto.OpCode{zkproto.OpCreate, zkproto.OpCreateContainer, zkproto.OpCreateTTL,
					zkproto.OpSetData, zkproto.OpCheck, zkproto.OpDelete}
				if !reflect.DeepEqual(types, want) {
					t.Fatalf("op types = %v, want %v", types, want)
				}
				if ttl := ops[2].Body.(*zkproto.CreateTTLRequest); ttl.TTL != 60000 || ttl.Flags != zkproto.ModePersistentWithTTL {
					t.Errorf("TTL op = %+v, want ttl 60000 mode 5", ttl)
				}
				if chk := ops[4].Body.(*zkproto.CheckVersionRequest); chk.Path != "/java-ops/m1" || chk.Version != 1 {
					t.Errorf("check op = %+v", chk)
				}
			}},
		{"multi results: container and TTL creates answer as create2 with a stat, all at one zxid", "java-ops", "S1 multi#11",
			func(t *testing.T, f *goldenFrame) {
				rs := f.reply.(*zkproto.MultiResponse).Results
				var types []zkproto.OpCode
				for _, r := range rs {
					types = append(types, r.Type)
				}
				want := []zkproto.OpCode{zkproto.OpCreate, zkproto.OpCreate2, zkproto.OpCreate2,
					zkproto.OpSetData, zkproto.OpCheck, zkproto.OpDelete}
				if !reflect.DeepEqual(types, want) {
					t.Fatalf("result types = %v, want %v", types, want)
				}
				if p := rs[0].Body.(*zkproto.CreateResponse).Path; p != "/java-ops/m1" {
					t.Errorf("create result path = %q", p)
				}
				box := rs[1].Body.(*zkproto.Create2Response)
				set := rs[3].Body.(*zkproto.SetDataResponse)
				if box.Path != "/java-ops/mbox" || box.Stat.Czxid != f.replyHeader.Zxid || set.Stat.Mzxid != f.replyHeader.Zxid || set.Stat.Version != 1 {
					t.Errorf("container result %+v, setData result %+v, header zxid %d", box, set.Stat, f.replyHeader.Zxid)
				}
				if rs[4].Body != nil || rs[5].Body != nil {
					t.Errorf("check and delete results carry bodies: %+v %+v", rs[4].Body, rs[5].Body)
				}
			}},
		{"multiRead: per-op results, errors in place", "java-ops", "S1 multiRead#14",
			func(t *testing.T, f *goldenFrame) {
				rs := f.reply.(*zkproto.MultiResponse).Results
				if len(rs) != 3 || rs[0].Type != zkproto.OpGetData || rs[1].Type != zkproto.OpGetChildren || !reflect.DeepEqual(rs[2], errResult(zkproto.ErrNoNode)) {
					t.Fatalf("results = %+v", rs)
				}
				if d := rs[0].Body.(*zkproto.GetDataResponse).Data; string(d) != "two" {
					t.Errorf("getData result data = %q, want two", d)
				}
				if ch := rs[1].Body.(*zkproto.GetChildrenResponse).Children; len(ch) != 7 {
					t.Errorf("getChildren result = %v, want 7 children", ch)
				}
			}},
		{"multiRead: null data stays null", "java-ops", "S1 multiRead#15",
			func(t *testing.T, f *goldenFrame) {
				rs := f.reply.(*zkproto.MultiResponse).Results
				if len(rs) != 2 || rs[0].Type != zkproto.OpGetData || !reflect.DeepEqual(rs[1], errResult(zkproto.ErrNoNode)) {
					t.Fatalf("results = %+v", rs)
				}
				if d := rs[0].Body.(*zkproto.GetDataResponse).Data; d != nil {
					t.Errorf("data = %q, want nil (null)", d)
				}
			}},
		{"sequential create: request flags and the suffixed name", "zkcli", "C1 create#4",
			func(t *testing.T, f *goldenFrame) {
				want := &zkproto.CreateRequest{Path: "/zkcli/seq-", Data: []byte("s1"), ACL: openACL, Flags: zkproto.ModePersistentSequential}
				if !reflect.DeepEqual(f.request, want) {
					t.Errorf("request = %+v, want %+v", f.request, want)
				}
			}},
		{"sequential name is %010d of the parent's cversion", "zkcli", "S1 create#4",
			func(t *testing.T, f *goldenFrame) {
				if p := f.reply.(*zkproto.CreateResponse).Path; p != "/zkcli/seq-0000000002" {
					t.Errorf("path = %q", p)
				}
			}},
		{"createTTL request carries the ttl", "zkcli", "C1 createTTL#8",
			func(t *testing.T, f *goldenFrame) {
				want := &zkproto.CreateTTLRequest{Path: "/zkcli/ttl", Data: []byte("t"), ACL: openACL, Flags: zkproto.ModePersistentWithTTL, TTL: 60000}
				if f.reqHeader.Type != zkproto.OpCreateTTL || !reflect.DeepEqual(f.request, want) {
					t.Errorf("request %v %+v, want %+v", f.reqHeader.Type, f.request, want)
				}
			}},
		{"createTTL is answered like create2", "zkcli", "S1 createTTL#9",
			func(t *testing.T, f *goldenFrame) {
				r := f.reply.(*zkproto.Create2Response)
				if r.Path != "/zkcli/ttls-0000000007" || r.Stat.Czxid != f.replyHeader.Zxid || r.Stat.EphemeralOwner != 0 {
					t.Errorf("reply = %+v at zxid %d", r, f.replyHeader.Zxid)
				}
			}},
		{"create without data sends null", "zkcli", "C1 create#10",
			func(t *testing.T, f *goldenFrame) {
				if d := f.request.(*zkproto.CreateRequest).Data; d != nil {
					t.Errorf("data = %q, want nil (null)", d)
				}
			}},
		{"getData of a null-data node reads null", "zkcli", "S1 getData#11",
			func(t *testing.T, f *goldenFrame) {
				r := f.reply.(*zkproto.GetDataResponse)
				if r.Data != nil || r.Stat.DataLength != 0 {
					t.Errorf("reply = %+v, want nil data and dataLength 0", r)
				}
			}},
		{"an error reply has no body", "zkcli", "S1 setData#20:BADVERSION",
			func(t *testing.T, f *goldenFrame) {
				if len(f.entry.Payload) != zkproto.ReplyHeaderSize || f.replyHeader.Err != zkproto.ErrBadVersion {
					t.Errorf("reply %+v is %d bytes, want a bare header", f.replyHeader, len(f.entry.Payload))
				}
			}},
		{"createTTL with ttl 0 is BADARGUMENTS", "gozk", "C2 createTTL#37",
			func(t *testing.T, f *goldenFrame) {
				if r := f.request.(*zkproto.CreateTTLRequest); r.TTL != 0 || r.Flags != zkproto.ModePersistentWithTTL || r.Data != nil {
					t.Errorf("request = %+v", r)
				}
				if r := pick(t, all, "gozk", "S2 createTTL#37:BADARGUMENTS"); len(r.entry.Payload) != zkproto.ReplyHeaderSize {
					t.Errorf("BADARGUMENTS reply is %d bytes", len(r.entry.Payload))
				}
			}},
		{"exists on a missing node is NONODE", "java-ops", "S1 exists#27:NONODE",
			func(t *testing.T, f *goldenFrame) {
				if f.replyHeader.Err != zkproto.ErrNoNode || f.reply != nil {
					t.Errorf("reply %+v %+v", f.replyHeader, f.reply)
				}
			}},
		{"a notification: xid -1, zxid -1 (before 3.9), SyncConnected", "java-ops", "S1 notification",
			func(t *testing.T, f *goldenFrame) {
				want := zkproto.WatcherEvent{Type: zkproto.EventNodeCreated, State: zkproto.StateSyncConnected, Path: "/java-ops/later"}
				if *f.event != want || f.replyHeader.Zxid != -1 || f.replyHeader.Err != zkproto.OK {
					t.Errorf("notification %+v %+v, want %+v at zxid -1", f.replyHeader, *f.event, want)
				}
			}},
		{"addWatch is answered with an ErrorResponse of 0", "java-ops", "S1 addWatch#31",
			func(t *testing.T, f *goldenFrame) {
				if r, ok := f.reply.(*zkproto.ErrorResponse); !ok || r.Err != zkproto.OK {
					t.Errorf("reply = %#v", f.reply)
				}
			}},
		{"addWatch request: persistent recursive mode", "java-ops", "C1 addWatch#31",
			func(t *testing.T, f *goldenFrame) {
				want := &zkproto.AddWatchRequest{Path: "/java-ops", Mode: zkproto.AddWatchPersistentRecursive}
				if !reflect.DeepEqual(f.request, want) {
					t.Errorf("request = %+v", f.request)
				}
			}},
		{"checkWatches and removeWatches carry the watcher type", "java-ops", "C1 checkWatches#23",
			func(t *testing.T, f *goldenFrame) {
				want := &zkproto.CheckWatchesRequest{Path: "/java-ops/c2", Type: zkproto.WatcherType(2)}
				if !reflect.DeepEqual(f.request, want) {
					t.Errorf("request = %+v", f.request)
				}
			}},
		{"whoAmI lists the session's identities", "java-ops", "S1 whoAmI#20",
			func(t *testing.T, f *goldenFrame) {
				want := []zkproto.ClientInfo{{AuthScheme: "digest", User: "golden"}, {AuthScheme: "ip", User: "127.0.0.1"}}
				if got := f.reply.(*zkproto.WhoAmIResponse).ClientInfo; !reflect.DeepEqual(got, want) {
					t.Errorf("identities = %+v", got)
				}
			}},
		{"getACL returns the digest ACL", "java-ops", "S1 getACL#35",
			func(t *testing.T, f *goldenFrame) {
				r := f.reply.(*zkproto.GetACLResponse)
				want := []zkproto.ACL{{Perms: 31, ID: zkproto.Id{Scheme: "digest", ID: "golden:xWIAyp+iipmRz+wIMl/M3rwWQD4="}}}
				if !reflect.DeepEqual(r.ACL, want) || r.Stat.Aversion != 1 {
					t.Errorf("reply = %+v", r)
				}
			}},
		{"getAllChildrenNumber counts descendants", "java-ops", "S1 getAllChildrenNumber#18",
			func(t *testing.T, f *goldenFrame) {
				if n := f.reply.(*zkproto.GetAllChildrenNumberResponse).TotalNumber; n != 7 {
					t.Errorf("total = %d, want 7", n)
				}
			}},
		{"Java's reconfig sends null for the strings it leaves out", "java-ops", "C2 reconfig#1",
			func(t *testing.T, f *goldenFrame) {
				want := &zkproto.ReconfigRequest{JoiningServers: "server.2=127.0.0.1:2888:3888;2181",
					LeavingServersNull: true, NewMembersNull: true, CurConfigID: -1}
				if !reflect.DeepEqual(f.request, want) {
					t.Errorf("request = %+v, want %+v", f.request, want)
				}
			}},
		{"go-zookeeper's incremental reconfig: leaving empty, members null", "gozk", "C1 reconfig#26",
			func(t *testing.T, f *goldenFrame) {
				want := &zkproto.ReconfigRequest{JoiningServers: "server.5=127.0.0.1:2888:3888;2181",
					NewMembersNull: true, CurConfigID: -1}
				if !reflect.DeepEqual(f.request, want) {
					t.Errorf("request = %+v, want %+v", f.request, want)
				}
			}},
		{"Java's auth: xid -4, type 0, answered at zxid 0", "java-session", "S1 auth#-4",
			func(t *testing.T, f *goldenFrame) {
				if f.replyHeader != (zkproto.ReplyHeader{Xid: zkproto.AuthXid, Zxid: 0, Err: zkproto.OK}) {
					t.Errorf("reply header = %+v", f.replyHeader)
				}
			}},
		{"go-zookeeper's auth uses a client xid and gets it back", "gozk", "S2 auth#33",
			func(t *testing.T, f *goldenFrame) {
				if f.replyHeader != (zkproto.ReplyHeader{Xid: 33, Zxid: 0, Err: zkproto.OK}) {
					t.Errorf("reply header = %+v", f.replyHeader)
				}
			}},
		{"auth with an unknown scheme", "java-session", "C6 auth#-4",
			func(t *testing.T, f *goldenFrame) {
				want := &zkproto.AuthPacket{Type: 0, Scheme: "nosuchscheme", Auth: []byte("whatever")}
				if !reflect.DeepEqual(f.request, want) {
					t.Errorf("request = %+v", f.request)
				}
			}},
		{"auth failure: AUTHFAILED, bare header", "java-session", "S6 auth#-4:AUTHFAILED",
			func(t *testing.T, f *goldenFrame) {
				if f.replyHeader != (zkproto.ReplyHeader{Xid: zkproto.AuthXid, Zxid: 0, Err: zkproto.ErrAuthFailed}) {
					t.Errorf("reply header = %+v", f.replyHeader)
				}
			}},
		{"setWatches after a reconnect: lastZxid and the three watch lists", "java-session", "C2 setWatches#6",
			func(t *testing.T, f *goldenFrame) {
				want := &zkproto.SetWatches{RelativeZxid: lastZxid(all["java-session"], 1), DataWatches: []string{"/java-session"},
					ExistWatches: []string{"/java-session/x"}, ChildWatches: []string{"/java-session"}}
				if !reflect.DeepEqual(f.request, want) {
					t.Errorf("request = %+v, want %+v", f.request, want)
				}
			}},
		{"setWatches2 adds the persistent watches", "java-session", "C3 setWatches2#10",
			func(t *testing.T, f *goldenFrame) {
				r := f.request.(*zkproto.SetWatches2)
				if !reflect.DeepEqual(r.PersistentWatches, []string{"/java-session"}) ||
					!reflect.DeepEqual(r.PersistentRecursiveWatches, []string{"/java-session/x"}) {
					t.Errorf("request = %+v", r)
				}
			}},
		{"go-zookeeper's ping: xid -2, header only", "gozk", "C2 ping#-2",
			func(t *testing.T, f *goldenFrame) {
				if len(f.entry.Payload) != zkproto.RequestHeaderSize || f.reqHeader != (zkproto.RequestHeader{Xid: zkproto.PingXid, Type: zkproto.OpPing}) {
					t.Errorf("ping = %+v (%d bytes)", f.reqHeader, len(f.entry.Payload))
				}
			}},
		{"closeSession: header only", "zkcli", "C1 closeSession#105",
			func(t *testing.T, f *goldenFrame) {
				if len(f.entry.Payload) != zkproto.RequestHeaderSize || f.reqHeader.Type != zkproto.OpCloseSession {
					t.Errorf("close = %+v (%d bytes)", f.reqHeader, len(f.entry.Payload))
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.check(t, pick(t, all, tc.file, tc.spec)) })
	}
}

// lastZxid returns the zxid of the last reply on connection conn: what a
// client reports as lastZxidSeen when it reconnects.
func lastZxid(frames []*goldenFrame, conn int) int64 {
	var z int64
	for _, f := range frames {
		if f.entry.Conn == conn && f.entry.Dir == zkrecord.FromServer && f.connectResp == nil &&
			f.replyHeader.Xid != zkproto.NotificationXid && f.replyHeader.Zxid > 0 {
			z = f.replyHeader.Zxid
		}
	}
	return z
}

// TestGoldenConnectHandshakes checks the 44/45 and 36/37-byte forms and the
// echo rule on every connection of every golden file: the server writes the
// readOnly byte exactly when the client did.
func TestGoldenConnectHandshakes(t *testing.T) {
	all := loadGolden(t)
	type conn struct {
		file string
		n    int
	}
	reqs := map[conn]*zkproto.ConnectRequest{}
	resps := map[conn]*goldenFrame{}
	for file, frames := range all {
		for _, f := range frames {
			k := conn{file, f.entry.Conn}
			switch {
			case f.connectReq != nil:
				reqs[k] = f.connectReq
				want := 44
				if f.connectReq.HasReadOnly {
					want = 45
				}
				if len(f.entry.Payload) != want || len(f.connectReq.Passwd) != zkproto.PasswordSize {
					t.Errorf("%v: %d-byte ConnectRequest %+v", f, len(f.entry.Payload), f.connectReq)
				}
			case f.connectResp != nil:
				resps[k] = f
			}
		}
	}
	for k, f := range resps {
		req := reqs[k]
		if req == nil {
			t.Errorf("%v: response without a request", f)
			continue
		}
		want := 36
		if req.HasReadOnly {
			want = 37
		}
		if f.connectResp.HasReadOnly != req.HasReadOnly || len(f.entry.Payload) != want {
			t.Errorf("%v: %d-byte response (readOnly byte %v) to a request with readOnly byte %v",
				f, len(f.entry.Payload), f.connectResp.HasReadOnly, req.HasReadOnly)
		}
	}
	for _, c := range []struct {
		file        string
		hasReadOnly bool
	}{{"gozk", false}, {"zkcli", true}, {"java-ops", true}, {"kazoo", true}, {"climt", true}} {
		if got := reqs[conn{c.file, 1}].HasReadOnly; got != c.hasReadOnly {
			t.Errorf("%s: first ConnectRequest has readOnly byte %v, want %v", c.file, got, c.hasReadOnly)
		}
	}
}

// TestGoldenSessions checks the handshakes of resumed and unknown sessions.
func TestGoldenSessions(t *testing.T) {
	all := loadGolden(t)
	first := pick(t, all, "java-session", "S1 connect").connectResp
	if first.SessionID == 0 || first.TimeOut != 30000 || len(first.Passwd) != zkproto.PasswordSize {
		t.Fatalf("first session = %+v", first)
	}
	resume := pick(t, all, "java-session", "C2 connect").connectReq
	last := lastZxid(all["java-session"], 1)
	if resume.SessionID != first.SessionID || !bytes.Equal(resume.Passwd, first.Passwd) || resume.LastZxidSeen != last {
		t.Errorf("resume request = %+v, want session %#x, its password, lastZxidSeen %#x", resume, first.SessionID, last)
	}
	resumed := pick(t, all, "java-session", "S2 connect").connectResp
	if resumed.SessionID != first.SessionID || !bytes.Equal(resumed.Passwd, first.Passwd) {
		t.Errorf("resume answer = %+v", resumed)
	}
	for _, c := range []struct{ file, req, resp string }{
		{"java-session", "C5 connect", "S5 connect"},
		{"kazoo", "C2 connect", "S2 connect"},
	} {
		req := pick(t, all, c.file, c.req).connectReq
		resp := pick(t, all, c.file, c.resp).connectResp
		if req.SessionID != 0x7777777777 {
			t.Errorf("%s %s: session %#x, want 0x7777777777", c.file, c.req, req.SessionID)
		}
		if resp.TimeOut != 0 || resp.SessionID != 0 || !bytes.Equal(resp.Passwd, make([]byte, zkproto.PasswordSize)) {
			t.Errorf("%s %s: %+v, want timeOut 0, sessionId 0, zero password", c.file, c.resp, resp)
		}
	}
}

// TestGoldenCoverage keeps the captures honest: every request a client can
// send without SASL appears in some golden file, so a re-capture that loses
// one fails here.
func TestGoldenCoverage(t *testing.T) {
	all := loadGolden(t)
	seen := map[zkproto.OpCode]bool{}
	inMulti := map[zkproto.OpCode]bool{}
	events := map[zkproto.EventType]bool{}
	var clients []string
	for file, frames := range all {
		clients = append(clients, file)
		for _, f := range frames {
			if f.request != nil {
				seen[f.reqHeader.Type] = true
				if m, ok := f.request.(*zkproto.MultiRequest); ok {
					for _, op := range m.Ops {
						inMulti[op.Type] = true
					}
				}
			}
			if f.event != nil {
				events[f.event.Type] = true
			}
		}
	}
	for _, op := range []zkproto.OpCode{
		zkproto.OpCreate, zkproto.OpDelete, zkproto.OpExists, zkproto.OpGetData, zkproto.OpSetData,
		zkproto.OpGetACL, zkproto.OpSetACL, zkproto.OpGetChildren, zkproto.OpSync, zkproto.OpPing,
		zkproto.OpGetChildren2, zkproto.OpMulti, zkproto.OpCreate2, zkproto.OpReconfig,
		zkproto.OpCheckWatches, zkproto.OpRemoveWatches, zkproto.OpCreateContainer, zkproto.OpCreateTTL,
		zkproto.OpMultiRead, zkproto.OpAuth, zkproto.OpSetWatches, zkproto.OpGetEphemerals,
		zkproto.OpGetAllChildrenNumber, zkproto.OpSetWatches2, zkproto.OpAddWatch, zkproto.OpWhoAmI,
		zkproto.OpCloseSession,
	} {
		if !seen[op] {
			t.Errorf("no golden file has a %v request", op)
		}
	}
	for _, op := range []zkproto.OpCode{zkproto.OpCreate, zkproto.OpCreateContainer, zkproto.OpCreateTTL,
		zkproto.OpDelete, zkproto.OpSetData, zkproto.OpCheck, zkproto.OpGetData, zkproto.OpGetChildren} {
		if !inMulti[op] {
			t.Errorf("no golden multi holds a %v op", op)
		}
	}
	for _, ev := range []zkproto.EventType{zkproto.EventNodeCreated, zkproto.EventNodeDeleted,
		zkproto.EventNodeDataChanged, zkproto.EventNodeChildrenChanged} {
		if !events[ev] {
			t.Errorf("no golden notification of type %d", ev)
		}
	}
	if len(clients) < 6 || !strings.Contains(strings.Join(clients, ","), "climt") {
		t.Errorf("golden files %v: want zkcli, java-ops, java-session, gozk, kazoo and climt", clients)
	}
}
