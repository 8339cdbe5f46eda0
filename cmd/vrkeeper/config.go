package main

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Config is a server's whole configuration, from zoo.cfg, from flags, or
// from the defaults of a single-node server.
type Config struct {
	ID                int           // this server's id (myid); 0 for a single node
	DataDir           string        // snapshots and replica state (zoo.cfg dataDir)
	DataLogDir        string        // the write-ahead log (dataLogDir; DataDir if empty)
	ClientAddr        string        // host:port clients connect to
	TickTime          time.Duration // the base time unit (tickTime)
	InitLimit         int           // ticks; validated, reported by conf
	SyncLimit         int           // ticks a backup waits for its primary before a view change
	MinSessionTimeout time.Duration // default 2 ticks
	MaxSessionTimeout time.Duration // default 20 ticks
	MaxClientCnxns    int           // per client IP address; 0 means no limit
	FourLetterWords   map[string]bool
	Servers           []Server       // the cluster, sorted by id; empty for a single node
	ReadMode          string         // "linearizable" (default) or "sequential"
	NoReadLeases      bool           // readLease=false: linearizable reads ask the primary (consensus/lease.go)
	MaxPacketSize     int            // jute.maxbuffer
	SuperDigest       string         // "super:<base64 sha1>", enables the super user
	ExtendedTypes     bool           // TTL nodes (zookeeper.extendedTypesEnabled)
	AdminAddr         string         // host:port of the AdminServer; "" disables it
	AdminCommandURL   string         // admin.commandURL
	MetricsAddr       string         // host:port of the Prometheus endpoint; "" disables it
	PreAllocSize      int64          // bytes a log segment is preallocated to (preAllocSize)
	GlobalOutstanding int            // requests outstanding across connections; 0: no limit
	MaxCnxns          int            // client connections in all; 0: no limit
	LeaderServes      bool           // the primary accepts client connections
	ListenAllIPs      bool           // quorumListenOnAllIPs: bind the peer port on every address
	ContainerMaxIdle  int64          // ms a never-used container lives (znode.container.maxNeverUsedIntervalMs)
	NoEffect          []string       // keys read that have no counterpart here
	Properties        [][2]string    // the -D properties read from SERVER_JVMFLAGS/JVMFLAGS
	ConfigText        string         // the zoo.cfg read, for initial_configuration
	LogFormat         string         // "text" or "json"
	LogFile           string         // "" logs to stderr
	LogMaxSize        int64          // bytes before the log file is rotated
	LogMaxFiles       int            // rotated files kept
	Rejoin            bool           // the data was lost: recover it from the peers first
	SnapCount         int64          // commands between snapshots (snapCount)
	SnapRetainCount   int            // snapshots kept (autopurge.snapRetainCount, at least 3)
	PprofAddr         string         // host:port for Go's pprof handlers; "" disables them
	LogLevel          string         // hclog level name
	Unknown           []string       // keys read but not understood, for a warning
	Security          SecurityConfig // TLS, authentication, ACL checks (security.go)
}

// Server is one member of the cluster, from a server.N line.
type Server struct {
	ID           int
	PeerAddr     string // host:port of the replication link
	ElectionPort int    // accepted for compatibility; vrkeeper does not use it
	Role         string // "participant"; observers are not supported
	ClientAddr   string // host:port for clients, if the line gives one
}

// The defaults ZooKeeper uses, and vrkeeper's own.
const (
	defaultTickTime       = 2 * time.Second
	defaultClientPort     = 2181
	defaultMaxClientCnxns = 60
	defaultDataDir        = "vrkeeper-data"
	defaultMaxPacketSize  = 0xfffff
	readModeLinearizable  = "linearizable"
	readModeSequential    = "sequential"
)

// defaultConfig is the configuration of `vrkeeper` run with no arguments: a
// single node on 127.0.0.1:2181 with its data in ./vrkeeper-data, every
// four-letter word allowed and no limit on connections per address (a
// zoo.cfg gets ZooKeeper's defaults: srvr only, and 60).
func defaultConfig() Config {
	return Config{
		DataDir:         defaultDataDir,
		ClientAddr:      net.JoinHostPort("127.0.0.1", strconv.Itoa(defaultClientPort)),
		TickTime:        defaultTickTime,
		InitLimit:       10,
		SyncLimit:       5,
		MaxClientCnxns:  0,                   // a zoo.cfg gets ZooKeeper's 60 unless it says otherwise
		FourLetterWords: parseWhitelist("*"), // a zoo.cfg gets ZooKeeper's srvr-only default
		ReadMode:        readModeLinearizable,
		MaxPacketSize:   defaultMaxPacketSize,
		LogLevel:        "info",
		LogFormat:       "text",
		LogMaxSize:      64 << 20,
		LogMaxFiles:     5,
		LeaderServes:    true,
		AdminAddr:       "127.0.0.1:8080", // a zoo.cfg gets ZooKeeper's 0.0.0.0:8080
		AdminCommandURL: "/commands",
	}
}

