package frontend

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/vrkeeper/vrkeeper/bridge"
)

// This file renders the four-letter words in ZooKeeper 3.8's formats, which
// monitoring scripts and client libraries parse (go-zookeeper's FLWSrvr and
// FLWCons use strict regular expressions).

// ZooKeeperVersion is the version vrkeeper reports in srvr, stat, mntr and
// envi: the ZooKeeper release whose protocol it serves, tagged with its own
// name. It must match [A-Za-z0-9.-]+ for go-zookeeper's parser.
const ZooKeeperVersion = "3.8.0-vrkeeper"

// BuildDate is the "built on" date of srvr. It is in the format ZooKeeper
// used up to 3.6, which every version of go-zookeeper's srvr parser reads
// (its released version rejects the 3.7+ "2006-01-02" form).
const BuildDate = "11/25/2026 00:00 GMT"

// ServerStats is what srvr, stat and mntr report about the server.
type ServerStats struct {
	Mode          string // leader, follower or standalone
	Zxid          int64  // last applied zxid
	NodeCount     int
	Received      int64 // packets received from clients since start or srst
	Sent          int64 // packets sent to clients since start or srst
	Connections   int
	Outstanding   int
	MinLatencyMs  int64
	AvgLatencyMs  float64
	MaxLatencyMs  int64
	Read, Update  latencyStats // readlatency and updatelatency
	Watches       WatchSummary
	Ephemerals    int
	Sessions      int
	ApproxData    int64 // bytes of data and names in the tree
	Uptime        time.Duration
	LeaderUptime  time.Duration // primary only
	OpenFDs       int
	MaxFDs        int
	QuorumSize    int // servers in the cluster
	Learners      int // primary only: backups heard from lately
	PeersSynced   int // primary only: of those, the ones keeping up
	PendingSyncs  int // primary only: of those, the ones catching up
	AuthFailed    int64
	ConnRejected  int64
	ConnRequests  int64
	BytesReceived int64
	Replica       bridge.Status // the replica's own figures
}

// ConnStats describes one client connection for stat and cons.
type ConnStats struct {
	Remote      string // ip:port
	Interest    int    // ZooKeeper's selection-key bits; 1 means reading
	Queued      int
	Received    int64
	Sent        int64
	SessionID   int64 // 0 before the handshake
	LastOp      string
	Established time.Time
	TimeoutMs   int32
	LastCxid    int32
	LastZxid    int64
	LastResp    time.Time
	LastLatMs   int64
	MinLatMs    int64
	AvgLatMs    int64
	MaxLatMs    int64
}

// WriteSrvr writes the srvr answer.
func WriteSrvr(w io.Writer, s *ServerStats) {
	fmt.Fprintf(w, "Zookeeper version: %s, built on %s\n", ZooKeeperVersion, BuildDate)
	writeStatsBody(w, s)
}

// writeStatsBody writes the lines srvr and stat share after the version
// (and, for stat, after the client list).
func writeStatsBody(w io.Writer, s *ServerStats) {
	fmt.Fprintf(w, "Latency min/avg/max: %d/%s/%d\n", s.MinLatencyMs, formatAvg(s.AvgLatencyMs), s.MaxLatencyMs)
	fmt.Fprintf(w, "Received: %d\n", s.Received)
	fmt.Fprintf(w, "Sent: %d\n", s.Sent)
	fmt.Fprintf(w, "Connections: %d\n", s.Connections)
	fmt.Fprintf(w, "Outstanding: %d\n", s.Outstanding)
	fmt.Fprintf(w, "Zxid: 0x%x\n", uint64(s.Zxid))
	fmt.Fprintf(w, "Mode: %s\n", s.Mode)
	fmt.Fprintf(w, "Node count: %d\n", s.NodeCount)
}

// formatAvg prints an average as ZooKeeper does: at most four decimals,
// trailing zeros dropped but one kept ("0.0", "1.3", "6.3333").
func formatAvg(v float64) string {
	s := fmt.Sprintf("%.4f", v)
	s = strings.TrimRight(s, "0")
	if strings.HasSuffix(s, ".") {
		s += "0"
	}
	return s
}

