package bridge

import (
	"context"
	"errors"
	"fmt"
	"github.com/vrkeeper/vrkeeper/consensus"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/vrkeeper/vrkeeper/tree"
)

// Entry is one committed command with its op-number, which is its zxid,
// and the view in which it was prepared.
type Entry struct {
	Zxid int64
	View uint64
	Cmd  []byte
}

// replicator is what the node needs from replication: a way to propose
// commands, a stream of committed ones, and quorum-confirmed read indexes.
type replicator interface {
	// propose hands a command to replication; it may be dropped (no
	// primary, full queue), which the proposer learns from a role change or
	// never seeing it applied. It refuses at once a command over the size
	// limit (ErrTooLarge) or one its full queue has no room for (ErrBusy).
	propose(cmd []byte) error
	// readIndex asks for an op-number such that a read served once it is
	// applied is linearizable; done runs on any goroutine.
	readIndex(done func(index int64, ok bool))
	// batches delivers committed entries in order (and snapshots to
	// install before them).
	batches() <-chan applyBatch
	// roles delivers role changes.
	roles() <-chan Role
	// close stops replication.
	close() error
	// stopped is closed when replication stops by itself (a storage
	// failure); failure then says why.
	stopped() <-chan struct{}
	failure() error
}

// Node is one server's runtime: the apply goroutine owns the tree and
// calls the Handler; replication runs beside it.
type Node struct {
	log     hclog.Logger
	tree    *tree.Tree
	handler Handler
	repl    replicator
	tick    time.Duration

	tasksMu sync.Mutex
	tasks   []Task // submitted work, run on the apply goroutine
	wake    chan struct{}

	vr   *vrReplicator
	opts Options
	// treeMu is held for writing by the apply goroutine while it works, and
	// for reading by readers outside it (readpath.go); appliedNow is the
	// last applied zxid, for them.
	treeMu     sync.RWMutex
	appliedNow atomic.Int64
	barrier    readBarrier
	lease      atomic.Pointer[consensus.Lease] // the replica's read lease (readpath.go)
	serving    chan struct{}                   // closed once the node first has a serving role
	writers    sync.WaitGroup                  // snapshot writer goroutines, joined when Run ends

	// Owned by the apply goroutine.
	apply    Apply
	lastSnap int64 // op of the last snapshot taken
	// bytesSinceSnap counts the command bytes applied since it.
	bytesSinceSnap int64
	appliedView    uint64       // view of the last applied entry (a snapshot's view)
	wasServing     bool         // serving has been closed
	snapping       bool         // a snapshot is being taken or written
	snap           *snapshotJob // the live snapshot the loop feeds, or nil
	out            tree.Output
	waiters        readWaiters
	readTimeout    time.Duration // how long a read waits for its index (expire)
	role           Role
}

// Apply is the handle the apply goroutine gives to handlers and tasks. It is
// valid only on that goroutine.
type Apply struct {
	n       *Node
	applied int64
}

// Tree returns the tree, for reads. Never modify it but through commands.
func (a *Apply) Tree() *tree.Tree { return a.n.tree }

// Applied returns the zxid of the last applied command.
func (a *Apply) Applied() int64 { return a.applied }

// Role returns the server's current role.
func (a *Apply) Role() Role { return a.n.role }

// ReadTimeout is how long a read may wait for its read index before it
// fails (no primary to be had); handshakes waiting for their command use
// it too.
func (a *Apply) ReadTimeout() time.Duration { return a.n.readTimeout }

// Now returns the server's wall clock in ms since the epoch. Commands carry
// it, but the primary stamps its own clock over it when it prepares them.
func (a *Apply) Now() int64 { return a.n.opts.Clock().UnixMilli() }

// Propose hands a command to replication. Its outcome arrives through
// Handler.Applied, or never if it was lost (see Handler.RoleChanged). A
// command refused at once (ErrTooLarge, ErrBusy) never applies.
func (a *Apply) Propose(cmd []byte) error { return a.n.repl.propose(cmd) }

// AfterReadIndex runs fn on the apply goroutine once a quorum-confirmed read
// index has been applied: the state fn sees then reflects every write
// acknowledged before AfterReadIndex was called. If no index can be had
// (no primary), fn runs with ok false. It shares the read barrier's rounds
// (readpath.go).
func (a *Apply) AfterReadIndex(fn func(a *Apply, ok bool)) {
	n := a.n
	n.barrier.join(func(ok bool) {
		n.Submit(func(a *Apply) { fn(a, ok) })
	})
}

// readWaiters are reads waiting for their index to be applied, kept sorted.
type readWaiters struct {
	list []readWaiter
}

type readWaiter struct {
	index int64
	fn    func(*Apply, bool)
	since time.Time
}

func (w *readWaiters) add(index int64, fn func(*Apply, bool)) {
	i := sort.Search(len(w.list), func(i int) bool { return w.list[i].index > index })
	w.list = append(w.list, readWaiter{})
	copy(w.list[i+1:], w.list[i:])
	w.list[i] = readWaiter{index, fn, time.Now()}
}

