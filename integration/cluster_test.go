package integration

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// target is what the tests run against: "vrkeeper" (the default, built
// from this tree) or "zookeeper" (Debian's Apache ZooKeeper).
var target = envOr("VRK_TARGET", "vrkeeper")

// vrkeeperBin is the server binary built once by TestMain.
var vrkeeperBin string

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "vrkeeper-integration")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if target == "vrkeeper" {
		vrkeeperBin = filepath.Join(dir, "vrkeeper")
		// The race detector is on for the tests; VRK_NORACE=1 builds a
		// server as users run it, for the benchmarks.
		args := []string{"build", "-race", "-o", vrkeeperBin, "github.com/vrkeeper/vrkeeper/cmd/vrkeeper"}
		if os.Getenv("VRK_NORACE") == "1" {
			args = append(args[:1], args[2:]...)
		}
		build := exec.Command("go", args...)
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "integration: build vrkeeper:", err)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// server is one server process of a test cluster.
type server struct {
	id         int
	clientAddr string
	peerAddr   string
	electPort  string // ZooKeeper's election port; vrkeeper accepts and ignores it
	dir        string
	env        []string // more environment for the server process
	cmd        *exec.Cmd
	exited     chan struct{}
	logFile    *os.File
}

// cluster is a set of server processes sharing one zoo.cfg layout.
type cluster struct {
	t       testing.TB
	servers []*server
	extra   []string               // more zoo.cfg lines
	each    func(*server) []string // more zoo.cfg lines for one server, or nil
	wrap    []string               // a command (and its arguments) servers are started through
	// links, if set, gives the address server i dials to reach server j
	// (a proxy the test can cut): links[i][j].
	links [][]*linkProxy
}

// freePort returns a port free on host.
//
// Ports come from 26000-31999, below Linux's ephemeral range (32768 up):
// a port the kernel hands out for ":0" may be taken again by a client
// connection's local end before the server binds it, which a port below the
// range cannot. Each port is handed out once per test process.
func freePort(t testing.TB, host string) string {
	t.Helper()
	portMu.Lock()
	defer portMu.Unlock()
	for range 6000 {
		p := 26000 + (portNext % 6000)
		portNext += 7 // a stride coprime with 6000 visits every port
		ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(p)))
		if err != nil {
			continue
		}
		ln.Close()
		return strconv.Itoa(p)
	}
	t.Fatal("no free port in 26000-31999")
	return ""
}

var (
	portMu   sync.Mutex
	portNext = os.Getpid() // processes that run at once start apart
)

// startCluster starts n servers, server i on 127.0.0.i, and waits until
// every one of them serves clients. extra lines go into every zoo.cfg.
func startCluster(t testing.TB, n int, extra ...string) *cluster {
	t.Helper()
	return startClusterWith(t, n, false, extra...)
}

// startClusterWith is startCluster; with linked, every server reaches every
// other one through its own proxy (cluster.links), so tests can cut links.
func startClusterWith(t testing.TB, n int, linked bool, extra ...string) *cluster {
	t.Helper()
	return startClusterOpts(t, n, linked, nil, extra...)
}

// startClusterEach is startCluster with lines for each server's zoo.cfg
// from each (called once the server's addresses are chosen).
func startClusterEach(t testing.TB, n int, each func(*server) []string, extra ...string) *cluster {
	t.Helper()
	return startClusterOpts(t, n, false, each, extra...)
}

