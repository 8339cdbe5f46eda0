package bridge

import (
	"time"

	"golang.org/x/sys/unix"
)

// leaseClock is the clock read leases are measured on (consensus/lease.go):
// monotonic nanoseconds that go on counting while the machine is
// suspended (CLOCK_BOOTTIME), so a server that wakes from a suspend finds
// its lease over instead of believing no time passed. A lease compares
// durations on one server's clock only; offsets between servers do not
// matter, rates must stay within the configured drift.
func leaseClock() int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		// Every Linux since 2.6.39 has it; a failure here would mean a
		// broken system call, and the monotonic clock is the best left.
		return int64(time.Since(processStart))
	}
	return ts.Nano()
}

var processStart = time.Now()
