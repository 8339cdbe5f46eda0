package main

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestZooKeeperKeys: every class of documented key: honoured with its
// effect, refused with a clear error, accepted without effect, unknown.
func TestZooKeeperKeys(t *testing.T) {
	tests := []struct {
		line  string
		check func(*Config) bool
		err   string // a refusal's error, "" if accepted
	}{
		{"maxCnxns=7", func(c *Config) bool { return c.MaxCnxns == 7 }, ""},
		{"globalOutstandingLimit=100", func(c *Config) bool { return c.GlobalOutstanding == 100 }, ""},
		{"preAllocSize=1024", func(c *Config) bool { return c.PreAllocSize == 1<<20 }, ""},
		{"leaderServes=no", func(c *Config) bool { return !c.LeaderServes }, ""},
		{"quorumListenOnAllIPs=true", func(c *Config) bool { return c.ListenAllIPs }, ""},
		{"znode.container.maxNeverUsedIntervalMs=5000", func(c *Config) bool { return c.ContainerMaxIdle == 5000 }, ""},
		{"metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider", func(c *Config) bool { return c.MetricsAddr == "127.0.0.1:7000" }, ""},
		{"metricsProvider.className=org.apache.zookeeper.metrics.impl.NullMetricsProvider", func(c *Config) bool { return c.MetricsAddr == "" }, ""},
		{"admin.serverPort=9090", func(c *Config) bool { return c.AdminAddr == "127.0.0.1:9090" }, ""},
		{"admin.enableServer=false", func(c *Config) bool { return c.AdminAddr == "" }, ""},
		{"admin.commandURL=/cmds", func(c *Config) bool { return c.AdminCommandURL == "/cmds" }, ""},
		{"autopurge.snapRetainCount=5", func(c *Config) bool { return len(c.NoEffect) == 0 && c.SnapRetainCount == 5 }, ""},
		{"autopurge.snapRetainCount=1", func(c *Config) bool { return c.SnapRetainCount == 3 }, ""},
		{"reconfigEnabled=true", func(c *Config) bool { return len(c.NoEffect) == 1 }, ""},
		{"standaloneEnabled=false", func(c *Config) bool { return len(c.NoEffect) == 1 }, ""},
		{"forceSync=yes", nil, ""},
		{"sslQuorum=false", nil, ""},
		{"electionAlg=3", nil, ""},
		{"authProvider.1=org.apache.zookeeper.server.auth.DigestAuthenticationProvider", nil, ""},
		{"some.new.key=1", func(c *Config) bool { return len(c.Unknown) == 1 }, ""},
		{"forceSync=no", nil, "forceSync=no is refused"},
		{"secureClientPort=2281", func(c *Config) bool { return c.Security.secureClientAddr() == "0.0.0.0:2281" }, ""},
		{"secureClientPortAddress=127.0.0.1\nsecureClientPort=2281", func(c *Config) bool { return c.Security.secureClientAddr() == "127.0.0.1:2281" }, ""},
		{"secureClientPortAddress=127.0.0.1", nil, "secureClientPortAddress"},
		{"ssl.keyStore.location=/k", func(c *Config) bool { return c.Security.SSL["keyStore.location"] == "/k" }, ""},
		{"ssl.quorum.trustStore.type=PKCS12", func(c *Config) bool { return c.Security.SSLQuorum["trustStore.type"] == "PKCS12" }, ""},
		{"ssl.keyStore.locaton=/k", nil, "TLS keys"},
		{"sslQuorum=true", func(c *Config) bool { return c.Security.Quorum }, ""},
		{"sslQuorumReloadCertFiles=true", nil, ""},
		{"client.portUnification=true", nil, "port unification"},
		{"sessionRequireClientSASLAuth=true", func(c *Config) bool { return c.Security.EnforceAuth && c.Security.EnforceSchemes[0] == "sasl" }, ""},
		{"requireClientAuthScheme=sasl", func(c *Config) bool { return c.Security.EnforceAuth && c.Security.EnforceSchemes[0] == "sasl" }, ""},
		{"enforce.auth.enabled=true", nil, "enforce.auth.schemes"},
		{"enforce.auth.enabled=true\nenforce.auth.schemes=sasl,digest", func(c *Config) bool { return len(c.Security.EnforceSchemes) == 2 }, ""},
		{"enforce.auth.schemes=kerberos\nenforce.auth.enabled=true", nil, "not available"},
		{"enforce.auth.schemes=sasl", func(c *Config) bool { return c.Security.EnforceSchemes == nil }, ""},
		{"skipACL=yes", func(c *Config) bool { return c.Security.SkipACL }, ""},
		{"X509AuthenticationProvider.superUser=CN=admin", func(c *Config) bool { return c.Security.X509SuperUser == "CN=admin" }, ""},
		{"superUser=admin", func(c *Config) bool { return c.Security.SASLSuperUsers[0] == "admin" }, ""},
		{"authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider", func(c *Config) bool { return c.Security.SASLProvider }, ""},
		{"authProvider.x509=org.apache.zookeeper.server.auth.X509AuthenticationProvider", func(c *Config) bool { return c.Security.X509Provider }, ""},
		{"authProvider.2=com.example.Ldap", nil, "providers"},
		{"admin.forceHttps=true", func(c *Config) bool { return c.Security.HTTPS }, ""},
		{"quorum.auth.enableSasl=true", nil, "SASL"},
		{"kerberos.removeHostFromPrincipal=true", nil, "Kerberos"},
		{"peerType=observer", nil, "observers"},
		{"group.1=1:2:3", nil, "hierarchical"},
		{"electionAlg=1", nil, "electionAlg=3"},
		{"localSessionsEnabled=true", nil, "local sessions"},
		{"metricsProvider.className=com.example.Mine", nil, "PrometheusMetricsProvider"},
		{"autopurge.purgeInterval=soon", nil, "integer"},
		{"leaderServes=maybe", nil, "true or false"},
	}
	for _, tc := range tests {
		cfg := defaultConfig()
		err := parseZooCfg("dataDir=/d\n"+tc.line+"\n", &cfg, files(nil))
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), strings.SplitN(tc.line, "=", 2)[0]) {
				t.Errorf("%s: error %v, want one naming the key and saying %q", tc.line, err, tc.err)
			}
		case err != nil:
			t.Errorf("%s: refused: %v", tc.line, err)
		case tc.check != nil && !tc.check(&cfg):
			t.Errorf("%s: not applied: %+v", tc.line, cfg)
		}
	}
}

