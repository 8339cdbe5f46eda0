package main

import (
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/hashicorp/go-hclog"
	"github.com/vrkeeper/vrkeeper/frontend"
	"github.com/vrkeeper/vrkeeper/internal/httpserve"
	"github.com/vrkeeper/vrkeeper/internal/jaas"
	"github.com/vrkeeper/vrkeeper/internal/tlsconf"
)

// SecurityConfig is what zoo.cfg and the -D properties say about TLS,
// authentication and ACL checks (ZooKeeper's keys; docs/operations.md).
type SecurityConfig struct {
	SecureClientPort    string            // secureClientPort
	SecureClientAddress string            // secureClientPortAddress
	SSL                 map[string]string // ssl.* (client port), without the prefix
	SSLQuorum           map[string]string // ssl.quorum.*, without the prefix
	Quorum              bool              // sslQuorum
	X509Provider        bool              // authProvider.N=...X509AuthenticationProvider
	SASLProvider        bool              // authProvider.N=...SASLAuthenticationProvider
	X509SuperUser       string            // X509AuthenticationProvider.superUser
	SASLSuperUsers      []string          // superUser, superUser.*
	EnforceAuth         bool              // enforce.auth.enabled
	EnforceSchemes      []string          // enforce.auth.schemes
	RequireSASL         bool              // sessionRequireClientSASLAuth, requireClientAuthScheme=sasl
	SkipACL             bool              // skipACL
	SASLSection         string            // sasl.serverconfig: the JAAS section (Server)
	HTTPS               bool              // admin.forceHttps: every HTTP endpoint over TLS
	HTTPClientAuth      bool              // admin.needClientAuth: HTTP clients need a trusted certificate
	HTTPTokenFile       string            // vrkeeper.http.tokenFile: a bearer token every HTTP request must carry
}

// The authentication providers zoo.cfg may name.
const (
	digestProviderClass = "org.apache.zookeeper.server.auth.DigestAuthenticationProvider"
	x509ProviderClass   = "org.apache.zookeeper.server.auth.X509AuthenticationProvider"
	saslProviderClass   = "org.apache.zookeeper.server.auth.SASLAuthenticationProvider"
	ipProviderClass     = "org.apache.zookeeper.server.auth.IPAuthenticationProvider"
)

// setSecurityKey applies one security key; handled is false if key is not
// one.
func (s *SecurityConfig) setSecurityKey(key, value string) (handled bool, err error) {
	v := strings.TrimSpace(value)
	switch {
	case key == "secureClientPort":
		_, err = positiveInt(v)
		s.SecureClientPort = v
	case key == "secureClientPortAddress":
		s.SecureClientAddress = v
	case key == "sslQuorum":
		s.Quorum, err = parseBool(v)
	case key == "skipACL":
		s.SkipACL, err = parseBool(v)
	case key == "enforce.auth.enabled":
		s.EnforceAuth, err = parseBool(v)
	case key == "enforce.auth.schemes":
		s.EnforceSchemes = nil
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				s.EnforceSchemes = append(s.EnforceSchemes, p)
			}
		}
	case key == "sessionRequireClientSASLAuth":
		s.RequireSASL, err = parseBool(v)
	case key == "requireClientAuthScheme":
		// ZooKeeper 3.4's form of sessionRequireClientSASLAuth.
		if v != "sasl" {
			err = fmt.Errorf("only sasl can be required")
		}
		s.RequireSASL = true
	case key == "superUser" || strings.HasPrefix(key, "superUser."):
		s.SASLSuperUsers = append(s.SASLSuperUsers, v)
	case key == "X509AuthenticationProvider.superUser":
		s.X509SuperUser = v
	case key == "sasl.serverconfig":
		s.SASLSection = v
	case key == "admin.forceHttps":
		s.HTTPS, err = parseBool(v)
	case key == "admin.needClientAuth":
		s.HTTPClientAuth, err = parseBool(v)
	case key == "vrkeeper.http.tokenFile":
		s.HTTPTokenFile = v
	case key == "client.certReload", key == "sslQuorumReloadCertFiles":
		// vrkeeper always reloads certificates whose files change.
		_, err = parseBool(v)
	case strings.HasPrefix(key, "authProvider."):
		switch v {
		case digestProviderClass, ipProviderClass:
		case x509ProviderClass:
			s.X509Provider = true
		case saslProviderClass:
			s.SASLProvider = true
		default:
			err = fmt.Errorf("vrkeeper has the digest, ip, x509 and sasl authentication providers only")
		}
	case strings.HasPrefix(key, "ssl.quorum."):
		err = setTLSKey(&s.SSLQuorum, strings.TrimPrefix(key, "ssl.quorum."), value)
	case strings.HasPrefix(key, "ssl."):
		err = setTLSKey(&s.SSL, strings.TrimPrefix(key, "ssl."), value)
	default:
		return false, nil
	}
	return true, err
}

