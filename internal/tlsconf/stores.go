package tlsconf

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"path/filepath"
	"strings"

	"software.sslmate.com/src/go-pkcs12"
)

// storeType is a store's format: the type given, else ZooKeeper's guess
// from the file name (KeyStoreFileType.fromFilename).
func storeType(given, path string) (string, error) {
	t := strings.ToUpper(strings.TrimSpace(given))
	if t == "" {
		switch strings.ToLower(filepath.Ext(path)) {
		case ".pem", ".crt", ".cer", ".key":
			t = "PEM"
		case ".p12", ".pfx", ".pkcs12":
			t = "PKCS12"
		case ".jks":
			t = "JKS"
		case ".bcfks":
			t = "BCFKS"
		default:
			return "", fmt.Errorf("%s: cannot tell the store type from the file name: set its .type (PEM or PKCS12)", path)
		}
	}
	switch t {
	case "PEM", "PKCS12":
		return t, nil
	case "JKS", "BCFKS":
		return "", fmt.Errorf("%s: store type %s is not supported: convert it to PKCS12 (keytool -importkeystore -deststoretype PKCS12) or PEM", path, t)
	}
	return "", fmt.Errorf("%s: unknown store type %q (PEM or PKCS12)", path, given)
}

// loadKeyStore reads a key store: this side's certificate chain and its
// private key. A PEM key store holds the key and the chain in one file,
// as in ZooKeeper; an encrypted PEM key is not supported.
func loadKeyStore(data []byte, typ, password, path string) (tls.Certificate, error) {
	switch typ {
	case "PKCS12":
		key, leaf, chain, err := pkcs12.DecodeChain(data, password)
		if err != nil {
			return tls.Certificate{}, fmt.Errorf("%s: %w", path, err)
		}
		c := tls.Certificate{PrivateKey: key, Leaf: leaf, Certificate: [][]byte{leaf.Raw}}
		for _, ca := range chain {
			c.Certificate = append(c.Certificate, ca.Raw)
		}
		return c, checkKeyMatches(c, path)
	}
	var c tls.Certificate
	rest := data
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		switch {
		case b.Type == "CERTIFICATE":
			c.Certificate = append(c.Certificate, b.Bytes)
		case b.Type == "ENCRYPTED PRIVATE KEY" || x509.IsEncryptedPEMBlock(b): //nolint:staticcheck // detection only
			return c, fmt.Errorf("%s: an encrypted PEM private key is not supported: store the key unencrypted (readable by the server only) or use a PKCS12 key store", path)
		case strings.HasSuffix(b.Type, "PRIVATE KEY"):
			if c.PrivateKey != nil {
				return c, fmt.Errorf("%s: more than one private key", path)
			}
			k, err := parseKey(b.Bytes)
			if err != nil {
				return c, fmt.Errorf("%s: %w", path, err)
			}
			c.PrivateKey = k
		}
	}
	if len(c.Certificate) == 0 {
		return c, fmt.Errorf("%s: no certificate in the key store", path)
	}
	if c.PrivateKey == nil {
		return c, fmt.Errorf("%s: no private key in the key store", path)
	}
	leaf, err := x509.ParseCertificate(c.Certificate[0])
	if err != nil {
		return c, fmt.Errorf("%s: %w", path, err)
	}
	c.Leaf = leaf
	return c, checkKeyMatches(c, path)
}

// parseKey reads a PKCS#8, PKCS#1 or SEC 1 private key.
func parseKey(der []byte) (crypto.PrivateKey, error) {
	if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		return k, nil
	}
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return k, nil
	}
	if k, err := x509.ParseECPrivateKey(der); err == nil {
		return k, nil
	}
	return nil, fmt.Errorf("unreadable private key (want PKCS#8, PKCS#1 or SEC 1)")
}

// checkKeyMatches fails if the key is not the leaf certificate's.
func checkKeyMatches(c tls.Certificate, path string) error {
	type publicKeyer interface{ Public() crypto.PublicKey }
	pk, ok := c.PrivateKey.(publicKeyer)
	if !ok {
		return fmt.Errorf("%s: unsupported private key type %T", path, c.PrivateKey)
	}
	type equaler interface{ Equal(crypto.PublicKey) bool }
	switch pub := pk.Public().(type) {
	case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
		if !pub.(equaler).Equal(c.Leaf.PublicKey) {
			return fmt.Errorf("%s: the private key does not belong to the first certificate", path)
		}
	default:
		return fmt.Errorf("%s: unsupported key type %T", path, pub)
	}
	return nil
}

// loadTrustStore reads the certificates a trust store holds.
func loadTrustStore(data []byte, typ, password, path string) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	n := 0
	switch typ {
	case "PKCS12":
		certs, err := pkcs12.DecodeTrustStore(data, password)
		if err != nil || len(certs) == 0 {
			// A key store used as trust store: its chain is trusted.
			_, leaf, chain, err2 := pkcs12.DecodeChain(data, password)
			if err2 != nil {
				if err == nil {
					err = err2
				}
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			certs = append([]*x509.Certificate{leaf}, chain...)
		}
		for _, c := range certs {
			pool.AddCert(c)
			n++
		}
	default:
		rest := data
		for {
			var b *pem.Block
			b, rest = pem.Decode(rest)
			if b == nil {
				break
			}
			if b.Type != "CERTIFICATE" {
				continue
			}
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			pool.AddCert(c)
			n++
		}
	}
	if n == 0 {
		return nil, fmt.Errorf("%s: no certificate in the trust store", path)
	}
	return pool, nil
}
