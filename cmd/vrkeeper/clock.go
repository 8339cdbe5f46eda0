package main

import (
	"fmt"
	"os"
	"time"
)

// clockSkewEnv skews the server's wall clock, for tests of what one server
// with a wrong clock can do to a cluster (a duration: "48h", "-5m").
const clockSkewEnv = "VRKEEPER_TEST_CLOCK_SKEW"

// serverClock returns the server's clock: time.Now, skewed if the
// environment asks for it.
func serverClock() (func() time.Time, error) {
	v := os.Getenv(clockSkewEnv)
	if v == "" {
		return time.Now, nil
	}
	skew, err := time.ParseDuration(v)
	if err != nil {
		return nil, fmt.Errorf("%s=%q: %w", clockSkewEnv, v, err)
	}
	return func() time.Time { return time.Now().Add(skew) }, nil
}
