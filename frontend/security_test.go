package frontend

import (
	"crypto/tls"
	"crypto/x509/pkix"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/vrkeeper/vrkeeper/internal/sasl"
	"github.com/vrkeeper/vrkeeper/internal/testpki"
	"github.com/vrkeeper/vrkeeper/internal/tlsconf"
	"github.com/vrkeeper/vrkeeper/tree"
	"github.com/vrkeeper/vrkeeper/zkproto"
)

// testTLS is a CA with a server certificate and client certificates.
type testTLS struct {
	server                *tlsconf.Source
	ca                    *testpki.CA
	alice, bob, superUser tls.Certificate
	rogue                 tls.Certificate // from a CA the server does not trust
}

func newTestTLS(t *testing.T, auth tlsconf.ClientAuth) *testTLS {
	t.Helper()
	ca, err := testpki.NewCA("ca")
	if err != nil {
		t.Fatal(err)
	}
	other, _ := testpki.NewCA("other")
	dir := t.TempDir()
	srvLeaf, err := ca.Issue(pkix.Name{CommonName: "server"}, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	files, err := srvLeaf.Write(dir, "server")
	if err != nil {
		t.Fatal(err)
	}
	src, err := tlsconf.New(tlsconf.Settings{KeyStore: files.KeyPEM, TrustStore: files.TrustPEM, ClientAuth: auth})
	if err != nil {
		t.Fatal(err)
	}
	issue := func(ca *testpki.CA, cn string) tls.Certificate {
		l, err := ca.Issue(pkix.Name{CommonName: cn, Organization: []string{"Example"}})
		if err != nil {
			t.Fatal(err)
		}
		return l.TLS()
	}
	return &testTLS{server: src, ca: ca, alice: issue(ca, "alice"), bob: issue(ca, "bob"),
		superUser: issue(ca, "root"), rogue: issue(other, "alice")}
}

// client is a TLS client configuration presenting cert (nil: none).
func (p *testTLS) client(cert *tls.Certificate) *tls.Config {
	c := &tls.Config{RootCAs: p.ca.Pool(), ServerName: "127.0.0.1"}
	if cert != nil {
		c.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }
	}
	return c
}

func dialRawTLS(t *testing.T, addr string, cfg *tls.Config) (*rawConn, error) {
	t.Helper()
	nc, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, cfg)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(20 * time.Second))
	return &rawConn{t: t, nc: nc, fr: zkproto.NewFrameReader(nc, 64<<20)}, nil
}

// startSecure runs a server with a secure port and returns the plain and
// the secure address.
func startSecure(t *testing.T, p *testTLS, mutate func(*Security)) (plain, secure string) {
	t.Helper()
	scfg, err := p.server.ServerConfig()
	if err != nil {
		t.Fatal(err)
	}
	srv := startServerWith(t, func(c *Config) {
		c.Security = Security{SecureClientAddr: "127.0.0.1:0", TLS: scfg, X509: true}
		if mutate != nil {
			mutate(&c.Security)
		}
	})
	return srv.Addr().String(), srv.SecureAddr().String()
}

