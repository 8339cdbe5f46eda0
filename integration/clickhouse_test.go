package integration

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// clickHouseBin is Debian's ClickHouse server (package clickhouse-server,
// 18.16), whose ZooKeeper client is ClickHouse's own C++ implementation.
const clickHouseBin = "/usr/sbin/clickhouse-server"

// TestClickHouse runs two ClickHouse servers with a ReplicatedMergeTree
// table whose <zookeeper> section names the cluster, on 1 and 3 servers:
// concurrent inserts from several threads, block deduplication, a server of
// the cluster killed with SIGKILL under inserts, ALTER ADD COLUMN, ALTER
// DELETE, DROP PARTITION and OPTIMIZE FINAL, each checked on both replicas
// against what the test inserted. VRK_TARGET=zookeeper runs the same steps
// on Apache ZooKeeper, which passes them.
//
// ClickHouse's client sends a session's requests from several threads with
// xids out of order; vrkeeper's duplicate check once took such a write for
// a stale duplicate and closed the connection, which ClickHouse takes for
// an expired session: extra rows, lost ALTERs, mutations never replicated.
func TestClickHouse(t *testing.T) {
	if _, err := os.Stat(clickHouseBin); err != nil {
		t.Fatalf("ClickHouse is not installed (Debian package clickhouse-server): %v", err)
	}
	for _, n := range []int{1, 3} {
		t.Run(fmt.Sprintf("%d servers", n), func(t *testing.T) { testClickHouse(t, startCluster(t, n)) })
	}
}

