package metrics

// Kind is how a metric is exported.
type Kind uint8

// The kinds.
const (
	Gauge   Kind = iota // a value that goes up and down
	Counter             // a total that only grows (reset only by a restart)
	Summary             // observations: quantiles, _sum and _count
)

// Def describes one metric.
type Def struct {
	Name string
	Kind Kind
	Help string
	// ZooKeeper is true when ZooKeeper exports a metric of the same name
	// and meaning.
	ZooKeeper bool
	// Labels names the labels the metric carries, if any.
	Labels []string
}

// The metrics the frontend records or sets from the server's state when
// scraped. Their names and meanings are ZooKeeper's.
const (
	ZnodeCount              = "znode_count"
	WatchCount              = "watch_count"
	EphemeralsCount         = "ephemerals_count"
	ApproximateDataSize     = "approximate_data_size"
	GlobalSessions          = "global_sessions"
	LocalSessions           = "local_sessions"
	NumAliveConnections     = "num_alive_connections"
	OutstandingRequests     = "outstanding_requests"
	PacketsReceived         = "packets_received"
	PacketsSent             = "packets_sent"
	AvgLatency              = "avg_latency"
	MinLatency              = "min_latency"
	MaxLatency              = "max_latency"
	OpenFileDescriptorCount = "open_file_descriptor_count"
	MaxFileDescriptorCount  = "max_file_descriptor_count"
	Uptime                  = "uptime"
	LeaderUptime            = "leader_uptime"
	QuorumSize              = "quorum_size"
	Learners                = "learners"
	SyncedFollowers         = "synced_followers"
	PendingSyncs            = "pending_syncs"
	DataDirSize             = "data_dir_size"
	LogDirSize              = "log_dir_size"
	ReadLatency             = "readlatency"
	UpdateLatency           = "updatelatency"
	ConnectionRequestCount  = "connection_request_count"
	ConnectionRejected      = "connection_rejected"
	BytesReceivedCount      = "bytes_received_count"
	AuthFailedCount         = "auth_failed_count"
)

// The metrics the replica driver records (see Replica in replica.go). Some
// are ZooKeeper's names for the same quantity.
const (
	FsyncTime            = "fsynctime"                 // ms per log fsync
	SyncBatchSize        = "sync_processor_batch_size" // log entries per fsync
	SnapshotTime         = "snapshottime"              // ms to write a snapshot
	DBInitTime           = "dbinittime"                // ms to load the snapshot and log at start
	ElectionTime         = "election_time"             // ms from leaving normal status to normal again
	LookingCount         = "looking_count"             // view changes started
	ProposalCount        = "proposal_count"            // commands prepared by this primary
	CommitCount          = "commit_count"              // commands committed (applied) here
	QuorumAckLatency     = "quorum_ack_latency"        // ms from Prepare to a quorum of PrepareOks
	SnapCount            = "snap_count"                // state transfers that carried a snapshot
	DiffCount            = "diff_count"                // state transfers of log entries only
	FollowerSyncTime     = "follower_sync_time"        // ms a state transfer took (receiver)
	VRView               = "vrkeeper_view"
	VRStatus             = "vrkeeper_status" // 0 normal, 1 view change, 2 recovering
	VRIsPrimary          = "vrkeeper_is_primary"
	VROpNumber           = "vrkeeper_op_number"
	VRCommitNumber       = "vrkeeper_commit_number"
	VRAppliedZxid        = "vrkeeper_applied_zxid"
	VRLastSnapshot       = "vrkeeper_last_snapshot_zxid"
	VRBackupLag          = "vrkeeper_backup_lag_ops"       // {peer}: primary's op-number minus the backup's durable op
	VRBackupLastHeard    = "vrkeeper_backup_last_heard_ms" // {peer}: ms since the backup last answered
	VRPrepareRTT         = "vrkeeper_prepare_rtt_ms"       // {peer}: Prepare to that backup's PrepareOk
	VRPrepareBatch       = "vrkeeper_prepare_batch_ops"    // commands per Prepare
	VRViewChanges        = "vrkeeper_view_changes"         // view changes completed here
	VRStateTransferBytes = "vrkeeper_state_transfer_bytes" // bytes received by state transfer
	VRReadBarrier        = "vrkeeper_read_barrier_ms"      // ms for a quorum-confirmed read index
	VRReadsPerBarrier    = "vrkeeper_reads_per_barrier"    // reads served by one read-index round
	VRQueueDepth         = "vrkeeper_queue_depth"          // {queue}: items waiting in a bounded queue
	VRRequests           = "vrkeeper_requests"             // {op}: requests answered
	VRRequestLatency     = "vrkeeper_request_latency_ms"   // {op}: arrival to reply
	VRUnreachablePeers   = "vrkeeper_unreachable_peers"    // peers not heard from within the failure-detection time
	VRReadLease          = "vrkeeper_read_lease_ms"        // ms left of this server's read lease (0: none; -1: a single server's, for good)
)

