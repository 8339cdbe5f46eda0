package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/vrkeeper/vrkeeper/internal/jsonshape"
)

// These tests run vrkeeper as an operator who runs ZooKeeper would: through
// bin/zkServer.sh with a conf directory and java.env, checked with
// ZooKeeper's own zkServer.sh status, Debian's zktop, vrkeeper status, the
// AdminServer and a Prometheus scrape. They need the vrkeeper binary.

// runTool runs a command without standard input and returns its output.
func runTool(t *testing.T, env []string, name string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		return "", err
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return out.String(), err
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("%s %v did not finish in 60s:\n%s", name, args, out.String())
		return "", nil
	}
}

// scrapeProm reads a Prometheus endpoint with Prometheus's own text parser.
func scrapeProm(t *testing.T, addr string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("prometheus text parser: %v", err)
	}
	return fams
}

// adminJSON gets an AdminServer command.
func adminJSON(t *testing.T, addr, command string) map[string]any {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/commands/" + command)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatalf("%s: %v", command, err)
	}
	return v
}

// TestLauncherLikeZooKeeper: bin/zkServer.sh, copied out of the
// repository, starts vrkeeper from a conf directory whose java.env sets
// -D properties; ZooKeeper's zkServer.sh status, zktop, vrkeeper status and
// metrics, the AdminServer and the Prometheus endpoint all see it; stop
// ends it.
func TestLauncherLikeZooKeeper(t *testing.T) {
	if target != "vrkeeper" {
		return // the launcher starts vrkeeper only
	}
	home := t.TempDir()
	bin, conf, data, logs := filepath.Join(home, "bin"), filepath.Join(home, "conf"), filepath.Join(home, "data"), filepath.Join(home, "logs")
	for _, d := range []string{bin, conf, data} {
		os.MkdirAll(d, 0o755)
	}
	script, err := os.ReadFile("../bin/zkServer.sh")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(bin, "zkServer.sh"), script, 0o755)
	client := net.JoinHostPort("127.0.0.1", freePort(t, "127.0.0.1"))
	admin := net.JoinHostPort("127.0.0.1", freePort(t, "127.0.0.1"))
	prom := net.JoinHostPort("127.0.0.1", freePort(t, "127.0.0.1"))
	_, cport, _ := net.SplitHostPort(client)
	_, aport, _ := net.SplitHostPort(admin)
	_, pport, _ := net.SplitHostPort(prom)
	cfg := strings.Join([]string{"tickTime=500", "initLimit=10", "syncLimit=5", "dataDir=" + data,
		"clientPort=" + cport, "clientPortAddress=127.0.0.1",
		"admin.serverAddress=127.0.0.1", "admin.serverPort=" + aport,
		"metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider",
		"metricsProvider.httpHost=127.0.0.1", "metricsProvider.httpPort=" + pport,
		"autopurge.snapRetainCount=3", ""}, "\n")
	os.WriteFile(filepath.Join(conf, "zoo.cfg"), []byte(cfg), 0o644)
	os.WriteFile(filepath.Join(conf, "java.env"), []byte(`SERVER_JVMFLAGS="-Dzookeeper.4lw.commands.whitelist=* -Dzookeeper.extendedTypesEnabled=true"`+"\n"), 0o644)
	env := []string{"VRKEEPER_BIN=" + vrkeeperBin, "ZOOCFGDIR=" + conf, "ZOO_LOG_DIR=" + logs}
	zkServer := filepath.Join(bin, "zkServer.sh")
	out, err := runTool(t, env, zkServer, "start")
	if err != nil || !strings.Contains(out, "STARTED") {
		t.Fatalf("start: %v\n%s", err, out)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			runTool(t, env, zkServer, "stop")
		}
	})
	if out, err := runTool(t, env, zkServer, "start"); err == nil || !strings.Contains(out, "already running") {
		t.Errorf("second start: %v\n%s", err, out)
	}
	if out, err := runTool(t, env, zkServer, "status"); err != nil || !strings.Contains(out, "Mode: standalone") {
		t.Errorf("status: %v\n%s", err, out)
	}
	// ZooKeeper's own script asks srvr through its Java client.
	out, err = runTool(t, []string{"ZOO_LOG_DIR=" + logs}, "/usr/share/zookeeper/bin/zkServer.sh", "status", filepath.Join(conf, "zoo.cfg"))
	if err != nil || !strings.Contains(out, "Mode: standalone") {
		t.Errorf("ZooKeeper's zkServer.sh status: %v\n%s", err, out)
	}
	// zktop's parser of stat, as its poller calls it.
	py := fmt.Sprintf(`import zktop
class O: timeout = 5; fix_330 = False
zktop.options = O()
s = zktop.ZKServer(%q, 0)
print(s.unavailable, s.mode, s.version, s.node_count, s.latency_min_avg_max)`, client)
	if out, err := runTool(t, nil, "/usr/bin/python3", "-c", py); err != nil || !strings.HasPrefix(out, "False standalone 3.8.0 ") {
		t.Errorf("zktop: %v\n%s", err, out)
	}
	if out, err := runTool(t, nil, vrkeeperBin, "status", "--servers", client); err != nil || !strings.Contains(out, "standalone") {
		t.Errorf("vrkeeper status: %v\n%s", err, out)
	}
	if out, err := runTool(t, nil, vrkeeperBin, "metrics", "--server", client); err != nil || !strings.Contains(out, "znode_count") {
		t.Errorf("vrkeeper metrics: %v\n%s", err, out)
	}
	if v := adminJSON(t, admin, "ruok"); v["error"] != nil || v["command"] != "ruok" {
		t.Errorf("admin ruok: %v", v)
	}
	if v := adminJSON(t, admin, "dirs"); v["datadir_size"].(float64) <= 0 {
		t.Errorf("admin dirs: %v", v)
	}
	fams := scrapeProm(t, prom)
	if f := fams["znode_count"]; f == nil || f.Metric[0].GetGauge().GetValue() < 2 {
		t.Errorf("znode_count: %v", f)
	}
	for _, name := range []string{"readlatency", "vrkeeper_view", "vrkeeper_commit_number", "process_open_fds"} {
		if fams[name] == nil {
			t.Errorf("the scrape lacks %s", name)
		}
	}
	if f := fams["vrkeeper_read_lease_ms"]; f == nil || f.Metric[0].GetGauge().GetValue() != -1 {
		t.Errorf("vrkeeper_read_lease_ms of a single server: %v, want -1 (a lease for good)", f)
	}
	if out, err := runTool(t, env, zkServer, "version"); err != nil || !strings.Contains(out, "vrkeeper ") {
		t.Errorf("version: %v\n%s", err, out)
	}
	if out, err := runTool(t, env, zkServer, "stop"); err != nil || !strings.Contains(out, "STOPPED") {
		t.Fatalf("stop: %v\n%s", err, out)
	}
	stopped = true
	if c, err := net.DialTimeout("tcp", client, time.Second); err == nil {
		c.Close()
		t.Fatal("the server still listens after stop")
	}
	if _, err := os.Stat(filepath.Join(data, "zookeeper_server.pid")); err == nil {
		t.Error("the pid file outlived stop")
	}
}

