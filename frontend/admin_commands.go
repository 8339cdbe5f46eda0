package frontend

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"

	"github.com/vrkeeper/vrkeeper/bridge"
)

// adminCommand is one AdminServer command.
type adminCommand struct {
	names []string // primary name, then aliases (the four-letter words)
	// serving commands are refused while the server does not serve, as
	// ZooKeeper refuses those that need a running server.
	serving bool
	run     func(s *Server, args url.Values) (object, error)
}

// errNotServing is a command's answer when the apply goroutine did not
// answer in time.
var errNotServing = errors.New("This ZooKeeper instance is not currently serving requests")

// adminCommands are ZooKeeper 3.8's commands with their aliases, in its
// list's order, and vrkeeper's vr_status.
var adminCommands = []*adminCommand{
	{[]string{"configuration", "conf", "config"}, true, cmdConfiguration},
	{[]string{"connection_stat_reset", "crst"}, true, func(s *Server, _ url.Values) (object, error) {
		s.resetConnStats()
		return nil, nil
	}},
	{[]string{"connections", "cons"}, true, cmdConnections},
	{[]string{"dirs"}, true, func(s *Server, _ url.Values) (object, error) {
		data, log := s.dirSizes()
		return object{{"datadir_size", data}, {"logdir_size", log}}, nil
	}},
	{[]string{"dump"}, true, cmdDump},
	{[]string{"environment", "env", "envi"}, false, func(s *Server, _ url.Values) (object, error) {
		var o object
		for _, kv := range s.environment() {
			o.set(kv[0], kv[1])
		}
		return o, nil
	}},
	{[]string{"get_trace_mask", "gtmk"}, false, func(*Server, url.Values) (object, error) {
		return object{{"tracemask", 0}}, nil
	}},
	{[]string{"hash"}, true, cmdHash},
	{[]string{"initial_configuration", "icfg"}, false, func(s *Server, _ url.Values) (object, error) {
		if s.cfg.InitialConfig == "" {
			return object{{"initial_configuration", nil}}, nil
		}
		return object{{"initial_configuration", s.cfg.InitialConfig}}, nil
	}},
	{[]string{"is_read_only", "isro"}, true, func(*Server, url.Values) (object, error) {
		return object{{"read_only", false}}, nil
	}},
	{[]string{"last_snapshot", "lsnp"}, true, func(s *Server, _ url.Values) (object, error) {
		st := s.node.Status()
		var ts int64
		if !st.LastSnapshotTime.IsZero() {
			ts = st.LastSnapshotTime.Unix()
		}
		return object{{"zxid", strconv.FormatUint(st.LastSnapshot, 16)}, {"timestamp", ts}}, nil
	}},
	{[]string{"leader", "lead"}, true, cmdLeader},
	{[]string{"monitor", "mntr"}, true, func(s *Server, _ url.Values) (object, error) {
		st, _, ok := s.serverStats()
		if !ok {
			return nil, errNotServing
		}
		var o object
		for _, kv := range mntrPairs(st) {
			o.set(kv.key, kv.value)
		}
		return o, nil
	}},
	{[]string{"observer_connection_stat_reset", "orst"}, true, func(*Server, url.Values) (object, error) {
		return nil, nil // vrkeeper has no observers
	}},
	{[]string{"observers", "obsr"}, true, func(*Server, url.Values) (object, error) {
		return object{{"synced_observers", 0}, {"observers", []any{}}}, nil
	}},
	{[]string{"ruok"}, false, func(*Server, url.Values) (object, error) { return nil, nil }},
	{[]string{"server_stats", "srvr"}, true, func(s *Server, _ url.Values) (object, error) {
		o, _, err := s.statsObject()
		return o, err
	}},
	{[]string{"set_trace_mask", "stmk"}, false, func(_ *Server, args url.Values) (object, error) {
		v := args.Get("traceMask")
		mask, err := strconv.ParseInt(v, 10, 64)
		if v == "" || err != nil {
			return nil, errors.New("setTraceMask requires long traceMask argument")
		}
		return object{{"tracemask", mask}}, nil // accepted, without effect
	}},
	{[]string{"stat_reset", "srst"}, true, func(s *Server, _ url.Values) (object, error) {
		s.stats.reset()
		return nil, nil
	}},
	{[]string{"stats", "stat"}, true, func(s *Server, _ url.Values) (object, error) {
		o, conns, err := s.statsObject()
		if err != nil {
			return nil, err
		}
		o.set("connections", connectionList(conns, true))
		o.set("secure_connections", []any{})
		return o, nil
	}},
	{[]string{"system_properties", "sysp"}, false, func(s *Server, _ url.Values) (object, error) {
		var o object
		for _, kv := range s.cfg.Properties {
			o.set(kv[0], kv[1])
		}
		return o, nil
	}},
	{[]string{"voting_view"}, true, cmdVotingView},
	{[]string{"watch_summary", "wchs"}, true, func(s *Server, _ url.Values) (object, error) {
		ws, ok := inspect(s, func(*bridge.Apply) WatchSummary { return s.core.registry.Summary() })
		if !ok {
			return nil, errNotServing
		}
		return object{{"num_connections", ws.Connections}, {"num_paths", ws.Paths}, {"num_total_watches", ws.Total}}, nil
	}},
	{[]string{"watches", "wchc"}, true, cmdWatches},
	{[]string{"watches_by_path", "wchp"}, true, cmdWatchesByPath},
	{[]string{"zabstate"}, true, cmdZabState},
	{[]string{"vr_status", "vrst"}, false, cmdVRStatus},
}

