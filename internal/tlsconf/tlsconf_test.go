package tlsconf

import (
	"crypto/tls"
	"crypto/x509/pkix"
	"encoding/asn1"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vrkeeper/vrkeeper/internal/testpki"
)

// pki is a CA, a server and a client certificate written as stores, and a
// second CA the server does not trust.
type pki struct {
	dir            string
	ca, other      *testpki.CA
	server, client testpki.Files
	rogue          testpki.Files
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	p := &pki{dir: t.TempDir()}
	var err error
	if p.ca, err = testpki.NewCA("test ca"); err != nil {
		t.Fatal(err)
	}
	if p.other, err = testpki.NewCA("other ca"); err != nil {
		t.Fatal(err)
	}
	write := func(ca *testpki.CA, name string, subj pkix.Name) testpki.Files {
		l, err := ca.Issue(subj, "127.0.0.1", "localhost")
		if err != nil {
			t.Fatal(err)
		}
		f, err := l.Write(p.dir, name)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	p.server = write(p.ca, "server", pkix.Name{CommonName: "server"})
	p.client = write(p.ca, "client", pkix.Name{CommonName: "client", OrganizationalUnit: []string{"ops"}, Organization: []string{"Example"}})
	p.rogue = write(p.other, "rogue", pkix.Name{CommonName: "rogue"})
	return p
}

// handshake runs a TLS handshake over real TCP between a server with src
// and a client with cfg; it returns the server's and the client's error.
func handshake(t *testing.T, src *Source, cfg *tls.Config) (serverErr, clientErr error, peer *tls.ConnectionState) {
	t.Helper()
	scfg, err := src.ServerConfig()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan error, 1)
	var st tls.ConnectionState
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer nc.Close()
		c := tls.Server(nc, scfg)
		err = c.Handshake()
		st = c.ConnectionState()
		if err == nil { // TLS 1.3: a refused client certificate shows on the first read
			_, err = c.Write([]byte{1})
		}
		done <- err
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	c := tls.Client(nc, cfg)
	clientErr = c.Handshake()
	if clientErr == nil {
		_, clientErr = c.Read(make([]byte, 1))
	}
	serverErr = <-done
	return serverErr, clientErr, &st
}

func clientCfg(t *testing.T, p *pki, keyStore string) *tls.Config {
	t.Helper()
	s := Settings{TrustStore: p.server.TrustPEM, KeyStore: keyStore, HostnameVerification: true}
	src, err := New(s)
	if err != nil {
		t.Fatal(err)
	}
	return src.ClientConfig("127.0.0.1")
}

func TestClientAuthModes(t *testing.T) {
	p := newPKI(t)
	cases := []struct {
		auth       ClientAuth
		clientKey  string
		ok         bool
		wantPeerCN string
	}{
		{ClientAuthNeed, p.client.KeyPEM, true, "client"},
		{ClientAuthNeed, "", false, ""},
		{ClientAuthNeed, p.rogue.KeyPEM, false, ""},
		{ClientAuthWant, p.client.KeyPEM, true, "client"},
		{ClientAuthWant, "", true, ""},
		{ClientAuthWant, p.rogue.KeyPEM, false, ""},
		{ClientAuthNone, "", true, ""},
		{ClientAuthNone, p.client.KeyPEM, true, ""},
	}
	for _, c := range cases {
		t.Run(c.auth.String()+"/"+filepath.Base(c.clientKey), func(t *testing.T) {
			src, err := New(Settings{KeyStore: p.server.KeyPEM, TrustStore: p.server.TrustPEM, ClientAuth: c.auth})
			if err != nil {
				t.Fatal(err)
			}
			var cfg *tls.Config
			if c.clientKey == p.rogue.KeyPEM {
				// The rogue client trusts the server's CA but holds another's certificate.
				cfg = clientCfg(t, p, "")
				l, _ := tls.LoadX509KeyPair(p.rogue.CertPEM, p.rogue.KeyOnly)
				// Sent whatever CAs the server names.
				cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &l, nil }
			} else {
				cfg = clientCfg(t, p, c.clientKey)
			}
			serr, cerr, st := handshake(t, src, cfg)
			if ok := serr == nil && cerr == nil; ok != c.ok {
				t.Fatalf("handshake ok=%v (server %v, client %v), want %v", ok, serr, cerr, c.ok)
			}
			cn := ""
			if len(st.PeerCertificates) > 0 {
				cn = st.PeerCertificates[0].Subject.CommonName
			}
			if c.ok && cn != c.wantPeerCN {
				t.Fatalf("peer certificate %q, want %q", cn, c.wantPeerCN)
			}
		})
	}
}