// TestWordsTellTheTruth: on a single server, crst and srst reset what
// they say, dirs measures the directories, isro answers rw, and the
// packet counts cover the server's life, not only open connections.
func TestWordsTellTheTruth(t *testing.T) {
	c := startCluster(t, 1)
	addr := c.servers[0].clientAddr
	s := connect(t, 10*time.Second, addr)
	for i := range 5 {
		if _, err := s.Create(fmt.Sprintf("/w%d", i), []byte("x"), 0, zk.WorldACL(zk.PermAll)); err != nil {
			t.Fatal(err)
		}
	}
	// crst: the open connection's packet count starts again.
	recved := func() int {
		out, _ := fourLetter(addr, "cons")
		for _, line := range strings.Split(out, "\n") {
			if i := strings.Index(line, "recved="); i >= 0 && strings.Contains(line, "sid=") {
				n, _ := strconv.Atoi(strings.SplitN(line[i+len("recved="):], ",", 2)[0])
				return n
			}
		}
		t.Fatalf("cons shows no session:\n%s", out)
		return 0
	}
	if n := recved(); n < 6 {
		t.Errorf("recved=%d after 6 packets", n)
	}
	if out, _ := fourLetter(addr, "crst"); out != "Connection stats reset.\n" {
		t.Errorf("crst: %q", out)
	}
	if n := recved(); n > 1 { // a ping may come in between
		t.Errorf("recved=%d after crst", n)
	}
	s.Close()
	field := func(word, prefix string) string {
		out, err := fourLetter(addr, word)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(out, "\n") {
			if v, ok := strings.CutPrefix(line, prefix); ok {
				return strings.TrimSpace(v)
			}
		}
		t.Fatalf("%s has no %q:\n%s", word, prefix, out)
		return ""
	}
	if n, _ := strconv.Atoi(field("srvr", "Received: ")); n < 6 {
		t.Errorf("Received %d after a closed session's 6 packets", n)
	}
	if out, _ := fourLetter(addr, "srst"); out != "Server stats reset.\n" {
		t.Errorf("srst: %q", out)
	}
	if got := field("srvr", "Received: "); got != "0" {
		t.Errorf("Received %s after srst", got)
	}
	if got := field("srvr", "Latency min/avg/max: "); got != "0/0.0/0" {
		t.Errorf("latency %s after srst", got)
	}
	if n, _ := strconv.Atoi(field("dirs", "datadir_size: ")); n <= 0 {
		t.Errorf("datadir_size %d", n)
	}
	if out, _ := fourLetter(addr, "isro"); out != "rw" {
		t.Errorf("isro: %q", out)
	}
	if n, _ := strconv.Atoi(field("mntr", "zk_open_file_descriptor_count\t")); n <= 0 {
		t.Errorf("open descriptors %d", n)
	}
}

