package metrics

import (
	"strconv"
	"time"
)

// This file is the instrumentation API of the replica driver (bridge): one
// call per event, each documented with the metrics it feeds. The scrape
// hook of cmd/vrkeeper sets the state gauges (view, op and commit numbers,
// per-backup lag) from bridge.Node.Status; these calls record what a
// status snapshot cannot show: durations, sizes and counts of events.

// Fsync records one log fsync (group commit) that made entries durable:
// fsynctime, sync_processor_batch_size.
func (r *Registry) Fsync(d time.Duration, entries int) {
	r.ObserveDuration(FsyncTime, d)
	r.Observe(SyncBatchSize, float64(entries))
}

// Prepared records a Prepare of n commands sent by the primary:
// proposal_count, vrkeeper_prepare_batch_ops.
func (r *Registry) Prepared(n int) {
	r.Add(ProposalCount, float64(n))
	r.Observe(VRPrepareBatch, float64(n))
}

// Committed records n commands committed and handed to the apply loop:
// commit_count.
func (r *Registry) Committed(n int) { r.Add(CommitCount, float64(n)) }

// PrepareAcked records a backup's PrepareOk d after the Prepare it
// answers was sent: vrkeeper_prepare_rtt_ms{peer}.
func (r *Registry) PrepareAcked(peer uint64, d time.Duration) {
	r.ObserveDuration(VRPrepareRTT, d, Label{Name: "peer", Value: strconv.FormatUint(peer, 10)})
}

// QuorumAcked records that an op became durable on a quorum d after the
// primary prepared it: quorum_ack_latency.
func (r *Registry) QuorumAcked(d time.Duration) { r.ObserveDuration(QuorumAckLatency, d) }

// ViewChangeStarted records that this replica left normal status for a
// view change: looking_count.
func (r *Registry) ViewChangeStarted() { r.Add(LookingCount, 1) }

// ViewChangeDone records that the replica is normal again in a new view, d
// after it left normal status: election_time, vrkeeper_view_changes.
func (r *Registry) ViewChangeDone(d time.Duration) {
	r.ObserveDuration(ElectionTime, d)
	r.Add(VRViewChanges, 1)
}

// StateTransfer records a state transfer this replica received: n bytes in
// d, with a snapshot or log entries only: snap_count or diff_count,
// vrkeeper_state_transfer_bytes, follower_sync_time.
func (r *Registry) StateTransfer(withSnapshot bool, n int64, d time.Duration) {
	if withSnapshot {
		r.Add(SnapCount, 1)
	} else {
		r.Add(DiffCount, 1)
	}
	r.Add(VRStateTransferBytes, float64(n))
	r.ObserveDuration(FollowerSyncTime, d)
}

// SnapshotWritten records a snapshot made durable, d after it began:
// snapshottime.
func (r *Registry) SnapshotWritten(d time.Duration) { r.ObserveDuration(SnapshotTime, d) }

// Booted records how long loading the snapshot and the log took at
// start: dbinittime.
func (r *Registry) Booted(d time.Duration) { r.ObserveDuration(DBInitTime, d) }

// QueueDepth records how many items wait in a bounded queue (the driver's
// "inbox", "proposals", "apply"; the frontend's "read_index"):
// vrkeeper_queue_depth{queue}.
func (r *Registry) QueueDepth(queue string, n int) {
	r.SetGauge(VRQueueDepth, float64(n), Label{Name: "queue", Value: queue})
}
