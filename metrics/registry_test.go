package metrics

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape serves the registry over real HTTP and parses the answer with
// Prometheus's own text parser.
func scrape(t *testing.T, r *Registry) map[string]*dto.MetricFamily {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, _, err := Listen(ctx, "127.0.0.1:0", r)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + addr.String() + Path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("content type %q", ct)
	}
	body, _ := io.ReadAll(resp.Body)
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("prometheus text parser: %v\n%s", err, body)
	}
	return fams
}

func TestEveryDefinedMetricParses(t *testing.T) {
	r, err := New()
	if err != nil {
		t.Fatal(err)
	}
	r.OnScrape(func(r *Registry) { r.SetGauge(ZnodeCount, 42) })
	r.Fsync(3*time.Millisecond, 7)
	r.Prepared(5)
	r.PrepareAcked(2, 2*time.Millisecond)
	r.QueueDepth("inbox", 3)
	r.SetGauge(VRBackupLag, 9, Label{Name: "peer", Value: "2"})
	r.SetGauge(VRBackupLastHeard, 12, Label{Name: "peer", Value: "2"})
	r.Requests().Answered("create", WriteRequest, 1500*time.Microsecond)
	fams := scrape(t, r)
	want := map[dto.MetricType]Kind{dto.MetricType_GAUGE: Gauge, dto.MetricType_COUNTER: Counter, dto.MetricType_SUMMARY: Summary}
	for _, d := range Defs {
		f := fams[d.Name]
		if f == nil {
			t.Errorf("%s missing from the scrape", d.Name)
			continue
		}
		if want[f.GetType()] != d.Kind {
			t.Errorf("%s has type %v, want kind %d", d.Name, f.GetType(), d.Kind)
		}
	}
	if g := fams[ZnodeCount].Metric[0].GetGauge().GetValue(); g != 42 {
		t.Errorf("znode_count = %v, want the scrape hook's 42", g)
	}
	if s := fams[FsyncTime].Metric[0].GetSummary(); s.GetSampleCount() != 1 || s.GetSampleSum() < 2.9 || s.GetSampleSum() > 3.1 {
		t.Errorf("fsynctime summary %v, want one sample of 3 ms", s)
	}
	if c := fams[ProposalCount].Metric[0].GetCounter().GetValue(); c != 5 {
		t.Errorf("proposal_count = %v", c)
	}
	lag := fams[VRBackupLag].Metric[0]
	if lag.Label[0].GetName() != "peer" || lag.Label[0].GetValue() != "2" || lag.GetGauge().GetValue() != 9 {
		t.Errorf("backup lag %v", lag)
	}
	for _, name := range []string{"go_goroutines", "process_open_fds"} {
		if fams[name] == nil {
			t.Errorf("%s missing", name)
		}
	}
}

func TestNilRegistryIsANoop(t *testing.T) {
	var r *Registry
	r.Fsync(time.Millisecond, 1)
	r.SetGauge(ZnodeCount, 1)
	r.OnScrape(func(*Registry) {})
	r.ViewChangeDone(time.Second)
	if r.Handler() == nil {
		t.Fatal("nil handler")
	}
}

func TestDefinitionsAreUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, d := range Defs {
		if seen[d.Name] {
			t.Errorf("%s defined twice", d.Name)
		}
		seen[d.Name] = true
		if d.Help == "" {
			t.Errorf("%s has no help", d.Name)
		}
	}
}

// TestRequestStatsExact: the request path's counts and sums are exact, by
// opcode and by kind, and its summaries carry ZooKeeper's quantiles.
func TestRequestStatsExact(t *testing.T) {
	r, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 100; i++ {
		r.Requests().Answered("getData", ReadRequest, time.Duration(i)*time.Millisecond)
	}
	for range 10 {
		r.Requests().Answered("setData", WriteRequest, 2*time.Millisecond)
	}
	r.Requests().Answered("ping", OtherRequest, time.Millisecond)
	fams := scrape(t, r)
	read := fams[ReadLatency].Metric[0].GetSummary()
	if read.GetSampleCount() != 100 || read.GetSampleSum() != 5050 {
		t.Errorf("readlatency count %d sum %v, want 100 and 5050 ms", read.GetSampleCount(), read.GetSampleSum())
	}
	if len(read.GetQuantile()) != 3 {
		t.Errorf("readlatency quantiles %v, want 0.5, 0.9 and 0.99", read.GetQuantile())
	}
	for _, q := range read.GetQuantile() {
		if v := q.GetValue(); v < 1 || v > 100 {
			t.Errorf("readlatency quantile %v = %v, outside the observations", q.GetQuantile(), v)
		}
	}
	if u := fams[UpdateLatency].Metric[0].GetSummary(); u.GetSampleCount() != 10 || u.GetSampleSum() != 20 {
		t.Errorf("updatelatency count %d sum %v, want 10 and 20 ms", u.GetSampleCount(), u.GetSampleSum())
	}
	counts := map[string]float64{}
	for _, m := range fams[VRRequests].Metric {
		counts[m.Label[0].GetValue()] = m.GetCounter().GetValue()
	}
	if counts["getData"] != 100 || counts["setData"] != 10 || counts["ping"] != 1 {
		t.Errorf("vrkeeper_requests by op %v", counts)
	}
	for _, m := range fams[VRRequestLatency].Metric {
		if m.Label[0].GetValue() == "setData" && m.GetSummary().GetSampleCount() != 10 {
			t.Errorf("request latency of setData counts %d", m.GetSummary().GetSampleCount())
		}
	}
}

func BenchmarkRequestAnswered(b *testing.B) {
	r, err := New()
	if err != nil {
		b.Fatal(err)
	}
	rs := r.Requests()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			rs.Answered("getData", ReadRequest, time.Millisecond)
		}
	})
}