func TestStoreTypes(t *testing.T) {
	p := newPKI(t)
	cases := []struct {
		name                 string
		s                    Settings
		wantErr              string
		clientTrust, keyType string
	}{
		{name: "pem by extension", s: Settings{KeyStore: p.server.KeyPEM, TrustStore: p.server.TrustPEM}},
		{name: "pkcs12 by extension", s: Settings{KeyStore: p.server.KeyP12, KeyStorePassword: "secret", TrustStore: p.server.TrustP12, TrustStorePassword: "secret"}},
		{name: "pkcs12 typed", s: Settings{KeyStore: p.server.KeyP12, KeyStoreType: "pkcs12", KeyStorePassword: "secret"}},
		{name: "pkcs12 wrong password", s: Settings{KeyStore: p.server.KeyP12, KeyStorePassword: "nope"}, wantErr: "keyStore"},
		{name: "jks refused", s: Settings{KeyStore: "/x/store.jks"}, wantErr: "convert it to PKCS12"},
		{name: "unknown extension", s: Settings{KeyStore: "/x/store.bin"}, wantErr: "set its .type"},
		{name: "missing file", s: Settings{KeyStore: filepath.Join(p.dir, "none.pem")}, wantErr: "no such file"},
		{name: "trust store without certificates", s: Settings{KeyStore: p.server.KeyPEM, TrustStore: p.server.KeyOnly}, wantErr: "no certificate"},
		{name: "key store without key", s: Settings{KeyStore: p.server.CertPEM}, wantErr: "no private key"},
		{name: "tls 1.3 only", s: Settings{KeyStore: p.server.KeyPEM, Protocol: "TLSv1.3"}},
		{name: "bad protocol", s: Settings{KeyStore: p.server.KeyPEM, Protocol: "SSLv3"}, wantErr: "not supported"},
		{name: "ciphers", s: Settings{KeyStore: p.server.KeyPEM, CipherSuites: []string{"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256"}}},
		{name: "bad cipher", s: Settings{KeyStore: p.server.KeyPEM, CipherSuites: []string{"TLS_RSA_WITH_NULL_MD5"}}, wantErr: "not supported"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src, err := New(c.s)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c.s.ClientAuth = ClientAuthNone
			src.settings.ClientAuth = ClientAuthNone
			src.cur.server = src.serverConfig(src.cur)
			serr, cerr, _ := handshake(t, src, clientCfg(t, p, ""))
			if serr != nil || cerr != nil {
				t.Fatalf("handshake: server %v, client %v", serr, cerr)
			}
		})
	}
}

// TestProtocolsAndCiphersHonoured: a client limited to TLS 1.2 cannot talk
// to a TLS 1.3-only server, nor a client without the server's only suite.
func TestProtocolsAndCiphersHonoured(t *testing.T) {
	p := newPKI(t)
	src, err := New(Settings{KeyStore: p.server.KeyPEM, ClientAuth: ClientAuthNone, Protocol: "TLSv1.3"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := clientCfg(t, p, "")
	cfg.MaxVersion = tls.VersionTLS12
	if serr, cerr, _ := handshake(t, src, cfg); serr == nil && cerr == nil {
		t.Fatal("a TLS 1.2 client talked to a TLS 1.3-only server")
	}
	src, err = New(Settings{KeyStore: p.server.KeyPEM, ClientAuth: ClientAuthNone, EnabledProtocols: []string{"TLSv1.2"},
		CipherSuites: []string{"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"}})
	if err != nil {
		t.Fatal(err)
	}
	cfg = clientCfg(t, p, "")
	cfg.CipherSuites = []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}
	if serr, cerr, _ := handshake(t, src, cfg); serr == nil && cerr == nil {
		t.Fatal("a client without the server's cipher suite talked to it")
	}
	cfg.CipherSuites = []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384}
	serr, cerr, st := handshake(t, src, cfg)
	if serr != nil || cerr != nil || st.CipherSuite != tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 {
		t.Fatalf("server %v client %v suite %x", serr, cerr, st.CipherSuite)
	}
}

// TestReload: a key store replaced on disk is used by the next handshake
// once the source looks again; a broken file keeps the last good one.
func TestReload(t *testing.T) {
	p := newPKI(t)
	store := filepath.Join(p.dir, "live.pem")
	first, _ := os.ReadFile(p.server.KeyPEM)
	if err := testpki.WriteFileAtomic(store, first); err != nil {
		t.Fatal(err)
	}
	src, err := New(Settings{KeyStore: store, ClientAuth: ClientAuthNone})
	if err != nil {
		t.Fatal(err)
	}
	var reloads []error
	src.OnReload = func(err error) { reloads = append(reloads, err) }
	leafSerial := func() string { return src.Certificate().Leaf.SerialNumber.String() }
	before := leafSerial()
	newLeaf, err := p.ca.Issue(pkix.Name{CommonName: "server2"}, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if err := testpki.WriteFileAtomic(store, newLeaf.KeyPEM()); err != nil {
		t.Fatal(err)
	}
	src.Reload()
	if after := leafSerial(); after == before || after != newLeaf.Cert.SerialNumber.String() {
		t.Fatalf("certificate not reloaded: %s then %s", before, after)
	}
	// The client sees the new certificate.
	cfg := clientCfgInsecure()
	var seen string
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		seen = cs.PeerCertificates[0].Subject.CommonName
		return nil
	}
	if _, cerr, _ := handshake(t, src, cfg); cerr != nil || seen != "server2" {
		t.Fatalf("client saw %q (%v)", seen, cerr)
	}
	if err := testpki.WriteFileAtomic(store, []byte("garbage")); err != nil {
		t.Fatal(err)
	}
	src.Reload()
	if leafSerial() != newLeaf.Cert.SerialNumber.String() {
		t.Fatal("a broken store replaced the good certificate")
	}
	if len(reloads) != 2 || reloads[0] != nil || reloads[1] == nil {
		t.Fatalf("reloads reported %v", reloads)
	}
}