// startClusterOpts is startClusterWith with per-server zoo.cfg lines.
func startClusterOpts(t testing.TB, n int, linked bool, each func(*server) []string, extra ...string) *cluster {
	t.Helper()
	c := &cluster{t: t, extra: extra, each: each}
	base := t.TempDir()
	for i := 1; i <= n; i++ {
		host := fmt.Sprintf("127.0.0.%d", i)
		s := &server{
			id:         i,
			clientAddr: net.JoinHostPort(host, freePort(t, host)),
			peerAddr:   net.JoinHostPort(host, freePort(t, host)),
			electPort:  freePort(t, host),
			dir:        filepath.Join(base, fmt.Sprintf("s%d", i)),
		}
		c.servers = append(c.servers, s)
	}
	if linked {
		c.links = make([][]*linkProxy, n)
		for i, from := range c.servers {
			c.links[i] = make([]*linkProxy, n)
			for j, to := range c.servers {
				if i != j {
					host, _, _ := net.SplitHostPort(from.peerAddr)
					c.links[i][j] = startLinkProxy(t, host, to.peerAddr)
				}
			}
		}
	}
	for _, s := range c.servers {
		if err := os.MkdirAll(filepath.Join(s.dir, "data"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(s.dir, "zoo.cfg"), []byte(c.zooCfg(s)), 0o644); err != nil {
			t.Fatal(err)
		}
		if n > 1 {
			if err := os.WriteFile(filepath.Join(s.dir, "data", "myid"), []byte(fmt.Sprint(s.id)), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Cleanup(c.stopAll)
	for _, s := range c.servers {
		c.start(s)
	}
	for _, s := range c.servers {
		c.waitServing(s)
	}
	return c
}

func (c *cluster) zooCfg(s *server) string {
	host, port, _ := net.SplitHostPort(s.clientAddr)
	var b strings.Builder
	fmt.Fprintf(&b, "tickTime=500\ninitLimit=10\nsyncLimit=5\n")
	fmt.Fprintf(&b, "dataDir=%s\n", filepath.Join(s.dir, "data"))
	fmt.Fprintf(&b, "clientPort=%s\nclientPortAddress=%s\n", port, host)
	fmt.Fprintf(&b, "maxClientCnxns=0\n4lw.commands.whitelist=*\nadmin.enableServer=false\n")
	fmt.Fprintf(&b, "minSessionTimeout=1000\nmaxSessionTimeout=60000\n")
	// TTL nodes, as ZooKeeper gets them from -Dzookeeper.extendedTypesEnabled.
	fmt.Fprintf(&b, "extendedTypesEnabled=true\n")
	for _, l := range c.extra {
		fmt.Fprintln(&b, l)
	}
	if c.each != nil {
		for _, l := range c.each(s) {
			fmt.Fprintln(&b, l)
		}
	}
	if len(c.servers) > 1 {
		for _, o := range c.servers {
			addr := o.peerAddr
			if c.links != nil && o != s {
				addr = c.links[s.id-1][o.id-1].Addr()
			}
			ph, pp, _ := net.SplitHostPort(addr)
			fmt.Fprintf(&b, "server.%d=%s:%s:%s\n", o.id, ph, pp, o.electPort)
		}
	}
	return b.String()
}

// start launches s's process; args go to vrkeeper only.
func (c *cluster) start(s *server, args ...string) {
	c.t.Helper()
	cfg := filepath.Join(s.dir, "zoo.cfg")
	var cmd *exec.Cmd
	switch target {
	case "vrkeeper":
		cmd = exec.Command(vrkeeperBin, append([]string{"serve", "--config", cfg}, args...)...)
	case "zookeeper":
		cmd = exec.Command("java", "-Xmx512m", "-Dzookeeper.extendedTypesEnabled=true",
			"-cp", zookeeperClasspath(), "org.apache.zookeeper.server.quorum.QuorumPeerMain", cfg)
	default:
		c.t.Fatalf("unknown VRK_TARGET %q", target)
	}
	if len(c.wrap) > 0 {
		cmd = exec.Command(c.wrap[0], append(c.wrap[1:], cmd.Args...)...)
	}
	logFile, err := os.OpenFile(filepath.Join(s.dir, "server.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		c.t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if len(s.env) > 0 {
		cmd.Env = append(os.Environ(), s.env...)
	}
	// Pdeathsig: a test binary killed by its timeout (or by hand) takes its
	// servers with it instead of leaving them to load the machine for the
	// rest of the suite.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		c.t.Fatalf("start server %d: %v", s.id, err)
	}
	s.cmd, s.logFile, s.exited = cmd, logFile, make(chan struct{})
	go func(cmd *exec.Cmd, exited chan struct{}) {
		cmd.Wait()
		close(exited)
	}(cmd, s.exited)
}

// kill sends SIGKILL to server i (0-based) and waits for it to die.
func (c *cluster) kill(i int) {
	s := c.servers[i]
	if s.cmd == nil {
		return
	}
	syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	<-s.exited
	s.logFile.Close()
	s.cmd = nil
}

// restart starts server i again after kill and waits until it serves.
func (c *cluster) restart(i int) {
	c.start(c.servers[i])
	c.waitServing(c.servers[i])
}

func (c *cluster) stopAll() {
	for i, s := range c.servers {
		if c.t.Failed() {
			if b, err := os.ReadFile(filepath.Join(s.dir, "server.log")); err == nil {
				c.t.Logf("server %d log (last 4 KiB):\n%s", s.id, tail(b, 4096))
			}
		}
		c.kill(i)
	}
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// index returns the index of the server with the given client address.
func (c *cluster) index(addr string) int {
	for i, s := range c.servers {
		if s.clientAddr == addr {
			return i
		}
	}
	c.t.Fatalf("no server at %s", addr)
	return -1
}

// withMode returns the index of a server whose srvr reports mode.
func (c *cluster) withMode(m string) int {
	c.t.Helper()
	for i, s := range c.servers {
		if mode(s.clientAddr) == m {
			return i
		}
	}
	c.t.Fatalf("no server reports Mode: %s", m)
	return -1
}

// addrsExcept returns the client addresses of every server but server i.
func (c *cluster) addrsExcept(i int) []string {
	var out []string
	for j, s := range c.servers {
		if j != i {
			out = append(out, s.clientAddr)
		}
	}
	return out
}

// addrs returns every server's client address.
func (c *cluster) addrs() []string {
	var out []string
	for _, s := range c.servers {
		out = append(out, s.clientAddr)
	}
	return out
}

// fourLetter sends a four-letter word and returns the answer.
func fourLetter(addr, word string) (string, error) {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := conn.Write([]byte(word)); err != nil {
		return "", err
	}
	b, err := io.ReadAll(bufio.NewReader(conn))
	return string(b), err
}

// mode returns the Mode line of srvr, or "" if the server does not answer
// or does not serve.
func mode(addr string) string {
	out, err := fourLetter(addr, "srvr")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(out, "\n") {
		if m, ok := strings.CutPrefix(line, "Mode: "); ok {
			return m
		}
	}
	return ""
}

// waitServing polls srvr until the server reports a serving mode. Polling
// is the only way to learn that another process is ready.
func (c *cluster) waitServing(s *server) {
	c.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			c.t.Fatalf("server %d exited while starting", s.id)
		default:
		}
		switch mode(s.clientAddr) {
		case "leader", "follower", "standalone":
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.t.Fatalf("server %d did not serve within 60s", s.id)
}

func zookeeperClasspath() string {
	cp := []string{"/usr/share/java/zookeeper.jar", "/usr/share/java/zookeeper-jute.jar"}
	for _, j := range []string{"slf4j-api", "slf4j-simple", "netty-handler", "netty-common", "netty-buffer",
		"netty-transport", "netty-transport-native-epoll", "netty-transport-native-unix-common",
		"netty-codec", "netty-resolver", "commons-cli", "metrics-core", "snappy-java"} {
		p := "/usr/share/java/" + j + ".jar"
		if _, err := os.Stat(p); err == nil {
			cp = append(cp, p)
		}
	}
	return strings.Join(cp, ":")
}