// allFourLetterWords are the words a whitelist of "*" allows.
var allFourLetterWords = []string{
	"conf", "cons", "crst", "dirs", "dump", "envi", "gtmk", "hash", "isro", "mntr",
	"ruok", "srst", "srvr", "stat", "stmk", "wchc", "wchp", "wchs",
}

// parseZooCfg reads ZooKeeper's configuration format (a Java properties
// file) into cfg, which holds the defaults. Relative paths are kept as given.
// readFile reads a dynamicConfigFile and the myid file.
func parseZooCfg(text string, cfg *Config, readFile func(string) (string, error)) error {
	return parseZooCfgWith(text, cfg, readFile, nil)
}

// parseZooCfgWith is parseZooCfg with system properties (zoo.cfg keys from
// -D flags) applied first: the file's keys override them.
func parseZooCfgWith(text string, cfg *Config, readFile func(string) (string, error), sysKeys [][2]string) error {
	fileProps, fileOrder, err := parseProperties(text)
	if err != nil {
		return err
	}
	props, order := map[string]string{}, []string(nil)
	for _, kv := range sysKeys {
		if _, seen := props[kv[0]]; !seen {
			order = append(order, kv[0])
		}
		props[kv[0]] = kv[1]
	}
	for _, k := range fileOrder {
		if _, seen := props[k]; !seen {
			order = append(order, k)
		}
		props[k] = fileProps[k]
	}
	cfg.ConfigText = text
	cfg.MaxClientCnxns = defaultMaxClientCnxns
	cfg.FourLetterWords = map[string]bool{"srvr": true}
	cfg.AdminAddr = "127.0.0.1:8080" // ZooKeeper's is 0.0.0.0: set admin.serverAddress for that
	cfg.DataDir = ""                 // ZooKeeper requires dataDir in a zoo.cfg
	if err := applyKeys(props, order, cfg, readFile); err != nil {
		return err
	}
	if cfg.DataDir == "" {
		return fmt.Errorf("zoo.cfg: dataDir is not set (ZooKeeper requires it)")
	}
	sort.Slice(cfg.Servers, func(i, j int) bool { return cfg.Servers[i].ID < cfg.Servers[j].ID })
	if len(cfg.Servers) > 0 && cfg.ID == 0 {
		myid, err := readFile(joinPath(cfg.DataDir, "myid"))
		if err != nil {
			return fmt.Errorf("zoo.cfg: a cluster needs the myid file in dataDir: %w", err)
		}
		if cfg.ID, err = positiveInt(strings.TrimSpace(myid)); err != nil {
			return fmt.Errorf("myid: %w", err)
		}
	}
	return nil
}