// adminNotCompared are the commands whose answers are JVM facts or Zab's
// internals (zabstate maps VR onto Zab's words with fewer fields), and
// monitor, whose keys are checked against ZooKeeper's by frontend's tests.
var adminNotCompared = map[string]bool{"environment": true, "system_properties": true, "zabstate": true,
	"monitor": true, "hash": true}

// adminDataKeyed are objects keyed by data: their entry counts are
// compared.
var adminDataKeyed = map[string]bool{"session_id_to_watched_paths": true, "path_to_session_ids": true,
	"expiry_time_to_session_ids": true, "session_id_to_ephemeral_paths": true, "current_config": true}

// compareAdmin holds one server's AdminServer answers against ZooKeeper's
// recorded in mode's directory (frontend/testdata/admin/zookeeper) for
// the same state, and returns them by command.
func compareAdmin(t *testing.T, adminAddr, mode string) map[string]map[string]any {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join("../frontend/testdata/admin/zookeeper", mode, "*.json"))
	if len(files) < 20 {
		t.Fatalf("only %d golden files for %s", len(files), mode)
	}
	answers := map[string]map[string]any{}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		command := name
		if name == "unknown" {
			command = "nosuch"
		}
		golden, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var want map[string]any
		if err := json.Unmarshal(golden, &want); err != nil {
			t.Fatalf("%s/%s: %v", mode, name, err)
		}
		ours := adminJSON(t, adminAddr, command)
		answers[name] = ours
		if want["error"] != ours["error"] {
			t.Errorf("%s %s: error %v, ZooKeeper's %v", mode, name, ours["error"], want["error"])
		}
		if adminNotCompared[name] {
			continue
		}
		for _, d := range jsonshape.Compare(mode+" "+name, want, ours, adminDataKeyed) {
			t.Error(d)
		}
	}
	return answers
}

