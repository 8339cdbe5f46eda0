package metrics

import (
	"fmt"
	"net/http"
	"sync"
	"time"

	gometrics "github.com/hashicorp/go-metrics"
	promsink "github.com/hashicorp/go-metrics/prometheus"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Registry is one server's metrics: a go-metrics instance writing into a
// Prometheus sink on a registry of its own (so several servers in one test
// process do not mix), with the Go runtime's and the process's collectors.
type Registry struct {
	m   *gometrics.Metrics
	reg *prometheus.Registry
	req *RequestStats // the request path's metrics, outside go-metrics (requests.go)

	mu    sync.Mutex        // serializes scrapes, guards hooks
	hooks []func(*Registry) // run before each scrape, to set gauges from state
}

// Label is a metric label.
type Label = gometrics.Label

// New returns a registry with every metric of Defs that has no labels
// declared at zero, so a dashboard sees them before their first event.
func New() (*Registry, error) {
	reg := prometheus.NewRegistry()
	if err := reg.Register(collectors.NewGoCollector()); err != nil {
		return nil, fmt.Errorf("metrics: register go collector: %w", err)
	}
	if err := reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})); err != nil {
		return nil, fmt.Errorf("metrics: register process collector: %w", err)
	}
	opts := promsink.PrometheusOpts{Registerer: reg, Name: "vrkeeper_metrics_sink", Expiration: 0}
	req := newRequestStats()
	if err := reg.Register(req); err != nil {
		return nil, fmt.Errorf("metrics: register request metrics: %w", err)
	}
	for _, d := range Defs {
		if len(d.Labels) > 0 || requestPathMetrics[d.Name] {
			continue
		}
		key := []string{d.Name}
		switch d.Kind {
		case Gauge:
			opts.GaugeDefinitions = append(opts.GaugeDefinitions, promsink.GaugeDefinition{Name: key, Help: d.Help})
		case Counter:
			opts.CounterDefinitions = append(opts.CounterDefinitions, promsink.CounterDefinition{Name: key, Help: d.Help})
		case Summary:
			opts.SummaryDefinitions = append(opts.SummaryDefinitions, promsink.SummaryDefinition{Name: key, Help: d.Help})
		}
	}
	sink, err := promsink.NewPrometheusSinkFrom(opts)
	if err != nil {
		return nil, fmt.Errorf("metrics: prometheus sink: %w", err)
	}
	cfg := gometrics.DefaultConfig("")
	cfg.EnableHostname = false
	cfg.EnableHostnameLabel = false
	cfg.EnableServiceLabel = false
	cfg.EnableRuntimeMetrics = false // the Go collector exports the runtime's
	cfg.EnableTypePrefix = false
	cfg.TimerGranularity = time.Millisecond
	m, err := gometrics.New(cfg, sink)
	if err != nil {
		return nil, fmt.Errorf("metrics: go-metrics: %w", err)
	}
	return &Registry{m: m, reg: reg, req: req}, nil
}

// Requests returns the request path's metrics (nil for a nil registry,
// which records nothing).
func (r *Registry) Requests() *RequestStats {
	if r == nil {
		return nil
	}
	return r.req
}

// SetGauge sets a gauge.
func (r *Registry) SetGauge(name string, v float64, labels ...Label) {
	if r == nil {
		return
	}
	r.m.SetPrecisionGaugeWithLabels([]string{name}, v, labels)
}

// Add adds n to a counter.
func (r *Registry) Add(name string, n float64, labels ...Label) {
	if r == nil || n <= 0 {
		return
	}
	r.m.IncrCounterWithLabels([]string{name}, float32(n), labels)
}

// Observe adds an observation to a summary.
func (r *Registry) Observe(name string, v float64, labels ...Label) {
	if r == nil {
		return
	}
	r.m.AddSampleWithLabels([]string{name}, float32(v), labels)
}

// ObserveDuration adds a duration, in ms, to a summary.
func (r *Registry) ObserveDuration(name string, d time.Duration, labels ...Label) {
	r.Observe(name, float64(d)/float64(time.Millisecond), labels...)
}

// OnScrape registers fn to run before every scrape, to set gauges from
// the server's state.
func (r *Registry) OnScrape(fn func(*Registry)) {
	if r == nil {
		return
	}
	r.mu.Lock()
	r.hooks = append(r.hooks, fn)
	r.mu.Unlock()
}

// Gatherer runs the scrape hooks and returns the registry to gather from.
func (r *Registry) gather() prometheus.Gatherer {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, fn := range r.hooks {
		fn(r)
	}
	return r.reg
}

// Handler serves the metrics in Prometheus's text format.
func (r *Registry) Handler() http.Handler {
	if r == nil {
		return http.NotFoundHandler()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		g := r.gather()
		promhttp.HandlerFor(g, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}).ServeHTTP(w, req)
	})
}
