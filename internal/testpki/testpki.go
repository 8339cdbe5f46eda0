// Package testpki makes throwaway certificate authorities and certificates
// for tests, at test time (nothing private is checked in), and writes them
// as ZooKeeper's stores: PEM files (key and chain in one) and PKCS#12.
package testpki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"software.sslmate.com/src/go-pkcs12"
)

// CA is a certificate authority.
type CA struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
}

// Leaf is a certificate issued by a CA, with its key.
type Leaf struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
	CA   *CA
}

var serial = big.NewInt(time.Now().UnixNano())

func nextSerial() *big.Int {
	serial = new(big.Int).Add(serial, big.NewInt(1))
	return new(big.Int).Set(serial)
}

// NewCA makes a self-signed CA named cn.
func NewCA(cn string) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: nextSerial(), Subject: pkix.Name{CommonName: cn, Organization: []string{"vrkeeper tests"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return &CA{Cert: cert, Key: key}, err
}

// Issue makes a certificate for subject, valid for both client and server
// use, naming hosts (IP addresses or DNS names) in its SANs.
func (ca *CA) Issue(subject pkix.Name, hosts ...string) (*Leaf, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: nextSerial(), Subject: subject,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return &Leaf{Cert: cert, Key: key, CA: ca}, err
}

// CertPEM is the CA's certificate as PEM: a PEM trust store.
func (ca *CA) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Cert.Raw})
}

// Pool is a pool holding the CA.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

// KeyPEM is the leaf's key (PKCS#8) and certificate as PEM, the form of
// ZooKeeper's PEM key store.
func (l *Leaf) KeyPEM() []byte {
	der, err := x509.MarshalPKCS8PrivateKey(l.Key)
	if err != nil {
		panic(err)
	}
	out := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	return append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: l.Cert.Raw})...)
}

// CertOnlyPEM is the leaf's certificate as PEM.
func (l *Leaf) CertOnlyPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: l.Cert.Raw})
}

// KeyOnlyPEM is the leaf's key as PKCS#8 PEM.
func (l *Leaf) KeyOnlyPEM() []byte {
	der, _ := x509.MarshalPKCS8PrivateKey(l.Key)
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// PKCS12 is the leaf and its key as a PKCS#12 key store.
func (l *Leaf) PKCS12(password string) ([]byte, error) {
	return pkcs12.Modern.Encode(l.Key, l.Cert, []*x509.Certificate{l.CA.Cert}, password)
}

// TrustPKCS12 is the CA as a PKCS#12 trust store.
func (ca *CA) TrustPKCS12(password string) ([]byte, error) {
	return pkcs12.Modern.EncodeTrustStore([]*x509.Certificate{ca.Cert}, password)
}

// TLS is the leaf as a tls.Certificate.
func (l *Leaf) TLS() tls.Certificate {
	return tls.Certificate{Certificate: [][]byte{l.Cert.Raw}, PrivateKey: l.Key, Leaf: l.Cert}
}

// Files are a leaf's stores written to a directory.
type Files struct {
	KeyPEM, TrustPEM, KeyP12, TrustP12 string // paths
	CertPEM, KeyOnly                   string // the certificate and key apart (kazoo's certfile/keyfile)
}

// Write writes the leaf's key store and its CA's trust store, in PEM and
// in PKCS#12 (password "secret"), under dir with the given base name.
func (l *Leaf) Write(dir, name string) (Files, error) {
	f := Files{
		KeyPEM: filepath.Join(dir, name+"-key.pem"), TrustPEM: filepath.Join(dir, name+"-trust.pem"),
		KeyP12: filepath.Join(dir, name+"-key.p12"), TrustP12: filepath.Join(dir, name+"-trust.p12"),
		CertPEM: filepath.Join(dir, name+"-cert.pem"), KeyOnly: filepath.Join(dir, name+"-keyonly.pem"),
	}
	p12, err := l.PKCS12("secret")
	if err != nil {
		return f, err
	}
	t12, err := l.CA.TrustPKCS12("secret")
	if err != nil {
		return f, err
	}
	for path, data := range map[string][]byte{f.KeyPEM: l.KeyPEM(), f.TrustPEM: l.CA.CertPEM(), f.KeyP12: p12,
		f.TrustP12: t12, f.CertPEM: l.CertOnlyPEM(), f.KeyOnly: l.KeyOnlyPEM()} {
		if err := WriteFileAtomic(path, data); err != nil {
			return f, err
		}
	}
	return f, nil
}

// WriteFileAtomic writes data to path through a temporary file and a
// rename, as certificate tools replace files.
func WriteFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("testpki: %w", err)
	}
	return os.Rename(tmp, path)
}