// lookupCommand finds a command by name or alias.
func lookupCommand(name string) *adminCommand {
	for _, c := range adminCommands {
		for _, n := range c.names {
			if n == name {
				return c
			}
		}
	}
	return nil
}

func cmdConfiguration(s *Server, _ url.Values) (object, error) {
	port := 0
	if a := s.Addr(); a != nil {
		if t, ok := a.(*net.TCPAddr); ok {
			port = t.Port
		}
	}
	return object{
		{"client_port", port},
		{"data_dir", s.cfg.DataDir},
		{"data_log_dir", s.cfg.DataLogDir},
		{"tick_time", s.cfg.TickTime.Milliseconds()},
		{"max_client_cnxns", s.cfg.MaxClientCnxns},
		{"min_session_timeout", s.cfg.MinSessionTimeout.Milliseconds()},
		{"max_session_timeout", s.cfg.MaxSessionTimeout.Milliseconds()},
		{"server_id", s.cfg.ServerID},
		{"client_port_listen_backlog", -1},
	}, nil
}

func cmdConnections(s *Server, _ url.Values) (object, error) {
	return object{{"connections", connectionList(s.connStats(), false)}, {"secure_connections", []any{}}}, nil
}

// connectionList is the connections' JSON, as ZooKeeper's
// getConnectionInfo: brief leaves out the session's figures.
func connectionList(conns []ConnStats, brief bool) []any {
	sort.Slice(conns, func(i, j int) bool { return conns[i].Established.Before(conns[j].Established) })
	list := []any{}
	for _, c := range conns {
		o := object{
			{"remote_socket_address", c.Remote},
			{"interest_ops", c.Interest},
			{"outstanding_requests", c.Queued},
			{"packets_received", c.Received},
			{"packets_sent", c.Sent},
		}
		if c.SessionID != 0 && !brief {
			lastCxid, lastZxid, lastResp := int64(c.LastCxid), c.LastZxid, int64(0)
			if c.LastOp == "NA" {
				lastCxid, lastZxid = -1, -1
			}
			if !c.LastResp.IsZero() {
				lastResp = c.LastResp.UnixMilli()
			}
			o = append(o, object{
				{"session_id", c.SessionID},
				{"last_operation", c.LastOp},
				{"established", c.Established.UnixMilli()},
				{"session_timeout", int64(c.TimeoutMs)},
				{"last_cxid", lastCxid},
				{"last_zxid", lastZxid},
				{"last_response_time", lastResp},
				{"last_latency", c.LastLatMs},
				{"min_latency", c.MinLatMs},
				{"avg_latency", c.AvgLatMs},
				{"max_latency", c.MaxLatMs},
			}...)
		}
		list = append(list, o)
	}
	return list
}

