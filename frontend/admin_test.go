package frontend

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/vrkeeper/vrkeeper/internal/jsonshape"
)

// goldenState makes, through a real client, the state the AdminServer
// golden files were recorded against (internal/admingolden): /golden,
// /golden/child, the session's ephemeral /golden/eph, a data and a child
// watch on /golden. The session stays open until the test ends.
func goldenState(t *testing.T, addr string) {
	t.Helper()
	c, _, err := zk.Connect([]string{addr}, 30*time.Second, zk.WithLogInfo(false))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	acl := zk.WorldACL(zk.PermAll)
	for _, n := range []struct {
		path, data string
		flags      int32
	}{{"/golden", "hello", 0}, {"/golden/child", "c", 0}, {"/golden/eph", "e", zk.FlagEphemeral}} {
		if _, err := c.Create(n.path, []byte(n.data), n.flags, acl); err != nil {
			t.Fatalf("create %s: %v", n.path, err)
		}
	}
	if _, _, _, err := c.GetW("/golden"); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := c.ChildrenW("/golden"); err != nil {
		t.Fatal(err)
	}
}

// adminGet answers a request through the AdminServer's handler.
func adminGet(t *testing.T, h http.Handler, target string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	return rec.Code, rec.Body.String()
}

// DataKeyed are the AdminServer's objects whose keys are data (ids,
// paths, times): their entry counts are compared, not their keys. JVM-only
// or differently modelled answers are not compared by shape.
var (
	dataKeyed = map[string]bool{"session_id_to_watched_paths": true, "path_to_session_ids": true,
		"expiry_time_to_session_ids": true, "session_id_to_ephemeral_paths": true, "current_config": true}
	notCompared = map[string]bool{"environment": true, "system_properties": true, "zabstate": true,
		"monitor": true, "hash": true}
)

// TestAdminMatchesZooKeeper: for the state the golden files were recorded
// against, every AdminServer command of a standalone vrkeeper answers with
// ZooKeeper 3.8's keys and value types, and with its values where the
// state fixes them.
func TestAdminMatchesZooKeeper(t *testing.T) {
	srv, addr := startTestServer(t, func(c *Config) { c.DataDir, c.InitialConfig = t.TempDir(), "tickTime=2000\n" })
	goldenState(t, addr)
	h := srv.AdminHandler("")
	dir := "testdata/admin/zookeeper/standalone"
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) < 20 {
		t.Fatalf("only %d golden files in %s", len(files), dir)
	}
	answers := map[string]map[string]any{}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		golden, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		target := "/commands/" + name
		switch name {
		case "unknown":
			target = "/commands/nosuch"
		case "watches_by_path":
			target += "?path=/golden"
		}
		code, body := adminGet(t, h, target)
		if code != 200 {
			t.Errorf("%s: status %d", name, code)
			continue
		}
		var zkv, ours map[string]any
		if err := json.Unmarshal(golden, &zkv); err != nil {
			t.Fatalf("%s golden: %v", name, err)
		}
		if err := json.Unmarshal([]byte(body), &ours); err != nil {
			t.Errorf("%s: not JSON: %v\n%s", name, err, body)
			continue
		}
		answers[name] = ours
		if zkv["error"] != ours["error"] {
			t.Errorf("%s: error %v, ZooKeeper's %v", name, ours["error"], zkv["error"])
		}
		if notCompared[name] {
			continue
		}
		for _, d := range jsonshape.Compare(name, zkv, ours, dataKeyed) {
			t.Errorf("%s", d)
		}
	}
	// The values the state fixes.
	mon := answers["monitor"]
	for k, want := range map[string]float64{"znode_count": 8, "ephemerals_count": 1, "global_sessions": 1} {
		if mon[k] != want {
			t.Errorf("monitor %s = %v, ZooKeeper's %v", k, mon[k], want)
		}
	}
	if answers["server_stats"]["node_count"] != 8.0 {
		t.Errorf("server_stats node_count = %v", answers["server_stats"]["node_count"])
	}
	if ro := answers["is_read_only"]["read_only"]; ro != false {
		t.Errorf("read_only = %v", ro)
	}
	eph := answers["dump"]["session_id_to_ephemeral_paths"].(map[string]any)
	for _, paths := range eph {
		if fmt.Sprint(paths) != "[/golden/eph]" {
			t.Errorf("dump ephemerals %v", paths)
		}
	}
	byPath := answers["watches_by_path"]["path_to_session_ids"].(map[string]any)
	if _, ok := byPath["/golden"]; !ok || len(byPath) != 1 {
		t.Errorf("watches_by_path %v, want /golden only", byPath)
	}
	// monitor: every key ZooKeeper's too, or vrkeeper's own.
	zkMon, _ := os.ReadFile(filepath.Join(dir, "monitor.json"))
	var zkm map[string]any
	json.Unmarshal(zkMon, &zkm)
	for k := range mon {
		if _, ok := zkm[k]; !ok && !strings.HasPrefix(k, "vrkeeper_") {
			t.Errorf("monitor has %s, which ZooKeeper's has not", k)
		}
	}
}