// TestClusterMonitoringMatchesZooKeeper: a three-server cluster holding
// the state the AdminServer goldens were recorded against (a session on a
// backup with an ephemeral and watches) answers every AdminServer command
// on its primary and on that backup as ZooKeeper's leader and follower
// did; the primary's mntr counts two learners, both synced; vrkeeper
// status shows one primary and two backups; the primary's Prometheus
// scrape has each backup's lag.
func TestClusterMonitoringMatchesZooKeeper(t *testing.T) {
	if target != "vrkeeper" {
		return // vrkeeper's own figures, compared with ZooKeeper's recorded answers
	}
	admin := map[string]string{}
	prom := map[string]string{}
	c := startClusterEach(t, 3, func(s *server) []string {
		host, _, _ := net.SplitHostPort(s.clientAddr)
		a, p := freePort(t, host), freePort(t, host)
		admin[s.clientAddr], prom[s.clientAddr] = net.JoinHostPort(host, a), net.JoinHostPort(host, p)
		return []string{"admin.enableServer=true", "admin.serverAddress=" + host, "admin.serverPort=" + a,
			"metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider",
			"metricsProvider.httpHost=" + host, "metricsProvider.httpPort=" + p}
	})
	p := c.servers[c.withMode("leader")]
	b := c.servers[c.withMode("follower")]
	// The state of internal/admingolden, through a client of the backup.
	s := connect(t, 30*time.Second, b.clientAddr)
	acl := zk.WorldACL(zk.PermAll)
	for _, n := range []struct {
		path, data string
		flags      int32
	}{{"/golden", "hello", 0}, {"/golden/child", "c", 0}, {"/golden/eph", "e", zk.FlagEphemeral}} {
		if _, err := s.Create(n.path, []byte(n.data), n.flags, acl); err != nil {
			t.Fatalf("create %s: %v", n.path, err)
		}
	}
	if _, _, _, err := s.GetW("/golden"); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := s.ChildrenW("/golden"); err != nil {
		t.Fatal(err)
	}
	// The backups answer the primary's next heartbeats within moments.
	var mntr string
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		mntr, _ = fourLetter(p.clientAddr, "mntr")
		if strings.Contains(mntr, "zk_synced_followers\t2\n") {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, want := range []string{"zk_server_state\tleader\n", "zk_learners\t2\n", "zk_synced_followers\t2\n",
		"zk_pending_syncs\t0\n", "zk_quorum_size\t3\n", "zk_znode_count\t8\n", "zk_global_sessions\t1\n"} {
		if !strings.Contains(mntr, want) {
			t.Errorf("primary's mntr lacks %q:\n%s", want, mntr)
		}
	}
	leader := compareAdmin(t, admin[p.clientAddr], "leader")
	follower := compareAdmin(t, admin[b.clientAddr], "follower")
	if v := leader["leader"]; v["is_leader"] != true || v["leader_id"] != float64(p.id) {
		t.Errorf("leader on the primary: %v", v)
	}
	if v := follower["leader"]; v["is_leader"] != false || v["leader_id"] != float64(p.id) {
		t.Errorf("leader on the backup: %v", v)
	}
	for _, answers := range []map[string]map[string]any{leader, follower} {
		if n := answers["server_stats"]["node_count"]; n != 8.0 {
			t.Errorf("node_count %v, ZooKeeper's 8", n)
		}
	}
	out, err := runTool(t, nil, vrkeeperBin, "status", "--servers", strings.Join(c.addrs(), ","))
	if err != nil || strings.Count(out, " primary ") != 1 || strings.Count(out, " backup ") != 2 {
		t.Errorf("vrkeeper status: %v\n%s", err, out)
	}
	fams := scrapeProm(t, prom[p.clientAddr])
	if f := fams["vrkeeper_backup_lag_ops"]; f == nil || len(f.Metric) != 2 {
		t.Errorf("backup lag: %v", f)
	}
	if f := fams["synced_followers"]; f == nil || f.Metric[0].GetGauge().GetValue() != 2 {
		t.Errorf("synced_followers: %v", f)
	}
	// Every server of a healthy cluster holds a read lease, renewed with
	// each heartbeat: the primary's and both backups' are all above 0.
	for _, srv := range c.servers {
		var got float64
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if f := scrapeProm(t, prom[srv.clientAddr])["vrkeeper_read_lease_ms"]; f != nil {
				if got = f.Metric[0].GetGauge().GetValue(); got > 0 {
					break
				}
			}
		}
		if got <= 0 {
			t.Errorf("server %d holds no read lease (vrkeeper_read_lease_ms %v)", srv.id, got)
		}
	}
}

