package tree

import (
	"testing"

	"github.com/vrkeeper/vrkeeper/zkproto"
)

// TestAuthSchemes: the x509 and sasl schemes are valid ACL schemes only
// with their provider on; their identities match equal ids (sasl's "super"
// matches any sasl entry), expand "auth", and skipACL turns every check
// off while ACLs are still validated.
func TestAuthSchemes(t *testing.T) {
	x509ID := zkproto.Id{Scheme: SchemeX509, ID: "CN=app,O=Example"}
	saslID := zkproto.Id{Scheme: SchemeSASL, ID: "bob"}
	acl := func(scheme, id string) []zkproto.ACL {
		return []zkproto.ACL{{Perms: zkproto.PermAll, ID: zkproto.Id{Scheme: scheme, ID: id}}}
	}
	cases := []struct {
		name    string
		cfg     Config
		creator []zkproto.Id
		acl     []zkproto.ACL
		code    zkproto.Code
		reader  []zkproto.Id
		read    zkproto.Code
	}{
		{"x509 off", Config{}, nil, acl("x509", "CN=app,O=Example"), zkproto.ErrInvalidACL, nil, 0},
		{"x509 on, same id reads", Config{X509: true}, nil, acl("x509", "CN=app,O=Example"), zkproto.OK, []zkproto.Id{x509ID}, zkproto.OK},
		{"x509 other id", Config{X509: true}, nil, acl("x509", "CN=other"), zkproto.OK, []zkproto.Id{x509ID}, zkproto.ErrNoAuth},
		{"x509 bad name", Config{X509: true}, nil, acl("x509", "not a name"), zkproto.ErrInvalidACL, nil, 0},
		{"x509 auth expands", Config{X509: true}, []zkproto.Id{x509ID}, acl("auth", ""), zkproto.OK, []zkproto.Id{x509ID}, zkproto.OK},
		{"x509 auth needs provider", Config{}, []zkproto.Id{x509ID}, acl("auth", ""), zkproto.ErrInvalidACL, nil, 0},
		{"sasl off", Config{}, nil, acl("sasl", "bob"), zkproto.ErrInvalidACL, nil, 0},
		{"sasl on", Config{SASL: true}, nil, acl("sasl", "bob"), zkproto.OK, []zkproto.Id{saslID}, zkproto.OK},
		{"sasl other", Config{SASL: true}, nil, acl("sasl", "alice"), zkproto.OK, []zkproto.Id{saslID}, zkproto.ErrNoAuth},
		{"sasl super user matches", Config{SASL: true}, nil, acl("sasl", "alice"), zkproto.OK, []zkproto.Id{{Scheme: SchemeSASL, ID: "super"}}, zkproto.OK},
		{"sasl kerberos principal", Config{SASL: true}, nil, acl("sasl", "zk/host@REALM"), zkproto.OK, nil, zkproto.ErrNoAuth},
		{"sasl bad principal", Config{SASL: true}, nil, acl("sasl", "a@b@c"), zkproto.ErrInvalidACL, nil, 0},
		{"sasl auth expands", Config{SASL: true}, []zkproto.Id{saslID}, acl("auth", ""), zkproto.OK, []zkproto.Id{saslID}, zkproto.OK},
		{"digest other, skipACL", Config{SkipACL: true}, nil, acl("digest", "u:x"), zkproto.OK, nil, zkproto.OK},
		{"skipACL still validates", Config{SkipACL: true}, nil, acl("nosuch", "x"), zkproto.ErrInvalidACL, nil, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, c.cfg)
			sid := h.open()
			out := h.write(sid, c.creator, zkproto.OpCreate, &zkproto.CreateRequest{Path: "/n", Data: []byte("d"), ACL: c.acl})
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
