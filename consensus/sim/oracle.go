package sim

import (
	"fmt"

	"github.com/vrkeeper/vrkeeper/bridge/driver"
	"github.com/vrkeeper/vrkeeper/bridge/transfer"
	"github.com/vrkeeper/vrkeeper/consensus"
	"github.com/vrkeeper/vrkeeper/consensus/wire"
)

// vouchOracle checks, as a message leaves a node, that what it vouches for
// is durable on that node's storage: the replica state the driver saved and
// the entries its log made durable, read from storage, not from the core's
// own bookkeeping. It is the durability rule (consensus/vouch.go) checked
// from outside, so a core or driver that sends an acknowledgement before
// the state it stands for is durable fails the seed where it happens, not
// only in the rare runs where a later crash turns it into a lost write.
func (n *node) vouchOracle(to int, frame []byte) {
	if transfer.IsFrame(frame) {
		return
	}
	_, m, err := driver.DecodeFrame(frame)
	if err != nil {
		n.w.fail("n%d: undecodable message to n%d: %v", n.id, to, err)
		return
	}
	st := n.d.SavedState()
	durable := func(op uint64) bool {
		if op <= n.info().LogStart {
			return true // covered by a durable snapshot
		}
		dv, ok := n.store.WAL.DurableView(op)
		mv, ok2 := n.d.Replica().EntryView(op)
		return ok && ok2 && dv == mv
	}
	normalIn := func(v, op uint64) error {
		if st.View != v || st.LastNormalView != v {
			return fmt.Errorf("durable view %d, last-normal-view %d", st.View, st.LastNormalView)
		}
		if op > 0 && !durable(op) {
			return fmt.Errorf("op %d is not durable with the view it has in memory", op)
		}
		return nil
	}
	var problem error
	switch m := m.(type) {
	case *consensus.PrepareOk:
		problem = normalIn(m.View, m.Op)
		n.leaseOracle(m.LeaseReq, m.Op)
	case *consensus.CommitOk:
		problem = normalIn(m.View, m.Op)
		n.leaseOracle(m.LeaseReq, m.Op)
	case *consensus.StartViewChange:
		if st.View < m.View {
			problem = fmt.Errorf("durable view %d", st.View)
		}
		n.leaseGivenUp(m)
	case *consensus.DoViewChange:
		if st.View < m.View {
			problem = fmt.Errorf("durable view %d", st.View)
		}
		n.leaseGivenUp(m)
	case *consensus.StartView:
		if st.LastNormalView < m.View {
			problem = fmt.Errorf("durable last-normal-view %d", st.LastNormalView)
		}
	case *consensus.RecoveryResponse:
		if st.View < m.View {
			problem = fmt.Errorf("durable view %d", st.View)
		} else if m.Primary && st.LastNormalView < m.View {
			problem = fmt.Errorf("durable last-normal-view %d", st.LastNormalView)
		}
	}
	if problem != nil {
		n.w.fail("n%d sent %s to n%d before it was durable: %v", n.id, m, to, problem)
	}
	n.sizeOracle(to, frame, m)
}

// sizeOracle checks that every replication message stays within the
// simulator's small bounds: a log suffix travels in parts of at most
// simPartBytes (commands plus 32 bytes per entry; a larger entry alone),
// and no frame exceeds simMaxFrame, which a whole view-change or state
// message of the simulator's logs would.
func (n *node) sizeOracle(to int, frame []byte, m consensus.Message) {
	switch m.(type) {
	case *consensus.DoViewChange, *consensus.StartView, *consensus.NewState, *consensus.RecoveryResponse:
		es := wire.EntriesOf(m)
		size := 0
		for _, e := range es {
			size += len(e.Cmd) + 32
		}
		if len(es) > 1 && size > simPartBytes {
			n.w.fail("n%d sent %s to n%d: a part of %d entries and %d bytes, bound %d", n.id, m, to, len(es), size, simPartBytes)
		}
		if after, op := suffixRange(m); uint64(len(es)) < op-after {
			n.w.parts++
		}
	}
	if len(frame) > simMaxFrame {
		n.w.fail("n%d sent %s to n%d: a frame of %d bytes, bound %d", n.id, m, to, len(frame), simMaxFrame)
	}
}

// suffixRange returns the log suffix a message carries in whole: After..Op.
func suffixRange(m consensus.Message) (after, op uint64) {
	switch m := m.(type) {
	case *consensus.DoViewChange:
		return m.After, m.Op
	case *consensus.StartView:
		return m.After, m.Op
	case *consensus.NewState:
		return m.After, m.Op
	case *consensus.RecoveryResponse:
		return m.After, m.Op
	}
	return 0, 0
}

// leaseOracle checks, as an acknowledgement of op leaves a node that reads
// under leases, that the lease the driver published covers op already: the
// acknowledgement may let the primary commit op, and a read this node
// serves after that must see it (consensus/lease.go, driver.Options.OnLease).
func (n *node) leaseOracle(req, op uint64) {
	if req != 0 && n.lease.Index < op {
		n.w.fail("n%d acknowledged op %d while its published lease index was %d", n.id, op, n.lease.Index)
	}
}

// leaseGivenUp checks that a node announcing a view change has published
// that it holds no lease: the others may form the view at once when every
// replica announced it (consensus/lease.go, promised).
func (n *node) leaseGivenUp(m consensus.Message) {
	if n.lease.End != 0 {
		n.w.fail("n%d sent %s while its published lease ran to %d", n.id, m, n.lease.End)
	}
}