// TestSecurePortX509: TLS clients on the secure port and plain ones on the
// client port side by side; a client certificate is an x509 identity that
// ACLs name (through "auth" too), the configured super user reads
// everything, and a client without a trusted certificate cannot connect
// when clientAuth is need.
func TestSecurePortX509(t *testing.T) {
	p := newTestTLS(t, tlsconf.ClientAuthNeed)
	plain, secure := startSecure(t, p, func(s *Security) { s.X509SuperUser = "CN=root,O=Example" })
	session := func(cert *tls.Certificate) *rawConn {
		r, err := dialRawTLS(t, secure, p.client(cert))
		if err != nil {
			t.Fatal(err)
		}
		if resp, _ := r.handshake(zkproto.ConnectRequest{TimeOut: 5000}); resp.SessionID == 0 {
			t.Fatal("no session")
		}
		return r
	}
	alice := session(&p.alice)
	authACL := []zkproto.ACL{{Perms: zkproto.PermAll, ID: zkproto.Id{Scheme: "auth"}}}
	if code, _ := alice.call(zkproto.OpCreate, &zkproto.CreateRequest{Path: "/a", Data: []byte("x"), ACL: authACL}, nil); code != zkproto.OK {
		t.Fatalf("create: %v", code)
	}
	var acl zkproto.GetACLResponse
	if code, _ := alice.call(zkproto.OpGetACL, &zkproto.GetACLRequest{Path: "/a"}, &acl); code != zkproto.OK ||
		len(acl.ACL) != 1 || acl.ACL[0].ID != (zkproto.Id{Scheme: "x509", ID: "CN=alice,O=Example"}) {
		t.Fatalf("getACL: %v %+v", code, acl.ACL)
	}
	var who zkproto.WhoAmIResponse
	if code, _ := alice.call(zkproto.OpWhoAmI, nil, &who); code != zkproto.OK || !strings.Contains(fmt.Sprint(who.ClientInfo), "CN=alice,O=Example") {
		t.Fatalf("whoAmI: %v %+v", code, who)
	}
	get := &zkproto.GetDataRequest{Path: "/a"}
	for _, c := range []struct {
		name string
		r    *rawConn
		want zkproto.Code
	}{
		{"alice", alice, zkproto.OK},
		{"bob", session(&p.bob), zkproto.ErrNoAuth},
		{"super user", session(&p.superUser), zkproto.OK},
		{"plain port", newSession(t, plain), zkproto.ErrNoAuth},
	} {
		if code, _ := c.r.call(zkproto.OpGetData, get, nil); code != c.want {
			t.Errorf("%s: getData %v, want %v", c.name, code, c.want)
		}
	}
	for name, cfg := range map[string]*tls.Config{"no certificate": p.client(nil), "untrusted certificate": p.client(&p.rogue)} {
		r, err := dialRawTLS(t, secure, cfg)
		if err == nil {
			// TLS 1.3: the client learns of the refusal on its first read.
			r.write(zkproto.AppendRecordFrame(nil, &zkproto.ConnectRequest{TimeOut: 5000, Passwd: make([]byte, 16)}))
			_, err = r.fr.ReadFrame()
		}
		if err == nil {
			t.Errorf("%s: connected", name)
		}
	}
	// A plain client on the secure port gets nothing.
	r := dialRaw(t, secure)
	r.write(zkproto.AppendRecordFrame(nil, &zkproto.ConnectRequest{TimeOut: 5000, Passwd: make([]byte, 16)}))
	if _, err := r.fr.ReadFrame(); err == nil {
		t.Error("a plain client was answered on the secure port")
	}
}

// TestSecurePortWant: with clientAuth=want a client may come without a
// certificate (and has no x509 identity); with none none is asked for.
func TestSecurePortWant(t *testing.T) {
	for _, auth := range []tlsconf.ClientAuth{tlsconf.ClientAuthWant, tlsconf.ClientAuthNone} {
		p := newTestTLS(t, auth)
		_, secure := startSecure(t, p, nil)
		for _, cert := range []*tls.Certificate{nil, &p.alice} {
			r, err := dialRawTLS(t, secure, p.client(cert))
			if err != nil {
				t.Fatal(err)
			}
			if resp, _ := r.handshake(zkproto.ConnectRequest{TimeOut: 5000}); resp.SessionID == 0 {
				t.Fatal("no session")
			}
			var who zkproto.WhoAmIResponse
			r.call(zkproto.OpWhoAmI, nil, &who)
			hasX509 := strings.Contains(fmt.Sprint(who.ClientInfo), "x509")
			if want := cert != nil && auth == tlsconf.ClientAuthWant; hasX509 != want {
				t.Errorf("clientAuth %v, certificate %v: x509 identity %v", auth, cert != nil, hasX509)
			}
		}
	}
}

// saslLogin runs the DIGEST-MD5 exchange as ZooKeeper's Java client does
// and returns the code of the last answer.
func saslLogin(t *testing.T, r *rawConn, user, password string) zkproto.Code {
	t.Helper()
	var resp zkproto.SetSASLResponse
	if code, _ := r.call(zkproto.OpSASL, &zkproto.GetSASLRequest{Token: []byte{}}, &resp); code != zkproto.OK {
		return code
	}
	d := map[string]string{}
	for _, kv := range strings.Split(string(resp.Token), ",") {
		k, v, _ := strings.Cut(kv, "=")
		d[k] = strings.Trim(v, `"`)
	}
	uri := "zookeeper/zk-sasl-md5"
	ha1 := sasl.HA1(user, d["realm"], password, d["nonce"], "cnonce1")
	rsp := sasl.Response(ha1, d["nonce"], "00000001", "cnonce1", "auth", "AUTHENTICATE:"+uri)
	token := fmt.Sprintf(`charset=utf-8,username="%s",realm="%s",nonce="%s",nc=00000001,cnonce="cnonce1",digest-uri="%s",maxbuf=65536,response=%s,qop=auth`,
		user, d["realm"], d["nonce"], uri, rsp)
	code, _ := r.call(zkproto.OpSASL, &zkproto.GetSASLRequest{Token: []byte(token)}, &resp)
	if code == zkproto.OK && !strings.HasPrefix(string(resp.Token), "rspauth=") {
		t.Fatalf("final token %q", resp.Token)
	}
	return code
}

