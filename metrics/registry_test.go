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
	r.Observe(VRRequestLatency, 1.5, Label{Name: "op", Value: "create"})
	r.Add(VRRequests, 1, Label{Name: "op", Value: "create"})
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