// Defs lists every metric vrkeeper exports besides the Go runtime's and
// the process's (go_*, process_*), in the order docs/operations.md gives.
var Defs = []Def{
	{ZnodeCount, Gauge, "znodes in the tree", true, nil},
	{WatchCount, Gauge, "watches registered on this server", true, nil},
	{EphemeralsCount, Gauge, "ephemeral znodes", true, nil},
	{ApproximateDataSize, Gauge, "bytes of znode data and paths", true, nil},
	{GlobalSessions, Gauge, "sessions in the cluster", true, nil},
	{LocalSessions, Gauge, "local sessions (vrkeeper has none: 0)", true, nil},
	{NumAliveConnections, Gauge, "client connections open on this server", true, nil},
	{OutstandingRequests, Gauge, "client requests read and not yet answered", true, nil},
	{PacketsReceived, Gauge, "packets received from clients since start or srst", true, nil},
	{PacketsSent, Gauge, "packets sent to clients since start or srst", true, nil},
	{AvgLatency, Gauge, "average request latency in ms since start or srst", true, nil},
	{MinLatency, Gauge, "smallest request latency in ms since start or srst", true, nil},
	{MaxLatency, Gauge, "largest request latency in ms since start or srst", true, nil},
	{OpenFileDescriptorCount, Gauge, "file descriptors open in the process", true, nil},
	{MaxFileDescriptorCount, Gauge, "the process's file descriptor limit", true, nil},
	{Uptime, Gauge, "ms since the server started", true, nil},
	{LeaderUptime, Gauge, "ms since this server became primary (primary only)", true, nil},
	{QuorumSize, Gauge, "servers in the cluster", true, nil},
	{Learners, Gauge, "backups the primary heard from within the failure-detection time (primary only)", true, nil},
	{SyncedFollowers, Gauge, "of those, the ones whose log reaches the commit-number (primary only)", true, nil},
	{PendingSyncs, Gauge, "of those, the ones still catching up (primary only)", true, nil},
	{DataDirSize, Gauge, "bytes in the data directory", true, nil},
	{LogDirSize, Gauge, "bytes in the log directory", true, nil},
	{ReadLatency, Summary, "ms from arrival to reply of reads", true, nil},
	{UpdateLatency, Summary, "ms from arrival to reply of writes", true, nil},
	{ConnectionRequestCount, Counter, "client connections accepted", true, nil},
	{ConnectionRejected, Counter, "client connections refused (maxClientCnxns)", true, nil},
	{BytesReceivedCount, Counter, "bytes of client requests received", true, nil},
	{AuthFailedCount, Counter, "failed authentications", true, nil},
	{FsyncTime, Summary, "ms per log fsync", true, nil},
	{SyncBatchSize, Summary, "log entries made durable per fsync", true, nil},
	{SnapshotTime, Summary, "ms to write a snapshot", true, nil},
	{DBInitTime, Summary, "ms to load the snapshot and log at start", true, nil},
	{ElectionTime, Summary, "ms from leaving normal status until normal again (a view change)", true, nil},
	{LookingCount, Counter, "view changes started here", true, nil},
	{ProposalCount, Counter, "commands this server prepared as primary", true, nil},
	{CommitCount, Counter, "commands committed here", true, nil},
	{QuorumAckLatency, Summary, "ms from a Prepare until a quorum made it durable (primary)", true, nil},
	{SnapCount, Counter, "state transfers that carried a snapshot", true, nil},
	{DiffCount, Counter, "state transfers of log entries only", true, nil},
	{FollowerSyncTime, Summary, "ms a state transfer took (receiver)", true, nil},
	{VRView, Gauge, "the replica's view number", false, nil},
	{VRStatus, Gauge, "0 normal, 1 view change, 2 recovering", false, nil},
	{VRIsPrimary, Gauge, "1 on the primary of a normal view", false, nil},
	{VROpNumber, Gauge, "the replica's op-number (last op in its log)", false, nil},
	{VRCommitNumber, Gauge, "the replica's commit-number", false, nil},
	{VRAppliedZxid, Gauge, "the last op applied to the tree (the zxid srvr reports)", false, nil},
	{VRLastSnapshot, Gauge, "op of the newest durable snapshot", false, nil},
	{VRBackupLag, Gauge, "primary's op-number minus the backup's durable op (primary only)", false, []string{"peer"}},
	{VRBackupLastHeard, Gauge, "ms since the backup last answered the primary (primary only)", false, []string{"peer"}},
	{VRPrepareRTT, Summary, "ms from a Prepare to that backup's PrepareOk", false, []string{"peer"}},
	{VRPrepareBatch, Summary, "commands per Prepare", false, nil},
	{VRViewChanges, Counter, "view changes completed here", false, nil},
	{VRStateTransferBytes, Counter, "bytes received by state transfer", false, nil},
	{VRReadBarrier, Summary, "ms to obtain a quorum-confirmed read index", false, nil},
	{VRReadsPerBarrier, Summary, "reads served by one read-index round", false, nil},
	{VRQueueDepth, Gauge, "items waiting in a bounded queue", false, []string{"queue"}},
	{VRRequests, Counter, "client requests answered, by opcode", false, []string{"op"}},
	{VRRequestLatency, Summary, "ms from arrival to reply, by opcode", false, []string{"op"}},
	{VRUnreachablePeers, Gauge, "peers not heard from within the failure-detection time", false, nil},
	{VRReadLease, Gauge, "ms left of this server's read lease at the scrape (0: none, reads ask the primary; -1: a single server's, which never ends)", false, nil},
}
