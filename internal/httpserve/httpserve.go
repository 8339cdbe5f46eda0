// Package httpserve runs the HTTP endpoints of a server (the AdminServer,
// the Prometheus endpoint) with the limits every such endpoint needs: a
// bound on header size and on the time to read a request, and a shutdown
// when the server stops.
package httpserve

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// MaxHeaderBytes bounds a request's header; larger ones are refused with
// 431 before any handler runs.
const MaxHeaderBytes = 16 << 10

// Options protect an endpoint.
type Options struct {
	// TLS, if set, serves HTTPS only (with its client certificate check,
	// if it has one).
	TLS *tls.Config
	// Token, if set, must come with every request as
	// "Authorization: Bearer <token>"; a request without it gets 401.
	Token string
}

// Listen binds addr and serves h there until ctx ends. It fails at once if
// addr cannot be bound; the channel reports why serving stopped (nil after
// ctx ended).
func Listen(ctx context.Context, addr string, h http.Handler) (net.Addr, <-chan error, error) {
	return ListenWith(ctx, addr, h, Options{})
}

// ListenWith is Listen with TLS and a token check.
func ListenWith(ctx context.Context, addr string, h http.Handler, opts Options) (net.Addr, <-chan error, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	if opts.Token != "" {
		h = requireToken(h, opts.Token)
	}
	if opts.TLS != nil {
		ln = tls.NewListener(ln, opts.TLS)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          nil,
	}
	done := make(chan error, 1)
	go func() {
		err := srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		done <- err
	}()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if srv.Shutdown(sctx) != nil {
			srv.Close()
		}
	}()
	return ln.Addr(), done, nil
}

// requireToken answers 401 to a request without the bearer token.
func requireToken(h http.Handler, token string) http.Handler {
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="vrkeeper"`)
			http.Error(w, `{"error": "unauthorized"}`, http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}
