package peer

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
)

// With Options.TLS every link is mutual TLS, as ZooKeeper's sslQuorum
// makes its quorum links: the dialing server checks that the listening one
// has a certificate its trust store vouches for and, with hostname
// verification (ssl.quorum.hostnameVerification, on by default), that the
// certificate names the address in its server.N line; the listening
// server requires a trusted client certificate whatever ssl.quorum.
// clientAuth says and, with hostname verification, one that names the
// address of the member the hello claims to come from. A process without
// such a certificate cannot connect, cannot send a replica message, and
// reads nothing of what the members send each other.

// serverTLS runs the listening side's handshake (within the connection's
// read deadline); it returns conn unchanged without TLS.
func (t *Transport) serverTLS(conn net.Conn) (net.Conn, bool) {
	src := t.opts.TLS
	if src == nil {
		return conn, true
	}
	cfg, err := src.ServerConfig()
	if err != nil {
		t.log.Error("peer TLS unusable", "error", err)
		return conn, false
	}
	base := cfg.GetConfigForClient
	cfg.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		c, err := base(hello)
		if err != nil {
			return nil, err
		}
		c = c.Clone()
		c.ClientAuth = tls.RequireAndVerifyClientCert // peers are always mutual
		return c, nil
	}
	tc := tls.Server(conn, cfg)
	if err := tc.Handshake(); err != nil {
		t.log.Warn("refused a peer connection: TLS handshake failed", "remote", conn.RemoteAddr(), "error", err)
		return conn, false
	}
	return tc, true
}

// verifyMember checks that a TLS peer's certificate names the address of
// the member it claims to be (with hostname verification on).
func (t *Transport) verifyMember(conn net.Conn, addr string) error {
	tc, ok := conn.(*tls.Conn)
	if !ok {
		return nil
	}
	certs := tc.ConnectionState().PeerCertificates
	if len(certs) == 0 {
		return errors.New("no certificate")
	}
	return t.opts.TLS.VerifyHost(certs[0], addr)
}

// clientTLS runs the dialing side's handshake within the dial timeout; it
// returns conn unchanged without TLS.
func (l *peerLink) clientTLS(conn net.Conn) (net.Conn, error) {
	src := l.t.opts.TLS
	if src == nil {
		return conn, nil
	}
	host, _, err := net.SplitHostPort(l.addr)
	if err != nil {
		conn.Close()
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), l.t.opts.DialTimeout)
	defer cancel()
	tc := tls.Client(conn, src.ClientConfig(host))
	if err := tc.HandshakeContext(ctx); err != nil {
		conn.Close()
		l.t.log.Warn("peer TLS handshake failed", "peer", l.id, "addr", l.addr, "error", err)
		return nil, fmt.Errorf("peer %d: TLS handshake: %w", l.id, err)
	}
	return tc, nil
}
