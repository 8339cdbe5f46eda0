package tree

import (
	"testing"

	"github.com/vrkeeper/vrkeeper/zkproto"
)

// TestAuthSchemes: the x509 and sasl schemes are valid ACL schemes only
// where the write's policy has their provider; their identities match equal
// ids (sasl's "super" matches any sasl entry) and expand "auth".
func TestAuthSchemes(t *testing.T) {
	x509ID := zkproto.Id{Scheme: SchemeX509, ID: "CN=app,O=Example"}
	saslID := zkproto.Id{Scheme: SchemeSASL, ID: "bob"}
	acl := func(scheme, id string) []zkproto.ACL {
		return []zkproto.ACL{{Perms: zkproto.PermAll, ID: zkproto.Id{Scheme: scheme, ID: id}}}
	}
	cases := []struct {
		name    string
		policy  WritePolicy
		creator []zkproto.Id
		acl     []zkproto.ACL
		code    zkproto.Code
		reader  []zkproto.Id
		read    zkproto.Code
	}{
		{"x509 off", 0, nil, acl("x509", "CN=app,O=Example"), zkproto.ErrInvalidACL, nil, 0},
		{"x509 off, sasl on", PolicySASL, nil, acl("x509", "CN=app,O=Example"), zkproto.ErrInvalidACL, nil, 0},
		{"x509 on, same id reads", PolicyX509, nil, acl("x509", "CN=app,O=Example"), zkproto.OK, []zkproto.Id{x509ID}, zkproto.OK},
		{"x509 other id", PolicyX509, nil, acl("x509", "CN=other"), zkproto.OK, []zkproto.Id{x509ID}, zkproto.ErrNoAuth},
		{"x509 bad name", PolicyX509, nil, acl("x509", "not a name"), zkproto.ErrInvalidACL, nil, 0},
		{"x509 auth expands", PolicyX509, []zkproto.Id{x509ID}, acl("auth", ""), zkproto.OK, []zkproto.Id{x509ID}, zkproto.OK},
		{"x509 auth needs provider", 0, []zkproto.Id{x509ID}, acl("auth", ""), zkproto.ErrInvalidACL, nil, 0},
		{"sasl off", PolicyX509 | PolicySkipACL, nil, acl("sasl", "bob"), zkproto.ErrInvalidACL, nil, 0},
		{"sasl on", PolicySASL, nil, acl("sasl", "bob"), zkproto.OK, []zkproto.Id{saslID}, zkproto.OK},
		{"sasl other", PolicySASL, nil, acl("sasl", "alice"), zkproto.OK, []zkproto.Id{saslID}, zkproto.ErrNoAuth},
		{"sasl super user matches", PolicySASL, nil, acl("sasl", "alice"), zkproto.OK, []zkproto.Id{{Scheme: SchemeSASL, ID: "super"}}, zkproto.OK},
		{"sasl kerberos principal", PolicySASL, nil, acl("sasl", "zk/host@REALM"), zkproto.OK, nil, zkproto.ErrNoAuth},
		{"sasl bad principal", PolicySASL, nil, acl("sasl", "a@b@c"), zkproto.ErrInvalidACL, nil, 0},
		{"sasl auth expands", PolicySASL, []zkproto.Id{saslID}, acl("auth", ""), zkproto.OK, []zkproto.Id{saslID}, zkproto.OK},
		{"skipACL still validates", PolicySkipACL, nil, acl("nosuch", "x"), zkproto.ErrInvalidACL, nil, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, Config{})
			sid := h.open()
			out := h.writeWith(sid, c.creator, c.policy, zkproto.OpCreate, &zkproto.CreateRequest{Path: "/n", Data: []byte("d"), ACL: c.acl})
			if out.Code != c.code {
				t.Fatalf("create: %v, want %v", out.Code, c.code)
			}
			if c.code != zkproto.OK {
				return
			}
			body := (&zkproto.GetDataRequest{Path: "/n"}).Append(nil)
			if _, code := h.tree.Read(zkproto.OpGetData, body, sid, c.reader, nil); code != c.read {
				t.Fatalf("getData: %v, want %v", code, c.read)
			}
		})
	}
}