// TestWordsWithoutQuorum: a server whose peers are gone tells the truth:
// ruok imok, isro null, srvr and mntr not serving, vrkeeper status not
// serving (and exit 1), as a ZooKeeper server without a quorum.
func TestWordsWithoutQuorum(t *testing.T) {
	c := startCluster(t, 3)
	c.kill(0)
	c.kill(1)
	addr := c.servers[2].clientAddr
	deadline := time.Now().Add(30 * time.Second)
	for mode(addr) != "" && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	for word, want := range map[string]string{"ruok": "imok", "isro": "null",
		"srvr": "This ZooKeeper instance is not currently serving requests\n",
		"mntr": "This ZooKeeper instance is not currently serving requests\n"} {
		if got, _ := fourLetter(addr, word); got != want {
			t.Errorf("%s without quorum: %q, want %q", word, got, want)
		}
	}
	if target == "vrkeeper" {
		out, err := runTool(t, nil, vrkeeperBin, "status", "--servers", addr)
		if err == nil || !strings.Contains(out, "not serving") {
			t.Errorf("vrkeeper status without quorum: %v\n%s", err, out)
		}
	}
}

// TestStopsOnSignal: SIGTERM and SIGINT stop a server cleanly (exit 0)
// and leave nothing listening; it logged one serving line (text, then
// JSON).
func TestStopsOnSignal(t *testing.T) {
	if target != "vrkeeper" {
		return
	}
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		dir := t.TempDir()
		client := net.JoinHostPort("127.0.0.1", freePort(t, "127.0.0.1"))
		format, servingLine := "text", "vrkeeper: serving:"
		if sig == syscall.SIGINT {
			format, servingLine = "json", `"@message":"serving"`
		}
		cmd := exec.Command(vrkeeperBin, "--client-addr", client, "--admin-addr", "off", "--data-dir", filepath.Join(dir, "d"),
			"--log-format", format)
		cmd.Dir = dir
		var logs bytes.Buffer
		cmd.Stderr = &logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		for mode(client) != "standalone" {
			select {
			case err := <-exited:
				t.Fatalf("exited while starting: %v\n%s", err, logs.String())
			case <-time.After(20 * time.Millisecond):
			}
		}
		cmd.Process.Signal(sig)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("%v: exit %v\n%s", sig, err, logs.String())
			}
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("%v: still running after 20s", sig)
		}
		if c, err := net.DialTimeout("tcp", client, time.Second); err == nil {
			c.Close()
			t.Errorf("%v: the port is still open", sig)
		}
		if n := strings.Count(logs.String(), servingLine); n != 1 {
			t.Errorf("%d serving lines:\n%s", n, logs.String())
		}
	}
}

// TestUnreachablePeerLoggedOnce: the primary logs a backup that stops
// answering once at WARN, and once when it is back, instead of a line per
// failed attempt.
func TestUnreachablePeerLoggedOnce(t *testing.T) {
	if target != "vrkeeper" {
		return // vrkeeper's log
	}
	c := startCluster(t, 3)
	p := c.servers[c.withMode("leader")]
	var b *server
	for _, s := range c.servers {
		if s != p {
			b = s
		}
	}
	log := func() string {
		out, _ := os.ReadFile(filepath.Join(p.dir, "server.log"))
		return string(out)
	}
	waitFor := func(what string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for !strings.Contains(log(), what) {
			if time.Now().After(deadline) {
				t.Fatalf("the primary never logged %q:\n%s", what, log())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	c.kill(c.index(b.clientAddr))
	waitFor("peer unreachable")
	c.restart(c.index(b.clientAddr))
	waitFor("peer reachable again")
	text := log()
	if n := strings.Count(text, "peer unreachable"); n != 1 {
		t.Errorf("%d unreachable lines for one outage:\n%s", n, text)
	}
	if !strings.Contains(text, fmt.Sprintf("[WARN]  vrkeeper.peers: peer unreachable: peer=%d", b.id)) {
		t.Errorf("the WARN line does not name server %d:\n%s", b.id, text)
	}
}
