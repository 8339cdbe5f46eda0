// Package sasl is the server side of SASL DIGEST-MD5 (RFC 2831) as
// ZooKeeper's servers run it for clients that log in with JAAS's
// DigestLoginModule: realm "zk-sasl-md5", protocol "zookeeper", quality of
// protection "auth" (authentication only; the connection is not wrapped).
package sasl

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// ZooKeeper's names in the exchange (ZooKeeperSaslServer).
const (
	Protocol   = "zookeeper"
	ServerName = "zk-sasl-md5"
)

// maxToken bounds a client response; RFC 2831 allows 4096 bytes.
const maxToken = 4096

// ErrFailed is returned (wrapped) by Evaluate when authentication fails.
var ErrFailed = errors.New("sasl: DIGEST-MD5 authentication failed")

// DigestMD5 is one connection's server side of the exchange: Evaluate the
// client's empty first token to get the challenge, then its response to
// get rspauth; after that Complete is true and AuthorizationID names the
// client. It is not safe for concurrent use.
type DigestMD5 struct {
	users    func(name string) (password string, ok bool)
	realm    string
	nonce    string
	step     int
	complete bool
	authzid  string
}

// NewDigestMD5 returns a server that knows the users password returns.
func NewDigestMD5(password func(user string) (string, bool)) *DigestMD5 {
	var b [24]byte
	rand.Read(b[:])
	return &DigestMD5{users: password, realm: ServerName, nonce: base64.StdEncoding.EncodeToString(b[:])}
}

// Complete reports whether the client is authenticated.
func (s *DigestMD5) Complete() bool { return s.complete }

// AuthorizationID is the authenticated client's identity: the authzid it
// asked for if any, else its user name.
func (s *DigestMD5) AuthorizationID() string { return s.authzid }

// Evaluate takes the client's next token and returns the server's.
func (s *DigestMD5) Evaluate(token []byte) ([]byte, error) {
	switch s.step {
	case 0:
		s.step = 1
		// The client has no initial response; its first token is empty.
		return []byte(fmt.Sprintf(`realm="%s",nonce="%s",qop="auth",charset=utf-8,algorithm=md5-sess`, s.realm, s.nonce)), nil
	case 1:
		s.step = 2
		rsp, err := s.verify(token)
		if err != nil {
			return nil, err
		}
		s.complete = true
		return []byte("rspauth=" + rsp), nil
	}
	return nil, errors.New("sasl: DIGEST-MD5 exchange already ended")
}

// verify checks the client's digest-response and returns rspauth's value.
func (s *DigestMD5) verify(token []byte) (string, error) {
	if len(token) > maxToken {
		return "", fmt.Errorf("%w: response of %d bytes", ErrFailed, len(token))
	}
	f, err := parseDirectives(string(token))
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrFailed, err)
	}
	need := func(k string) (string, error) {
		v, ok := f[k]
		if !ok {
			return "", fmt.Errorf("%w: no %s", ErrFailed, k)
		}
		return v, nil
	}
	user, err := need("username")
	if err != nil {
		return "", err
	}
	cnonce, err := need("cnonce")
	if err != nil {
		return "", err
	}
	nonce, err := need("nonce")
	if err != nil {
		return "", err
	}
	response, err := need("response")
	if err != nil {
		return "", err
	}
	uri, err := need("digest-uri")
	if err != nil {
		return "", err
	}
	if nonce != s.nonce {
		return "", fmt.Errorf("%w: nonce mismatch", ErrFailed)
	}
	if nc := f["nc"]; nc != "00000001" {
		return "", fmt.Errorf("%w: nonce count %q", ErrFailed, nc)
	}
	if qop, ok := f["qop"]; ok && qop != "auth" {
		return "", fmt.Errorf("%w: qop %q not offered", ErrFailed, qop)
	}
	if realm, ok := f["realm"]; ok && realm != s.realm {
		return "", fmt.Errorf("%w: realm %q not offered", ErrFailed, realm)
	}
	if uri != Protocol+"/"+ServerName {
		return "", fmt.Errorf("%w: digest-uri %q", ErrFailed, uri)
	}
	password, ok := s.users(user)
	if !ok {
		return "", fmt.Errorf("%w: unknown user %q", ErrFailed, user)
	}
	authzid := f["authzid"]
	realm := f["realm"]
	ha1 := s.ha1(user, realm, password, nonce, cnonce, authzid)
	want := Response(ha1, nonce, "00000001", cnonce, "auth", "AUTHENTICATE:"+uri)
	if subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(response))) != 1 {
		return "", fmt.Errorf("%w: wrong password for %q", ErrFailed, user)
	}
	s.authzid = user
	if authzid != "" {
		s.authzid = authzid
	}
	return Response(ha1, nonce, "00000001", cnonce, "auth", ":"+uri), nil
}

// ha1 is HEX(H(A1)) of RFC 2831 2.1.2.1.
func (s *DigestMD5) ha1(user, realm, password, nonce, cnonce, authzid string) string {
	inner := md5.Sum([]byte(latin1(user) + ":" + latin1(realm) + ":" + latin1(password)))
	a1 := string(inner[:]) + ":" + nonce + ":" + cnonce
	if authzid != "" {
		a1 += ":" + authzid
	}
	sum := md5.Sum([]byte(a1))
	return hex.EncodeToString(sum[:])
}

// Response is RFC 2831's response-value: HEX(KD(HEX(H(A1)), nonce ":" nc
// ":" cnonce ":" qop ":" HEX(H(A2)))) for the given HEX(H(A1)) and A2.
func Response(ha1, nonce, nc, cnonce, qop, a2 string) string {
	h2 := md5.Sum([]byte(a2))
	sum := md5.Sum([]byte(ha1 + ":" + nonce + ":" + nc + ":" + cnonce + ":" + qop + ":" + hex.EncodeToString(h2[:])))
	return hex.EncodeToString(sum[:])
}

// HA1 is HEX(H(A1)) for a client without authzid, for tests and clients.
func HA1(user, realm, password, nonce, cnonce string) string {
	return (&DigestMD5{}).ha1(user, realm, password, nonce, cnonce, "")
}

// latin1 converts a UTF-8 string whose characters all lie in ISO 8859-1
// to that charset, as RFC 2831 asks of charset=utf-8 values before
// hashing; other strings stay UTF-8.
func latin1(s string) string {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xff {
			return s
		}
		b = append(b, byte(r))
	}
	return string(b)
}

// parseDirectives reads "name=value" or name="quoted value" pairs
// separated by commas.
func parseDirectives(s string) (map[string]string, error) {
	out := map[string]string{}
	i := 0
	for i < len(s) {
		for i < len(s) && (s[i] == ' ' || s[i] == ',' || s[i] == '\t') {
			i++
		}
		if i >= len(s) {
			break
		}
		eq := strings.IndexByte(s[i:], '=')
		if eq <= 0 {
			return nil, fmt.Errorf("malformed directive at %d", i)
		}
		key := strings.ToLower(strings.TrimSpace(s[i : i+eq]))
		i += eq + 1
		var val strings.Builder
		if i < len(s) && s[i] == '"' {
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				val.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, fmt.Errorf("unterminated quote in %s", key)
			}
			i++
		} else {
			for ; i < len(s) && s[i] != ','; i++ {
				val.WriteByte(s[i])
			}
		}
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("directive %s given twice", key)
		}
		out[key] = strings.TrimSpace(val.String())
	}
	return out, nil
}
