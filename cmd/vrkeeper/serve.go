package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/vrkeeper/vrkeeper/bridge"
	"github.com/vrkeeper/vrkeeper/frontend"
	"github.com/vrkeeper/vrkeeper/internal/httpserve"
	"github.com/vrkeeper/vrkeeper/metrics"
	"github.com/vrkeeper/vrkeeper/storage"
	"github.com/vrkeeper/vrkeeper/tree"
)

// serve runs the server until SIGTERM or SIGINT.
func serve(cfg Config, stderr io.Writer) error {
	out, closeLog, err := openLog(&cfg, stderr)
	if err != nil {
		return err
	}
	defer closeLog()
	log := hclog.New(&hclog.LoggerOptions{Name: "vrkeeper", Output: out,
		Level: hclog.LevelFromString(cfg.LogLevel), JSONFormat: cfg.LogFormat == "json"})
	for _, k := range cfg.Unknown {
		log.Warn("unknown configuration key ignored", "key", k)
	}
	if len(cfg.NoEffect) > 0 {
		log.Info("configuration keys without effect in vrkeeper", "keys", cfg.NoEffect)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	go tuneGC(ctx, 5*time.Second)
	stopWithGoRun()
	var reg *metrics.Registry
	if cfg.MetricsAddr != "" {
		if reg, err = metrics.New(); err != nil {
			return err
		}
	}
	sec, err := cfg.buildSecurity(log.Named("security"))
	if err != nil {
		return err
	}
	replicaTick, viewChangeTicks := failureDetection(cfg.TickTime, cfg.SyncLimit)
	fc := cfg.frontendConfig(reg)
	fc.Security = sec.frontend
	srv := frontend.New(fc, log.Named("frontend"))
	peers := map[uint64]string{}
	for _, s := range cfg.Servers {
		peers[uint64(s.ID)] = s.PeerAddr
		if s.ID == cfg.ID && cfg.ListenAllIPs {
			_, port, _ := net.SplitHostPort(s.PeerAddr)
			peers[uint64(s.ID)] = net.JoinHostPort("0.0.0.0", port)
		}
	}
	clock, err := serverClock()
	if err != nil {
		return err
	}
	node, err := bridge.NewNode(bridge.Options{
		Clock:           clock,
		ID:              uint64(cfg.ID),
		Peers:           peers,
		DataDir:         cfg.DataDir,
		LogDir:          cfg.DataLogDir,
		Tick:            min(cfg.TickTime/4, 100*time.Millisecond),
		ReplicaTick:     replicaTick,
		ViewChangeTicks: viewChangeTicks,
		NoReadLeases:    cfg.NoReadLeases,
		// Nothing that decides how a command applies is the tree's: the
		// frontend puts the security configuration (providers, skipACL) and
		// extendedTypesEnabled in each write it accepts (tree.WritePolicy),
		// and the container interval in each clean-up it proposes.
		Tree:            tree.Config{},
		PeerTLS:         sec.peerTLS,
		Rejoin:          cfg.Rejoin,
		SnapCount:       cfg.SnapCount,
		RetainSnapshots: cfg.SnapRetainCount,
		WAL:             storage.WALOptions{SegmentSize: cfg.PreAllocSize},
		Metrics:         reg,
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
	if err := startEndpoints(ctx, &cfg, srv, reg, sec.http, log); err != nil {
		stop()
		<-nodeErr
		return err
	}
	go announceServing(ctx, &cfg, srv, node, log)
	go watchPeers(ctx, &cfg, node, log.Named("peers"))
	serveErr := srv.Serve(ctx, node)
	stop()
	if err := <-nodeErr; err != nil {
		return err
	}
	return serveErr
}

// maxPrimarySilence caps how long a backup waits for a silent primary
// before it starts a view change. ZooKeeper detects a crashed leader as
// its connection drops, within about a second whatever tickTime says, and
// a leader that is alive but silent after syncLimit ticks; vrkeeper's
// replica cannot tell the two apart yet (it sees silence only), so it
// waits syncLimit ticks but never longer than this, lest a crashed
// primary take ten seconds to replace where ZooKeeper takes one.
const maxPrimarySilence = 750 * time.Millisecond

// failureDetection maps ZooKeeper's tickTime and syncLimit to the
// replica's clock: a backup starts a view change after syncLimit ticks
// without hearing from its primary (capped by maxPrimarySilence; the exact
// point is drawn between that and twice it, so backups rarely start
// together), and a primary that hears no quorum for as long steps down, as
// a ZooKeeper leader does after syncLimit ticks. Heartbeats go out every
// replica tick: a twentieth of tickTime and at least eight per timeout,
// between 5 and 100 ms.
func failureDetection(tick time.Duration, syncLimit int) (replicaTick time.Duration, viewChangeTicks int) {
	if syncLimit <= 0 {
		syncLimit = 5
	}
	timeout := min(time.Duration(syncLimit)*tick, maxPrimarySilence)
	replicaTick = min(max(min(tick/20, timeout/8), 5*time.Millisecond), 100*time.Millisecond)
	viewChangeTicks = max(int((timeout+replicaTick-1)/replicaTick), 2)
	return replicaTick, viewChangeTicks
}

// peerTimeout is the failure-detection time: syncLimit ticks.
func (cfg *Config) peerTimeout() time.Duration {
	return time.Duration(max(cfg.SyncLimit, 1)) * cfg.TickTime
}

// frontendConfig is the client side's configuration.
func (cfg *Config) frontendConfig(reg *metrics.Registry) frontend.Config {
	fc := frontend.Config{
		ClientAddr:         cfg.ClientAddr,
		MinSessionTimeout:  cfg.MinSessionTimeout,
		MaxSessionTimeout:  cfg.MaxSessionTimeout,
		MaxClientCnxns:     cfg.MaxClientCnxns,
		MaxCnxns:           cfg.MaxCnxns,
		GlobalOutstanding:  cfg.GlobalOutstanding,
		NoClientsOnPrimary: !cfg.LeaderServes,
		FourLetterWords:    cfg.FourLetterWords,
		MaxPacketSize:      cfg.MaxPacketSize,
		SequentialReads:    cfg.ReadMode == readModeSequential,
		SuperDigest:        cfg.SuperDigest,
		TickTime:           cfg.TickTime,
		Conf:               cfg.confLines(),
		DataDir:            cfg.DataDir,
		DataLogDir:         cfg.DataLogDir,
		ServerID:           cfg.ID,
		Properties:         cfg.systemProperties(),
		PeerTimeout:        cfg.peerTimeout(),
		Metrics:            reg,
		// Both travel in the commands this server proposes.
		ExtendedTypes:         cfg.ExtendedTypes,
		ContainerMaxNeverUsed: cfg.ContainerMaxIdle,
	}
	if len(cfg.Servers) <= 1 {
		fc.InitialConfig = cfg.ConfigText
	}
	for _, s := range cfg.Servers {
		si := frontend.ServerInfo{ID: s.ID, PeerAddr: s.PeerAddr, ClientAddr: s.ClientAddr}
		if s.ElectionPort > 0 {
			host, _, _ := net.SplitHostPort(s.PeerAddr)
			si.ElectionAddr = net.JoinHostPort(host, strconv.Itoa(s.ElectionPort))
		}
		fc.Servers = append(fc.Servers, si)
	}
	return fc
}

// systemProperties are what the AdminServer's system_properties shows: the
// -D properties given, and the process's facts.
func (cfg *Config) systemProperties() [][2]string {
	props := append([][2]string(nil), cfg.Properties...)
	wd, _ := os.Getwd()
	props = append(props, [2]string{"user.dir", wd}, [2]string{"vrkeeper.version", version})
	sort.SliceStable(props, func(i, j int) bool { return props[i][0] < props[j][0] })
	return props
}

// startEndpoints starts the Prometheus endpoint (a failure to bind it
// stops the start, as ZooKeeper's metrics provider does), the AdminServer
// (a failure is a warning, as in ZooKeeper) and pprof.
func startEndpoints(ctx context.Context, cfg *Config, srv *frontend.Server, reg *metrics.Registry, hopts httpserve.Options, log hclog.Logger) error {
	scheme := httpScheme(hopts.TLS)
	if cfg.MetricsAddr != "" {
		addr, _, err := metrics.ListenWith(ctx, cfg.MetricsAddr, reg, hopts)
		if err != nil {
			return fmt.Errorf("metricsProvider: %w", err)
		}
		log.Info("prometheus endpoint", "url", scheme+"://"+addr.String()+metrics.Path, "token", hopts.Token != "")
	}
	if cfg.AdminAddr != "" {
		addr, _, err := httpserve.ListenWith(ctx, cfg.AdminAddr, srv.AdminHandler(cfg.AdminCommandURL), hopts)
		if err != nil {
			log.Warn("the AdminServer did not start", "error", err)
		} else {
			log.Info("admin server", "url", scheme+"://"+addr.String()+cfg.AdminCommandURL, "token", hopts.Token != "")
		}
	}
	if cfg.PprofAddr != "" {
		mux := http.NewServeMux()
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		if _, _, err := httpserve.ListenWith(ctx, cfg.PprofAddr, mux, hopts); err != nil {
			log.Warn("pprof did not start", "error", err)
		}
	}
	return nil
}

// announceServing logs one line once the server really serves: the
// client port bound and the replica recovered into a serving role.
func announceServing(ctx context.Context, cfg *Config, srv *frontend.Server, node *bridge.Node, log hclog.Logger) {
	for _, ch := range []<-chan struct{}{srv.Bound(), node.Serving()} {
		select {
		case <-ch:
		case <-ctx.Done():
			return
		}
	}
	args := []any{"client", srv.Addr().String(), "id", cfg.ID, "servers", max(len(cfg.Servers), 1), "data", cfg.DataDir}
	if a := srv.SecureAddr(); a != nil {
		args = append(args, "secure_client", a.String())
	}
	log.Info("serving", args...)
}

// confLines are what the conf word prints.
func (cfg *Config) confLines() [][2]string {
	_, port, _ := net.SplitHostPort(cfg.ClientAddr)
	lines := [][2]string{{"clientPort", port}}
	if sp := cfg.Security.SecureClientPort; sp != "" {
		lines = append(lines, [2]string{"secureClientPort", sp})
	}
	lines = append(lines, [][2]string{
		{"dataDir", cfg.DataDir},
		{"dataLogDir", cfg.DataLogDir},
		{"tickTime", strconv.Itoa(int(cfg.TickTime / time.Millisecond))},
		{"maxClientCnxns", strconv.Itoa(cfg.MaxClientCnxns)},
		{"minSessionTimeout", strconv.Itoa(int(cfg.MinSessionTimeout / time.Millisecond))},
		{"maxSessionTimeout", strconv.Itoa(int(cfg.MaxSessionTimeout / time.Millisecond))},
		{"clientPortListenBacklog", "-1"},
		{"serverId", strconv.Itoa(cfg.ID)},
	}...)
	if len(cfg.Servers) > 1 {
		lines = append(lines, [2]string{"initLimit", strconv.Itoa(cfg.InitLimit)},
			[2]string{"syncLimit", strconv.Itoa(cfg.SyncLimit)})
		for _, s := range cfg.Servers {
			v := s.PeerAddr
			if s.ElectionPort > 0 {
				v += ":" + strconv.Itoa(s.ElectionPort)
			}
			v += ":participant"
			if s.ClientAddr != "" {
				v += ";" + s.ClientAddr
			}
			lines = append(lines, [2]string{"server." + strconv.Itoa(s.ID), v})
		}
	}
	return append(lines, [2]string{"readMode", cfg.ReadMode}, [2]string{"readLease", strconv.FormatBool(!cfg.NoReadLeases)})
}