// applyKeys applies zoo.cfg keys (or -D properties without their
// "zookeeper." prefix) to cfg, in order.
func applyKeys(props map[string]string, order []string, cfg *Config, readFile func(string) (string, error)) error {
	var clientPort, clientPortAddress string
	minTimeout, maxTimeout := -1, -1
	admin := adminSettings{}
	// Every HTTP endpoint binds to the loopback address unless configured
	// (ZooKeeper binds them on every address).
	metricsOn, metricsHost, metricsPort := false, "127.0.0.1", "7000"
	for _, key := range order {
		value := props[key]
		var err error
		switch key {
		case "dataDir":
			cfg.DataDir = value
		case "dataLogDir":
			cfg.DataLogDir = value
		case "clientPort":
			clientPort = value
		case "clientPortAddress":
			clientPortAddress = value
		case "tickTime":
			var ms int
			ms, err = positiveInt(value)
			cfg.TickTime = time.Duration(ms) * time.Millisecond
		case "initLimit":
			cfg.InitLimit, err = positiveInt(value)
		case "syncLimit":
			cfg.SyncLimit, err = positiveInt(value)
		case "minSessionTimeout":
			minTimeout, err = strconv.Atoi(value)
		case "maxSessionTimeout":
			maxTimeout, err = strconv.Atoi(value)
		case "maxClientCnxns":
			cfg.MaxClientCnxns, err = nonNegativeInt(value)
		case "maxCnxns":
			cfg.MaxCnxns, err = nonNegativeInt(value)
		case "globalOutstandingLimit":
			cfg.GlobalOutstanding, err = positiveInt(value)
		case "preAllocSize":
			var kb int
			if kb, err = positiveInt(value); err == nil {
				cfg.PreAllocSize = max(int64(kb)<<10, 4<<10)
			}
		case "4lw.commands.whitelist":
			cfg.FourLetterWords = parseWhitelist(value)
		case "dynamicConfigFile":
			var dyn string
			if dyn, err = readFile(value); err == nil {
				err = parseDynamicConfig(dyn, cfg)
			}
		case "readMode", "vrkeeper.readMode":
			if value != readModeLinearizable && value != readModeSequential {
				err = fmt.Errorf("must be %q or %q", readModeLinearizable, readModeSequential)
			}
			cfg.ReadMode = value
		case "readLease", "vrkeeper.readLease":
			var on bool
			on, err = parseBool(value)
			cfg.NoReadLeases = !on
		case "snapCount":
			var n int
			n, err = positiveInt(value)
			cfg.SnapCount = int64(n)
		case "autopurge.snapRetainCount":
			// ZooKeeper keeps at least 3 whatever is asked.
			cfg.SnapRetainCount, err = positiveInt(value)
			cfg.SnapRetainCount = max(cfg.SnapRetainCount, 3)
		case "jute.maxbuffer":
			cfg.MaxPacketSize, err = positiveInt(value)
		case "superDigest", "DigestAuthenticationProvider.superDigest":
			cfg.SuperDigest = value
		case "extendedTypesEnabled":
			cfg.ExtendedTypes, err = parseBool(value)
		case "znode.container.maxNeverUsedIntervalMs":
			var n int
			n, err = nonNegativeInt(value)
			cfg.ContainerMaxIdle = int64(n)
		case "leaderServes":
			cfg.LeaderServes, err = parseBool(value)
		case "quorumListenOnAllIPs":
			cfg.ListenAllIPs, err = parseBool(value)
		case "admin.enableServer", "admin.serverAddress", "admin.serverPort", "admin.commandURL":
			err = admin.set(key, value)
		case "metricsProvider.className":
			metricsOn = metricsProviderKind(value) == "prometheus"
			_, _, err = classify(key, value)
		case "metricsProvider.httpHost":
			metricsHost = value
		case "metricsProvider.httpPort":
			_, err = positiveInt(value)
			metricsPort = value
		case "vrkeeper.log.format":
			if value != "text" && value != "json" {
				err = fmt.Errorf("want text or json")
			}
			cfg.LogFormat = value
		case "vrkeeper.log.file":
			cfg.LogFile = value
		case "vrkeeper.log.maxSizeMB":
			var n int
			n, err = positiveInt(value)
			cfg.LogMaxSize = int64(n) << 20
		case "vrkeeper.log.maxFiles":
			cfg.LogMaxFiles, err = positiveInt(value)
		default:
			if strings.HasPrefix(key, "server.") {
				err = parseServerLine(key, value, cfg)
				break
			}
			var handled bool
			if handled, err = cfg.Security.setSecurityKey(key, value); handled {
				break
			}
			noEffect, unknown, cerr := classify(key, value)
			err = cerr
			switch {
			case noEffect:
				cfg.NoEffect = append(cfg.NoEffect, key)
			case unknown:
				cfg.Unknown = append(cfg.Unknown, key)
			}
		}
		if err != nil {
			return fmt.Errorf("zoo.cfg: %s=%s: %w", key, value, err)
		}
	}
	if minTimeout >= 0 {
		cfg.MinSessionTimeout = time.Duration(minTimeout) * time.Millisecond
	}
	if maxTimeout >= 0 {
		cfg.MaxSessionTimeout = time.Duration(maxTimeout) * time.Millisecond
	}
	if clientPort != "" || clientPortAddress != "" {
		host, port := "0.0.0.0", strconv.Itoa(defaultClientPort)
		if clientPortAddress != "" {
			host = clientPortAddress
		}
		if clientPort != "" {
			if _, err := positiveInt(clientPort); err != nil {
				return fmt.Errorf("zoo.cfg: clientPort=%s: %w", clientPort, err)
			}
			port = clientPort
		}
		cfg.ClientAddr = net.JoinHostPort(host, port)
	}
	admin.apply(cfg)
	if err := cfg.finishSecurity(); err != nil {
		return err
	}
	if metricsOn {
		cfg.MetricsAddr = net.JoinHostPort(metricsHost, metricsPort)
	}
	return nil
}