// expire fails the waiters that waited longer than timeout: an index a
// read lease named may be an op that never commits (its primary died; a
// new view dropped it), and the client must hear of it as it does when no
// read index can be had.
func (w *readWaiters) expire(a *Apply, timeout time.Duration) {
	if len(w.list) == 0 {
		return
	}
	now := time.Now()
	k := 0
	for _, x := range w.list {
		if now.Sub(x.since) > timeout {
			x.fn(a, false)
			continue
		}
		w.list[k] = x
		k++
	}
	clear(w.list[k:])
	w.list = w.list[:k]
}

// releaseReads runs the waiters whose index has been applied.
func (n *Node) releaseReads() {
	k := 0
	for k < len(n.waiters.list) && n.waiters.list[k].index <= n.apply.applied {
		k++
	}
	ready := n.waiters.list[:k]
	for _, w := range ready {
		w.fn(&n.apply, true)
	}
	n.waiters.list = append(n.waiters.list[:0], n.waiters.list[k:]...)
}

// Serving is closed once the node first takes a serving role (standalone,
// primary or backup): before that it answers no client.
func (n *Node) Serving() <-chan struct{} { return n.serving }

// Task is work for the apply goroutine (SubmitTask): a request can be its
// own task, sparing a closure per request.
type Task interface {
	Run(a *Apply)
}

// taskFunc is a function as a Task.
type taskFunc func(*Apply)

func (f taskFunc) Run(a *Apply) { f(a) }

// Submit queues fn to run on the apply goroutine. Tasks submitted together
// run in one batch, in order.
func (n *Node) Submit(fn func(*Apply)) { n.SubmitTask(taskFunc(fn)) }

// SubmitTask queues t to run on the apply goroutine, as Submit.
func (n *Node) SubmitTask(t Task) {
	n.tasksMu.Lock()
	n.tasks = append(n.tasks, t)
	n.tasksMu.Unlock()
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// Run drives the apply goroutine until ctx ends. It holds the tree lock for
// writing while it changes the tree (applies, installs, snapshots: see
// readpath.go); tasks, ticks and role changes only read it.
func (n *Node) Run(ctx context.Context) error {
	ticker := time.NewTicker(n.tick)
	defer ticker.Stop()
	var batch []Task
	for {
		// While a snapshot is under way, each turn may hand its writer the
		// next slice (when the writer has room) and make another: one slice
		// between any two other events.
		var snapOut chan<- snapChunk
		var chunk snapChunk
		if n.snap != nil {
			snapOut, chunk = n.snap.out, n.snap.next
		}
		select {
		case <-ctx.Done():
			n.locked(n.abandonSnapshot)
			n.writers.Wait()
			return n.repl.close()
		case <-n.repl.stopped():
			// Replication stopped on a storage failure (fail-stop): the
			// server must not go on answering from a replica that cannot
			// persist.
			n.locked(n.abandonSnapshot)
			n.writers.Wait()
			return errors.Join(n.repl.failure(), n.repl.close())
		case snapOut <- chunk:
			n.treeMu.Lock()
			if n.snap.handedOver() {
				n.snap = nil
			}
			n.treeMu.Unlock()
		case b := <-n.repl.batches():
			n.treeMu.Lock()
			err := n.applyBatch(b)
			n.treeMu.Unlock()
			if err != nil {
				return err
			}
		case role := <-n.repl.roles():
			n.role = role
			if role != RoleNone && !n.wasServing {
				n.wasServing = true
				close(n.serving)
			}
			n.handler.RoleChanged(&n.apply, role)
		case <-n.wake:
			n.tasksMu.Lock()
			batch, n.tasks = n.tasks, batch[:0]
			n.tasksMu.Unlock()
			for i, t := range batch {
				t.Run(&n.apply)
				batch[i] = nil
			}
		case <-ticker.C:
			n.waiters.expire(&n.apply, n.readTimeout)
			n.handler.Tick(&n.apply)
		}
	}
}

// locked runs fn holding the tree lock for writing.
func (n *Node) locked(fn func()) {
	n.treeMu.Lock()
	defer n.treeMu.Unlock()
	fn()
}

// applyBatch installs a batch's snapshot, if any, and applies its entries.
func (n *Node) applyBatch(b applyBatch) error {
	if b.install {
		if err := n.installSnapshot(b); err != nil {
			return err
		}
	}
	for _, e := range b.entries {
		if err := n.applyEntry(e); err != nil {
			return err
		}
	}
	n.releaseReads()
	n.maybeSnapshot()
	return nil
}

func (n *Node) applyEntry(e Entry) error {
	n.handler.BeforeApply(&n.apply, e.Zxid, e.Cmd)
	if err := n.tree.Apply(e.Zxid, e.Cmd, &n.out); err != nil {
		if !errors.Is(err, tree.ErrBadCommand) {
			// Out of order: the log and the tree disagree; stop rather than
			// diverge.
			return fmt.Errorf("bridge: apply zxid %#x: %w", e.Zxid, err)
		}
		// Every replica consumes a malformed command's zxid the same way.
		n.log.Warn("applied a malformed command", "zxid", e.Zxid, "error", err)
	}
	n.apply.applied = e.Zxid
	n.appliedNow.Store(e.Zxid)
	n.bytesSinceSnap += int64(len(e.Cmd))
	n.appliedView = e.View
	n.handler.Applied(&n.apply, e.Zxid, &n.out)
	return nil
}
