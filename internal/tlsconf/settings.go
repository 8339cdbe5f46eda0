// Package tlsconf turns ZooKeeper's TLS settings (the ssl.* keys of the
// client port and the ssl.quorum.* keys of the replication links) into
// crypto/tls configurations: key and trust stores in PEM or PKCS#12, client
// authentication none/want/need, protocols and cipher suites, hostname
// verification, and certificates reloaded when their files change. It also
// names a certificate's subject as ZooKeeper's x509 provider does.
package tlsconf

import (
	"fmt"
	"os"
	"strings"
)

// ClientAuth is ZooKeeper's ssl.clientAuth: what a server asks of a
// client's certificate.
type ClientAuth int

// The values of ssl.clientAuth; Need is ZooKeeper's default.
const (
	ClientAuthNeed ClientAuth = iota // a trusted certificate is required
	ClientAuthWant                   // asked for; if given it must be trusted
	ClientAuthNone                   // not asked for
)

// String is the value as zoo.cfg writes it.
func (a ClientAuth) String() string {
	switch a {
	case ClientAuthWant:
		return "want"
	case ClientAuthNone:
		return "none"
	}
	return "need"
}

// Settings are one side's TLS keys (ZooKeeper's X509Util properties under
// one prefix: "ssl." for clients, "ssl.quorum." for peers).
type Settings struct {
	KeyStore           string // keyStore.location: this side's certificate and key
	KeyStoreType       string // keyStore.type: PEM or PKCS12 (from the file's extension if empty)
	KeyStorePassword   string // keyStore.password (or the file keyStore.passwordPath names)
	TrustStore         string // trustStore.location: the certificates trusted
	TrustStoreType     string // trustStore.type
	TrustStorePassword string // trustStore.password (or trustStore.passwordPath)
	ClientAuth         ClientAuth
	// Protocol is ssl.protocol (TLSv1.2 by default, as in ZooKeeper);
	// EnabledProtocols, if set, are exactly the versions allowed.
	Protocol         string
	EnabledProtocols []string
	CipherSuites     []string // ciphersuites, by their IANA (and Java) names
	// HostnameVerification checks that a peer's certificate names the host
	// it was reached at (ssl.hostnameVerification, on by default).
	HostnameVerification bool
}

// known lists the keys under a prefix that Parse honours.
var known = map[string]bool{
	"keyStore.location": true, "keyStore.type": true, "keyStore.password": true, "keyStore.passwordPath": true,
	"trustStore.location": true, "trustStore.type": true, "trustStore.password": true, "trustStore.passwordPath": true,
	"clientAuth": true, "protocol": true, "enabledProtocols": true, "ciphersuites": true,
	"hostnameVerification": true,
	// Accepted without effect: ZooKeeper's JVM-specific knobs.
	"context.supplier.class": false, "allowReverseDnsLookup": false, "handshakeDetectionTimeoutMillis": false,
	"sslProvider": false, "fips-mode": false, "crl": false, "ocsp": false, "authProvider": false,
	"clientHostnameVerification": true,
}

// Known reports whether name (a key without its prefix, such as
// "keyStore.location") is one of ZooKeeper's TLS keys, and whether it has
// an effect here.
func Known(name string) (isKey, honoured bool) {
	h, ok := known[name]
	return ok, h
}

// Parse reads the keys of one prefix (given without it, e.g.
// "keyStore.location") into Settings. readFile reads password files.
func Parse(keys map[string]string, readFile func(string) ([]byte, error)) (Settings, error) {
	if readFile == nil {
		readFile = os.ReadFile
	}
	s := Settings{HostnameVerification: true}
	for k := range keys {
		if _, ok := known[k]; !ok {
			return s, fmt.Errorf("unknown TLS key %q", k)
		}
	}
	s.KeyStore = keys["keyStore.location"]
	s.KeyStoreType = keys["keyStore.type"]
	s.TrustStore = keys["trustStore.location"]
	s.TrustStoreType = keys["trustStore.type"]
	var err error
	if s.KeyStorePassword, err = password(keys, "keyStore", readFile); err != nil {
		return s, err
	}
	if s.TrustStorePassword, err = password(keys, "trustStore", readFile); err != nil {
		return s, err
	}
	switch strings.ToLower(strings.TrimSpace(keys["clientAuth"])) {
	case "", "need":
		s.ClientAuth = ClientAuthNeed
	case "want":
		s.ClientAuth = ClientAuthWant
	case "none":
		s.ClientAuth = ClientAuthNone
	default:
		return s, fmt.Errorf("clientAuth=%s: want none, want or need", keys["clientAuth"])
	}
	s.Protocol = strings.TrimSpace(keys["protocol"])
	s.EnabledProtocols = splitList(keys["enabledProtocols"])
	s.CipherSuites = splitList(keys["ciphersuites"])
	if v, ok := keys["hostnameVerification"]; ok {
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true", "yes":
		case "false", "no":
			s.HostnameVerification = false
		default:
			return s, fmt.Errorf("hostnameVerification=%s: want true or false", v)
		}
	}
	// Check what can be checked before the files are read.
	if _, _, err := versions(s.Protocol, s.EnabledProtocols); err != nil {
		return s, err
	}
	if _, err := cipherSuites(s.CipherSuites); err != nil {
		return s, err
	}
	return s, nil
}

// password is keys[store+".password"], or the content of the file
// store+".passwordPath" names (ZooKeeper prefers the path when both are set).
func password(keys map[string]string, store string, readFile func(string) ([]byte, error)) (string, error) {
	if path := keys[store+".passwordPath"]; path != "" {
		b, err := readFile(path)
		if err != nil {
			return "", fmt.Errorf("%s.passwordPath: %w", store, err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	return keys[store+".password"], nil
}

func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
