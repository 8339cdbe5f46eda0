package main

import (
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func files(m map[string]string) func(string) (string, error) {
	return func(p string) (string, error) {
		if s, ok := m[p]; ok {
			return s, nil
		}
		return "", os.ErrNotExist
	}
}

// TestParseZooCfgCluster reads a zoo.cfg of the kind ZooKeeper's own
// deployments use, with every server line form.
func TestParseZooCfgCluster(t *testing.T) {
	text := `# a three-node ensemble
tickTime=2000
initLimit=10
syncLimit=5
dataDir=/var/lib/zk
dataLogDir = /var/log/zk
clientPort=2181
clientPortAddress=127.0.0.2
maxClientCnxns=0
minSessionTimeout=3000
4lw.commands.whitelist=ruok, mntr
server.2=127.0.0.2:2888:3888
server.1=127.0.0.1:2888:3888:participant;127.0.0.1:2181
server.3=[::1]:2890:3890;2183
autopurge.purgeInterval=1
some.future.key=1
`
	cfg := defaultConfig()
	err := parseZooCfg(text, &cfg, files(map[string]string{"/var/lib/zk/myid": "2\n"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.finish(); err != nil {
		t.Fatal(err)
	}
	want := []Server{
		{ID: 1, PeerAddr: "127.0.0.1:2888", ElectionPort: 3888, Role: "participant", ClientAddr: "127.0.0.1:2181"},
		{ID: 2, PeerAddr: "127.0.0.2:2888", ElectionPort: 3888, Role: "participant"},
		{ID: 3, PeerAddr: "[::1]:2890", ElectionPort: 3890, Role: "participant", ClientAddr: "0.0.0.0:2183"},
	}
	if !reflect.DeepEqual(cfg.Servers, want) {
		t.Errorf("servers %+v\nwant    %+v", cfg.Servers, want)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"id from myid", cfg.ID, 2},
		{"client addr", cfg.ClientAddr, "127.0.0.2:2181"},
		{"data dir", cfg.DataDir, "/var/lib/zk"},
		{"log dir", cfg.DataLogDir, "/var/log/zk"},
		{"tick", cfg.TickTime, 2 * time.Second},
		{"min timeout", cfg.MinSessionTimeout, 3 * time.Second},
		{"max timeout (20 ticks)", cfg.MaxSessionTimeout, 40 * time.Second},
		{"max cnxns", cfg.MaxClientCnxns, 0},
		{"4lw", cfg.FourLetterWords, map[string]bool{"srvr": true, "ruok": true, "mntr": true}},
		{"unknown", cfg.Unknown, []string{"some.future.key"}},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

// TestServerClientAddrWins: in a cluster, the client address of this
// server's line takes the place of clientPort.
// TestMaxClientCnxnsDefault: a zoo.cfg without maxClientCnxns gets
// ZooKeeper's 60; the zero-configuration server has no limit.
func TestMaxClientCnxnsDefault(t *testing.T) {
	cfg := defaultConfig()
	if cfg.MaxClientCnxns != 0 {
		t.Fatalf("default %d", cfg.MaxClientCnxns)
	}
	if err := parseZooCfg("dataDir=d\n", &cfg, files(nil)); err != nil || cfg.MaxClientCnxns != 60 {
		t.Fatalf("zoo.cfg default %d (%v)", cfg.MaxClientCnxns, err)
	}
	if len(cfg.FourLetterWords) != 1 || !cfg.FourLetterWords["srvr"] {
		t.Fatalf("zoo.cfg whitelist default %v, want srvr only", cfg.FourLetterWords)
	}
}

func TestServerClientAddrWins(t *testing.T) {
	cfg := defaultConfig()
	text := "dataDir=d\nclientPort=2181\nserver.1=h1:2888:3888;127.0.0.5:3181\nserver.2=h2:2888:3888;3182\n"
	if err := parseZooCfg(text, &cfg, files(map[string]string{"d/myid": "1"})); err != nil {
		t.Fatal(err)
	}
	if err := cfg.finish(); err != nil {
		t.Fatal(err)
	}
	if cfg.ClientAddr != "127.0.0.5:3181" {
		t.Fatalf("client addr %q", cfg.ClientAddr)
	}
}

func TestDynamicConfigFile(t *testing.T) {
	cfg := defaultConfig()
	text := "dataDir=d\ndynamicConfigFile=d/zoo.cfg.dynamic\n"
	dyn := "server.1=h1:2888:3888:participant;2181\nserver.2=h2:2888:3888:participant;2181\nversion=100000000\n"
	if err := parseZooCfg(text, &cfg, files(map[string]string{"d/zoo.cfg.dynamic": dyn, "d/myid": "2"})); err != nil {
		t.Fatal(err)
	}
	if len(cfg.Servers) != 2 || cfg.ID != 2 {
		t.Fatalf("servers %+v id %d", cfg.Servers, cfg.ID)
	}
}

func TestZooCfgErrors(t *testing.T) {
	tests := []struct {
		name, text string
		files      map[string]string
		want       string
	}{
		{"bad tick", "tickTime=abc", nil, "tickTime=abc"},
		{"negative tick", "tickTime=-5", nil, "not positive"},
		{"no key", "=value", nil, "want key=value"},
		{"no myid", "dataDir=d\nserver.1=h:1:2", nil, "myid"},
		{"bad myid", "dataDir=d\nserver.1=h:1:2", map[string]string{"d/myid": "x"}, "myid"},
		{"observer", "server.1=h:1:2:observer", nil, "only participants"},
		{"bad server id", "server.x=h:1:2", nil, "server id"},
		{"no port", "server.1=h", nil, "want host:peerPort"},
		{"bad client port", "server.1=h:1:2;abc", nil, "client port"},
		{"bad read mode", "readMode=fast", nil, "readMode"},
		{"bad clientPort", "clientPort=x", nil, "clientPort"},
	}
	for _, tc := range tests {
		cfg := defaultConfig()
		err := parseZooCfg(tc.text, &cfg, files(tc.files))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

func TestFinishErrors(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{"min above max", func(c *Config) { c.MinSessionTimeout, c.MaxSessionTimeout = 10*time.Second, time.Second }, "minSessionTimeout"},
		{"id not in servers", func(c *Config) { c.ID = 3; c.Servers = []Server{{ID: 1}, {ID: 2}} }, "no server.3 line"},
		{"duplicate server", func(c *Config) { c.ID = 1; c.Servers = []Server{{ID: 1}, {ID: 1}} }, "twice"},
	}
	for _, tc := range tests {
		cfg := defaultConfig()
		tc.mutate(&cfg)
		if err := cfg.finish(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

// TestDefaults: no arguments give a single node on 127.0.0.1:2181 with data
// in ./vrkeeper-data, ZooKeeper's timeouts and its whitelist of srvr only.
func TestDefaults(t *testing.T) {
	cfg, err := loadConfig(nil, io.Discard, io.Discard, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	want := defaultConfig()
	want.DataLogDir = defaultDataDir
	want.MinSessionTimeout, want.MaxSessionTimeout = 4*time.Second, 40*time.Second
	if !cfg.FourLetterWords["ruok"] || !cfg.FourLetterWords["mntr"] {
		t.Fatalf("the zero-configuration server allows only %v", cfg.FourLetterWords)
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Fatalf("defaults %+v\nwant     %+v", cfg, want)
	}
}

// TestFlagsOverrideFile: --config is read first, flags win.
func TestFlagsOverrideFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "zoo.cfg")
	text := "dataDir=" + dir + "\nclientPort=2182\nserver.1=127.0.0.1:2888:3888;2181\n"
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "myid"), []byte("1"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig([]string{"--config", path, "--read-mode", "sequential", "--4lw", "*", "--tick-time", "500ms"}, io.Discard, io.Discard, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ID != 1 || cfg.ReadMode != "sequential" || cfg.TickTime != 500*time.Millisecond || !cfg.FourLetterWords["wchp"] {
		t.Fatalf("config %+v", cfg)
	}
	if cfg.MinSessionTimeout != time.Second || cfg.ClientAddr != "0.0.0.0:2181" {
		t.Fatalf("derived values: min %v, client %s", cfg.MinSessionTimeout, cfg.ClientAddr)
	}
}

func TestPeersFlag(t *testing.T) {
	cfg, err := loadConfig([]string{"--id", "2", "--peers", "1=127.0.0.1:7001;127.0.0.1:2181,2=127.0.0.2:7001;127.0.0.2:2181", "--data-dir", t.TempDir()}, io.Discard, io.Discard, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Servers) != 2 || cfg.ClientAddr != "127.0.0.2:2181" || cfg.Servers[1].PeerAddr != "127.0.0.2:7001" {
		t.Fatalf("config %+v", cfg)
	}
	if _, err := loadConfig([]string{"--peers", "1=h:1"}, io.Discard, io.Discard, noEnv); err == nil {
		t.Fatal("--peers without --id accepted")
	}
}

func TestRunCommands(t *testing.T) {
	var out strings.Builder
	if err := run([]string{"version"}, &out, io.Discard); err != nil || !strings.Contains(out.String(), version) {
		t.Fatalf("version: %q %v", out.String(), err)
	}
	if err := run([]string{"frobnicate"}, io.Discard, io.Discard); err == nil {
		t.Fatal("unknown command accepted")
	}
	if err := run([]string{"serve", "--nope"}, io.Discard, io.Discard); err == nil {
		t.Fatal("unknown flag accepted")
	}
}

func noEnv(string) string { return "" }