func setTLSKey(m *map[string]string, name, value string) error {
	if isKey, _ := tlsconf.Known(name); !isKey {
		return fmt.Errorf("not one of ZooKeeper's TLS keys")
	}
	if *m == nil {
		*m = map[string]string{}
	}
	(*m)[name] = strings.TrimSpace(value)
	return nil
}

// finishSecurity checks the security keys against each other once all
// are read.
func (cfg *Config) finishSecurity() error {
	s := &cfg.Security
	if s.RequireSASL {
		s.EnforceAuth, s.EnforceSchemes = true, []string{"sasl"}
	}
	if s.EnforceAuth {
		if len(s.EnforceSchemes) == 0 {
			return fmt.Errorf("config: enforce.auth.enabled is true: enforce.auth.schemes must be set")
		}
		for _, scheme := range s.EnforceSchemes {
			switch scheme {
			case "digest", "ip", "x509", "sasl":
			default:
				return fmt.Errorf("config: enforce.auth.schemes: authentication scheme %s is not available", scheme)
			}
		}
	} else {
		s.EnforceSchemes = nil
	}
	if s.SecureClientPort == "" && s.SecureClientAddress != "" {
		return fmt.Errorf("config: secureClientPortAddress is set without secureClientPort")
	}
	return nil
}

// secureClientAddr is the secure port's host:port, or "".
func (s *SecurityConfig) secureClientAddr() string {
	if s.SecureClientPort == "" {
		return ""
	}
	host := "0.0.0.0"
	if s.SecureClientAddress != "" {
		host = s.SecureClientAddress
	}
	return net.JoinHostPort(host, s.SecureClientPort)
}

// builtSecurity is the security configuration turned into what the
// servers' parts take.
type builtSecurity struct {
	frontend frontend.Security
	peerTLS  *tlsconf.Source
	http     httpserve.Options
}

// buildSecurity loads the stores and the JAAS users the configuration
// names. props are the -D properties (java.security.auth.login.config).
func (cfg *Config) buildSecurity(log hclog.Logger) (*builtSecurity, error) {
	s := &cfg.Security
	b := &builtSecurity{}
	f := &b.frontend
	f.SkipACL = s.SkipACL
	f.EnforceSchemes = s.EnforceSchemes
	f.X509SuperUser = s.X509SuperUser
	f.SASLSuperUsers = s.SASLSuperUsers
	if s.SkipACL {
		log.Warn("skipACL is on: no permission is checked")
	}
	source := func(keys map[string]string, what string) (*tlsconf.Source, error) {
		settings, err := tlsconf.Parse(keys, nil)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		src, err := tlsconf.New(settings)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		src.OnReload = func(err error) {
			if err != nil {
				log.Error("reloading certificates failed; the previous ones stay in use", "keys", what, "error", err)
			} else {
				log.Info("certificates reloaded", "keys", what)
			}
		}
		return src, nil
	}
	if addr := s.secureClientAddr(); addr != "" {
		src, err := source(s.SSL, "ssl.*")
		if err != nil {
			return nil, err
		}
		if f.TLS, err = src.ServerConfig(); err != nil {
			return nil, fmt.Errorf("secureClientPort: %w", err)
		}
		f.SecureClientAddr = addr
		// A certificate is an identity whenever a secure port exists: no
		// need to name X509AuthenticationProvider as ZooKeeper asks.
		f.X509 = true
	}
	f.X509 = f.X509 || s.X509Provider
	if s.Quorum {
		if len(cfg.Servers) <= 1 {
			log.Warn("sslQuorum has no effect on a single server")
		}
		src, err := source(s.SSLQuorum, "ssl.quorum.*")
		if err != nil {
			return nil, err
		}
		if src.Certificate() == nil || src.Settings().TrustStore == "" {
			return nil, fmt.Errorf("sslQuorum: ssl.quorum.keyStore.location and ssl.quorum.trustStore.location are both needed")
		}
		b.peerTLS = src
	}
	users, err := cfg.jaasUsers(log)
	if err != nil {
		return nil, err
	}
	f.SASLUsers = users
	for _, scheme := range s.EnforceSchemes {
		if (scheme == "sasl" && users == nil) || (scheme == "x509" && !f.X509) {
			return nil, fmt.Errorf("enforce.auth.schemes: authentication scheme %s is not available (no %s configured)", scheme,
				map[string]string{"sasl": "JAAS Server section", "x509": "secureClientPort"}[scheme])
		}
	}
	if err := cfg.buildHTTP(b, source); err != nil {
		return nil, err
	}
	return b, nil
}

