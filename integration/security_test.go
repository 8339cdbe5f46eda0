package integration

import (
	"crypto/tls"
	"crypto/x509/pkix"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/vrkeeper/vrkeeper/consensus"
	"github.com/vrkeeper/vrkeeper/consensus/wire"
	"github.com/vrkeeper/vrkeeper/internal/testpki"
)

// The tests of this file run ZooKeeper's own clients against vrkeeper's
// secure client port (TLS), its x509 identities, SASL DIGEST-MD5 with the
// server's JAAS users, and replication links over mutual TLS
// (sslQuorum). The certificates are made at test time.

// securePKI is a CA, server certificates for 127.0.0.1-3 and client
// certificates, written as PEM and PKCS#12 stores in dir.
type securePKI struct {
	dir     string
	server  testpki.Files
	clients map[string]testpki.Files // by common name
}

func newSecurePKI(t *testing.T, clients ...string) *securePKI {
	t.Helper()
	p := &securePKI{dir: t.TempDir(), clients: map[string]testpki.Files{}}
	ca, err := testpki.NewCA("vrkeeper test ca")
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.Issue(pkix.Name{CommonName: "vrkeeper"}, "127.0.0.1", "127.0.0.2", "127.0.0.3", "localhost")
	if err != nil {
		t.Fatal(err)
	}
	if p.server, err = leaf.Write(p.dir, "server"); err != nil {
		t.Fatal(err)
	}
	for _, cn := range clients {
		l, err := ca.Issue(pkix.Name{CommonName: cn, Organization: []string{"Example"}})
		if err != nil {
			t.Fatal(err)
		}
		if p.clients[cn], err = l.Write(p.dir, cn); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

// serverTLSLines are the zoo.cfg lines of a secure client port in a
// PKCS#12 key store and a PEM trust store (both kinds are exercised).
func (p *securePKI) serverTLSLines(clientAuth string) []string {
	return []string{
		"ssl.keyStore.location=" + p.server.KeyP12, "ssl.keyStore.password=secret", "ssl.keyStore.type=PKCS12",
		"ssl.trustStore.location=" + p.server.TrustPEM, "ssl.trustStore.type=PEM",
		"ssl.clientAuth=" + clientAuth,
		"authProvider.x509=org.apache.zookeeper.server.auth.X509AuthenticationProvider",
	}
}

// quorumTLSLines turn on mutual TLS between the servers.
func (p *securePKI) quorumTLSLines() []string {
	return []string{"sslQuorum=true",
		"ssl.quorum.keyStore.location=" + p.server.KeyPEM, "ssl.quorum.trustStore.location=" + p.server.TrustPEM}
}

// javaTLSFlags are a Java client's TLS properties: Netty, the PEM trust
// store and, for a named client, its PEM key store.
func (p *securePKI) javaTLSFlags(client string) []string {
	// Debian's zookeeper.jar names no netty-resolver nor netty-codec in its
	// class path, which the Netty socket needs: zkCli.sh takes a later -cp.
	flags := []string{"-cp", "/etc/zookeeper/conf:" + javaLibPath + "/" + strings.Join([]string{"zookeeper", "netty-resolver", "netty-codec",
		"netty-transport-native-unix-common"}, ".jar:"+javaLibPath+"/") + ".jar",
		"-Dzookeeper.client.secure=true", "-Dzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty",
		"-Dzookeeper.ssl.trustStore.location=" + p.server.TrustPEM, "-Dzookeeper.ssl.trustStore.type=PEM"}
	if client != "" {
		flags = append(flags, "-Dzookeeper.ssl.keyStore.location="+p.clients[client].KeyPEM, "-Dzookeeper.ssl.keyStore.type=PEM")
	}
	return flags
}

// startSecureCluster starts n servers, each with a secure client port;
// secure[i] is server i's.
func startSecureCluster(t *testing.T, n int, extra ...string) (c *cluster, secure []string) {
	t.Helper()
	c = startClusterEach(t, n, func(s *server) []string {
		host, _, _ := net.SplitHostPort(s.clientAddr)
		addr := net.JoinHostPort(host, freePort(t, host))
		secure = append(secure, addr)
		_, port, _ := net.SplitHostPort(addr)
		return []string{"secureClientPort=" + port, "secureClientPortAddress=" + host}
	}, extra...)
	return c, secure
}

// checkZkCli runs zkCli steps and checks each step's output.
func checkZkCli(t *testing.T, env []string, addr string, steps []zkCliStep) {
	t.Helper()
	outs := runZkCliEnv(t, env, addr, steps)
	for i, s := range steps {
		// The connection's own event may come before any step's output.
		outs[i] = slices.DeleteFunc(outs[i], func(l string) bool {
			return l == "WATCHER::" || l == "WatchedEvent state:SyncConnected type:None path:null" ||
				l == "WatchedEvent state:SaslAuthenticated type:None path:null"
		})
		if s.want != nil && !slices.Equal(outs[i], s.want) {
			t.Errorf("%s:\n  got  %q\n  want %q", s.cmd, outs[i], s.want)
		}
	}
}

// TestTLSZkCliX509: zkCli.sh over TLS (Netty, PEM stores) with a client
// certificate (clientAuth=need): the certificate is an x509 identity that
// whoami shows and that an "auth" ACL names; another certificate and a
// plain connection on the client port are refused by the ACL, and a
// client without a certificate does not get a session.
func TestTLSZkCliX509(t *testing.T) {
	p := newSecurePKI(t, "alice", "bob")
	c, secure := startSecureCluster(t, 1, p.serverTLSLines("need")...)
	alice := []string{"CLIENT_JVMFLAGS=" + strings.Join(p.javaTLSFlags("alice"), " ")}
	checkZkCli(t, alice, secure[0], []zkCliStep{
		{"create /tls data", lines("Created /tls")},
		{"whoami", lines("Auth scheme: User", "x509: CN=alice,O=Example", "ip: 127.0.0.1")},
		{"setAcl /tls auth::cdrwa", nil},
		// zkCli prints ids CSV-encoded: the comma as %2C.
		{"getAcl /tls", lines("'x509,'CN=alice%2CO=Example", ": cdrwa")},
		{"get /tls", lines("data")},
	})
	bob := []string{"CLIENT_JVMFLAGS=" + strings.Join(p.javaTLSFlags("bob"), " ")}
	checkZkCli(t, bob, secure[0], []zkCliStep{
		{"get /tls", lines("Insufficient permission : /tls")},
		{"whoami", lines("Auth scheme: User", "x509: CN=bob,O=Example", "ip: 127.0.0.1")},
	})
	checkZkCli(t, nil, c.servers[0].clientAddr, []zkCliStep{
		{"get /tls", lines("Insufficient permission : /tls")},
	})
	// No certificate: the handshake fails, and zkCli never connects.
	noCert := []string{"CLIENT_JVMFLAGS=" + strings.Join(p.javaTLSFlags(""), " ")}
	out := runZkCliEnv(t, noCert, secure[0], []zkCliStep{{"get /tls", nil}})
	if !strings.Contains(strings.Join(out[0], "\n"), "ConnectionLoss") {
		t.Errorf("a client without a certificate: %q", out[0])
	}
}

// TestTLSJavaClient runs ZooKeeper's Java client through every call of
// ClientCheck over TLS (the PEM trust store, no client certificate:
// clientAuth=want) and compares every observation with ZooKeeper's over
// plain TCP; on three servers the replication links are mutual TLS
// (sslQuorum) and the client moves between servers.
func TestTLSJavaClient(t *testing.T) {
	needFile(t, filepath.Join(javaLibPath, "zookeeper.jar"), "libzookeeper-java")
	p := newSecurePKI(t)
	classes := t.TempDir()
	runClient(t, "javac", "-nowarn", "-cp", javaClasspath(), "-d", classes, filepath.Join("testdata", "ClientCheck.java"))
	for _, n := range []int{1, 3} {
		t.Run(fmt.Sprintf("%d servers", n), func(t *testing.T) {
			extra := p.serverTLSLines("want")
			if n > 1 {
				extra = append(extra, p.quorumTLSLines()...)
			}
			_, secure := startSecureCluster(t, n, extra...)
			args := append(p.javaTLSFlags(""), "-Xss512k", "-XX:TieredStopAtLevel=1", "-cp", classes+":"+javaClasspath(),
				"ClientCheck", strings.Join(secure, ","), "client")
			checkObservations(t, observations(runClient(t, "java", args...)), javaClientWant)
		})
	}
}

// TestTLSKazoo: kazoo with use_ssl, its CA and a client certificate
// (certfile, keyfile) on the secure port; the certificate is its identity.
func TestTLSKazoo(t *testing.T) {
	needFile(t, systemPy, "python3")
	p := newSecurePKI(t, "kazoo")
	_, secure := startSecureCluster(t, 1, p.serverTLSLines("need")...)
	k := p.clients["kazoo"]
	out := runClient(t, systemPy, filepath.Join("testdata", "kazoo_tls.py"), secure[0], p.server.TrustPEM, k.CertPEM, k.KeyOnly)
	checkObservations(t, observations(out), []string{
		"connected: True",
		"create: /kazoo-tls",
		"acl: x509 CN=kazoo,O=Example 31",
		"get: b'over tls'",
		"without a certificate: failed",
	})
}

// TestSASLDigestZkCli: zkCli.sh logs in with JAAS's DigestLoginModule
// (DIGEST-MD5) against the users of the server's JAAS file; its identity
// is sasl:bob, which ACLs name; a wrong password is refused; with
// sessionRequireClientSASLAuth a client without SASL is turned away.
func TestSASLDigestZkCli(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	serverJAAS := write("server-jaas.conf", `Server {
       org.apache.zookeeper.server.auth.DigestLoginModule required
       user_super="adminsecret"
       user_bob="bobsecret";
};
`)
	client := func(user, password string) []string {
		path := write("client-"+user+password+".conf", fmt.Sprintf(`Client {
       org.apache.zookeeper.server.auth.DigestLoginModule required
       username=%q
       password=%q;
};
`, user, password))
		return []string{"CLIENT_JVMFLAGS=-Djava.security.auth.login.config=" + path}
	}
	withJAAS := func(s *server) []string {
		s.env = []string{"SERVER_JVMFLAGS=-Djava.security.auth.login.config=" + serverJAAS + " -Dzookeeper.superUser=super"}
		return nil
	}
	c := startClusterEach(t, 1, withJAAS, "authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider")
	addr := c.servers[0].clientAddr
	checkZkCli(t, client("bob", "bobsecret"), addr, []zkCliStep{
		{"whoami", lines("Auth scheme: User", "sasl: bob", "ip: 127.0.0.1")},
		{"create /sasl data sasl:bob:cdrwa", lines("Created /sasl")},
		{"getAcl /sasl", lines("'sasl,'bob", ": cdrwa")},
		{"get /sasl", lines("data")},
	})
	checkZkCli(t, nil, addr, []zkCliStep{{"get /sasl", lines("Insufficient permission : /sasl")}})
	checkZkCli(t, client("super", "adminsecret"), addr, []zkCliStep{{"get /sasl", lines("data")}})
	wrong := runZkCliEnv(t, client("bob", "wrong"), addr, []zkCliStep{{"get /sasl", nil}})
	// As ZooKeeper: the AuthFailed event, then the request fails so.
	if got := strings.Join(wrong[0], "\n"); !strings.Contains(got, "WatchedEvent state:AuthFailed type:None path:null") ||
		!strings.Contains(got, "KeeperErrorCode = AuthFailed for /sasl") {
		t.Errorf("a wrong password: %q", wrong[0])
	}

	enforced := startClusterEach(t, 1, withJAAS, "sessionRequireClientSASLAuth=true")
	addr = enforced.servers[0].clientAddr
	checkZkCli(t, client("bob", "bobsecret"), addr, []zkCliStep{{"create /e e", lines("Created /e")}})
	// As ZooKeeper 3.8 answers a client without SASL.
	anon := runZkCliEnv(t, nil, addr, []zkCliStep{{"get /e", nil}})
	if got := strings.Join(anon[0], "\n"); !strings.Contains(got, "KeeperErrorCode = Session closed because client failed to authenticate for /e") {
		t.Errorf("a client without SASL: %q", anon[0])
	}
}

// TestSSLQuorumIntruders: three servers with mutual TLS between them
// (sslQuorum). A process without TLS, or with a certificate from another
// CA, that connects to a server's peer port claiming to be a member and
// sends a Prepare is refused and logged; a server started with another
// CA's certificate cannot join (the others refuse it, it never serves);
// the cluster goes on serving throughout.
func TestSSLQuorumIntruders(t *testing.T) {
	p := newSecurePKI(t)
	rogueCA, err := testpki.NewCA("someone else's ca")
	if err != nil {
		t.Fatal(err)
	}
	rogueLeaf, _ := rogueCA.Issue(pkix.Name{CommonName: "vrkeeper"}, "127.0.0.1", "127.0.0.2", "127.0.0.3")
	rogue, err := rogueLeaf.Write(t.TempDir(), "rogue")
	if err != nil {
		t.Fatal(err)
	}
	c := startCluster(t, 3, p.quorumTLSLines()...)
	prepare, err := wire.Encode(nil, &consensus.Prepare{Header: consensus.Header{View: 1 << 40},
		Entries: []consensus.Entry{{Op: 1, View: 1 << 40, Cmd: []byte("injected")}}, Commit: 1})
	if err != nil {
		t.Fatal(err)
	}
	var frames []byte
	hello := append([]byte("VRKPEER1"), make([]byte, 16)...)
	binary.BigEndian.PutUint64(hello[8:], 2)
	binary.BigEndian.PutUint64(hello[16:], 1)
	for _, f := range [][]byte{hello, prepare} {
		frames = binary.BigEndian.AppendUint32(frames, uint32(len(f)))
		frames = append(frames, f...)
	}
	rogueCert := rogueLeaf.TLS()
	dials := map[string]func(raw net.Conn) net.Conn{
		"plain": func(raw net.Conn) net.Conn { return raw },
		"rogue certificate": func(raw net.Conn) net.Conn {
			return tls.Client(raw, &tls.Config{InsecureSkipVerify: true, Certificates: []tls.Certificate{rogueCert}})
		},
	}
	logPath := filepath.Join(c.servers[0].dir, "server.log")
	for name, dial := range dials {
		before, _ := os.ReadFile(logPath)
		raw, err := net.Dial("tcp", c.servers[0].peerAddr)
		if err != nil {
			t.Fatal(err)
		}
		conn := dial(raw)
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		conn.Write(frames)
		io.Copy(io.Discard, conn)
		// The server logs, then closes the TCP connection (a TLS alert may
		// come before the log line): wait for the close.
		io.Copy(io.Discard, raw)
		raw.Close()
		after, _ := os.ReadFile(logPath)
		if !strings.Contains(string(after[len(before):]), "refused a peer connection") {
			t.Errorf("%s: no refusal logged; log after the attempt:\n%s", name, after[len(before):])
		}
	}
	// A server with another CA's certificate in place of server 3.
	c.kill(2)
	s3 := c.servers[2]
	cfg, _ := os.ReadFile(filepath.Join(s3.dir, "zoo.cfg"))
	cfgText := strings.NewReplacer(p.server.KeyPEM, rogue.KeyPEM, p.server.TrustPEM, rogue.TrustPEM).Replace(string(cfg))
	os.WriteFile(filepath.Join(s3.dir, "zoo.cfg"), []byte(cfgText), 0o644)
	before1, _ := os.ReadFile(logPath)
	c.start(s3)
	// Wait (polling the log: the only sign another process gives) until
	// server 1 has refused the impostor.
	deadline := time.Now().Add(30 * time.Second)
	for {
		after, _ := os.ReadFile(logPath)
		if strings.Contains(string(after[len(before1):]), "refused a peer connection") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the impostor was not refused; server 1's log:\n%s", after[len(before1):])
		}
		time.Sleep(50 * time.Millisecond)
	}
	if m := mode(s3.clientAddr); m == "leader" || m == "follower" {
		t.Fatalf("the impostor serves as %s", m)
	}
	// The two members still serve, and agree.
	zc := connect(t, 10*time.Second, c.servers[0].clientAddr)
	if _, err := zc.Create("/after-intruders", []byte("ok"), 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	other := connect(t, 10*time.Second, c.servers[1].clientAddr)
	if d, _, err := other.Get("/after-intruders"); err != nil || string(d) != "ok" {
		t.Fatalf("read on server 2: %q %v", d, err)
	}
}