func clientCfgInsecure() *tls.Config { return &tls.Config{InsecureSkipVerify: true} }

func TestHostnameVerification(t *testing.T) {
	p := newPKI(t)
	server, err := New(Settings{KeyStore: p.server.KeyPEM, ClientAuth: ClientAuthNone})
	if err != nil {
		t.Fatal(err)
	}
	for _, verify := range []bool{true, false} {
		cl, err := New(Settings{TrustStore: p.server.TrustPEM, HostnameVerification: verify})
		if err != nil {
			t.Fatal(err)
		}
		_, cerr, _ := handshake(t, server, cl.ClientConfig("10.9.9.9")) // a name the certificate lacks
		if (cerr == nil) == verify {
			t.Fatalf("hostnameVerification=%v: client error %v", verify, cerr)
		}
		if got := cl.VerifyHost(server.Certificate().Leaf, "10.9.9.9:2888"); (got == nil) == verify {
			t.Fatalf("VerifyHost with verification %v: %v", verify, got)
		}
		if got := cl.VerifyHost(server.Certificate().Leaf, "127.0.0.1:2888"); got != nil {
			t.Fatal(got)
		}
	}
	// Without hostname verification the chain is still checked.
	cl, _ := New(Settings{TrustStore: p.rogue.TrustPEM, HostnameVerification: false})
	if _, cerr, _ := handshake(t, server, cl.ClientConfig("127.0.0.1")); cerr == nil {
		t.Fatal("a server of an untrusted CA was accepted")
	}
}

func TestParse(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("fromfile\n"), 0o600)
	cases := []struct {
		keys    map[string]string
		want    func(Settings) bool
		wantErr string
	}{
		{keys: map[string]string{}, want: func(s Settings) bool { return s.ClientAuth == ClientAuthNeed && s.HostnameVerification }},
		{keys: map[string]string{"clientAuth": "WANT"}, want: func(s Settings) bool { return s.ClientAuth == ClientAuthWant }},
		{keys: map[string]string{"clientAuth": "none"}, want: func(s Settings) bool { return s.ClientAuth == ClientAuthNone }},
		{keys: map[string]string{"clientAuth": "maybe"}, wantErr: "clientAuth"},
		{keys: map[string]string{"hostnameVerification": "false"}, want: func(s Settings) bool { return !s.HostnameVerification }},
		{keys: map[string]string{"keyStore.password": "a", "keyStore.passwordPath": pw}, want: func(s Settings) bool { return s.KeyStorePassword == "fromfile" }},
		{keys: map[string]string{"trustStore.password": "b"}, want: func(s Settings) bool { return s.TrustStorePassword == "b" }},
		{keys: map[string]string{"ciphersuites": "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384"}, want: func(s Settings) bool { return len(s.CipherSuites) == 2 }},
		{keys: map[string]string{"enabledProtocols": "TLSv1.2,TLSv1.1"}, wantErr: "TLSv1.1"},
		{keys: map[string]string{"keyStore.locaton": "x"}, wantErr: "unknown"},
		{keys: map[string]string{"crl": "false", "ocsp": "false"}, want: func(Settings) bool { return true }},
	}
	for i, c := range cases {
		s, err := Parse(c.keys, nil)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("case %d: error %v, want %q", i, err, c.wantErr)
			}
			continue
		}
		if err != nil || !c.want(s) {
			t.Errorf("case %d: %+v, %v", i, s, err)
		}
	}
}

func TestSubjectName(t *testing.T) {
	ca, err := testpki.NewCA("ca")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		subj pkix.Name
		want string
	}{
		{pkix.Name{CommonName: "client", OrganizationalUnit: []string{"ops"}, Organization: []string{"Example"}, Country: []string{"DE"}},
			"CN=client,OU=ops,O=Example,C=DE"},
		{pkix.Name{CommonName: "a,b+c"}, `CN=a\,b\+c`},
		{pkix.Name{CommonName: "#lead "}, `CN=\#lead\ `},
		{pkix.Name{ExtraNames: []pkix.AttributeTypeAndValue{
			{Type: asn1.ObjectIdentifier{2, 5, 4, 3}, Value: "x"},
			{Type: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}, Value: "a@b"},
		}}, "1.2.840.113549.1.9.1=#0c03614062,CN=x"},
	}
	for _, c := range cases {
		l, err := ca.Issue(c.subj)
		if err != nil {
			t.Fatal(err)
		}
		if got := SubjectName(l.Cert); got != c.want {
			t.Errorf("SubjectName = %q, want %q", got, c.want)
		}
	}
}
