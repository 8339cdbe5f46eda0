package frontend

import (
	"context"
	"crypto/tls"
	"net"
	"slices"
	"time"

	"github.com/vrkeeper/vrkeeper/bridge"
	"github.com/vrkeeper/vrkeeper/internal/accept"
	"github.com/vrkeeper/vrkeeper/internal/sasl"
	"github.com/vrkeeper/vrkeeper/internal/tlsconf"
	"github.com/vrkeeper/vrkeeper/metrics"
	"github.com/vrkeeper/vrkeeper/tree"
	"github.com/vrkeeper/vrkeeper/zkproto"
)

// Security is how the server authenticates clients, beyond the digest
// scheme every server has.
type Security struct {
	// SecureClientAddr is ZooKeeper's secureClientPort (and its address):
	// TLS connections with TLS's configuration, beside the plain
	// ClientAddr. Empty: no secure port.
	SecureClientAddr string
	TLS              *tls.Config
	// X509 turns the x509 provider on: a verified client certificate gives
	// its connection the identity x509:<subject in RFC 2253 form>, and
	// X509SuperUser's subject the super identity too
	// (X509AuthenticationProvider.superUser).
	X509          bool
	X509SuperUser string
	// SASLUsers, if set, turns SASL DIGEST-MD5 on with these users (from
	// the server's JAAS configuration); a client that completes it has the
	// identity sasl:<user>, and a user in SASLSuperUsers (ZooKeeper's
	// zookeeper.superUser) the super identity too.
	SASLUsers      map[string]string
	SASLSuperUsers []string
	// EnforceSchemes, if set, is enforce.auth.schemes with
	// enforce.auth.enabled: a connection without an identity of one of
	// these schemes gets SESSIONCLOSEDREQUIRESASLAUTH for any request but
	// auth and sasl, and is closed.
	EnforceSchemes []string
	// SkipACL is ZooKeeper's skipACL: no permission is checked; watch
	// events reach every watcher. The writes this server accepts carry it
	// (tree.PolicySkipACL); its reads pass the super identity.
	SkipACL bool
}

// writePolicy is the part of the configuration that decides how a write
// applies: every write this server accepts carries it in its command
// (tree.ClientWrite.Policy), so that all replicas apply it as this
// server's configuration says, whatever their own. The x509 and sasl
// schemes are valid where their provider is on, as in ZooKeeper; TTL nodes
// where extended types are.
func (c *Config) writePolicy() tree.WritePolicy {
	var p tree.WritePolicy
	if c.Security.X509 {
		p |= tree.PolicyX509
	}
	if c.Security.SASLUsers != nil {
		p |= tree.PolicySASL
	}
	if c.Security.SkipACL {
		p |= tree.PolicySkipACL
	}
	if c.ExtendedTypes {
		p |= tree.PolicyExtendedTypes
	}
	return p
}

// readAuth is c's identities for a read this server answers: under
// skipACL with the super identity added, which passes every check. Reads
// change nothing, so this server's own configuration may decide them. The
// core (pipeline.go) and the reader (fastpath.go) call it, never at once:
// the reader serves reads only while the core holds none of c's requests.
func (c *conn) readAuth() []zkproto.Id {
	if !c.srv.cfg.Security.SkipACL {
		return c.auth
	}
	c.readIDs = append(append(c.readIDs[:0], c.auth...), zkproto.Id{Scheme: tree.SchemeSuper})
	return c.readIDs
}

// tlsHandshake completes the handshake of a connection on the secure port
// within the handshake time, and takes the identity of its certificate. It
// reports false if the connection must end.
func (c *conn) tlsHandshake() bool {
	tc, ok := c.nc.(*tls.Conn)
	if !ok {
		return true
	}
	sec := &c.srv.cfg.Security
	ctx, cancel := context.WithTimeout(context.Background(), c.srv.cfg.HandshakeTimeout)
	defer cancel()
	if err := tc.HandshakeContext(ctx); err != nil {
		c.srv.stats.authFailed.Add(1)
		c.srv.cfg.Metrics.Add(metrics.AuthFailedCount, 1)
		c.srv.log.Warn("TLS handshake failed", "remote", c.remote, "error", err)
		return false
	}
	certs := tc.ConnectionState().PeerCertificates
	if len(certs) == 0 || !sec.X509 {
		// No certificate (clientAuth want or none), or the x509 provider
		// off: the connection has no x509 identity.
		return true
	}
	name := tlsconf.SubjectName(certs[0])
	if sec.X509SuperUser != "" && name == sec.X509SuperUser {
		c.tlsIDs = append(c.tlsIDs, zkproto.Id{Scheme: tree.SchemeSuper, ID: name})
	}
	c.tlsIDs = append(c.tlsIDs, zkproto.Id{Scheme: tree.SchemeX509, ID: name})
	c.srv.log.Debug("x509 identity", "remote", c.remote, "id", name)
	return true
}

