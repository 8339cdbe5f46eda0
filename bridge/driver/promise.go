package driver

import (
	"encoding/binary"

	"github.com/vrkeeper/vrkeeper/storage"
)

// A replica promises, for a while after each message of its primary, to
// help form no later view (consensus/lease.go); the length comes from its
// configuration (tickTime, syncLimit). A promise is not durable: a
// restarted replica keeps it by waiting, after it starts, as long as the
// promise its previous incarnation made could last. If the configuration
// changed in between (an operator lowering tickTime and restarting), that
// is longer than the new incarnation's own promise, so the replica state
// keeps the longest promise length any incarnation had, in
// storage.HardState.Extra, and consensus.Boot.Promised hands it to the
// core.

// promiseBytes is the length of the promise record in HardState.Extra.
const promiseBytes = 8

// storedPromise returns the promise length recorded in extra (0: none).
func storedPromise(extra []byte) int64 {
	if len(extra) != promiseBytes {
		return 0
	}
	return int64(binary.BigEndian.Uint64(extra))
}

// keepPromise returns the longest promise length recorded before this
// start, and records own if it is longer: durably before the replica runs
// when there is a replica state (so the record never lags a promise
// made), else in st, which the replica's first state write carries.
func keepPromise(store *storage.Store, hasState bool, st *storage.HardState, own int64) (int64, error) {
	before := storedPromise(st.Extra)
	if own <= before {
		return before, nil
	}
	st.Extra = binary.BigEndian.AppendUint64(nil, uint64(own))
	if hasState {
		if err := store.State.Save(*st); err != nil {
			return 0, errorf("record the promise length: %w", err)
		}
	}
	return before, nil
}
