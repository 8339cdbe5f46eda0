package leakcheck

import (
	"strings"
	"testing"
)

func parked(stop chan struct{}) { <-stop }

// TestLeakedFindsANewGoroutine: a goroutine started after the snapshot is
// reported while it runs, and not once it ended.
func TestLeakedFindsANewGoroutine(t *testing.T) {
	before := Snapshot()
	stop := make(chan struct{})
	started := make(chan struct{})
	go func() {
		close(started)
		parked(stop)
	}()
	<-started
	leaked := Leaked(before, "github.com/vrkeeper/vrkeeper/internal/leakcheck")
	if len(leaked) != 1 || !strings.Contains(leaked[0], "TestLeakedFindsANewGoroutine") {
		t.Fatalf("leaked: %q", leaked)
	}
	if other := Leaked(before, "example.com/none"); len(other) != 0 {
		t.Fatalf("another package's filter found %q", other)
	}
	close(stop)
	Check(t, before, "github.com/vrkeeper/vrkeeper/internal/leakcheck")
}
