package peer

import (
	"bytes"
	"crypto/tls"
	"crypto/x509/pkix"
	"encoding/binary"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/vrkeeper/vrkeeper/consensus"
	"github.com/vrkeeper/vrkeeper/consensus/wire"
	"github.com/vrkeeper/vrkeeper/internal/testpki"
	"github.com/vrkeeper/vrkeeper/internal/tlsconf"
)

// quorumPKI is a CA and each member's certificate, naming its address.
type quorumPKI struct {
	t     *testing.T
	dir   string
	ca    *testpki.CA
	other *testpki.CA
}

func newQuorumPKI(t *testing.T) *quorumPKI {
	ca, err := testpki.NewCA("quorum ca")
	if err != nil {
		t.Fatal(err)
	}
	other, err := testpki.NewCA("someone else's ca")
	if err != nil {
		t.Fatal(err)
	}
	return &quorumPKI{t: t, dir: t.TempDir(), ca: ca, other: other}
}

// source issues a certificate from ca for host and returns its source.
func (q *quorumPKI) source(ca *testpki.CA, name, host string) *tlsconf.Source {
	q.t.Helper()
	l, err := ca.Issue(pkix.Name{CommonName: name}, host)
	if err != nil {
		q.t.Fatal(err)
	}
	f, err := l.Write(q.dir, name)
	if err != nil {
		q.t.Fatal(err)
	}
	// Every member trusts the quorum's CA, whoever issued its own.
	trust := f.TrustPEM
	if ca != q.ca {
		trust = q.dir + "/quorum-trust.pem"
		if err := testpki.WriteFileAtomic(trust, q.ca.CertPEM()); err != nil {
			q.t.Fatal(err)
		}
	}
	src, err := tlsconf.New(tlsconf.Settings{KeyStore: f.KeyPEM, TrustStore: trust, HostnameVerification: true})
	if err != nil {
		q.t.Fatal(err)
	}
	return src
}

func hostAddr(t *testing.T, host string) string {
	ln, err := net.Listen("tcp", host+":0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestTLSLinksDeliver: three members with mutual TLS exchange frames.
func TestTLSLinksDeliver(t *testing.T) {
	q := newQuorumPKI(t)
	addrs := map[uint64]string{1: hostAddr(t, "127.0.0.1"), 2: hostAddr(t, "127.0.0.2"), 3: hostAddr(t, "127.0.0.3")}
	in := newInbox()
	var trs []*Transport
	for id := uint64(1); id <= 3; id++ {
		host, _, _ := net.SplitHostPort(addrs[id])
		tr, err := New(id, addrs[id], addrs, in.deliver, hclog.NewNullLogger(),
			Options{TLS: q.source(q.ca, "member"+host, host)})
		if err != nil {
			t.Fatal(err)
		}
		trs = append(trs, tr)
	}
	defer func() {
		for _, tr := range trs {
			tr.Close()
		}
	}()
	// Frames sent while links connect may be dropped: send until heard.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
			trs[0].Send(2, []byte("to two"))
			trs[2].Send(1, []byte("to one"))
		}
	}()
	in.waitFor(t, func(got map[uint64][]string) bool { return len(got[1]) > 0 && len(got[3]) > 0 })
	close(stop)
	wg.Wait()
}

// intruder is what a process that is not a member can try against a
// member's peer port.
type intruder struct {
	name string
	// dial connects to addr and returns the connection to write the hello
	// and a Prepare on (over TLS or not) and the TCP connection under it.
	dial func(t *testing.T, addr string) (c, raw net.Conn, err error)
	from uint64 // the member it claims to be
}