func testClickHouse(t *testing.T, c *cluster) {
	replicas := startClickHouses(t, c, "r1", "r2")
	for _, r := range replicas {
		r.mustQuery(t, `CREATE TABLE t (d Date, k UInt64, v String)
			ENGINE = ReplicatedMergeTree('/clickhouse/tables/t', '{replica}')
			PARTITION BY toYYYYMM(d) ORDER BY k`)
	}
	var want rowSet

	// Concurrent inserts: four threads per replica, one block each time.
	insertAll(t, replicas, &want, 0, 10, "2024-01-15", "2024-02-15", nil)
	// An identical block again, through the other replica: deduplicated.
	last := block(7, 9, "2024-02-15")
	replicas[0].insert(t, last)
	for _, r := range replicas {
		r.mustQuery(t, "SYSTEM SYNC REPLICA t")
	}
	checkRows(t, replicas, want, "after the concurrent inserts and a repeated block")

	// A server of the cluster killed under inserts (on one server: the
	// whole cluster, restarted); failed inserts are retried with the same
	// block, which deduplication makes safe.
	victim := 0
	if len(c.servers) > 1 {
		victim = c.withMode("leader")
	}
	var once sync.Once
	insertAll(t, replicas, &want, 100, 8, "2024-03-15", "2024-03-16", func(done int) {
		if done >= 8 {
			once.Do(func() {
				c.kill(victim)
				if len(c.servers) == 1 {
					c.restart(victim)
				}
			})
		}
	})
	if len(c.servers) > 1 {
		c.restart(victim)
	}
	for _, r := range replicas {
		// An insert whose outcome ClickHouse 18.16 did not learn (connection
		// loss during its commit) may leave a part on that replica that is
		// not in ZooKeeper, until the table is checked or restarted; on
		// ZooKeeper too.
		r.mustQuery(t, "DETACH TABLE t")
		r.mustQuery(t, "ATTACH TABLE t")
	}
	for _, r := range replicas {
		r.mustQuery(t, "SYSTEM SYNC REPLICA t")
	}
	checkRows(t, replicas, want, "after a server was killed under inserts")

	// Schema change through one replica reaches the other.
	replicas[0].mustQuery(t, "ALTER TABLE t ADD COLUMN x UInt32 DEFAULT 7")
	replicas[1].await(t, "SELECT count() FROM system.columns WHERE table = 't' AND name = 'x'", "1")
	replicas[1].mustQuery(t, "INSERT INTO t (d, k, v, x) VALUES ('2024-03-20', 999999, 'x', 9)")
	want.add(999999, "2024-03-20")
	for _, r := range replicas {
		r.mustQuery(t, "SYSTEM SYNC REPLICA t")
		if got := r.mustQuery(t, "SELECT sum(x) FROM t"); got != fmt.Sprint(7*(len(want)-1)+9) {
			t.Errorf("%s: sum(x) = %s after ALTER ADD COLUMN, want %d", r.name, got, 7*(len(want)-1)+9)
		}
	}

	// A mutation through one replica applies on both. A replica learns of
	// it from ZooKeeper in the background, so before that it lists no
	// mutation at all: wait for the one mutation to be listed as done.
	replicas[1].mustQuery(t, "ALTER TABLE t DELETE WHERE k % 10 = 3")
	want.remove(func(k uint64, _ string) bool { return k%10 == 3 })
	for _, r := range replicas {
		r.await(t, "SELECT countIf(is_done = 1), countIf(is_done = 0) FROM system.mutations WHERE table = 't'", "1\t0")
	}
	checkRows(t, replicas, want, "after ALTER DELETE")

	// A partition dropped through one replica goes on both. A replica that
	// is not ClickHouse's leader sends it to the leader, and refuses it
	// with LEADERSHIP_CHANGED while an election (after the server killed
	// above expired a session) is under way: it is retried then.
	replicas[0].mustQueryRetrying(t, "ALTER TABLE t DROP PARTITION 202401", "Code: 292,")
	want.remove(func(_ uint64, d string) bool { return strings.HasPrefix(d, "2024-01") })
	replicas[1].mustQuery(t, "SYSTEM SYNC REPLICA t")
	checkRows(t, replicas, want, "after DROP PARTITION")

	// OPTIMIZE FINAL merges each partition into one part on both replicas.
	replicas[0].mustQuery(t, "OPTIMIZE TABLE t FINAL", "replication_alter_partitions_sync", "2")
	for _, r := range replicas {
		r.mustQuery(t, "SYSTEM SYNC REPLICA t")
		r.await(t, "SELECT count() FROM (SELECT partition, count() AS n FROM system.parts WHERE table = 't' AND active GROUP BY partition HAVING n > 1)", "0")
	}
	checkRows(t, replicas, want, "after OPTIMIZE FINAL")
}

// rowSet is what the table must hold: k -> d.
type rowSet map[uint64]string

func (s *rowSet) add(k uint64, d string) {
	if *s == nil {
		*s = rowSet{}
	}
	(*s)[k] = d
}

func (s rowSet) remove(drop func(k uint64, d string) bool) {
	for k, d := range s {
		if drop(k, d) {
			delete(s, k)
		}
	}
}

// summary is what checkRows compares: "count sum(k)".
func (s rowSet) summary() string {
	var sum uint64
	for k := range s {
		sum += k
	}
	return fmt.Sprintf("%d\t%d", len(s), sum)
}

// checkRows asserts every replica holds exactly the rows of want.
func checkRows(t *testing.T, replicas []*clickHouse, want rowSet, when string) {
	t.Helper()
	for _, r := range replicas {
		if got := r.mustQuery(t, "SELECT count(), sum(k) FROM t"); got != want.summary() {
			t.Errorf("%s %s: count, sum(k) = %q, want %q", r.name, when, got, want.summary())
		}
	}
}

// rowsPerBlock is the size of each inserted block.
const rowsPerBlock = 50

// block returns the rows (TSV) of insert i of thread g: keys unique to it.
func block(g, i int, d string) string {
	var b strings.Builder
	for j := range rowsPerBlock {
		fmt.Fprintf(&b, "%s\t%d\tv%d\n", d, blockKey(g, i, j), j)
	}
	return b.String()
}

func blockKey(g, i, j int) uint64 { return uint64(g*100000 + i*100 + j) }

