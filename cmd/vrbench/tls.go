package main

import (
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"net"
	"os"
	"time"
)

// TLS to a secure client port: --tls-ca is the trust store (PEM); with
// --tls-cert and --tls-key the client presents a certificate.
var (
	tlsCA   = flag.String("tls-ca", "", "connect with TLS, trusting the CA certificates in this PEM file")
	tlsCert = flag.String("tls-cert", "", "with --tls-ca: the client certificate (PEM)")
	tlsKey  = flag.String("tls-key", "", "with --tls-ca: the client certificate's key (PEM)")

	tlsConfig *tls.Config // built by setupTLS
)

// setupTLS builds the TLS configuration the flags ask for.
func setupTLS() error {
	if *tlsCA == "" {
		return nil
	}
	pem, err := os.ReadFile(*tlsCA)
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return fmt.Errorf("%s: no certificate", *tlsCA)
	}
	tlsConfig = &tls.Config{RootCAs: pool, ClientSessionCache: nil}
	if *tlsCert != "" {
		c, err := tls.LoadX509KeyPair(*tlsCert, *tlsKey)
		if err != nil {
			return err
		}
		tlsConfig.Certificates = []tls.Certificate{c}
	}
	return nil
}

// dialConn opens a connection to addr, with TLS if asked (the handshake
// done before it returns).
func dialConn(addr string) (net.Conn, error) {
	d := &net.Dialer{Timeout: 5 * time.Second}
	if tlsConfig == nil {
		return d.Dial("tcp", addr)
	}
	cfg := tlsConfig.Clone()
	if host, _, err := net.SplitHostPort(addr); err == nil {
		cfg.ServerName = host
	}
	return tls.DialWithDialer(d, "tcp", addr, cfg)
}
