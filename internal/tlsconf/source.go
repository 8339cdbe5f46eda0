package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"sync"
	"time"
)

// Source holds one side's TLS material (its certificate and the
// certificates it trusts) and reloads it when the files change: each
// handshake looks at the files' size, time and inode at most once per
// CheckEvery, and a change loads them again. A store that no longer loads
// keeps the last good material in use (the failure is reported to
// OnReload); ZooKeeper's FileChangeWatcher does the same.
type Source struct {
	settings   Settings
	keyType    string
	trustType  string
	minV, maxV uint16
	suites     []uint16
	// CheckEvery bounds how often the files are looked at (default 1s).
	CheckEvery time.Duration
	// OnReload, if set, is told of every reload: nil after success.
	OnReload func(err error)

	mu      sync.Mutex
	cur     *material
	checked time.Time
}

// material is what one load of the files gave.
type material struct {
	cert   *tls.Certificate // nil if no key store is set
	pool   *x509.CertPool   // nil if no trust store is set
	stamp  [2]fileStamp
	server *tls.Config // the server configuration built from it
}

// fileStamp identifies a version of a file.
type fileStamp struct {
	size  int64
	mtime time.Time
	ino   uint64
}

// New loads the stores the settings name and returns their source.
func New(s Settings) (*Source, error) {
	src := &Source{settings: s, CheckEvery: time.Second}
	var err error
	if s.KeyStore != "" {
		if src.keyType, err = storeType(s.KeyStoreType, s.KeyStore); err != nil {
			return nil, fmt.Errorf("keyStore: %w", err)
		}
	}
	if s.TrustStore != "" {
		if src.trustType, err = storeType(s.TrustStoreType, s.TrustStore); err != nil {
			return nil, fmt.Errorf("trustStore: %w", err)
		}
	}
	if src.minV, src.maxV, err = versions(s.Protocol, s.EnabledProtocols); err != nil {
		return nil, err
	}
	if src.suites, err = cipherSuites(s.CipherSuites); err != nil {
		return nil, err
	}
	m, err := src.load()
	if err != nil {
		return nil, err
	}
	src.cur, src.checked = m, time.Now()
	return src, nil
}

// Settings returns the settings the source was made from.
func (s *Source) Settings() Settings { return s.settings }

// load reads both stores.
func (s *Source) load() (*material, error) {
	m := &material{}
	if s.settings.KeyStore != "" {
		st, data, err := readStamped(s.settings.KeyStore)
		if err != nil {
			return nil, fmt.Errorf("keyStore: %w", err)
		}
		c, err := loadKeyStore(data, s.keyType, s.settings.KeyStorePassword, s.settings.KeyStore)
		if err != nil {
			return nil, fmt.Errorf("keyStore: %w", err)
		}
		m.cert, m.stamp[0] = &c, st
	}
	if s.settings.TrustStore != "" {
		st, data, err := readStamped(s.settings.TrustStore)
		if err != nil {
			return nil, fmt.Errorf("trustStore: %w", err)
		}
		pool, err := loadTrustStore(data, s.trustType, s.settings.TrustStorePassword, s.settings.TrustStore)
		if err != nil {
			return nil, fmt.Errorf("trustStore: %w", err)
		}
		m.pool, m.stamp[1] = pool, st
	}
	m.server = s.serverConfig(m)
	return m, nil
}

// current returns the material in use, reloading it first if a file
// changed since the last look (at most once per CheckEvery).
func (s *Source) current() *material {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if now.Sub(s.checked) < s.CheckEvery {
		return s.cur
	}
	s.checked = now
	changed := false
	for i, path := range []string{s.settings.KeyStore, s.settings.TrustStore} {
		if path == "" {
			continue
		}
		if st, err := stat(path); err == nil && st != s.cur.stamp[i] {
			changed = true
		}
	}
	if !changed {
		return s.cur
	}
	m, err := s.load()
	if err == nil {
		s.cur = m
	}
	if s.OnReload != nil {
		s.OnReload(err)
	}
	return s.cur
}

// Reload looks at the files now, whatever CheckEvery says.
func (s *Source) Reload() {
	s.mu.Lock()
	s.checked = time.Time{}
	s.mu.Unlock()
	s.current()
}

// Certificate returns this side's current certificate (nil without a key
// store).
func (s *Source) Certificate() *tls.Certificate { return s.current().cert }

// readStamped reads a file with the stamp it had.
func readStamped(path string) (fileStamp, []byte, error) {
	st, err := stat(path)
	if err != nil {
		return st, nil, err
	}
	data, err := os.ReadFile(path)
	return st, data, err
}