// insertAll runs four threads per replica, thread g inserting n blocks
// (dates alternating between d1 and d2), each retried until it succeeds;
// progress, if set, is called with the number of blocks inserted so far.
func insertAll(t *testing.T, replicas []*clickHouse, want *rowSet, g0, n int, d1, d2 string, progress func(done int)) {
	t.Helper()
	var mu sync.Mutex
	done := 0
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := g0; g < g0+8; g++ {
		r := replicas[g%len(replicas)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range n {
				d := d1
				if i%2 == 1 {
					d = d2
				}
				if err := r.insertRetrying(block(g, i, d)); err != nil {
					errs <- err
					return
				}
				mu.Lock()
				for j := range rowsPerBlock {
					want.add(blockKey(g, i, j), d)
				}
				done++
				k := done
				mu.Unlock()
				if progress != nil {
					progress(k)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// clickHouse is one ClickHouse server process.
type clickHouse struct {
	name   string
	dir    string
	http   string // host:port of its HTTP interface
	cmd    *exec.Cmd
	exited chan struct{}
}

// startClickHouses starts one ClickHouse server per name, each with the
// macro {replica} set to its name and the cluster as its ZooKeeper, and
// waits until they answer.
func startClickHouses(t *testing.T, c *cluster, names ...string) []*clickHouse {
	t.Helper()
	var out []*clickHouse
	for _, name := range names {
		r := &clickHouse{name: name, dir: filepath.Join(t.TempDir(), name)}
		r.http = net.JoinHostPort("127.0.0.1", freePort(t, "127.0.0.1"))
		if err := os.MkdirAll(r.dir, 0o755); err != nil {
			t.Fatal(err)
		}
		cfg := filepath.Join(r.dir, "config.xml")
		if err := os.WriteFile(cfg, []byte(clickHouseConfig(t, c, r)), 0o644); err != nil {
			t.Fatal(err)
		}
		log, err := os.Create(filepath.Join(r.dir, "stdout.log"))
		if err != nil {
			t.Fatal(err)
		}
		r.cmd = exec.Command(clickHouseBin, "--config-file="+cfg)
		r.cmd.Stdout, r.cmd.Stderr = log, log
		r.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := r.cmd.Start(); err != nil {
			t.Fatalf("start ClickHouse %s: %v", name, err)
		}
		r.exited = make(chan struct{})
		go func() { r.cmd.Wait(); log.Close(); close(r.exited) }()
		t.Cleanup(func() {
			if t.Failed() {
				if b, err := os.ReadFile(filepath.Join(r.dir, "err.log")); err == nil {
					t.Logf("ClickHouse %s errors (last 4 KiB):\n%s", r.name, tail(b, 4096))
				}
			}
			syscall.Kill(-r.cmd.Process.Pid, syscall.SIGKILL)
			<-r.exited
		})
		out = append(out, r)
	}
	for _, r := range out {
		r.waitReady(t)
	}
	return out
}

// clickHouseConfig is a server's config.xml: its own ports below the
// ephemeral range, data under its folder, the cluster as ZooKeeper.
func clickHouseConfig(t *testing.T, c *cluster, r *clickHouse) string {
	_, httpPort, _ := net.SplitHostPort(r.http)
	var zk strings.Builder
	for _, s := range c.servers {
		h, p, _ := net.SplitHostPort(s.clientAddr)
		fmt.Fprintf(&zk, "<node><host>%s</host><port>%s</port></node>", h, p)
	}
	return fmt.Sprintf(`<?xml version="1.0"?>
<yandex>
  <logger><level>information</level><log>%[1]s/server.log</log><errorlog>%[1]s/err.log</errorlog><size>100M</size><count>1</count></logger>
  <listen_host>127.0.0.1</listen_host>
  <tcp_port>%[2]s</tcp_port>
  <http_port>%[3]s</http_port>
  <interserver_http_port>%[4]s</interserver_http_port>
  <interserver_http_host>127.0.0.1</interserver_http_host>
  <path>%[1]s/data/</path>
  <tmp_path>%[1]s/tmp/</tmp_path>
  <user_files_path>%[1]s/user_files/</user_files_path>
  <users_config>/etc/clickhouse-server/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>67108864</mark_cache_size>
  <uncompressed_cache_size>67108864</uncompressed_cache_size>
  <zookeeper>%[5]s<session_timeout_ms>6000</session_timeout_ms></zookeeper>
  <macros><replica>%[6]s</replica></macros>
</yandex>
`, r.dir, freePort(t, "127.0.0.1"), httpPort, freePort(t, "127.0.0.1"), zk.String(), r.name)
}

// waitReady polls the HTTP interface until the server answers: another
// process's readiness can only be polled.
func (r *clickHouse) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-r.exited:
			t.Fatalf("ClickHouse %s exited while starting", r.name)
		default:
		}
		if _, err := r.query("SELECT 1", ""); err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("ClickHouse %s did not answer within 60s", r.name)
}

// httpClient bounds every request: a ClickHouse query waiting on its
// ZooKeeper gives up by itself well before.
var httpClient = &http.Client{Timeout: 2 * time.Minute}

// query runs a query with data as the request body (for INSERT ... FORMAT)
// and optional settings (name, value pairs); it returns the answer without
// its final newline.
func (r *clickHouse) query(q, data string, settings ...string) (string, error) {
	v := url.Values{"query": {q}}
	for i := 0; i+1 < len(settings); i += 2 {
		v.Set(settings[i], settings[i+1])
	}
	resp, err := httpClient.Post("http://"+r.http+"/?"+v.Encode(), "text/plain", strings.NewReader(data))
	if err != nil {
		return "", fmt.Errorf("ClickHouse %s: %s: %w", r.name, q, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", fmt.Errorf("ClickHouse %s: %s: %w", r.name, q, err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("ClickHouse %s: %s: %s", r.name, q, strings.TrimSpace(string(b)))
	}
	return strings.TrimSuffix(string(b), "\n"), nil
}

// mustQuery runs a query and fails the test if ClickHouse refuses it.
func (r *clickHouse) mustQuery(t *testing.T, q string, settings ...string) string {
	t.Helper()
	out, err := r.query(q, "", settings...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// mustQueryRetrying is mustQuery retrying for a minute while ClickHouse
// refuses the query with the given transient error.
func (r *clickHouse) mustQueryRetrying(t *testing.T, q, transient string) string {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		out, err := r.query(q, "")
		if err == nil {
			return out
		}
		if !strings.Contains(err.Error(), transient) || time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond) // the election completes meanwhile
	}
}

// insert inserts a block of TSV rows.
func (r *clickHouse) insert(t *testing.T, rows string) {
	t.Helper()
	if _, err := r.query("INSERT INTO t FORMAT TabSeparated", rows); err != nil {
		t.Fatal(err)
	}
}

// insertRetrying inserts a block until ClickHouse accepts it: a retried
// block that did reach the table is deduplicated by ClickHouse. It gives up
// after a minute.
func (r *clickHouse) insertRetrying(rows string) error {
	deadline := time.Now().Add(time.Minute)
	for {
		_, err := r.query("INSERT INTO t FORMAT TabSeparated", rows)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("insert still failing after a minute: %w", err)
		}
		time.Sleep(100 * time.Millisecond) // ClickHouse reconnects to its ZooKeeper meanwhile
	}
}

// await polls a query until it answers want: the state of another process
// can only be polled.
func (r *clickHouse) await(t *testing.T, q, want string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	var got string
	var err error
	for time.Now().Before(deadline) {
		if got, err = r.query(q, ""); err == nil && got == want {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("ClickHouse %s: %s answered %q (%v), want %q, for a minute", r.name, q, got, err, want)
}
