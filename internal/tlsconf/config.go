package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
)

// protocolVersions maps Java's protocol names to TLS versions. TLS 1.0 and
// 1.1 are refused: Go has them, but no ZooKeeper client needs them.
var protocolVersions = map[string]uint16{
	"TLSv1.2": tls.VersionTLS12,
	"TLSv1.3": tls.VersionTLS13,
}

// versions returns the TLS versions allowed: exactly enabledProtocols if
// given; else ssl.protocol and anything newer (ZooKeeper's default,
// TLSv1.2, thus allows 1.2 and 1.3, as ZooKeeper 3.9 does; "TLS" is
// taken as TLSv1.2).
func versions(protocol string, enabled []string) (lo, hi uint16, err error) {
	if len(enabled) > 0 {
		for _, p := range enabled {
			v, ok := protocolVersions[p]
			if !ok {
				return 0, 0, fmt.Errorf("enabledProtocols: %q is not supported (TLSv1.2, TLSv1.3)", p)
			}
			if lo == 0 || v < lo {
				lo = v
			}
			hi = max(hi, v)
		}
		return lo, hi, nil
	}
	switch protocol {
	case "", "TLS", "TLSv1.2":
		return tls.VersionTLS12, tls.VersionTLS13, nil
	case "TLSv1.3":
		return tls.VersionTLS13, tls.VersionTLS13, nil
	}
	return 0, 0, fmt.Errorf("protocol: %q is not supported (TLSv1.2, TLSv1.3)", protocol)
}

// cipherSuites maps cipher suite names (IANA's, which Java uses) to Go's
// ids. TLS 1.3's suites are not configurable in Go and are accepted as
// given; a name Go does not know is refused, as Java refuses it.
func cipherSuites(names []string) ([]uint16, error) {
	if len(names) == 0 {
		return nil, nil
	}
	byName := map[string]uint16{}
	for _, cs := range tls.CipherSuites() {
		byName[cs.Name] = cs.ID
	}
	tls13 := map[string]bool{"TLS_AES_128_GCM_SHA256": true, "TLS_AES_256_GCM_SHA384": true, "TLS_CHACHA20_POLY1305_SHA256": true}
	var ids []uint16
	for _, n := range names {
		if id, ok := byName[n]; ok {
			ids = append(ids, id)
			continue
		}
		if !tls13[n] {
			return nil, fmt.Errorf("ciphersuites: %q is not supported (secure suites: %s)", n, strings.Join(secureNames(), ", "))
		}
	}
	if ids == nil {
		ids = []uint16{} // only TLS 1.3 suites named
	}
	return ids, nil
}

func secureNames() []string {
	var out []string
	for _, cs := range tls.CipherSuites() {
		out = append(out, cs.Name)
	}
	return out
}

// serverConfig is the server side's configuration for one load.
func (s *Source) serverConfig(m *material) *tls.Config {
	c := &tls.Config{MinVersion: s.minV, MaxVersion: s.maxV, CipherSuites: s.suites, ClientCAs: m.pool}
	if m.cert != nil {
		c.Certificates = []tls.Certificate{*m.cert}
	}
	switch s.settings.ClientAuth {
	case ClientAuthNeed:
		c.ClientAuth = tls.RequireAndVerifyClientCert
	case ClientAuthWant:
		c.ClientAuth = tls.VerifyClientCertIfGiven
	default:
		c.ClientAuth = tls.NoClientCert
	}
	if m.pool == nil {
		// Nothing is trusted: a client certificate can never verify.
		c.ClientCAs = x509.NewCertPool()
	}
	return c
}

// ServerConfig returns the configuration of the server side of
// connections: each handshake uses the material current then.
func (s *Source) ServerConfig() (*tls.Config, error) {
	if s.current().cert == nil {
		return nil, errors.New("tls: a server needs a key store (keyStore.location)")
	}
	return &tls.Config{
		MinVersion: s.minV, MaxVersion: s.maxV,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			return s.current().server, nil
		},
	}, nil
}

// ClientConfig returns the configuration for dialing host with the
// current material: the server's certificate must chain to the trust
// store and, with hostname verification, name host.
func (s *Source) ClientConfig(host string) *tls.Config {
	m := s.current()
	c := &tls.Config{MinVersion: s.minV, MaxVersion: s.maxV, CipherSuites: s.suites, RootCAs: m.pool, ServerName: host}
	if m.pool == nil {
		c.RootCAs = x509.NewCertPool() // trust nothing rather than the system's roots
	}
	if m.cert != nil {
		c.Certificates = []tls.Certificate{*m.cert}
	}
	if !s.settings.HostnameVerification {
		// Verify the chain, not the name.
		pool := c.RootCAs
		c.InsecureSkipVerify = true
		c.VerifyConnection = func(cs tls.ConnectionState) error {
			return verifyChain(cs.PeerCertificates, pool, x509.ExtKeyUsageServerAuth)
		}
	}
	return c
}

// verifyChain checks that certs (leaf first) chain to pool.
func verifyChain(certs []*x509.Certificate, pool *x509.CertPool, usage x509.ExtKeyUsage) error {
	if len(certs) == 0 {
		return errors.New("tls: no certificate")
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	_, err := certs[0].Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{usage}})
	return err
}

// VerifyHost checks, when hostname verification is on, that a peer's
// certificate names host (a name or an IP address, as a server.N line
// gives it).
func (s *Source) VerifyHost(cert *x509.Certificate, host string) error {
	if !s.settings.HostnameVerification {
		return nil
	}
	if cert == nil {
		return errors.New("tls: no certificate")
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return cert.VerifyHostname(host)
}
