// Package httpserve runs the HTTP endpoints of a server (the AdminServer,
// the Prometheus endpoint) with the limits every such endpoint needs: a
// bound on header size and on the time to read a request, and a shutdown
// when the server stops.
package httpserve

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// MaxHeaderBytes bounds a request's header; larger ones are refused with
// 431 before any handler runs.
const MaxHeaderBytes = 16 << 10

// Listen binds addr and serves h there until ctx ends. It fails at once if
// addr cannot be bound; the channel reports why serving stopped (nil after
// ctx ended).
func Listen(ctx context.Context, addr string, h http.Handler) (net.Addr, <-chan error, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("listen on %s: %w", addr, err)
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
