package httpserve

import (
	"context"
	"crypto/tls"
	"crypto/x509/pkix"
	"io"
	"net/http"
	"testing"

	"github.com/vrkeeper/vrkeeper/internal/testpki"
)

// TestTokenAndTLS: with a token, a request without it gets 401 and one
// with it is served; with TLS and a client certificate required, a plain
// request fails, one without a certificate fails, one with a trusted
// certificate is served.
func TestTokenAndTLS(t *testing.T) {
	ca, err := testpki.NewCA("ca")
	if err != nil {
		t.Fatal(err)
	}
	srvLeaf, _ := ca.Issue(pkix.Name{CommonName: "server"}, "127.0.0.1")
	cliLeaf, _ := ca.Issue(pkix.Name{CommonName: "client"})
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tlsCfg := &tls.Config{Certificates: []tls.Certificate{srvLeaf.TLS()}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: ca.Pool()}
	addr, _, err := ListenWith(ctx, "127.0.0.1:0", ok, Options{Token: "s3cret", TLS: tlsCfg})
	if err != nil {
		t.Fatal(err)
	}
	client := func(cert bool) *http.Client {
		c := &tls.Config{RootCAs: ca.Pool()}
		if cert {
			c.Certificates = []tls.Certificate{cliLeaf.TLS()}
		}
		return &http.Client{Transport: &http.Transport{TLSClientConfig: c}}
	}
	get := func(c *http.Client, scheme, token string) (int, error) {
		req, _ := http.NewRequest("GET", scheme+"://"+addr.String()+"/", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := c.Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	cases := []struct {
		name   string
		c      *http.Client
		scheme string
		token  string
		code   int // 0: the request fails
	}{
		{"plain http", http.DefaultClient, "http", "s3cret", http.StatusBadRequest}, // Go's TLS server refuses it so
		{"no client certificate", client(false), "https", "s3cret", 0},
		{"no token", client(true), "https", "", http.StatusUnauthorized},
		{"wrong token", client(true), "https", "guess", http.StatusUnauthorized},
		{"certificate and token", client(true), "https", "s3cret", http.StatusOK},
	}
	for _, c := range cases {
		code, err := get(c.c, c.scheme, c.token)
		if code != c.code {
			t.Errorf("%s: status %d (%v), want %d", c.name, code, err, c.code)
		}
	}
}