// TestDataDirRequired: a zoo.cfg without dataDir is refused, as ZooKeeper
// refuses it.
func TestDataDirRequired(t *testing.T) {
	cfg := defaultConfig()
	err := parseZooCfg("clientPort=2181\n", &cfg, files(nil))
	if err == nil || !strings.Contains(err.Error(), "dataDir is not set") {
		t.Fatalf("error %v", err)
	}
}

// TestJVMFlags: -D properties from SERVER_JVMFLAGS and JVMFLAGS become
// settings (the zookeeper. prefix dropped), zoo.cfg overrides them, JVM
// flags are ignored, and a bad value is refused naming the key.
func TestJVMFlags(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "zoo.cfg")
	os.WriteFile(path, []byte("dataDir="+dir+"\njute.maxbuffer=2000\n"), 0o644)
	env := map[string]string{
		"SERVER_JVMFLAGS": `-Xmx1g -Dzookeeper.DigestAuthenticationProvider.superDigest=super:D/InIHSb7yEEbrWz8b9l71RjZJU= -Dzookeeper.extendedTypesEnabled=true`,
		"JVMFLAGS":        `-Djute.maxbuffer=1000 -Dzookeeper.4lw.commands.whitelist='ruok, mntr' -Djava.net.preferIPv4Stack=true -Dzookeeper.admin.enableServer=false`,
	}
	getenv := func(k string) string { return env[k] }
	cfg, err := loadConfig([]string{"--config", path}, io.Discard, io.Discard, getenv)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SuperDigest != "super:D/InIHSb7yEEbrWz8b9l71RjZJU=" || !cfg.ExtendedTypes || !cfg.FourLetterWords["mntr"] || cfg.AdminAddr != "" {
		t.Fatalf("properties not applied: %+v", cfg)
	}
	if cfg.MaxPacketSize != 2000 {
		t.Fatalf("jute.maxbuffer %d: zoo.cfg must override the property", cfg.MaxPacketSize)
	}
	if len(cfg.Unknown) != 0 {
		t.Fatalf("JVM properties taken for unknown keys: %v", cfg.Unknown)
	}
	env["JVMFLAGS"] = "-Dzookeeper.skipACL=maybe"
	if _, err := loadConfig([]string{"--config", path}, io.Discard, io.Discard, getenv); err == nil || !strings.Contains(err.Error(), "skipACL") {
		t.Fatalf("skipACL=maybe: %v", err)
	}
	env["JVMFLAGS"] = "-Dzookeeper.superUser=admin -Djava.security.auth.login.config=/etc/jaas.conf -Dzookeeper.ssl.clientAuth=want"
	cfg, err = loadConfig([]string{"--config", path}, io.Discard, io.Discard, getenv)
	if err != nil || cfg.Security.SASLSuperUsers[0] != "admin" || cfg.Security.SSL["clientAuth"] != "want" {
		t.Fatalf("security properties: %v %+v", err, cfg.Security)
	}
	env["JVMFLAGS"] = `-Dzookeeper.x='unterminated`
	if _, err := loadConfig(nil, io.Discard, io.Discard, getenv); err == nil || !strings.Contains(err.Error(), "JVMFLAGS") {
		t.Fatalf("bad quoting: %v", err)
	}
}