// WriteStat writes the stat answer: srvr with the client list.
func WriteStat(w io.Writer, s *ServerStats, conns []ConnStats) {
	fmt.Fprintf(w, "Zookeeper version: %s, built on %s\n", ZooKeeperVersion, BuildDate)
	fmt.Fprintln(w, "Clients:")
	for i := range conns {
		c := &conns[i]
		fmt.Fprintf(w, " /%s[%d](queued=%d,recved=%d,sent=%d)\n", c.Remote, c.Interest, c.Queued, c.Received, c.Sent)
	}
	fmt.Fprintln(w)
	writeStatsBody(w, s)
}

// WriteCons writes the cons answer: one line per connection, with session
// details for connections that have a session.
func WriteCons(w io.Writer, conns []ConnStats) {
	for i := range conns {
		c := &conns[i]
		fmt.Fprintf(w, " /%s[%d](queued=%d,recved=%d,sent=%d", c.Remote, c.Interest, c.Queued, c.Received, c.Sent)
		if c.SessionID != 0 {
			fmt.Fprintf(w, ",sid=0x%x,lop=%s,est=%d,to=%d,lcxid=0x%x,lzxid=0x%x,lresp=%d,llat=%d,minlat=%d,avglat=%d,maxlat=%d",
				uint64(c.SessionID), c.LastOp, c.Established.UnixMilli(), c.TimeoutMs, uint32(c.LastCxid),
				uint64(c.LastZxid), c.LastResp.UnixMilli(), c.LastLatMs, c.MinLatMs, c.AvgLatMs, c.MaxLatMs)
		}
		fmt.Fprintln(w, ")")
	}
	fmt.Fprintln(w)
}

// WriteMntr writes the mntr answer: tab-separated zk_ keys in the order
// ZooKeeper 3.8 prints them, limited to the figures vrkeeper measures
// (none is made up), then the replica's own figures as zk_vrkeeper_ keys.
func WriteMntr(w io.Writer, s *ServerStats) {
	for _, kv := range mntrPairs(s) {
		fmt.Fprintf(w, "zk_%s\t%v\n", kv.key, kv.value)
	}
}

// mntrPair is one mntr line (without the zk_ prefix); the AdminServer's
// monitor command gives the same pairs as JSON.
type mntrPair struct {
	key   string
	value any
}

