// Command vrkeeper is the vrkeeper server and its tools.
//
//	vrkeeper                       a single-node server on 127.0.0.1:2181, data in ./vrkeeper-data
//	vrkeeper serve --config zoo.cfg
//	vrkeeper serve --client-addr 127.0.0.1:2181 --data-dir d --id 1 --peers 1=h1:2888;2181,2=...
//	vrkeeper reseed [--yes] --config zoo.cfg   after a majority of disks was lost (see reseed.go)
//	vrkeeper version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/vrkeeper/vrkeeper/bridge"
	"github.com/vrkeeper/vrkeeper/frontend"
	"github.com/vrkeeper/vrkeeper/tree"
)

// version is the vrkeeper release; srvr reports it in ZooKeeper's format.
const version = "0.1.0"

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "vrkeeper:", err)
		os.Exit(1)
	}
}

// run dispatches a command line; it returns instead of exiting so tests can
// call it.
func run(args []string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		cfg, err := loadConfig(args, stderr)
		if err != nil {
			return err
		}
		return serve(cfg, stderr)
	case "version":
		fmt.Fprintln(stdout, "vrkeeper", version)
		return nil
	case "reseed":
		return reseed(args, stdout, stderr)
	}
	return fmt.Errorf("unknown command %q (want serve, reseed or version)", cmd)
}

// loadConfig reads the serve flags, and zoo.cfg if --config names one;
// flags override the file.
func loadConfig(args []string, stderr io.Writer) (Config, error) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
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
	pprofAddr := fs.String("pprof-addr", "", "serve Go's pprof profiles on this host:port (for diagnosis)")
	logLevel := fs.String("log-level", "info", "trace, debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("serve: unexpected argument %q", fs.Arg(0))
	}
	cfg := defaultConfig()
	cfg.ID = *id
	if *configPath != "" {
		text, err := os.ReadFile(*configPath)
		if err != nil {
			return Config{}, fmt.Errorf("read config: %w", err)
		}
		readFile := func(p string) (string, error) {
			b, err := os.ReadFile(p)
			return string(b), err
		}
		if err := parseZooCfg(string(text), &cfg, readFile); err != nil {
			return Config{}, err
		}
		for _, k := range cfg.Unknown {
			fmt.Fprintf(stderr, "vrkeeper: zoo.cfg: ignoring unknown key %q\n", k)
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
	if *tick > 0 {
		cfg.TickTime = *tick
	}
	cfg.Rejoin = *rejoin
	cfg.PprofAddr = *pprofAddr
	cfg.LogLevel = *logLevel
	if hclog.LevelFromString(cfg.LogLevel) == hclog.NoLevel {
		return Config{}, fmt.Errorf("--log-level %q: want trace, debug, info, warn or error", cfg.LogLevel)
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

// serve runs the server until SIGTERM or SIGINT.
func serve(cfg Config, stderr io.Writer) error {
	log := hclog.New(&hclog.LoggerOptions{Name: "vrkeeper", Output: stderr, Level: hclog.LevelFromString(cfg.LogLevel)})
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	srv := frontend.New(frontend.Config{
		ClientAddr:        cfg.ClientAddr,
		MinSessionTimeout: cfg.MinSessionTimeout,
		MaxSessionTimeout: cfg.MaxSessionTimeout,
		MaxClientCnxns:    cfg.MaxClientCnxns,
		FourLetterWords:   cfg.FourLetterWords,
		MaxPacketSize:     cfg.MaxPacketSize,
		SequentialReads:   cfg.ReadMode == readModeSequential,
		SuperDigest:       cfg.SuperDigest,
		TickTime:          cfg.TickTime,
		Conf:              cfg.confLines(),
	}, log.Named("frontend"))
	peers := map[uint64]string{}
	for _, s := range cfg.Servers {
		peers[uint64(s.ID)] = s.PeerAddr
	}
	node, err := bridge.NewNode(bridge.Options{
		ID:        uint64(cfg.ID),
		Peers:     peers,
		DataDir:   cfg.DataDir,
		LogDir:    cfg.DataLogDir,
		Tick:      min(cfg.TickTime/4, 100*time.Millisecond),
		Tree:      tree.Config{ExtendedTypes: cfg.ExtendedTypes},
		Rejoin:    cfg.Rejoin,
		SnapCount: cfg.SnapCount,
		// jute.maxbuffer sizes every internal limit (bridge.Limits).
		JuteMaxBuffer: cfg.MaxPacketSize,
	}, srv.Handler(), log.Named("bridge"))
	if err != nil {
		return err
	}
	nodeErr := make(chan error, 1)
	go func() {
		err := node.Run(ctx)
		nodeErr <- err
		stop() // a node that fails (a storage failure stops it) ends the server
	}()
	if cfg.PprofAddr != "" {
		go func() {
			mux := http.NewServeMux()
			mux.HandleFunc("/debug/pprof/", pprof.Index)
			mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
			mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
			log.Warn("pprof server stopped", "error", http.ListenAndServe(cfg.PprofAddr, mux))
		}()
	}
	log.Info("serving", "client", cfg.ClientAddr, "data", cfg.DataDir)
	serveErr := srv.Serve(ctx, node)
	stop()
	if err := <-nodeErr; err != nil {
		return err
	}
	return serveErr
}

// confLines are what the conf word prints.
func (cfg *Config) confLines() [][2]string {
	_, port, _ := net.SplitHostPort(cfg.ClientAddr)
	return [][2]string{
		{"clientPort", port},
		{"dataDir", cfg.DataDir},
		{"dataLogDir", cfg.DataLogDir},
		{"tickTime", strconv.Itoa(int(cfg.TickTime / time.Millisecond))},
		{"maxClientCnxns", strconv.Itoa(cfg.MaxClientCnxns)},
		{"minSessionTimeout", strconv.Itoa(int(cfg.MinSessionTimeout / time.Millisecond))},
		{"maxSessionTimeout", strconv.Itoa(int(cfg.MaxSessionTimeout / time.Millisecond))},
		{"serverId", strconv.Itoa(cfg.ID)},
		{"readMode", cfg.ReadMode},
	}
}
