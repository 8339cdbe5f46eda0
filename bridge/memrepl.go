package bridge

import "sync"

// memReplicator is a single-node stand-in for replication: every proposal
// commits at once, in memory, with nothing written to disk. It lets the
// frontend and the tree run end to end until the VR driver replaces it; it
// is never used for a cluster.
type memReplicator struct {
	mu      sync.Mutex
	next    int64
	pending []Entry
	wake    chan struct{}
	out     chan []Entry
	roleCh  chan Role
	stop    chan struct{}
	once    sync.Once
}

func newMemReplicator(lastZxid int64) *memReplicator {
	m := &memReplicator{
		next:   lastZxid,
		wake:   make(chan struct{}, 1),
		out:    make(chan []Entry, 16),
		roleCh: make(chan Role, 1),
		stop:   make(chan struct{}),
	}
	m.roleCh <- RoleStandalone
	go m.run()
	return m
}

func (m *memReplicator) propose(cmd []byte) {
	m.mu.Lock()
	m.next++
	m.pending = append(m.pending, Entry{Zxid: m.next, Cmd: cmd})
	m.mu.Unlock()
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

func (m *memReplicator) readIndex(done func(int64, bool)) {
	m.mu.Lock()
	index := m.next
	m.mu.Unlock()
	done(index, true)
}

func (m *memReplicator) run() {
	for {
		select {
		case <-m.stop:
			return
		case <-m.wake:
		}
		m.mu.Lock()
		batch := m.pending
		m.pending = nil
		m.mu.Unlock()
		if len(batch) == 0 {
			continue
		}
		select {
		case m.out <- batch:
		case <-m.stop:
			return
		}
	}
}

func (m *memReplicator) committed() <-chan []Entry { return m.out }
func (m *memReplicator) roles() <-chan Role        { return m.roleCh }
func (m *memReplicator) close() error {
	m.once.Do(func() { close(m.stop) })
	return nil
}