// statsObject is server_stats' answer; stats adds the connections.
func (s *Server) statsObject() (object, []ConnStats, error) {
	st, conns, ok := s.serverStats()
	if !ok {
		return nil, nil, errNotServing
	}
	data, log := s.dirSizes()
	noSizes := object{{"last_buffer_size", -1}, {"min_buffer_size", -1}, {"max_buffer_size", -1}}
	inner := object{
		{"packets_sent", st.Sent},
		{"packets_received", st.Received},
		{"fsync_threshold_exceed_count", 0},
		{"client_response_stats", noSizes},
		{"provider_null", false},
		{"server_state", st.Mode},
		{"outstanding_requests", st.Outstanding},
		{"min_latency", st.MinLatencyMs},
		{"avg_latency", jsonFloat(st.AvgLatencyMs)},
		{"max_latency", st.MaxLatencyMs},
		{"data_dir_size", data},
		{"log_dir_size", log},
		{"last_processed_zxid", st.Zxid},
		{"num_alive_client_connections", st.Connections},
		{"uptime", st.Uptime.Milliseconds()},
		{"auth_failed_count", st.AuthFailed},
		{"non_mtlsremote_conn_count", 0},
		{"non_mtlslocal_conn_count", 0},
	}
	o := object{
		{"version", ZooKeeperVersion + ", built on " + BuildDate},
		{"read_only", false},
		{"server_stats", inner},
		{"client_response", noSizes},
	}
	if st.Mode == "leader" {
		o.set("proposal_stats", noSizes)
	}
	o.set("node_count", st.NodeCount)
	return o, conns, nil
}

func cmdDump(s *Server, _ url.Values) (object, error) {
	tick := s.cfg.TickTime.Milliseconds()
	type dump struct {
		expiry map[int64][]int64
		eph    map[int64][]string
	}
	d, ok := inspect(s, func(a *bridge.Apply) dump {
		ids := a.Tree().SessionIDs(nil)
		d := dump{expiry: map[int64][]int64{}, eph: s.core.ephemerals(a, ids)}
		if r := a.Role(); r != bridge.RolePrimary && r != bridge.RoleStandalone {
			return d // only the primary expires sessions, as only ZooKeeper's leader does
		}
		for _, id := range ids {
			if info, ok := a.Tree().Session(id); ok {
				// ZooKeeper groups sessions by expiry time rounded up to a tick.
				at := info.LastSeen + int64(info.Timeout)
				if tick > 0 {
					at = (at/tick + 1) * tick
				}
				d.expiry[at] = append(d.expiry[at], id)
			}
		}
		return d
	})
	if !ok {
		return nil, errNotServing
	}
	var expiry, eph object
	for _, at := range sortedKeys(d.expiry) {
		expiry.set(strconv.FormatInt(at, 10), d.expiry[at])
	}
	for _, id := range sortedKeys(d.eph) {
		eph.set(strconv.FormatInt(id, 10), d.eph[id])
	}
	return object{{"expiry_time_to_session_ids", expiry}, {"session_id_to_ephemeral_paths", eph}}, nil
}

