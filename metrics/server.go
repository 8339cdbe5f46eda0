package metrics

import (
	"context"
	"fmt"
	"net"
	"net/http"

	"github.com/vrkeeper/vrkeeper/internal/httpserve"
)

// Path is where the endpoint serves, as ZooKeeper's Prometheus provider.
const Path = "/metrics"

// Listen binds the Prometheus endpoint on addr (ZooKeeper's
// metricsProvider.httpHost:httpPort) and serves r there until ctx ends.
// It fails at once if addr cannot be bound.
func Listen(ctx context.Context, addr string, r *Registry) (net.Addr, <-chan error, error) {
	return ListenWith(ctx, addr, r, httpserve.Options{})
}

// ListenWith is Listen with TLS and a token check (httpserve.Options).
func ListenWith(ctx context.Context, addr string, r *Registry, opts httpserve.Options) (net.Addr, <-chan error, error) {
	mux := http.NewServeMux()
	mux.Handle(Path, r.Handler())
	mux.Handle("/", http.RedirectHandler(Path, http.StatusFound))
	a, done, err := httpserve.ListenWith(ctx, addr, mux, opts)
	if err != nil {
		return nil, nil, fmt.Errorf("metrics: %w", err)
	}
	return a, done, nil
}
