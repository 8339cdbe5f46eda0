package tree

import (
	"errors"
	"slices"
	"testing"

	"github.com/vrkeeper/vrkeeper/zkproto"
)

func TestCommandRoundTrip(t *testing.T) {
	w := ClientWrite{SessionID: 0x1234, Cxid: 77, Time: 1700000000123,
		Auth:   []zkproto.Id{IPID("127.0.0.1"), {Scheme: "digest", ID: "u:h"}},
		Policy: PolicyX509 | PolicySkipACL,
		Op:     zkproto.OpSetData, Body: []byte{1, 2, 3}}
	tests := []struct {
		name string
		cmd  []byte
		want Command
	}{
		{"client write", AppendClientWrite(nil, &w), Command{Kind: KindClientWrite, Time: w.Time, Write: w}},
		{"open", AppendOpenSession(nil, 5, 30000, []byte("pw")), Command{Kind: KindOpenSession, Time: 5, Timeout: 30000, Passwd: []byte("pw")}},
		{"expire", AppendExpireSessions(nil, 6, []int64{1, 2}), Command{Kind: KindExpireSessions, Time: 6, SessionIDs: []int64{1, 2}}},
		{"renew", AppendRenewSessions(nil, 7, []int64{3}), Command{Kind: KindRenewSessions, Time: 7, SessionIDs: []int64{3}}},
		{"cleanup", AppendCleanup(nil, 8, 5000), Command{Kind: KindCleanup, Time: 8, MaxNeverUsed: 5000}},
	}
	for _, tc := range tests {
		var c Command
		if err := DecodeCommand(tc.cmd, &c); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if c.Kind != tc.want.Kind || c.Time != tc.want.Time || c.Timeout != tc.want.Timeout ||
			string(c.Passwd) != string(tc.want.Passwd) || c.MaxNeverUsed != tc.want.MaxNeverUsed || !slices.Equal(c.SessionIDs, tc.want.SessionIDs) ||
			c.Write.SessionID != tc.want.Write.SessionID || c.Write.Cxid != tc.want.Write.Cxid ||
			c.Write.Op != tc.want.Write.Op || c.Write.Policy != tc.want.Write.Policy || string(c.Write.Body) != string(tc.want.Write.Body) ||
			!slices.Equal(c.Write.Auth, tc.want.Write.Auth) {
			t.Errorf("%s: decoded %+v, want %+v", tc.name, c, tc.want)
		}
	}
}

func TestMalformedCommands(t *testing.T) {
	good := AppendClientWrite(nil, &ClientWrite{SessionID: 1, Auth: []zkproto.Id{IPID("1.2.3.4")}, Op: zkproto.OpDelete})
	badPolicy := AppendClientWrite(nil, &ClientWrite{SessionID: 1, Policy: 0x80, Op: zkproto.OpDelete,
		Body: (&zkproto.DeleteRequest{Path: "/", Version: -1}).Append(nil)})
	tests := []struct {
		name string
		cmd  []byte
	}{
		{"empty", nil},
		{"one byte", []byte{1}},
		{"bad version", []byte{9, 1}},
		{"unknown policy bits", badPolicy},
		{"bad kind", []byte{1, 99}},
		{"client write cut", good[:12]},
		{"client write cut in identities", good[:len(good)-6]},
		{"huge identity count", append(append([]byte{1, 1}, make([]byte, 20)...), 0x7f, 0xff, 0xff, 0xff)},
		{"expire count mismatch", append(AppendExpireSessions(nil, 1, []int64{1, 2}), 0)},
		{"expire negative count", append(append([]byte{1, 3}, make([]byte, 8)...), 0xff, 0xff, 0xff, 0xfe)},
		{"open without password", append([]byte{1, 2}, make([]byte, 12)...)},
		{"cleanup cut", []byte{1, 5, 0, 0}},
		{"cleanup without its interval", AppendCleanup(nil, 1, 0)[:2+8]},
		{"cleanup interval cut", AppendCleanup(nil, 1, 0)[:2+8+4]},
		{"cleanup with bytes left over", append(AppendCleanup(nil, 1, 0), 0)},
		{"format 2 cleanup with an interval", append([]byte{commandFormat2, byte(KindCleanup)}, AppendCleanup(nil, 1, 0)[2:]...)},
	}
	for _, tc := range tests {
		tr := New(Config{})
		before := tr.Digest()
		var out Output
		err := tr.Apply(1, tc.cmd, &out)
		if !errors.Is(err, ErrBadCommand) {
			t.Errorf("%s: Apply error %v, want ErrBadCommand", tc.name, err)
		}
		if out.Code != zkproto.ErrMarshallingError || tr.LastZxid() != 1 {
			t.Errorf("%s: code %v, last zxid %d", tc.name, out.Code, tr.LastZxid())
		}
		// Only the zxid moved: the digest of the state otherwise is unchanged.
		tr.lastZxid = 0
		if tr.Digest() != before {
			t.Errorf("%s: state changed", tc.name)
		}
	}
}