func sortedKeys[V any](m map[int64]V) []int64 {
	keys := make([]int64, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	return keys
}

func cmdHash(s *Server, _ url.Values) (object, error) {
	type digest struct {
		zxid int64
		sum  uint64
	}
	d, ok := inspect(s, func(a *bridge.Apply) digest { return digest{a.Applied(), a.Tree().Digest()} })
	if !ok {
		return nil, errNotServing
	}
	return object{{"digests", []any{object{{"zxid", d.zxid}, {"digest", int64(d.sum)}}}}}, nil
}

func cmdLeader(s *Server, _ url.Values) (object, error) {
	st := s.node.Status()
	if st.Replicas <= 1 {
		return nil, errors.New("server is not initialized")
	}
	ip := ""
	for _, srv := range s.cfg.Servers {
		if uint64(srv.ID) == st.Primary {
			ip, _, _ = net.SplitHostPort(srv.PeerAddr)
		}
	}
	return object{{"is_leader", st.Role == bridge.RolePrimary}, {"leader_id", st.Primary}, {"leader_ip", ip}}, nil
}

func cmdVotingView(s *Server, _ url.Values) (object, error) {
	view := object{}
	if len(s.cfg.Servers) > 1 {
		for _, srv := range s.cfg.Servers {
			elect := []string{}
			if srv.ElectionAddr != "" {
				elect = append(elect, srv.ElectionAddr)
			}
			view.set(strconv.Itoa(srv.ID), object{
				{"server_addresses", []string{srv.PeerAddr}},
				{"election_addresses", elect},
				{"client_address", srv.ClientAddr},
				{"learner_type", "participant"},
			})
		}
	}
	return object{{"current_config", view}}, nil
}

func cmdWatches(s *Server, _ url.Values) (object, error) {
	o, ok := inspect(s, func(*bridge.Apply) object {
		bySession := map[int64][]string{}
		for _, w := range s.core.registry.WatcherIDs() {
			id := s.core.sessionOf(w)
			bySession[id] = append(bySession[id], s.core.registry.PathsOf(w)...)
		}
		var o object
		for _, id := range sortedKeys(bySession) {
			o.set(strconv.FormatInt(id, 10), bySession[id])
		}
		return o
	})
	if !ok {
		return nil, errNotServing
	}
	if o == nil {
		o = object{}
	}
	return object{{"session_id_to_watched_paths", o}}, nil
}

func cmdWatchesByPath(s *Server, _ url.Values) (object, error) {
	o, ok := inspect(s, func(*bridge.Apply) object {
		byPath := s.core.registry.Watchers()
		paths := make([]string, 0, len(byPath))
		for p := range byPath {
			paths = append(paths, p)
		}
		sort.Strings(paths)
		var o object
		for _, p := range paths {
			ids := []int64{}
			for _, w := range byPath[p] {
				ids = append(ids, s.core.sessionOf(w))
			}
			o.set(p, ids)
		}
		return o
	})
	if !ok {
		return nil, errNotServing
	}
	if o == nil {
		o = object{}
	}
	return object{{"path_to_session_ids", o}}, nil
}

// cmdZabState answers zabstate with vrkeeper's equivalents: the epoch is
// the view, the counter the op-number, and the state "broadcast" when the
// replica is normal, "election" during a view change, "synchronization"
// while it recovers.
func cmdZabState(s *Server, _ url.Values) (object, error) {
	st := s.node.Status()
	state := map[string]string{"normal": "broadcast", "view-change": "election", "recovering": "synchronization"}[st.State]
	var self ServerInfo
	for _, srv := range s.cfg.Servers {
		if uint64(srv.ID) == st.ID {
			self = srv
		}
	}
	client := ""
	if a := s.Addr(); a != nil {
		client = a.String()
	}
	return object{
		{"myid", st.ID},
		{"is_leader", st.Role == bridge.RolePrimary || st.Role == bridge.RoleStandalone},
		{"quorum_address", addressObject(self.PeerAddr)},
		{"election_address", addressObject(self.ElectionAddr)},
		{"client_address", client},
		{"voting", true},
		{"last_zxid", fmt.Sprintf("0x%x", st.Commit)},
		{"zab_epoch", st.View},
		{"zab_counter", st.Op},
		{"zabstate", state},
	}, nil
}

// addressObject describes an address as ZooKeeper's MultipleAddresses.
func addressObject(addr string) object {
	if addr == "" {
		return object{{"empty", true}}
	}
	host, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	return object{
		{"empty", false},
		{"all_addresses", []string{addr}},
		{"all_reachable_addresses", []string{addr}},
		{"one", addr},
		{"reachable_address", addr},
		{"wildcard_addresses", []string{net.JoinHostPort("0.0.0.0", port)}},
		{"all_ports", []any{p}},
		{"all_host_strings", []string{host}},
		{"all_reachable_addresses_or_all", []string{addr}},
		{"reachable_or_one", addr},
	}
}

// cmdVRStatus is vrkeeper's own command: the replica's status, which it
// reports also while the server does not serve (vrkeeper status reads it).
func cmdVRStatus(s *Server, _ url.Values) (object, error) {
	st := s.node.Status()
	peers := []any{}
	for _, p := range st.Peers {
		heard := int64(-1)
		if !p.LastHeard.IsZero() {
			heard = p.LastHeard.UnixMilli()
		}
		peers = append(peers, object{{"id", p.ID}, {"acked_op", p.Acked}, {"lag_ops", lag(st.Op, p.Acked)}, {"last_heard", heard}})
	}
	snapTime := int64(0)
	if !st.LastSnapshotTime.IsZero() {
		snapTime = st.LastSnapshotTime.Unix()
	}
	return object{
		{"server_id", st.ID},
		{"replicas", st.Replicas},
		{"role", st.Role.String()},
		{"state", st.State},
		{"view", st.View},
		{"primary_id", st.Primary},
		{"op_number", st.Op},
		{"commit_number", st.Commit},
		{"last_snapshot_zxid", st.LastSnapshot},
		{"last_snapshot_time", snapTime},
		{"peers", peers},
		{"pid", os.Getpid()},
		{"go_version", runtime.Version()},
		{"hostname", strings.TrimSpace(hostname())},
	}, nil
}

func hostname() string {
	h, _ := os.Hostname()
	return h
}
