// Command vrkeeper is the vrkeeper server and its tools.
//
//	vrkeeper                       a single-node server on 127.0.0.1:2181, data in ./vrkeeper-data
//	vrkeeper serve --config zoo.cfg
//	vrkeeper serve --client-addr 127.0.0.1:2181 --data-dir d --id 1 --peers 1=h1:2888;2181,2=...
//	vrkeeper status --servers h1:2181,h2:2181,h3:2181
//	vrkeeper metrics --server h1:2181
//	vrkeeper reseed [--yes] --config zoo.cfg   after a majority of disks was lost (see reseed.go)
//	vrkeeper version
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/hashicorp/go-hclog"
)

// version is the vrkeeper release; srvr reports it in ZooKeeper's format.
const version = "0.1.0"

func main() {
	err := run(os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	default:
		fmt.Fprintln(os.Stderr, "vrkeeper:", err)
		os.Exit(1)
	}
}

// usage is the top-level help.
const usage = `vrkeeper is a ZooKeeper-compatible coordination service replicated with
Viewstamped Replication.

Usage:
  vrkeeper [serve] [flags]            run a server (no flags: one node on 127.0.0.1:2181)
  vrkeeper serve --config zoo.cfg     run a server from ZooKeeper's configuration
  vrkeeper status --servers h:p,...   one line per server: role, view, op/commit, lag, ...
  vrkeeper metrics --server h:p       one server's monitoring figures (mntr)
  vrkeeper reseed [--yes] --config zoo.cfg
                                      after a majority of disks was lost: make a stopped
                                      survivor the seed of a new cluster (--help explains)
  vrkeeper version                    print the version

Run "vrkeeper serve --help" for the server's flags. ZooKeeper's -D properties
are read from SERVER_JVMFLAGS and JVMFLAGS; bin/zkServer.sh starts vrkeeper as
ZooKeeper's script starts ZooKeeper.
`

// run dispatches a command line; it returns instead of exiting so tests can
// call it. --help anywhere returns flag.ErrHelp after printing the help.
func run(args []string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 {
		switch args[0] {
		case "-h", "-help", "--help", "help":
			fmt.Fprint(stdout, usage)
			return flag.ErrHelp
		case "-version", "--version", "-v":
			cmd, args = "version", args[1:]
		default:
			if !strings.HasPrefix(args[0], "-") {
				cmd, args = args[0], args[1:]
			}
		}
	}
	switch cmd {
	case "serve":
		cfg, err := loadConfig(args, stdout, stderr, os.Getenv)
		if err != nil {
			return err
		}
		return serve(cfg, stderr)
	case "status":
		return statusCommand(args, stdout, stderr)
	case "metrics":
		return metricsCommand(args, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "vrkeeper", version)
		return nil
	case "reseed":
		return reseed(args, stdout, stderr)
	}
	return fmt.Errorf("unknown command %q (want serve, status, metrics, reseed or version; --help lists them)", cmd)
}