func TestZxidOrder(t *testing.T) {
	tr := New(Config{})
	var out Output
	if err := tr.Apply(5, AppendCleanup(nil, 1, 0), &out); err != nil {
		t.Fatal(err)
	}
	for _, z := range []int64{5, 4, 0, -1} {
		if err := tr.Apply(z, AppendCleanup(nil, 1, 0), &out); !errors.Is(err, ErrZxidOrder) {
			t.Errorf("zxid %d after 5: %v, want ErrZxidOrder", z, err)
		}
	}
	if tr.LastZxid() != 5 {
		t.Errorf("last zxid %d", tr.LastZxid())
	}
}

// TestClientWriteSize: the size a proposer allocates is the command's.
func TestClientWriteSize(t *testing.T) {
	for _, w := range []*ClientWrite{
		{SessionID: 1, Cxid: 2, Owner: 3, Seq: 4, Time: 5, Op: zkproto.OpSetData, Body: []byte("body")},
		{Auth: []zkproto.Id{{Scheme: "ip", ID: "127.0.0.1"}, {Scheme: "digest", ID: "u:x"}}, Op: zkproto.OpCreate, Body: make([]byte, 300)},
	} {
		if got, want := ClientWriteSize(w), len(AppendClientWrite(nil, w)); got != want {
			t.Errorf("ClientWriteSize = %d, the command has %d bytes", got, want)
		}
	}
}

// TestCommandFormat2: a client write of format 2, which has no policy
// byte, decodes and applies with policy 0 (no x509 or sasl scheme, every
// check on), as servers before the policy applied every write; its key is
// read as format 3's.
func TestCommandFormat2(t *testing.T) {
	x509ACL := []zkproto.ACL{{Perms: zkproto.PermAll, ID: zkproto.Id{Scheme: SchemeX509, ID: "CN=a"}}}
	format2 := func(w *ClientWrite) []byte {
		cmd := AppendClientWrite(nil, w)
		const policyAt = 2 + 8 + 4 + 8 + 8 + 8 // format, kind, session, cxid, owner, seq, time
		if WritePolicy(cmd[policyAt]) != w.Policy {
			t.Fatalf("policy not at %d", policyAt)
		}
		cmd[0] = commandFormat2
		return append(cmd[:policyAt:policyAt], cmd[policyAt+1:]...)
	}
	h := newHarness(t, Config{})
	sid := h.open()
	w := &ClientWrite{SessionID: sid, Cxid: 1, Owner: 0, Seq: 1, Time: h.clock, Auth: []zkproto.Id{IPID("1.2.3.4")},
		Policy: PolicyX509 | PolicySkipACL, Op: zkproto.OpCreate,
		Body: (&zkproto.CreateRequest{Path: "/x", ACL: x509ACL}).Append(nil)}
	cmd := format2(w)
	var c Command
	if err := DecodeCommand(cmd, &c); err != nil || c.Write.Policy != 0 || c.Write.SessionID != sid ||
		c.Write.Seq != 1 || c.Write.Op != zkproto.OpCreate || !slices.Equal(c.Write.Auth, w.Auth) || string(c.Write.Body) != string(w.Body) {
		t.Fatalf("decode format 2: %+v %v", c.Write, err)
	}
	if k, ok := PeekClientWrite(cmd); !ok || k != (WriteKey{SessionID: sid, Seq: 1}) {
		t.Errorf("peek format 2: %+v %v", k, ok)
	}
	if out := h.apply(cmd); out.Code != zkproto.ErrInvalidACL {
		t.Errorf("format 2 create with an x509 ACL: %v, want INVALIDACL", out.Code)
	}
	h.seq[sid], h.cxid[sid] = 1, 1
	if out := h.writeWith(sid, nil, PolicyX509, zkproto.OpCreate, &zkproto.CreateRequest{Path: "/x", ACL: x509ACL}); out.Code != zkproto.OK {
		t.Errorf("format 3 create with an x509 ACL and the provider: %v", out.Code)
	}
}