// TestSASLDigest: DIGEST-MD5 with the server's users gives a sasl
// identity; a wrong password is AUTHFAILED and closes the connection;
// zookeeper.superUser's user is super.
func TestSASLDigest(t *testing.T) {
	addr := startServer(t, func(c *Config) {
		c.Security = Security{SASLUsers: map[string]string{"bob": "bobsecret", "admin": "adminsecret"}, SASLSuperUsers: []string{"admin"}}
	})
	bob := newSession(t, addr)
	if code := saslLogin(t, bob, "bob", "bobsecret"); code != zkproto.OK {
		t.Fatalf("login: %v", code)
	}
	authACL := []zkproto.ACL{{Perms: zkproto.PermAll, ID: zkproto.Id{Scheme: "auth"}}}
	if code, _ := bob.call(zkproto.OpCreate, &zkproto.CreateRequest{Path: "/s", ACL: authACL}, nil); code != zkproto.OK {
		t.Fatalf("create: %v", code)
	}
	var acl zkproto.GetACLResponse
	if bob.call(zkproto.OpGetACL, &zkproto.GetACLRequest{Path: "/s"}, &acl); len(acl.ACL) != 1 || acl.ACL[0].ID != (zkproto.Id{Scheme: "sasl", ID: "bob"}) {
		t.Fatalf("acl %+v", acl.ACL)
	}
	get := &zkproto.GetDataRequest{Path: "/s"}
	if code, _ := newSession(t, addr).call(zkproto.OpGetData, get, nil); code != zkproto.ErrNoAuth {
		t.Fatalf("anonymous getData: %v", code)
	}
	admin := newSession(t, addr)
	if code := saslLogin(t, admin, "admin", "adminsecret"); code != zkproto.OK {
		t.Fatal(code)
	}
	if code, _ := admin.call(zkproto.OpGetData, get, nil); code != zkproto.OK {
		t.Fatalf("super getData: %v", code)
	}
	bad := newSession(t, addr)
	if code := saslLogin(t, bad, "bob", "wrong"); code != zkproto.ErrAuthFailed {
		t.Fatalf("wrong password: %v", code)
	}
	bad.expectClosed()
}

// TestSASLOff: a server without SASL answers a sasl packet with no token.
func TestSASLOff(t *testing.T) {
	r := newSession(t, startServer(t, nil))
	var resp zkproto.SetSASLResponse
	if code, _ := r.call(zkproto.OpSASL, &zkproto.GetSASLRequest{Token: []byte{}}, &resp); code != zkproto.OK || len(resp.Token) != 0 {
		t.Fatalf("%v %q", code, resp.Token)
	}
}

// TestEnforceAuth: with enforce.auth.schemes a request from a connection
// without an identity of those schemes is answered
// SESSIONCLOSEDREQUIRESASLAUTH and the connection closed; auth and sasl
// packets pass, and an authenticated connection is served.
func TestEnforceAuth(t *testing.T) {
	addr := startServer(t, func(c *Config) {
		c.Security = Security{SASLUsers: map[string]string{"bob": "pw"}, EnforceSchemes: []string{"sasl", "digest"}}
	})
	get := &zkproto.GetDataRequest{Path: "/"}
	anon := newSession(t, addr)
	if code, _ := anon.call(zkproto.OpGetData, get, nil); code != zkproto.ErrSessionClosedRequireSASLAuth {
		t.Fatalf("anonymous: %v", code)
	}
	anon.expectClosed()
	viaSASL := newSession(t, addr)
	if code := saslLogin(t, viaSASL, "bob", "pw"); code != zkproto.OK {
		t.Fatal(code)
	}
	if code, _ := viaSASL.call(zkproto.OpGetData, get, nil); code != zkproto.OK {
		t.Fatalf("after sasl: %v", code)
	}
	viaDigest := newSession(t, addr)
	viaDigest.write(zkproto.AppendRequestFrame(nil, &zkproto.RequestHeader{Xid: zkproto.AuthXid, Type: zkproto.OpAuth},
		&zkproto.AuthPacket{Scheme: "digest", Auth: []byte("u:p")}))
	if h, _ := viaDigest.frame(); h.Xid != zkproto.AuthXid || h.Err != zkproto.OK {
		t.Fatalf("auth: %+v", h)
	}
	if code, _ := viaDigest.call(zkproto.OpGetData, get, nil); code != zkproto.OK {
		t.Fatalf("after digest: %v", code)
	}
	failed := newSession(t, addr)
	if code := saslLogin(t, failed, "bob", "nope"); code != zkproto.ErrSessionClosedRequireSASLAuth {
		t.Fatalf("failed sasl with sasl enforced: %v", code)
	}
}

