package main

import (
	"crypto/x509/pkix"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/vrkeeper/vrkeeper/internal/testpki"
)

// TestBuildSecurity: the security keys turn into the parts' settings
// (stores loaded, JAAS users read) or into an error that names the cause.
func TestBuildSecurity(t *testing.T) {
	dir := t.TempDir()
	ca, err := testpki.NewCA("ca")
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := ca.Issue(pkix.Name{CommonName: "server"}, "127.0.0.1")
	f, err := leaf.Write(dir, "server")
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(text), 0o600)
		return p
	}
	jaasFile := write("jaas.conf", `Server { org.apache.zookeeper.server.auth.DigestLoginModule required user_bob="pw"; };`)
	krbFile := write("krb.conf", `Server { com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true; };`)
	token := write("token", "t0ken\n")
	tls := []string{"ssl.keyStore.location=" + f.KeyPEM, "ssl.trustStore.location=" + f.TrustPEM}
	quorum := []string{"sslQuorum=true", "ssl.quorum.keyStore.location=" + f.KeyP12, "ssl.quorum.keyStore.password=secret",
		"ssl.quorum.trustStore.location=" + f.TrustP12, "ssl.quorum.trustStore.password=secret"}
	cases := []struct {
		name  string
		lines []string
		props [][2]string
		check func(*builtSecurity) bool
		err   string
	}{
		{"nothing", nil, nil, func(b *builtSecurity) bool {
			return b.frontend.TLS == nil && b.peerTLS == nil && b.frontend.SASLUsers == nil
		}, ""},
		{"secure port", append([]string{"secureClientPort=2281"}, tls...), nil,
			func(b *builtSecurity) bool {
				return b.frontend.TLS != nil && b.frontend.X509 && b.frontend.SecureClientAddr == "0.0.0.0:2281"
			}, ""},
		{"secure port without key store", []string{"secureClientPort=2281"}, nil, nil, "key store"},
		{"secure port with a missing file", []string{"secureClientPort=2281", "ssl.keyStore.location=/nonexistent.pem"}, nil, nil, "no such file"},
		{"quorum", quorum, nil, func(b *builtSecurity) bool { return b.peerTLS != nil }, ""},
		{"quorum without trust store", []string{"sslQuorum=true", "ssl.quorum.keyStore.location=" + f.KeyPEM}, nil, nil, "trustStore"},
		{"jaas", nil, [][2]string{{"java.security.auth.login.config", jaasFile}}, func(b *builtSecurity) bool { return b.frontend.SASLUsers["bob"] == "pw" }, ""},
		{"jaas other section", []string{"sasl.serverconfig=Other"}, [][2]string{{"java.security.auth.login.config", jaasFile}},
			func(b *builtSecurity) bool { return b.frontend.SASLUsers == nil }, ""},
		{"kerberos", nil, [][2]string{{"java.security.auth.login.config", krbFile}}, nil, "GSSAPI"},
		{"enforce sasl without jaas", []string{"sessionRequireClientSASLAuth=true"}, nil, nil, "not available"},
		{"enforce sasl", []string{"sessionRequireClientSASLAuth=true"}, [][2]string{{"java.security.auth.login.config", jaasFile}},
			func(b *builtSecurity) bool { return b.frontend.EnforceSchemes[0] == "sasl" }, ""},
		{"https and token", append([]string{"admin.forceHttps=true", "admin.needClientAuth=true", "vrkeeper.http.tokenFile=" + token}, quorum...), nil,
			func(b *builtSecurity) bool { return b.http.TLS != nil && b.http.Token == "t0ken" }, ""},
		{"https without a key store", []string{"admin.forceHttps=true"}, nil, nil, "key store"},
		{"client auth without https", []string{"admin.needClientAuth=true"}, nil, nil, "forceHttps"},
		{"skipACL", []string{"skipACL=yes"}, nil, func(b *builtSecurity) bool { return b.frontend.SkipACL }, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := defaultConfig()
			if err := parseZooCfg("dataDir=/d\n"+strings.Join(c.lines, "\n")+"\n", &cfg, files(nil)); err != nil {
				t.Fatal(err)
			}
			cfg.Properties = c.props
			b, err := cfg.buildSecurity(hclog.NewNullLogger())
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want one saying %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !c.check(b) {
				t.Fatalf("not applied: %+v", b)
			}
		})
	}
}