// TestFailureDetection: ZooKeeper's syncLimit ticks become the view-change
// timeout, whatever the tick, up to maxPrimarySilence.
func TestFailureDetection(t *testing.T) {
	for _, c := range []struct {
		tick      time.Duration
		syncLimit int
	}{{2 * time.Second, 5}, {500 * time.Millisecond, 5}, {50 * time.Millisecond, 2}, {10 * time.Second, 10}, {100 * time.Millisecond, 3}} {
		rt, vct := failureDetection(c.tick, c.syncLimit)
		want := min(time.Duration(c.syncLimit)*c.tick, maxPrimarySilence)
		got := time.Duration(vct) * rt
		if rt < 5*time.Millisecond || rt > 100*time.Millisecond || got < want || got > want+rt {
			t.Errorf("tick %v syncLimit %d: replica tick %v x %d = %v, want %v", c.tick, c.syncLimit, rt, vct, got, want)
		}
	}
}

// TestHelpAndVersion: --help and --version succeed (main exits 0 on
// flag.ErrHelp) and print to standard output.
func TestHelpAndVersion(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"serve", "--help"}, {"status", "--help"}} {
		var out bytes.Buffer
		if err := run(args, &out, io.Discard); err != nil && !errors.Is(err, flag.ErrHelp) {
			t.Errorf("%v: %v", args, err)
		}
		if !strings.Contains(out.String(), "Usage") && !strings.Contains(out.String(), "-servers") {
			t.Errorf("%v printed %q", args, out.String())
		}
	}
	var out bytes.Buffer
	if err := run([]string{"--version"}, &out, io.Discard); err != nil || out.String() != "vrkeeper "+version+"\n" {
		t.Errorf("--version: %q %v", out.String(), err)
	}
}

// TestRotatingLog: the file is rotated when a write would pass the size,
// and only the configured number of old files is kept.
func TestRotatingLog(t *testing.T) {
	name := filepath.Join(t.TempDir(), "logs", "vrkeeper.log")
	w, err := newRotatingFile(name, 100, 2)
	if err != nil {
		t.Fatal(err)
	}
	line := []byte(strings.Repeat("x", 59) + "\n")
	for range 7 {
		if _, err := w.Write(line); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	for _, f := range []string{name, name + ".1", name + ".2"} {
		fi, err := os.Stat(f)
		if err != nil || fi.Size() == 0 || fi.Size() > 100 {
			t.Errorf("%s: %v %v", f, fi, err)
		}
	}
	if _, err := os.Stat(name + ".3"); err == nil {
		t.Errorf("kept more than 2 rotated files")
	}
}

// TestParseAnswers: status reads mntr and, where mntr is not allowed,
// srvr.
func TestParseAnswers(t *testing.T) {
	kv := parseMntr("zk_server_state\tleader\nzk_vrkeeper_op_number\t12\n")
	if kv["zk_server_state"] != "leader" || kv["zk_vrkeeper_op_number"] != "12" {
		t.Fatalf("mntr %v", kv)
	}
	kv = parseSrvr("Zookeeper version: 3.8.0\nMode: follower\nNode count: 5\n")
	if kv["zk_server_state"] != "follower" || kv["zk_znode_count"] != "5" {
		t.Fatalf("srvr %v", kv)
	}
}