// TestSkipWritePolicy: a write whose policy has skipACL passes every
// permission check (alone and inside a multi); the same write without it
// does not; reads are the caller's (a server under skipACL passes the
// super identity).
func TestSkipWritePolicy(t *testing.T) {
	h := newHarness(t, Config{})
	sid := h.open()
	closed := []zkproto.ACL{{Perms: zkproto.PermAll, ID: zkproto.Id{Scheme: SchemeDigest, ID: "u:AAAAAAAAAAAAAAAAAAAAAAAAAAA="}}}
	if out := h.write(sid, nil, zkproto.OpCreate, &zkproto.CreateRequest{Path: "/c", ACL: closed}); out.Code != zkproto.OK {
		t.Fatalf("create: %v", out.Code)
	}
	set := &zkproto.SetDataRequest{Path: "/c", Data: []byte("x"), Version: -1}
	kid := &zkproto.CreateRequest{Path: "/c/k", ACL: openACL}
	setACL := &zkproto.SetACLRequest{Path: "/c", ACL: closed, Version: -1}
	for _, w := range []struct {
		name string
		op   zkproto.OpCode
		req  zkproto.Record
	}{
		{"setData", zkproto.OpSetData, set},
		{"create a child", zkproto.OpCreate, kid},
		{"setACL", zkproto.OpSetACL, setACL},
		{"delete the child", zkproto.OpDelete, &zkproto.DeleteRequest{Path: "/c/k", Version: -1}}, // created two lines up
	} {
		if out := h.writeWith(sid, nil, PolicyX509|PolicySASL, w.op, w.req); out.Code != zkproto.ErrNoAuth {
			t.Errorf("%s, checks on: %v, want NOAUTH", w.name, out.Code)
		}
		if out := h.writeWith(sid, nil, PolicySkipACL, w.op, w.req); out.Code != zkproto.OK {
			t.Errorf("%s, skipACL: %v", w.name, out.Code)
		}
	}
	multi := &zkproto.MultiRequest{Ops: []zkproto.MultiOp{
		{Type: zkproto.OpCheck, Body: &zkproto.CheckVersionRequest{Path: "/c", Version: -1}},
		{Type: zkproto.OpSetData, Body: set},
	}}
	for _, policy := range []WritePolicy{0, PolicySkipACL} {
		out := h.writeWith(sid, nil, policy, zkproto.OpMulti, multi)
		var resp zkproto.MultiResponse
		if err := zkproto.Unmarshal(out.Body, &resp); err != nil || out.Code != zkproto.OK || len(resp.Results) != 2 {
			t.Fatalf("multi, policy %v: %v %v", policy, out.Code, err)
		}
		failed := resp.Results[0].Type == zkproto.OpError
		if want := policy == 0; failed != want || (failed && resp.Results[0].Err != zkproto.ErrNoAuth) {
			t.Errorf("multi, policy %v: %+v", policy, resp.Results)
		}
	}
	body := (&zkproto.GetDataRequest{Path: "/c"}).Append(nil)
	if _, code := h.tree.Read(zkproto.OpGetData, body, sid, nil, nil); code != zkproto.ErrNoAuth {
		t.Errorf("read without identities: %v", code)
	}
	if _, code := h.tree.Read(zkproto.OpGetData, body, sid, []zkproto.Id{{Scheme: SchemeSuper}}, nil); code != zkproto.OK {
		t.Errorf("read as super: %v", code)
	}
	checkInvariants(t, h.tree)
}

func TestValidNames(t *testing.T) {
	for _, c := range []struct {
		id   string
		x500 bool
		krb  bool
	}{
		{"CN=a,O=b", true, true},
		{`CN=a\,b,O=c`, true, true},
		{`CN="a,b"`, true, true},
		{"CN=a+OU=b", true, true},
		{"", true, true},
		{"noequals", false, true},
		{"=x", false, true},
		{"u@R", false, true},
		{"svc/host@R", false, true},
		{"svc/h/x@R", false, false},
		{"a@b@c", false, false},
	} {
		if got := validX500Name([]byte(c.id)); got != c.x500 {
			t.Errorf("validX500Name(%q) = %v", c.id, got)
		}
		if got := validKerberosName([]byte(c.id)); got != c.krb {
			t.Errorf("validKerberosName(%q) = %v", c.id, got)
		}
	}
}