// TestTLSRefusesIntruders: a process with no certificate, with one from
// another CA, with the quorum CA's certificate for another host, or
// without TLS at all, cannot join nor get a Prepare delivered; each
// attempt is logged.
func TestTLSRefusesIntruders(t *testing.T) {
	q := newQuorumPKI(t)
	addrs := map[uint64]string{1: hostAddr(t, "127.0.0.1"), 2: hostAddr(t, "127.0.0.2")}
	var delivered atomic.Int64
	var logs bytes.Buffer
	var logMu sync.Mutex
	log := hclog.New(&hclog.LoggerOptions{Output: lockedWriter{&logMu, &logs}, Level: hclog.Warn})
	// Member 1 alone, its peer 2 absent: every connection claiming to be 2
	// is an intruder.
	tr, err := New(1, addrs[1], addrs, func(uint64, []byte) { delivered.Add(1) }, log,
		Options{TLS: q.source(q.ca, "member1", "127.0.0.1")})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	tlsDial := func(cert *tls.Certificate) func(t *testing.T, addr string) (net.Conn, net.Conn, error) {
		return func(t *testing.T, addr string) (net.Conn, net.Conn, error) {
			cfg := &tls.Config{RootCAs: q.ca.Pool(), ServerName: "127.0.0.1"}
			if cert != nil {
				cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }
			}
			d := &net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}
			raw, err := d.Dial("tcp", addr)
			if err != nil {
				return nil, nil, err
			}
			c := tls.Client(raw, cfg)
			return c, raw, c.Handshake()
		}
	}
	leaf := func(ca *testpki.CA, host string) *tls.Certificate {
		l, err := ca.Issue(pkix.Name{CommonName: "intruder"}, host)
		if err != nil {
			t.Fatal(err)
		}
		c := l.TLS()
		return &c
	}
	intruders := []intruder{
		{name: "plain TCP", dial: func(t *testing.T, addr string) (net.Conn, net.Conn, error) {
			c, err := net.Dial("tcp", addr)
			return c, c, err
		}, from: 2},
		{name: "TLS without a certificate", dial: tlsDial(nil), from: 2},
		{name: "TLS with another CA's certificate", dial: tlsDial(leaf(q.other, "127.0.0.2")), from: 2},
		{name: "TLS with the quorum CA's certificate for another host", dial: tlsDial(leaf(q.ca, "127.0.0.9")), from: 2},
		{name: "TLS with a member's certificate claiming another id", dial: tlsDial(leaf(q.ca, "127.0.0.2")), from: 3},
	}
	prepare, err := wire.Encode(nil, &consensus.Prepare{Header: consensus.Header{View: 99}, After: 0,
		Entries: []consensus.Entry{{Op: 1, View: 99, Cmd: []byte("injected")}}, Commit: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range intruders {
		t.Run(in.name, func(t *testing.T) {
			logMu.Lock()
			before := logs.Len()
			logMu.Unlock()
			c, raw, err := in.dial(t, addrs[1])
			if err == nil {
				hello := append([]byte(helloMagic), make([]byte, 16)...)
				binary.BigEndian.PutUint64(hello[len(helloMagic):], in.from)
				binary.BigEndian.PutUint64(hello[len(helloMagic)+8:], 1)
				var out []byte
				for _, f := range [][]byte{hello, prepare} {
					out = binary.BigEndian.AppendUint32(out, uint32(len(f)))
					out = append(out, f...)
				}
				c.Write(out)
				c.SetReadDeadline(time.Now().Add(10 * time.Second))
				_, err = io.Copy(io.Discard, c)
			}
			if raw != nil {
				// The member logs, then closes the TCP connection (a TLS
				// alert may come before the log line): wait for the close.
				raw.SetReadDeadline(time.Now().Add(10 * time.Second))
				io.Copy(io.Discard, raw)
				raw.Close()
			}
			if delivered.Load() != 0 {
				t.Fatal("an intruder's frame was delivered")
			}
			// The refusal is logged (the member logs before it closes).
			logMu.Lock()
			line := logs.String()[before:]
			logMu.Unlock()
			if !strings.Contains(line, "refused a peer connection") {
				t.Fatalf("no refusal logged (read error %v); log: %q", err, line)
			}
		})
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// TestTLSImpostorReadsNothing: a process listening where a member expects
// its peer (without TLS, or with a certificate the member does not trust)
// learns nothing of the replication traffic: the member's handshake fails
// and no frame, not even the hello, leaves in the clear.
func TestTLSImpostorReadsNothing(t *testing.T) {
	q := newQuorumPKI(t)
	secret := []byte("replicated-secret-payload")
	for _, mode := range []string{"plain", "rogue TLS"} {
		t.Run(mode, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.2:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			if mode == "rogue TLS" {
				l, _ := q.other.Issue(pkix.Name{CommonName: "impostor"}, "127.0.0.2")
				cert := l.TLS()
				ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequestClientCert})
			}
			addrs := map[uint64]string{1: hostAddr(t, "127.0.0.1"), 2: ln.Addr().String()}
			tr, err := New(1, addrs[1], addrs, func(uint64, []byte) {}, hclog.NewNullLogger(),
				Options{TLS: q.source(q.ca, "m1"+strings.ReplaceAll(mode, " ", ""), "127.0.0.1"), MaxBackoff: 20 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			defer tr.Close()
			var seen bytes.Buffer
			for i := 0; i < 3; i++ { // three connection attempts
				c, err := ln.Accept()
				if err != nil {
					t.Fatal(err)
				}
				tr.Send(2, secret)
				c.SetReadDeadline(time.Now().Add(3 * time.Second))
				b, _ := io.ReadAll(c) // ends when the member gives up on this connection
				seen.Write(b)
				c.Close()
			}
			if bytes.Contains(seen.Bytes(), secret) || bytes.Contains(seen.Bytes(), []byte(helloMagic)) {
				t.Fatalf("the impostor read replication traffic: %q", seen.Bytes())
			}
		})
	}
}