// saslExchange handles a sasl packet: answered at once, out of band (at
// zxid 0), as ZooKeeper does. A failure answers AUTHFAILED (or, when SASL
// is enforced, SESSIONCLOSEDREQUIRESASLAUTH) and closes the connection.
func (k *core) saslExchange(a *bridge.Apply, c *conn, r *request) {
	defer c.release(r)
	sec := &k.s.cfg.Security
	var req zkproto.GetSASLRequest
	h := zkproto.ReplyHeader{Xid: r.xid, Zxid: 0}
	if err := zkproto.Unmarshal(r.body, &req); err != nil {
		h.Err = zkproto.ErrMarshallingError
		c.send(&h, nil)
		c.close()
		return
	}
	if sec.SASLUsers == nil {
		// A server without SASL answers with no token, as ZooKeeper
		// without a JAAS Server section does.
		c.send(&h, (&zkproto.SetSASLResponse{}).Append(nil))
		return
	}
	if c.sasl == nil {
		c.sasl = sasl.NewDigestMD5(func(u string) (string, bool) {
			pw, ok := sec.SASLUsers[u]
			return pw, ok
		})
	}
	token, err := c.sasl.Evaluate(req.Token)
	if err != nil {
		k.s.stats.authFailed.Add(1)
		k.s.cfg.Metrics.Add(metrics.AuthFailedCount, 1)
		k.s.log.Warn("SASL authentication failed", "remote", c.remote, "error", err)
		h.Err = zkproto.ErrAuthFailed
		if slices.Contains(sec.EnforceSchemes, tree.SchemeSASL) {
			h.Err = zkproto.ErrSessionClosedRequireSASLAuth
		}
		// ZooKeeper sends the (empty) token with the error: its client
		// reads it before it reports AuthFailed.
		c.sendWithBody(&h, (&zkproto.SetSASLResponse{}).Append(nil))
		c.close()
		return
	}
	if c.sasl.Complete() && !c.saslDone {
		c.saslDone = true
		id := c.sasl.AuthorizationID()
		ids := []zkproto.Id{{Scheme: tree.SchemeSASL, ID: id}}
		if slices.Contains(sec.SASLSuperUsers, id) {
			ids = append(ids, zkproto.Id{Scheme: tree.SchemeSuper})
		}
		if !k.addIdentities(c, ids) {
			h.Err = zkproto.ErrAuthFailed
			c.send(&h, nil)
			c.close()
			return
		}
		k.s.log.Info("SASL authenticated", "remote", c.remote, "id", id)
	}
	c.send(&h, (&zkproto.SetSASLResponse{Token: token}).Append(nil))
}

// addIdentities adds ids to c's identities within the bound on their size
// (they travel in every write); false if they do not fit.
func (k *core) addIdentities(c *conn, ids []zkproto.Id) bool {
	size := c.authBytes.Load()
	for _, id := range ids {
		if !containsID(c.auth, id) {
			size += int64(idSize(id))
		}
	}
	if size > int64(k.s.cfg.AuthBytes) {
		return false
	}
	for _, id := range ids {
		if !containsID(c.auth, id) {
			c.auth = append(c.auth, id)
		}
	}
	c.authBytes.Store(size)
	return true
}

// authorized reports whether c may be served: enforce.auth is off, or c
// has an identity of one of its schemes.
func (k *core) authorized(c *conn) bool {
	schemes := k.s.cfg.Security.EnforceSchemes
	if len(schemes) == 0 {
		return true
	}
	for _, id := range c.auth {
		if slices.Contains(schemes, id.Scheme) {
			return true
		}
	}
	return false
}

// enforced answers and closes a connection that lacks an identity of the
// schemes enforce.auth requires; it reports whether it did.
func (k *core) enforced(c *conn, r *request) bool {
	if k.authorized(c) {
		if !c.live.Load() && c.sessID == c.sess.id {
			// Authenticated since its session opened here: from now on
			// the reader may serve its reads too (fastpath.go).
			c.live.Store(true)
		}
		return false
	}
	schemes := k.s.cfg.Security.EnforceSchemes
	k.s.log.Warn("client not authenticated with a required scheme: closing", "remote", c.remote, "schemes", schemes)
	h := zkproto.ReplyHeader{Xid: r.xid, Zxid: 0, Err: zkproto.ErrSessionClosedRequireSASLAuth}
	c.send(&h, nil)
	c.release(r)
	c.close()
	return true
}

// serveSecure accepts TLS connections on the secure port until Close.
func (s *Server) serveSecure(ln net.Listener) {
	defer s.wg.Done()
	accept.Loop(ln, s.stop, func(nc net.Conn) { s.accept(tls.Server(nc, s.cfg.Security.TLS)) },
		func(err error, pause time.Duration) {
			s.log.Warn("accepting a secure connection failed", "error", err, "retry_in", pause)
		})
}

// sendWithBody queues a reply with its body even when it carries an error,
// as ZooKeeper answers a failed sasl packet.
func (c *conn) sendWithBody(h *zkproto.ReplyHeader, body []byte) {
	c.out.append(func(b []byte) []byte {
		b, start := zkproto.StartFrame(b)
		b = h.Append(b)
		b = append(b, body...)
		return zkproto.FinishFrame(b, start)
	})
	c.sent.Add(1)
	c.srv.stats.sent.Add(1)
}
