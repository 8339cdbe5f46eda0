package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunFailsOnlyOnADifference compares the checked-in golden files with
// copies of themselves: the same conversations pass; a copy in which one
// reply's error code changed (NODEEXISTS to NONODE) fails, naming it.
func TestRunFailsOnlyOnADifference(t *testing.T) {
	golden := filepath.Join("..", "..", "zkproto", "testdata", "golden")
	src, err := os.ReadFile(filepath.Join(golden, "gozk.golden"))
	if err != nil {
		t.Fatal(err)
	}
	// The reply to Create /gozk again: header xid 10, zxid, then
	// NODEEXISTS (-110, ffffff92).
	const nodeExists = "S1 create#10:NODEEXISTS 0000000a"
	lines := strings.Split(string(src), "\n")
	changed := false
	for i, l := range lines {
		if strings.HasPrefix(l, nodeExists) && strings.HasSuffix(l, "ffffff92") {
			lines[i] = strings.TrimSuffix(l, "ffffff92") + "ffffff9b" // NONODE
			changed = true
		}
	}
	if !changed {
		t.Fatalf("no %q line in gozk.golden", nodeExists)
	}
	for _, tc := range []struct {
		name     string
		content  string
		wantFail bool
	}{
		{"same", string(src), false},
		{"an error code changed", strings.Join(lines, "\n"), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "gozk.golden"), []byte(tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
			var out strings.Builder
			failing, err := run(&out, golden, dir, "gozk", false)
			if err != nil {
				t.Fatal(err)
			}
			if failing != tc.wantFail {
				t.Fatalf("failing %v, want %v:\n%s", failing, tc.wantFail, out.String())
			}
			if tc.wantFail && !strings.Contains(out.String(), "create#10:NONODE") {
				t.Errorf("the report does not name the changed reply:\n%s", out.String())
			}
		})
	}
}
