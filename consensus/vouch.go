package consensus

import "fmt"

// The durability rule: no message that vouches for durable state leaves
// before that state is durable. A message vouches when its receiver acts on
// it as a promise that survives the sender's crash:
//
//   - PrepareOk and CommitOk: "I am normal in View and my log up to Op is
//     the primary's": the primary counts them towards commitment, so View
//     as last-normal-view and the log up to Op must be durable.
//   - StartViewChange and DoViewChange: "I will take part in nothing below
//     View": the view must be durable (a DoViewChange carries its log, so
//     its entries need not be).
//   - StartView: "this log is the log of View": the primary must have been
//     durably normal in View with it. The log travels in the message, so a
//     StartView that leaves after its sender moved on (it answered a
//     lagging replica in the batch that took it to a later view) is still
//     true: last-normal-view at least View suffices then.
//   - RecoveryResponse: the responder's view must be durable, and a
//     primary's log up to Op as the log of View (as for StartView).
//
// Prepare, Commit, NewState, Forward and the read-index messages vouch for
// nothing of their sender's durable state (a backup persists what a
// Prepare or NewState carries before it acknowledges it; a primary that
// loses an entry it sent never leads that view again).
//
// The core queues a message with send (it leaves at once, before the
// Ready's persistence) only if its claim is already durable, and with
// sendAfterPersist otherwise. Both paths are checked: send panics on a
// message whose claim is not durable yet, and Advance checks every message
// that left after persistence against the state just made durable.

// vouchError returns why m claims more than the durable state holds, or
// nil. hard is the durable replica state, stable the last op of the durable
// log.
func vouchError(m Message, hard HardState, stable uint64) error {
	normalDurably := func(v, op uint64) error {
		if hard.View != v || hard.LastNormalView != v {
			return fmt.Errorf("%s: durable view %d, last-normal-view %d", m, hard.View, hard.LastNormalView)
		}
		if op > stable {
			return fmt.Errorf("%s: durable log ends at op %d", m, stable)
		}
		return nil
	}
	switch m := m.(type) {
	case *PrepareOk:
		return normalDurably(m.View, m.Op)
	case *CommitOk:
		return normalDurably(m.View, m.Op)
	case *StartView:
		return logOfView(m, m.View, m.Op, hard, stable)
	case *StartViewChange, *DoViewChange:
		if v := m.header().View; hard.View < v {
			return fmt.Errorf("%s: durable view %d", m, hard.View)
		}
	case *RecoveryResponse:
		if hard.View < m.View {
			return fmt.Errorf("%s: durable view %d", m, hard.View)
		}
		if m.Primary {
			return logOfView(m, m.View, m.Op, hard, stable)
		}
	}
	return nil
}

// logOfView checks a message that carries the log of view v up to op: its
// sender must have been durably normal in v with that log (it may have moved
// on since; the log travels in the message).
func logOfView(m Message, v, op uint64, hard HardState, stable uint64) error {
	switch {
	case hard.LastNormalView < v:
		return fmt.Errorf("%s: durable last-normal-view %d", m, hard.LastNormalView)
	case hard.LastNormalView == v && op > stable:
		return fmt.Errorf("%s: durable log ends at op %d", m, stable)
	}
	return nil
}

// checkVouch panics if m vouches for state that is not durable.
func checkVouch(m Message, hard HardState, stable uint64) {
	if err := vouchError(m, hard, stable); err != nil {
		panic("consensus: invariant durable-before-vouch: " + err.Error())
	}
}
