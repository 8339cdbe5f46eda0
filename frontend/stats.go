package frontend

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/vrkeeper/vrkeeper/metrics"
	"github.com/vrkeeper/vrkeeper/zkproto"
)

// serverStats are the server-wide figures srvr, stat, mntr and the
// AdminServer report: packets and latencies since the start or the last
// srst, and counts of connection and authentication events. It is safe for
// concurrent use; the apply goroutine records replies, readers record
// packets.
type serverStats struct {
	received      atomic.Int64 // packets from clients (handshakes and requests)
	sent          atomic.Int64 // packets to clients (replies and events)
	bytesReceived atomic.Int64
	connRequests  atomic.Int64 // connections accepted
	connRejected  atomic.Int64 // connections refused by maxClientCnxns
	authFailed    atomic.Int64

	mu     sync.Mutex
	all    latencyStats // every answered request: srvr's Latency min/avg/max
	read   latencyStats // readlatency
	update latencyStats // updatelatency
}

// latencyStats accumulates latencies in ms.
type latencyStats struct {
	min, max, sum, count int64
}

func (l *latencyStats) add(ms int64) {
	if l.count == 0 || ms < l.min {
		l.min = ms
	}
	l.max = max(l.max, ms)
	l.sum += ms
	l.count++
}

func (l *latencyStats) avg() float64 {
	if l.count == 0 {
		return 0
	}
	return float64(l.sum) / float64(l.count)
}

// answered records a reply's latency (apply goroutine) and feeds the
// per-opcode metrics.
func (s *serverStats) answered(m *metrics.Registry, op zkproto.OpCode, kind reqKind, lat time.Duration) {
	ms := lat.Milliseconds()
	s.mu.Lock()
	s.all.add(ms)
	switch kind {
	case kindRead, kindSync:
		s.read.add(ms)
	case kindWrite:
		s.update.add(ms)
	}
	s.mu.Unlock()
	if m == nil {
		return
	}
	k := metrics.OtherRequest
	switch kind {
	case kindRead, kindSync:
		k = metrics.ReadRequest
	case kindWrite:
		k = metrics.WriteRequest
	}
	m.Requests().Answered(opName(op), k, lat)
}

// latencies returns copies of the latency accumulators.
func (s *serverStats) latencies() (all, read, update latencyStats) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.all, s.read, s.update
}

// reset is srst: packets and latencies start again, as ZooKeeper's
// ServerStats.reset. Prometheus counters are not reset (they are
// monotonic by definition); the gauges that mirror these figures follow.
func (s *serverStats) reset() {
	s.received.Store(0)
	s.sent.Store(0)
	s.mu.Lock()
	s.all, s.read, s.update = latencyStats{}, latencyStats{}, latencyStats{}
	s.mu.Unlock()
}

// opName is an opcode's lower-case name for metric labels.
func opName(op zkproto.OpCode) string {
	switch op {
	case zkproto.OpCreate, zkproto.OpCreate2:
		return "create"
	case zkproto.OpCreateContainer:
		return "create_container"
	case zkproto.OpCreateTTL:
		return "create_ttl"
	case zkproto.OpDelete:
		return "delete"
	case zkproto.OpExists:
		return "exists"
	case zkproto.OpGetData:
		return "get_data"
	case zkproto.OpSetData:
		return "set_data"
	case zkproto.OpGetACL:
		return "get_acl"
	case zkproto.OpSetACL:
		return "set_acl"
	case zkproto.OpGetChildren, zkproto.OpGetChildren2:
		return "get_children"
	case zkproto.OpGetAllChildrenNumber:
		return "get_all_children_number"
	case zkproto.OpGetEphemerals:
		return "get_ephemerals"
	case zkproto.OpSync:
		return "sync"
	case zkproto.OpPing:
		return "ping"
	case zkproto.OpMulti:
		return "multi"
	case zkproto.OpMultiRead:
		return "multi_read"
	case zkproto.OpCheck:
		return "check"
	case zkproto.OpCloseSession:
		return "close_session"
	case zkproto.OpAuth:
		return "auth"
	case zkproto.OpSetWatches, zkproto.OpSetWatches2:
		return "set_watches"
	case zkproto.OpCheckWatches:
		return "check_watches"
	case zkproto.OpRemoveWatches:
		return "remove_watches"
	case zkproto.OpAddWatch:
		return "add_watch"
	case zkproto.OpWhoAmI:
		return "whoami"
	case zkproto.OpReconfig:
		return "reconfig"
	}
	return "other"
}
