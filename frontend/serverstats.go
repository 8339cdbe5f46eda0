package frontend

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/vrkeeper/vrkeeper/bridge"
)

// syncedLagOps is how far behind the commit-number a backup's durable log
// may be for the primary to count it among zk_synced_followers; a backup
// further behind is catching up (zk_pending_syncs). It is the default
// bound of the primary's pipeline of uncommitted ops, so a backup that
// keeps up under full load stays synced.
const syncedLagOps = 8192

// serverStats gathers what srvr, stat, mntr and the AdminServer report:
// the core's figures (read on the apply goroutine), the connections, the
// replica's status and the process's. It fails if the apply goroutine does
// not answer in time.
func (s *Server) serverStats() (*ServerStats, []ConnStats, bool) {
	conns := s.connStats()
	cs, ok := inspect(s, s.core.coreStats)
	if !ok {
		return nil, nil, false
	}
	all, read, update := s.stats.latencies()
	st := &ServerStats{
		Mode:          cs.mode,
		Zxid:          cs.zxid,
		NodeCount:     int(cs.tree.znodes),
		Ephemerals:    int(cs.tree.ephemerals),
		ApproxData:    cs.tree.dataSize,
		Sessions:      cs.sessions,
		Watches:       cs.watches,
		Connections:   len(conns),
		Received:      s.stats.received.Load(),
		Sent:          s.stats.sent.Load(),
		MinLatencyMs:  all.min,
		AvgLatencyMs:  all.avg(),
		MaxLatencyMs:  all.max,
		Read:          read,
		Update:        update,
		Uptime:        time.Since(s.start),
		LeaderUptime:  cs.leaderUptime,
		AuthFailed:    s.stats.authFailed.Load(),
		ConnRejected:  s.stats.connRejected.Load(),
		ConnRequests:  s.stats.connRequests.Load(),
		BytesReceived: s.stats.bytesReceived.Load(),
	}
	for _, c := range conns {
		st.Outstanding += c.Queued
	}
	st.OpenFDs, st.MaxFDs = fileDescriptors()
	st.Replica = s.node.Status()
	st.QuorumSize = st.Replica.Replicas
	if st.Replica.Role == bridge.RolePrimary {
		st.Learners, st.PeersSynced, st.PendingSyncs = s.learners(&st.Replica)
	}
	return st, conns, true
}

// learners counts, on the primary, the backups heard from within the
// failure-detection time, and of those the ones synced and catching up.
func (s *Server) learners(st *bridge.Status) (learners, synced, pending int) {
	now := time.Now()
	for _, p := range st.Peers {
		if p.LastHeard.IsZero() || now.Sub(p.LastHeard) > s.cfg.PeerTimeout {
			continue
		}
		learners++
		if p.Acked+syncedLagOps >= st.Commit {
			synced++
		} else {
			pending++
		}
	}
	return learners, synced, pending
}

// fileDescriptors returns the process's open descriptors and its limit
// (-1 where the system does not tell).
func fileDescriptors() (open, limit int) {
	open, limit = -1, -1
	if entries, err := os.ReadDir("/proc/self/fd"); err == nil {
		open = len(entries)
	}
	var rl syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) == nil {
		limit = int(min(rl.Cur, 1<<31-1))
	}
	return open, limit
}

// dirSizes returns the bytes in the data and log directories, as dirs
// reports them.
func (s *Server) dirSizes() (data, log int64) {
	data = dirSize(s.cfg.DataDir)
	if s.cfg.DataLogDir == "" || s.cfg.DataLogDir == s.cfg.DataDir {
		return data, data
	}
	return data, dirSize(s.cfg.DataLogDir)
}

// dirSize adds up the sizes of the regular files under dir.
func dirSize(dir string) int64 {
	if dir == "" {
		return 0
	}
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}