// TestAdminCommandList: the list page links every command, and each alias
// answers as its command.
func TestAdminCommandList(t *testing.T) {
	srv, _ := startTestServer(t, nil)
	h := srv.AdminHandler("/commands")
	code, body := adminGet(t, h, "/commands")
	if code != 200 || !strings.Contains(body, `<a href="/commands/monitor">monitor</a>`) {
		t.Fatalf("list: %d %q", code, body)
	}
	golden, _ := os.ReadFile("testdata/admin/zookeeper/standalone/commands.html")
	for _, line := range strings.Split(string(golden), "\n") {
		if strings.HasPrefix(line, "<a ") && !strings.Contains(body, line) {
			t.Errorf("ZooKeeper lists %s; vrkeeper does not", line)
		}
	}
	for alias, name := range map[string]string{"mntr": "monitor", "srvr": "server_stats", "isro": "is_read_only", "wchs": "watch_summary"} {
		_, body := adminGet(t, h, "/commands/"+alias)
		if !strings.Contains(body, `"command" : "`+name+`"`) {
			t.Errorf("%s answered %s", alias, body)
		}
	}
}

// TestAdminBadRequests: what is not a command gets a clear JSON error and
// a 4xx status; the server answers normally afterwards.
func TestAdminBadRequests(t *testing.T) {
	srv, _ := startTestServer(t, nil)
	ts := httptest.NewServer(srv.AdminHandler(""))
	defer ts.Close()
	for _, c := range []struct {
		method, path string
		body         io.Reader
		status       int
		errPart      string
	}{
		{"DELETE", "/commands/ruok", nil, 405, "not allowed"},
		{"GET", "/elsewhere", nil, 404, "under /commands"},
		{"GET", "/commands/" + strings.Repeat("x", 300), nil, 414, "too long"},
		{"GET", "/commands/ruok?" + strings.Repeat("a=b&", 2000), nil, 414, "too long"},
		{"GET", "/commands/ruok?a=%zz", nil, 400, "malformed query"},
		{"POST", "/commands/ruok", strings.NewReader(strings.Repeat("x", 100<<10)), 413, "too large"},
		{"GET", "/commands/%00%ff", nil, 200, "Unknown command"},
	} {
		req, _ := http.NewRequest(c.method, ts.URL+c.path, c.body)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", c.method, c.path[:min(len(c.path), 40)], err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var v map[string]any
		if resp.StatusCode != c.status || json.Unmarshal(body, &v) != nil || !strings.Contains(fmt.Sprint(v["error"]), c.errPart) {
			t.Errorf("%s %.40s: %d %q, want %d with %q", c.method, c.path, resp.StatusCode, body, c.status, c.errPart)
		}
	}
	if code, body := adminGet(t, srv.AdminHandler(""), "/commands/ruok"); code != 200 || !strings.Contains(body, `"error" : null`) {
		t.Fatalf("ruok after the bad requests: %d %s", code, body)
	}
}
