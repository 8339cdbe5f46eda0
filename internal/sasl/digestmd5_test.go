package sasl

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestRFC2831Example checks the response and rspauth of RFC 2831's
// example exchange (section 4).
func TestRFC2831Example(t *testing.T) {
	ha1 := HA1("chris", "elwood.innosoft.com", "secret", "OA6MG9tEQGm2hh", "OA6MHXh6VqTrRk")
	if got := Response(ha1, "OA6MG9tEQGm2hh", "00000001", "OA6MHXh6VqTrRk", "auth", "AUTHENTICATE:imap/elwood.innosoft.com"); got != "d388dad90d4bbd760a152321f2143af7" {
		t.Fatalf("response %s", got)
	}
	if got := Response(ha1, "OA6MG9tEQGm2hh", "00000001", "OA6MHXh6VqTrRk", "auth", ":imap/elwood.innosoft.com"); got != "ea40f60335c427b5527b84dbabcdfffd" {
		t.Fatalf("rspauth %s", got)
	}
}

func users(u string) (string, bool) {
	pw, ok := map[string]string{"bob": "bobsecret", "zoë": "pässword"}[u]
	return pw, ok
}

// clientResponse is what a DIGEST-MD5 client answers to challenge.
func clientResponse(t *testing.T, challenge, user, password, uri, authzid string) string {
	t.Helper()
	d, err := parseDirectives(challenge)
	if err != nil {
		t.Fatal(err)
	}
	cnonce := "cn0nce"
	ha1 := (&DigestMD5{}).ha1(user, d["realm"], password, d["nonce"], cnonce, authzid)
	rsp := Response(ha1, d["nonce"], "00000001", cnonce, "auth", "AUTHENTICATE:"+uri)
	s := fmt.Sprintf(`charset=utf-8,username="%s",realm="%s",nonce="%s",nc=00000001,cnonce="%s",digest-uri="%s",maxbuf=65536,response=%s,qop=auth`,
		user, d["realm"], d["nonce"], cnonce, uri, rsp)
	if authzid != "" {
		s += `,authzid="` + authzid + `"`
	}
	return s
}

func TestExchange(t *testing.T) {
	uri := "zookeeper/zk-sasl-md5"
	cases := []struct {
		name, user, password, uri, authzid string
		mangle                             func(string) string
		ok                                 bool
		id                                 string
	}{
		{"good", "bob", "bobsecret", uri, "", nil, true, "bob"},
		{"latin1 user", "zoë", "pässword", uri, "", nil, true, "zoë"},
		{"authzid", "bob", "bobsecret", uri, "carol", nil, true, "carol"},
		{"wrong password", "bob", "nope", uri, "", nil, false, ""},
		{"unknown user", "eve", "x", uri, "", nil, false, ""},
		{"wrong uri", "bob", "bobsecret", "imap/zk-sasl-md5", "", nil, false, ""},
		{"wrong nonce", "bob", "bobsecret", uri, "", func(s string) string { return strings.Replace(s, `nonce="`, `nonce="x`, 1) }, false, ""},
		{"replayed count", "bob", "bobsecret", uri, "", func(s string) string { return strings.Replace(s, "nc=00000001", "nc=00000002", 1) }, false, ""},
		{"garbage", "bob", "bobsecret", uri, "", func(string) string { return `username="bob` }, false, ""},
		{"huge", "bob", "bobsecret", uri, "", func(string) string { return strings.Repeat("a", 5000) }, false, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := NewDigestMD5(users)
			ch, err := s.Evaluate(nil)
			if err != nil || s.Complete() {
				t.Fatal(err)
			}
			rsp := clientResponse(t, string(ch), c.user, c.password, c.uri, c.authzid)
			if c.mangle != nil {
				rsp = c.mangle(rsp)
			}
			final, err := s.Evaluate([]byte(rsp))
			if (err == nil) != c.ok || s.Complete() != c.ok {
				t.Fatalf("err %v complete %v, want ok=%v", err, s.Complete(), c.ok)
			}
			if !c.ok {
				if !errors.Is(err, ErrFailed) {
					t.Fatalf("error %v is not ErrFailed", err)
				}
				return
			}
			if s.AuthorizationID() != c.id || !strings.HasPrefix(string(final), "rspauth=") {
				t.Fatalf("id %q final %q", s.AuthorizationID(), final)
			}
			if _, err := s.Evaluate(nil); err == nil {
				t.Fatal("a token after the end was taken")
			}
		})
	}
}

func FuzzDigestResponse(f *testing.F) {
	f.Add([]byte(`charset=utf-8,username="bob",realm="zk-sasl-md5",nonce="n",nc=00000001,cnonce="c",digest-uri="zookeeper/zk-sasl-md5",response=00,qop=auth`))
	f.Add([]byte(`a="\`))
	f.Fuzz(func(t *testing.T, token []byte) {
		s := NewDigestMD5(users)
		s.Evaluate(nil)
		if _, err := s.Evaluate(token); err == nil {
			t.Fatalf("a forged response authenticated: %q", token)
		}
	})
}
