package consensus

import (
	"fmt"
	"math/rand/v2"
)

// Logger is the narrow logging interface the core uses; hclog.Logger satisfies
// it. Messages are fixed lower-case strings followed by key/value pairs.
type Logger interface {
	Debug(msg string, args ...any)
	Info(msg string, args ...any)
	Warn(msg string, args ...any)
}

type nopLogger struct{}

func (nopLogger) Debug(string, ...any) {}
func (nopLogger) Info(string, ...any)  {}
func (nopLogger) Warn(string, ...any)  {}

// Config configures a replica. Zero limits take the defaults below.
type Config struct {
	ID       ReplicaID  // this replica
	Replicas int        // group size n = 2f+1 (1, 3, 5, …; at most 63)
	Epoch    uint64     // configuration epoch carried by every message
	Rand     *rand.Rand // seeded source for randomized timeouts and nonces (required)
	Logger   Logger     // optional

	HeartbeatTicks  int // primary sends Commit to an idle backup this often (default 1)
	ViewChangeTicks int // base view-change timeout T; each timeout is drawn from [T, 2T) (default 10)

	MaxBatchOps          int // commands per Prepare (default 512)
	MaxBatchBytes        int // command bytes per Prepare (default 1 MiB)
	MaxUncommittedOps    int // pipeline bound: prepared but uncommitted ops (default 8192)
	MaxInflightBytes     int // pipeline bound per backup: command bytes sent and not acknowledged (default 16 MiB)
	MaxQueuedProposals   int // proposals waiting to be prepared or forwarded (default 8192)
	MaxQueuedBytes       int // bytes of those proposals (default 64 MiB)
	MaxPendingReads      int // reads waiting for confirmation, per replica (default 8192)
	MaxCommittedPerReady int // committed entries handed out per Ready (default 8192)
	MaxStateOps          int // entries per NewState to a replica normal in the view (default 4096)
	// MaxRetainedOps bounds the log kept below the commit-number when a
	// lagging replica holds global_min_accept back: beyond it the log is
	// compacted to the snapshot anyway and that replica catches up by
	// snapshot transfer (default 100000).
	MaxRetainedOps int
	// MaxRetainedBytes bounds the same log in command bytes (default 64
	// MiB): it bounds the memory the log takes and the size of the view
	// change messages that carry it.
	MaxRetainedBytes int
	MaxCommandBytes  int // size of one command (default 1 MiB)
	// MaxPartBytes bounds the entries of one part of a message that carries
	// a log suffix (view change, state transfer, recovery: see parts.go),
	// commands plus 32 bytes per entry; an entry larger than that travels
	// alone (default MaxBatchBytes).
	MaxPartBytes int

	// Read leases (lease.go). LeaseTicks, if not 0, turns them on: a
	// replica promises, for LeaseTicks ticks after each message of its
	// primary, to take no part in forming a later view, and every replica
	// may then serve reads locally while it holds a lease. It must be
	// below ViewChangeTicks (so the promise ends before a timeout starts a
	// view change) and at least 3. LeaseGrantTicks bounds a backup's lease
	// (default LeaseTicks/2, at least 1): it is how long a write may wait
	// for a backup that stopped answering. TickNanos is a tick's length on
	// Clock, which reads a monotonic clock in nanoseconds (one that counts
	// time the machine was suspended); LeaseDriftPPM bounds how far any
	// replica's clock rate may be from true time, in parts per million
	// (default 10000: 1%).
	LeaseTicks      int
	LeaseGrantTicks int
	// NoLeaseReads keeps the promises LeaseTicks sets but neither grants
	// nor holds leases: every read then asks the primary.
	NoLeaseReads  bool
	TickNanos     int64
	LeaseDriftPPM int64
	Clock         func() int64

	// Stamp, if set, is applied by the primary to every command it
	// prepares: the driver binds commands to the primary's clock with it,
	// so that the replicated state knows one clock only. It must be a pure
	// function of the command and the driver's clock, return cmd or a new
	// slice (never modify cmd), and keep the command's size within
	// MaxCommandBytes.
	Stamp func(cmd []byte) []byte
}

func (c *Config) withDefaults() (Config, error) {
	d := *c
	if d.Replicas < 1 || d.Replicas > 63 || d.Replicas%2 == 0 {
		return d, fmt.Errorf("consensus: config: replicas %d must be odd and in [1,63]", d.Replicas)
	}
	if d.ID < 0 || int(d.ID) >= d.Replicas {
		return d, fmt.Errorf("consensus: config: id %d out of range [0,%d)", d.ID, d.Replicas)
	}
	if d.Rand == nil {
		return d, fmt.Errorf("consensus: config: Rand is required")
	}
	if d.Logger == nil {
		d.Logger = nopLogger{}
	}
	def := func(v *int, x int) {
		if *v <= 0 {
			*v = x
		}
	}
	def(&d.HeartbeatTicks, 1)
	def(&d.ViewChangeTicks, 10)
	def(&d.MaxBatchOps, 512)
	def(&d.MaxBatchBytes, 1<<20)
	def(&d.MaxUncommittedOps, 8192)
	def(&d.MaxInflightBytes, 16<<20)
	def(&d.MaxQueuedProposals, 8192)
	def(&d.MaxQueuedBytes, 64<<20)
	def(&d.MaxPendingReads, 8192)
	def(&d.MaxCommittedPerReady, 8192)
	def(&d.MaxCommandBytes, 1<<20)
	def(&d.MaxStateOps, 4096)
	def(&d.MaxRetainedOps, 100000)
	def(&d.MaxRetainedBytes, 64<<20)
	def(&d.MaxPartBytes, d.MaxBatchBytes)
	if d.LeaseTicks > 0 {
		def(&d.LeaseGrantTicks, max(1, d.LeaseTicks/2))
		if d.LeaseDriftPPM <= 0 {
			d.LeaseDriftPPM = 10000
		}
		switch {
		case d.LeaseTicks < 3 || d.LeaseTicks >= d.ViewChangeTicks:
			return d, fmt.Errorf("consensus: config: lease ticks %d must be in [3, view-change ticks %d)", d.LeaseTicks, d.ViewChangeTicks)
		case d.LeaseGrantTicks > d.LeaseTicks:
			return d, fmt.Errorf("consensus: config: lease grant ticks %d exceed lease ticks %d", d.LeaseGrantTicks, d.LeaseTicks)
		case d.TickNanos <= 0 || d.Clock == nil:
			return d, fmt.Errorf("consensus: config: leases need TickNanos and Clock")
		case d.LeaseDriftPPM >= 500000:
			return d, fmt.Errorf("consensus: config: lease drift %d ppm must be below 500000", d.LeaseDriftPPM)
		}
	}
	if d.ViewChangeTicks <= d.HeartbeatTicks {
		return d, fmt.Errorf("consensus: config: view-change ticks %d must exceed heartbeat ticks %d", d.ViewChangeTicks, d.HeartbeatTicks)
	}
	return d, nil
}

// PromiseNanos is how long, at the least, this configuration's promise
// lasts, in nanoseconds of the replica's clock: (LeaseTicks-2) ticks of
// TickNanos (see lease.go); 0 without promises. Replicas report it with
// every acknowledgement, and a primary bounds its lease by the shortest it
// heard, so servers configured with different tickTime or syncLimit stay
// safe; the driver stores the longest a replica ever had (Boot.Promised).
func (c Config) PromiseNanos() int64 {
	if c.LeaseTicks < 3 || c.TickNanos <= 0 {
		return 0
	}
	return int64(c.LeaseTicks-2) * c.TickNanos
}