// adminSettings collects the admin.* keys, which may come in any order.
type adminSettings struct {
	enable     *bool
	host       string
	port       string
	commandURL string
}

func (a *adminSettings) set(key, value string) error {
	switch key {
	case "admin.enableServer":
		on, err := parseBool(value)
		a.enable = &on
		return err
	case "admin.serverAddress":
		a.host = value
	case "admin.serverPort":
		if _, err := positiveInt(value); err != nil {
			return err
		}
		a.port = value
	case "admin.commandURL":
		if !strings.HasPrefix(value, "/") {
			return fmt.Errorf("must start with /")
		}
		a.commandURL = value
	}
	return nil
}

// apply sets the AdminServer's address (enabled on 127.0.0.1:8080 unless
// admin.serverAddress says otherwise; ZooKeeper's is 0.0.0.0) and its
// command URL.
func (a *adminSettings) apply(cfg *Config) {
	if a.commandURL != "" {
		cfg.AdminCommandURL = a.commandURL
	}
	if a.enable != nil && !*a.enable {
		cfg.AdminAddr = ""
		return
	}
	host, port := "127.0.0.1", "8080"
	if cfg.AdminAddr != "" {
		host, port, _ = net.SplitHostPort(cfg.AdminAddr)
	}
	if a.host != "" {
		host = a.host
	}
	if a.port != "" {
		port = a.port
	}
	cfg.AdminAddr = net.JoinHostPort(host, port)
}

// parseBool reads a Java properties boolean: true/false, yes/no.
func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes":
		return true, nil
	case "false", "no":
		return false, nil
	}
	return false, fmt.Errorf("want true or false, got %q", s)
}

// finish fills what depends on other settings and checks the whole.
func (cfg *Config) finish() error {
	if cfg.DataLogDir == "" {
		cfg.DataLogDir = cfg.DataDir
	}
	if cfg.MinSessionTimeout == 0 {
		cfg.MinSessionTimeout = 2 * cfg.TickTime
	}
	if cfg.MaxSessionTimeout == 0 {
		cfg.MaxSessionTimeout = 20 * cfg.TickTime
	}
	if cfg.MinSessionTimeout > cfg.MaxSessionTimeout {
		return fmt.Errorf("config: minSessionTimeout %v is above maxSessionTimeout %v", cfg.MinSessionTimeout, cfg.MaxSessionTimeout)
	}
	if cfg.DataDir == "" {
		return fmt.Errorf("config: dataDir is not set")
	}
	if len(cfg.Servers) == 0 {
		return nil
	}
	self := cfg.Self()
	if self == nil {
		return fmt.Errorf("config: this server's id %d has no server.%d line", cfg.ID, cfg.ID)
	}
	if self.ClientAddr != "" {
		cfg.ClientAddr = self.ClientAddr
	}
	seen := map[int]bool{}
	for _, s := range cfg.Servers {
		if seen[s.ID] {
			return fmt.Errorf("config: server.%d is given twice", s.ID)
		}
		seen[s.ID] = true
	}
	return nil
}

// Self returns this server's entry in Servers, or nil.
func (cfg *Config) Self() *Server {
	for i := range cfg.Servers {
		if cfg.Servers[i].ID == cfg.ID {
			return &cfg.Servers[i]
		}
	}
	return nil
}

