package frontend

import (
	"strconv"
	"time"

	"github.com/vrkeeper/vrkeeper/bridge"
	"github.com/vrkeeper/vrkeeper/metrics"
)

// scrape sets the gauges that mirror the server's state, before each
// Prometheus scrape. The replica's figures are set even when the apply
// goroutine does not answer (a stuck server still tells its view).
func (s *Server) scrape(m *metrics.Registry) {
	if s.node == nil {
		return
	}
	st, _, ok := s.serverStats()
	rs := s.node.Status()
	if ok {
		for _, g := range []struct {
			name string
			v    float64
		}{
			{metrics.ZnodeCount, float64(st.NodeCount)},
			{metrics.WatchCount, float64(st.Watches.Total)},
			{metrics.EphemeralsCount, float64(st.Ephemerals)},
			{metrics.ApproximateDataSize, float64(st.ApproxData)},
			{metrics.GlobalSessions, float64(st.Sessions)},
			{metrics.LocalSessions, 0},
			{metrics.NumAliveConnections, float64(st.Connections)},
			{metrics.OutstandingRequests, float64(st.Outstanding)},
			{metrics.PacketsReceived, float64(st.Received)},
			{metrics.PacketsSent, float64(st.Sent)},
			{metrics.AvgLatency, st.AvgLatencyMs},
			{metrics.MinLatency, float64(st.MinLatencyMs)},
			{metrics.MaxLatency, float64(st.MaxLatencyMs)},
			{metrics.OpenFileDescriptorCount, float64(st.OpenFDs)},
			{metrics.MaxFileDescriptorCount, float64(st.MaxFDs)},
			{metrics.Uptime, float64(st.Uptime.Milliseconds())},
			{metrics.LeaderUptime, float64(st.LeaderUptime.Milliseconds())},
			{metrics.Learners, float64(st.Learners)},
			{metrics.SyncedFollowers, float64(st.PeersSynced)},
			{metrics.PendingSyncs, float64(st.PendingSyncs)},
			{metrics.VRAppliedZxid, float64(st.Zxid)},
		} {
			m.SetGauge(g.name, g.v)
		}
	}
	data, log := s.dirSizes()
	m.SetGauge(metrics.DataDirSize, float64(data))
	m.SetGauge(metrics.LogDirSize, float64(log))
	setReplicaGauges(m, &rs, s.cfg.PeerTimeout)
	lease := float64(s.node.LeaseRemaining().Milliseconds())
	if rs.Replicas == 1 && rs.Role == bridge.RoleStandalone {
		lease = -1 // a single server's lease never ends
	}
	m.SetGauge(metrics.VRReadLease, lease)
	m.QueueDepth("read_index", s.readIndexQueue())
}

// setReplicaGauges sets the replica's figures.
func setReplicaGauges(m *metrics.Registry, rs *bridge.Status, peerTimeout time.Duration) {
	m.SetGauge(metrics.QuorumSize, float64(rs.Replicas))
	m.SetGauge(metrics.VRView, float64(rs.View))
	state := map[string]float64{"normal": 0, "view-change": 1, "recovering": 2}[rs.State]
	m.SetGauge(metrics.VRStatus, state)
	primary := 0.0
	if rs.Role == bridge.RolePrimary || rs.Role == bridge.RoleStandalone {
		primary = 1
	}
	m.SetGauge(metrics.VRIsPrimary, primary)
	m.SetGauge(metrics.VROpNumber, float64(rs.Op))
	m.SetGauge(metrics.VRCommitNumber, float64(rs.Commit))
	m.SetGauge(metrics.VRLastSnapshot, float64(rs.LastSnapshot))
	now := time.Now()
	unreachable := 0
	for _, p := range rs.Peers {
		if rs.Role == bridge.RolePrimary {
			peer := metrics.Label{Name: "peer", Value: strconv.FormatUint(p.ID, 10)}
			m.SetGauge(metrics.VRBackupLag, float64(lag(rs.Op, p.Acked)), peer)
			if !p.LastHeard.IsZero() {
				m.SetGauge(metrics.VRBackupLastHeard, float64(now.Sub(p.LastHeard).Milliseconds()), peer)
			}
		}
		if rs.ExpectsToHear(p.ID) && (p.LastHeard.IsZero() || now.Sub(p.LastHeard) > peerTimeout) {
			unreachable++
		}
	}
	m.SetGauge(metrics.VRUnreachablePeers, float64(unreachable))
}

// readIndexQueue is how many reads wait for the next read-index round.
func (s *Server) readIndexQueue() int {
	n, _ := inspect(s, func(*bridge.Apply) int { return len(s.core.collecting) })
	return n
}