// jaasUsers reads the DigestLoginModule users of the JAAS file
// java.security.auth.login.config names (section Server, or
// zookeeper.sasl.serverconfig); nil if SASL is not configured.
func (cfg *Config) jaasUsers(log hclog.Logger) (map[string]string, error) {
	var path string
	for _, p := range cfg.Properties {
		if p[0] == "java.security.auth.login.config" {
			path = p[1]
		}
	}
	if path == "" {
		return nil, nil
	}
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("java.security.auth.login.config: %w", err)
	}
	jc, err := jaas.Parse(string(text))
	if err != nil {
		return nil, fmt.Errorf("java.security.auth.login.config %s: %w", path, err)
	}
	section := cfg.Security.SASLSection
	if section == "" {
		section = "Server"
	}
	users, found, err := jc.DigestUsers(section)
	if err != nil {
		return nil, err
	}
	if !found {
		log.Info("the JAAS configuration has no server section: SASL is off", "file", path, "section", section)
		return nil, nil
	}
	log.Info("SASL DIGEST-MD5 on", "users", len(users), "file", path)
	return users, nil
}

// buildHTTP sets the protection of every HTTP endpoint: TLS with the
// quorum's key store (ZooKeeper's AdminServer uses it) or else the client
// port's, a client certificate if asked, and a bearer token if a token file
// is given.
func (cfg *Config) buildHTTP(b *builtSecurity, source func(map[string]string, string) (*tlsconf.Source, error)) error {
	s := &cfg.Security
	if s.HTTPTokenFile != "" {
		tok, err := os.ReadFile(s.HTTPTokenFile)
		if err != nil {
			return fmt.Errorf("vrkeeper.http.tokenFile: %w", err)
		}
		b.http.Token = strings.TrimSpace(string(tok))
		if b.http.Token == "" {
			return fmt.Errorf("vrkeeper.http.tokenFile %s is empty", s.HTTPTokenFile)
		}
	}
	if !s.HTTPS {
		if s.HTTPClientAuth {
			return fmt.Errorf("admin.needClientAuth needs admin.forceHttps=true")
		}
		return nil
	}
	keys, what := s.SSLQuorum, "ssl.quorum.*"
	if keys["keyStore.location"] == "" {
		keys, what = s.SSL, "ssl.*"
	}
	keys = cloneMap(keys)
	keys["clientAuth"] = "none"
	if s.HTTPClientAuth {
		keys["clientAuth"] = "need"
	}
	src, err := source(keys, what+" for HTTPS")
	if err != nil {
		return err
	}
	if b.http.TLS, err = src.ServerConfig(); err != nil {
		return fmt.Errorf("admin.forceHttps: %w", err)
	}
	return nil
}

func cloneMap(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

// httpScheme is the scheme of the HTTP endpoints' URLs.
func httpScheme(c *tls.Config) string {
	if c != nil {
		return "https"
	}
	return "http"
}