// loadConfig reads the serve flags, the -D properties of the environment
// and zoo.cfg if --config names one; zoo.cfg overrides properties, flags
// override both.
func loadConfig(args []string, stdout, stderr io.Writer, getenv func(string) string) (Config, error) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stdout)
	configPath := fs.String("config", "", "a ZooKeeper zoo.cfg to read")
	clientAddr := fs.String("client-addr", "", "host:port for clients (default 127.0.0.1:2181)")
	dataDir := fs.String("data-dir", "", "directory for snapshots and state (default ./vrkeeper-data)")
	dataLogDir := fs.String("data-log-dir", "", "directory for the write-ahead log (default: the data dir)")
	id := fs.Int("id", 0, "this server's id in --peers (instead of the myid file)")
	peers := fs.String("peers", "", "the cluster: comma-separated N=host:peerPort[;[clientHost:]clientPort]")
	tick := fs.Duration("tick-time", 0, "the base time unit (default 2s)")
	readMode := fs.String("read-mode", "", "linearizable (default) or sequential")
	words := fs.String("4lw", "", "four-letter words to allow: comma-separated, or *")
	rejoin := fs.Bool("rejoin", false, "no longer needed (ignored): a server with an empty data directory rebuilds from the others by itself")
	adminAddr := fs.String("admin-addr", "", "host:port of the AdminServer (default 127.0.0.1:8080; \"off\" disables it)")
	metricsAddr := fs.String("metrics-addr", "", "host:port of the Prometheus endpoint (default off)")
	pprofAddr := fs.String("pprof-addr", "", "serve Go's pprof profiles on this host:port (for diagnosis)")
	logLevel := fs.String("log-level", "info", "trace, debug, info, warn or error")
	logFormat := fs.String("log-format", "", "text (default) or json")
	logFile := fs.String("log-file", "", "write the log to this file, rotated by size (default: standard error)")
	logMaxSize := fs.Int("log-max-size-mb", 0, "rotate the log file at this size (default 64)")
	logMaxFiles := fs.Int("log-max-files", 0, "rotated log files kept (default 5)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: vrkeeper serve [flags]\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("serve: unexpected argument %q", fs.Arg(0))
	}
	cfg := defaultConfig()
	cfg.ID = *id
	sysKeys, sysAll, err := jvmProperties(getenv)
	if err != nil {
		return Config{}, err
	}
	cfg.Properties = sysAll
	readFile := func(p string) (string, error) {
		b, err := os.ReadFile(p)
		return string(b), err
	}
	if *configPath != "" {
		text, err := os.ReadFile(*configPath)
		if err != nil {
			return Config{}, fmt.Errorf("read config: %w", err)
		}
		if err := parseZooCfgWith(string(text), &cfg, readFile, sysKeys); err != nil {
			return Config{}, err
		}
	} else if len(sysKeys) > 0 {
		props, order := map[string]string{}, []string(nil)
		for _, kv := range sysKeys {
			if _, seen := props[kv[0]]; !seen {
				order = append(order, kv[0])
			}
			props[kv[0]] = kv[1]
		}
		if err := applyKeys(props, order, &cfg, readFile); err != nil {
			return Config{}, err
		}
	}
	if *peers != "" {
		cfg.Servers = nil
		for _, p := range strings.Split(*peers, ",") {
			key, value, ok := strings.Cut(strings.TrimSpace(p), "=")
			if !ok {
				return Config{}, fmt.Errorf("--peers: want N=host:port, got %q", p)
			}
			if err := parseServerLine("server."+key, value, &cfg); err != nil {
				return Config{}, fmt.Errorf("--peers %s: %w", p, err)
			}
		}
		if cfg.ID == 0 {
			return Config{}, errors.New("--peers needs --id")
		}
	}
	setIf(&cfg.ClientAddr, *clientAddr)
	setIf(&cfg.DataDir, *dataDir)
	setIf(&cfg.DataLogDir, *dataLogDir)
	setIf(&cfg.ReadMode, *readMode)
	setIf(&cfg.MetricsAddr, *metricsAddr)
	setIf(&cfg.LogFormat, *logFormat)
	setIf(&cfg.LogFile, *logFile)
	switch *adminAddr {
	case "":
	case "off":
		cfg.AdminAddr = ""
	default:
		cfg.AdminAddr = *adminAddr
	}
	if *logMaxSize > 0 {
		cfg.LogMaxSize = int64(*logMaxSize) << 20
	}
	if *logMaxFiles > 0 {
		cfg.LogMaxFiles = *logMaxFiles
	}
	if *tick > 0 {
		cfg.TickTime = *tick
	}
	cfg.Rejoin = *rejoin
	cfg.PprofAddr = *pprofAddr
	cfg.LogLevel = *logLevel
	if hclog.LevelFromString(cfg.LogLevel) == hclog.NoLevel {
		return Config{}, fmt.Errorf("--log-level %q: want trace, debug, info, warn or error", cfg.LogLevel)
	}
	if cfg.LogFormat != "text" && cfg.LogFormat != "json" {
		return Config{}, fmt.Errorf("--log-format %q: want text or json", cfg.LogFormat)
	}
	if *words != "" {
		cfg.FourLetterWords = parseWhitelist(*words)
	}
	if cfg.ReadMode != readModeLinearizable && cfg.ReadMode != readModeSequential {
		return Config{}, fmt.Errorf("--read-mode %q: want %s or %s", cfg.ReadMode, readModeLinearizable, readModeSequential)
	}
	return cfg, cfg.finish()
}

func setIf(dst *string, v string) {
	if v != "" {
		*dst = v
	}
}
