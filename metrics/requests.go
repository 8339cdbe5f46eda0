package metrics

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// RequestStats is the request path's metrics: requests answered and their
// latency by opcode (vrkeeper_requests, vrkeeper_request_latency_ms), and
// the latency of reads and of writes (ZooKeeper's readlatency and
// updatelatency). Through go-metrics every answered request cost three
// sink calls and two quantile-stream inserts, about 4.5 µs of CPU: three
// times what a read itself costs the server. Here an answer costs a few
// atomic additions: counts and sums are exact, and the quantiles come from
// one observation in sampleEvery (over the last 10 s, as the sink's
// summaries). It is safe for concurrent use; a nil *RequestStats records
// nothing.
type RequestStats struct {
	read, update *latency

	mu  sync.RWMutex
	ops map[string]*latency // by opcode name; grows to the opcodes seen (its count is vrkeeper_requests)

	countDesc, latencyDesc, readDesc, updateDesc *prometheus.Desc
}

// RequestKind sorts answered requests into readlatency and updatelatency.
type RequestKind uint8

// The kinds of answered request.
const (
	OtherRequest RequestKind = iota // neither (ping, auth, setWatches...)
	ReadRequest                     // a read or a sync
	WriteRequest                    // a write
)

// sampleEvery: one observation in sampleEvery feeds the quantiles.
const sampleEvery = 8

// latency is a summary whose count and sum are exact and whose quantiles
// are estimated from a sample of the observations.
type latency struct {
	count    atomic.Uint64
	sumNanos atomic.Uint64
	sample   prometheus.Summary
}

// requestPathMetrics are the metrics RequestStats exports (not the sink).
var requestPathMetrics = map[string]bool{VRRequests: true, VRRequestLatency: true, ReadLatency: true, UpdateLatency: true}

func newRequestStats() *RequestStats {
	help := map[string]string{}
	for _, d := range Defs {
		help[d.Name] = d.Help
	}
	return &RequestStats{
		read: newLatency(), update: newLatency(), ops: map[string]*latency{},
		countDesc:   prometheus.NewDesc(VRRequests, help[VRRequests], []string{"op"}, nil),
		latencyDesc: prometheus.NewDesc(VRRequestLatency, help[VRRequestLatency], []string{"op"}, nil),
		readDesc:    prometheus.NewDesc(ReadLatency, help[ReadLatency], nil, nil),
		updateDesc:  prometheus.NewDesc(UpdateLatency, help[UpdateLatency], nil, nil),
	}
}

func newLatency() *latency {
	return &latency{sample: prometheus.NewSummary(prometheus.SummaryOpts{
		Name:       "sample",
		Objectives: map[float64]float64{0.5: 0.05, 0.9: 0.01, 0.99: 0.001},
		MaxAge:     10 * time.Second, // as the sink's summaries
	})}
}

func (l *latency) observe(d time.Duration) {
	if n := l.count.Add(1); n%sampleEvery == 1 {
		l.sample.Observe(float64(d) / float64(time.Millisecond))
	}
	l.sumNanos.Add(uint64(max(d, 0)))
}

// summary returns the exported summary: exact count and sum (ms), sampled
// quantiles.
func (l *latency) summary(desc *prometheus.Desc, labels ...string) (prometheus.Metric, error) {
	var m dto.Metric
	if err := l.sample.Write(&m); err != nil {
		return nil, err
	}
	qs := make(map[float64]float64, len(m.GetSummary().GetQuantile()))
	for _, q := range m.GetSummary().GetQuantile() {
		qs[q.GetQuantile()] = q.GetValue()
	}
	sum := float64(l.sumNanos.Load()) / float64(time.Millisecond)
	return prometheus.NewConstSummary(desc, l.count.Load(), sum, qs, labels...)
}

// Answered records a request answered after lat.
func (s *RequestStats) Answered(op string, kind RequestKind, lat time.Duration) {
	if s == nil {
		return
	}
	s.mu.RLock()
	o := s.ops[op]
	s.mu.RUnlock()
	if o == nil {
		s.mu.Lock()
		if o = s.ops[op]; o == nil {
			o = newLatency()
			s.ops[op] = o
		}
		s.mu.Unlock()
	}
	o.observe(lat)
	switch kind {
	case ReadRequest:
		s.read.observe(lat)
	case WriteRequest:
		s.update.observe(lat)
	}
}

// Describe is prometheus.Collector's.
func (s *RequestStats) Describe(ch chan<- *prometheus.Desc) {
	ch <- s.countDesc
	ch <- s.latencyDesc
	ch <- s.readDesc
	ch <- s.updateDesc
}

// Collect is prometheus.Collector's.
func (s *RequestStats) Collect(ch chan<- prometheus.Metric) {
	emit := func(m prometheus.Metric, err error) {
		if err == nil {
			ch <- m
		}
	}
	emit(s.read.summary(s.readDesc))
	emit(s.update.summary(s.updateDesc))
	s.mu.RLock()
	defer s.mu.RUnlock()
	for op, o := range s.ops {
		emit(prometheus.NewConstMetric(s.countDesc, prometheus.CounterValue, float64(o.count.Load()), op))
		emit(o.summary(s.latencyDesc, op))
	}
}