// TestSkipACL: every check is off, watch events reach every watcher.
func TestSkipACL(t *testing.T) {
	addr := startServer(t, func(c *Config) { c.Security.SkipACL = true })
	owner := newSession(t, addr)
	closed := []zkproto.ACL{{Perms: zkproto.PermAll, ID: zkproto.Id{Scheme: "digest", ID: "u:AAAAAAAAAAAAAAAAAAAAAAAAAAA="}}}
	if code, _ := owner.call(zkproto.OpCreate, &zkproto.CreateRequest{Path: "/c", ACL: closed}, nil); code != zkproto.OK {
		t.Fatal(code)
	}
	other := newSession(t, addr)
	if code, _ := other.call(zkproto.OpGetData, &zkproto.GetDataRequest{Path: "/c", Watch: true}, nil); code != zkproto.OK {
		t.Fatalf("getData: %v", code)
	}
	code, events := other.call(zkproto.OpSetData, &zkproto.SetDataRequest{Path: "/c", Data: []byte("z"), Version: -1}, nil)
	if code != zkproto.OK {
		t.Fatalf("setData: %v", code)
	}
	// The event comes before the reply that reflects the change.
	if len(events) != 1 || events[0].Type != zkproto.EventNodeDataChanged {
		t.Fatalf("events %+v", events)
	}
}

// TestACLSchemesFollowProviders: an ACL naming the x509 or sasl scheme is
// valid only on a server with that provider, as in ZooKeeper: the server
// that accepts the write decides, and its command says so
// (tree.WritePolicy), so the replicas agree whatever their own providers.
func TestACLSchemesFollowProviders(t *testing.T) {
	acl := func(scheme, id string) []zkproto.ACL {
		return []zkproto.ACL{{Perms: zkproto.PermAll, ID: zkproto.Id{Scheme: scheme, ID: id}}}
	}
	for _, c := range []struct {
		name       string
		sec        Security
		x509, sasl zkproto.Code
	}{
		{"no provider", Security{}, zkproto.ErrInvalidACL, zkproto.ErrInvalidACL},
		{"x509", Security{X509: true}, zkproto.OK, zkproto.ErrInvalidACL},
		{"sasl", Security{SASLUsers: map[string]string{"bob": "pw"}}, zkproto.ErrInvalidACL, zkproto.OK},
		{"skipACL", Security{SkipACL: true}, zkproto.ErrInvalidACL, zkproto.ErrInvalidACL},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newSession(t, startServer(t, func(cfg *Config) { cfg.Security = c.sec }))
			if code, _ := r.call(zkproto.OpCreate, &zkproto.CreateRequest{Path: "/x", ACL: acl("x509", "CN=a,O=b")}, nil); code != c.x509 {
				t.Errorf("create with an x509 ACL: %v, want %v", code, c.x509)
			}
			if code, _ := r.call(zkproto.OpCreate, &zkproto.CreateRequest{Path: "/s", ACL: acl("sasl", "bob")}, nil); code != c.sasl {
				t.Errorf("create with a sasl ACL: %v, want %v", code, c.sasl)
			}
			if code, _ := r.call(zkproto.OpCreate, &zkproto.CreateRequest{Path: "/o", ACL: acl("world", "anyone")}, nil); code != zkproto.OK {
				t.Fatal(code)
			}
			if code, _ := r.call(zkproto.OpSetACL, &zkproto.SetACLRequest{Path: "/o", ACL: acl("x509", "CN=a,O=b"), Version: -1}, nil); code != c.x509 {
				t.Errorf("setACL x509: %v, want %v", code, c.x509)
			}
		})
	}
}

// TestWritePolicy: each setting of the server's own that decides how a
// write applies is a bit of the policy its writes carry.
func TestWritePolicy(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want tree.WritePolicy
	}{
		{Config{}, 0},
		{Config{ExtendedTypes: true}, tree.PolicyExtendedTypes},
		{Config{ContainerMaxNeverUsed: 1000}, 0}, // travels in clean-ups, not writes
		{Config{Security: Security{X509: true, SkipACL: true}}, tree.PolicyX509 | tree.PolicySkipACL},
		{Config{ExtendedTypes: true, Security: Security{SASLUsers: map[string]string{}}}, tree.PolicyExtendedTypes | tree.PolicySASL},
	} {
		if got := tc.cfg.writePolicy(); got != tc.want {
			t.Errorf("%+v: policy %#x, want %#x", tc.cfg, got, tc.want)
		}
	}
}