// mntrPairs lists what mntr and monitor report.
func mntrPairs(s *ServerStats) []mntrPair {
	var out []mntrPair
	kv := func(k string, v any) { out = append(out, mntrPair{k, v}) }
	leader := s.Mode == "leader"
	kv("version", ZooKeeperVersion+", built on "+BuildDate)
	kv("server_state", s.Mode)
	switch s.Mode {
	case "leader":
		kv("peer_state", "leading - broadcast")
	case "follower":
		kv("peer_state", "following - broadcast")
	}
	kv("ephemerals_count", s.Ephemerals)
	kv("num_alive_connections", s.Connections)
	kv("avg_latency", jsonFloat(s.AvgLatencyMs))
	kv("outstanding_requests", s.Outstanding)
	kv("znode_count", s.NodeCount)
	kv("global_sessions", s.Sessions)
	kv("packets_sent", s.Sent)
	kv("packets_received", s.Received)
	if leader {
		kv("synced_followers", s.PeersSynced)
	}
	kv("watch_count", s.Watches.Total)
	if leader {
		kv("synced_non_voting_followers", 0)
		kv("synced_observers", 0)
	}
	kv("auth_failed_count", s.AuthFailed)
	kv("min_latency", s.MinLatencyMs)
	kv("max_file_descriptor_count", s.MaxFDs)
	kv("approximate_data_size", s.ApproxData)
	kv("open_file_descriptor_count", s.OpenFDs)
	if leader {
		kv("pending_syncs", s.PendingSyncs)
		kv("leader_uptime", s.LeaderUptime.Milliseconds())
	}
	kv("local_sessions", 0)
	kv("uptime", s.Uptime.Milliseconds())
	kv("max_latency", s.MaxLatencyMs)
	if leader {
		kv("learners", s.Learners)
	}
	if s.Mode != "standalone" {
		kv("quorum_size", s.QuorumSize)
	}
	kv("connection_rejected", s.ConnRejected)
	kv("connection_request_count", s.ConnRequests)
	kv("bytes_received_count", s.BytesReceived)
	for _, l := range []struct {
		name string
		st   latencyStats
	}{{"updatelatency", s.Update}, {"readlatency", s.Read}} {
		kv("avg_"+l.name, jsonFloat(l.st.avg()))
		kv("min_"+l.name, l.st.min)
		kv("max_"+l.name, l.st.max)
		kv("cnt_"+l.name, l.st.count)
		kv("sum_"+l.name, l.st.sum)
	}
	r := &s.Replica
	if r.Replicas == 0 {
		return out
	}
	kv("vrkeeper_view", r.View)
	kv("vrkeeper_status", r.State)
	kv("vrkeeper_primary_id", r.Primary)
	kv("vrkeeper_op_number", r.Op)
	kv("vrkeeper_commit_number", r.Commit)
	kv("vrkeeper_last_snapshot_zxid", r.LastSnapshot)
	if leader {
		for _, p := range r.Peers {
			kv(fmt.Sprintf("vrkeeper_backup_lag_ops_%d", p.ID), lag(r.Op, p.Acked))
		}
	}
	return out
}

// lag is how far a backup's durable op is behind op.
func lag(op, acked uint64) uint64 {
	if acked >= op {
		return 0
	}
	return op - acked
}

// jsonFloat is a float that prints as ZooKeeper prints its averages in mntr
// ("0.0", "1.3", "6.3333") and is a JSON number in monitor.
type jsonFloat float64

func (f jsonFloat) String() string { return formatAvg(float64(f)) }

// WriteWchs writes the wchs answer.
func WriteWchs(w io.Writer, s WatchSummary) {
	fmt.Fprintf(w, "%d connections watching %d paths\nTotal watches:%d\n", s.Connections, s.Paths, s.Total)
}

// WriteWchc writes the wchc answer: each session and the paths it watches.
// sessionOf maps a watcher (connection) to its session id.
func WriteWchc(w io.Writer, r *Registry, sessionOf func(WatcherID) int64) {
	for _, id := range r.WatcherIDs() {
		fmt.Fprintf(w, "0x%x\n", uint64(sessionOf(id)))
		for _, p := range r.PathsOf(id) {
			fmt.Fprintf(w, "\t%s\n", p)
		}
	}
	fmt.Fprintln(w)
}

// WriteWchp writes the wchp answer: each path and the sessions watching it.
func WriteWchp(w io.Writer, r *Registry, sessionOf func(WatcherID) int64) {
	byPath := r.Watchers()
	paths := make([]string, 0, len(byPath))
	for p := range byPath {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		fmt.Fprintln(w, p)
		for _, id := range byPath[p] {
			fmt.Fprintf(w, "\t0x%x\n", uint64(sessionOf(id)))
		}
	}
	fmt.Fprintln(w)
}

// WriteConf writes the conf answer: k=v lines.
func WriteConf(w io.Writer, kv [][2]string) {
	for _, e := range kv {
		fmt.Fprintf(w, "%s=%s\n", e[0], e[1])
	}
}

// WriteEnvi writes the envi answer.
func WriteEnvi(w io.Writer, kv [][2]string) {
	fmt.Fprintln(w, "Environment:")
	WriteConf(w, kv)
}

// NotWhitelisted is ZooKeeper's answer to a word left out of
// 4lw.commands.whitelist.
func NotWhitelisted(word string) string {
	return word + " is not executed because it is not in the whitelist.\n"
}
