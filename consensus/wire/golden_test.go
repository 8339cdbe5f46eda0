package wire

import (
	"bytes"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/messages.golden")

// TestGoldenBytes pins the encoding of every message type: one line per
// sample, its String and its bytes in hex. A change to the peer protocol
// shows here (and must be made compatible, or every server upgraded at
// once); rerun with -update when it is intended.
func TestGoldenBytes(t *testing.T) {
	var b strings.Builder
	for _, m := range wireSamples() {
		frame, err := Encode(nil, m)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s\n  %s\n", m, hex.EncodeToString(frame))
	}
	got := []byte(b.String())
	p := filepath.Join("testdata", "messages.golden")
	if *update {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("the encoding of the replication messages changed (see %s; rerun with -update if intended):\n%s", p, got)
	}
}
