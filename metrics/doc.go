// Package metrics is vrkeeper's instrumentation: the names of every metric a
// server exports, a small API the frontend and the replica driver call to
// record them, and the Prometheus endpoint ZooKeeper's
// PrometheusMetricsProvider serves (metricsProvider.httpHost/httpPort,
// path /metrics).
//
// Metrics go through github.com/hashicorp/go-metrics into its Prometheus
// sink, with hostname prefixing off and no service prefix, so a metric's
// Prometheus name is exactly the name defined here. Where ZooKeeper has a
// metric for the same thing its name is used (znode_count, readlatency,
// fsynctime, ...), so dashboards built for ZooKeeper's Prometheus provider
// find them; vrkeeper's own metrics start with "vrkeeper_". Times are in
// milliseconds, as ZooKeeper's are. Summaries have the 0.5, 0.9 and 0.99
// quantiles over the last ten seconds, plus _sum and _count.
//
// Every method of *Registry is safe on a nil receiver, where it does
// nothing: code that records metrics needs no check whether metrics are on.
// All methods are safe for concurrent use.
package metrics