// parseServerLine reads server.N=host:peerPort[:electionPort][:role][;[clientHost:]clientPort].
func parseServerLine(key, value string, cfg *Config) error {
	id, err := positiveInt(strings.TrimPrefix(key, "server."))
	if err != nil {
		return fmt.Errorf("server id: %w", err)
	}
	s := Server{ID: id, Role: "participant"}
	addrPart, clientPart, hasClient := strings.Cut(value, ";")
	host, rest, err := splitHost(addrPart)
	if err != nil {
		return err
	}
	fields := strings.Split(rest, ":")
	if len(fields) < 1 || fields[0] == "" {
		return fmt.Errorf("want host:peerPort:electionPort")
	}
	peerPort, err := positiveInt(fields[0])
	if err != nil {
		return fmt.Errorf("peer port: %w", err)
	}
	s.PeerAddr = net.JoinHostPort(host, strconv.Itoa(peerPort))
	if len(fields) > 1 && fields[1] != "" {
		if s.ElectionPort, err = positiveInt(fields[1]); err != nil {
			return fmt.Errorf("election port: %w", err)
		}
	}
	if len(fields) > 2 {
		s.Role = fields[2]
		if s.Role != "participant" {
			return fmt.Errorf("role %q: only participants are supported", s.Role)
		}
	}
	if len(fields) > 3 {
		return fmt.Errorf("too many fields")
	}
	if hasClient {
		clientHost, clientPort := "0.0.0.0", clientPart
		if i := strings.LastIndexByte(clientPart, ':'); i >= 0 {
			clientHost, clientPort = strings.Trim(clientPart[:i], "[]"), clientPart[i+1:]
		}
		if _, err := positiveInt(clientPort); err != nil {
			return fmt.Errorf("client port: %w", err)
		}
		s.ClientAddr = net.JoinHostPort(clientHost, clientPort)
	}
	for i := range cfg.Servers {
		if cfg.Servers[i].ID == id {
			cfg.Servers[i] = s
			return nil
		}
	}
	cfg.Servers = append(cfg.Servers, s)
	return nil
}

// splitHost splits "host:rest" or "[v6]:rest".
func splitHost(s string) (host, rest string, err error) {
	if strings.HasPrefix(s, "[") {
		end := strings.Index(s, "]:")
		if end < 0 {
			return "", "", fmt.Errorf("bad bracketed address %q", s)
		}
		return s[1:end], s[end+2:], nil
	}
	host, rest, ok := strings.Cut(s, ":")
	if !ok || host == "" {
		return "", "", fmt.Errorf("want host:peerPort:electionPort, got %q", s)
	}
	return host, rest, nil
}

// parseDynamicConfig reads a dynamic configuration file: server.N lines and
// a version line.
func parseDynamicConfig(text string, cfg *Config) error {
	props, order, err := parseProperties(text)
	if err != nil {
		return err
	}
	for _, key := range order {
		if strings.HasPrefix(key, "server.") {
			if err := parseServerLine(key, props[key], cfg); err != nil {
				return fmt.Errorf("%s: %w", key, err)
			}
		}
	}
	return nil
}

// parseWhitelist reads 4lw.commands.whitelist: words separated by commas,
// or "*" for all. srvr is always allowed, as in ZooKeeper.
func parseWhitelist(value string) map[string]bool {
	words := map[string]bool{"srvr": true}
	for _, w := range strings.Split(value, ",") {
		w = strings.TrimSpace(w)
		if w == "*" {
			for _, all := range allFourLetterWords {
				words[all] = true
			}
		} else if w != "" {
			words[w] = true
		}
	}
	return words
}

// parseProperties reads the subset of Java's properties format that zoo.cfg
// files use: key=value or key:value lines, # and ! comments, surrounding
// whitespace trimmed, a trailing backslash continuing the line. Later keys
// override earlier ones; order lists each key once, in first-seen order.
func parseProperties(text string) (props map[string]string, order []string, err error) {
	props = map[string]string{}
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		line := strings.TrimSpace(lines[i])
		for strings.HasSuffix(line, "\\") && i+1 < len(lines) {
			i++
			line = strings.TrimSuffix(line, "\\") + strings.TrimSpace(lines[i])
		}
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		sep := strings.IndexAny(line, "=:")
		if sep <= 0 {
			return nil, nil, fmt.Errorf("zoo.cfg line %d: want key=value, got %q", i+1, line)
		}
		key := strings.TrimSpace(line[:sep])
		value := strings.TrimSpace(line[sep+1:])
		if _, seen := props[key]; !seen {
			order = append(order, key)
		}
		props[key] = value
	}
	return props, order, nil
}

func nonNegativeInt(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, err
	}
	if n < 0 {
		return 0, fmt.Errorf("%d is negative", n)
	}
	return n, nil
}

func positiveInt(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, err
	}
	if n <= 0 {
		return 0, fmt.Errorf("%d is not positive", n)
	}
	return n, nil
}

func joinPath(dir, name string) string {
	if dir == "" {
		return name
	}
	return strings.TrimSuffix(dir, "/") + "/" + name
}
