package integration

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestGoZookeeperSuite runs go-zookeeper's own test suite, unmodified,
// against vrkeeper: its harness starts every test cluster through
// $ZOOKEEPER_BIN_PATH/zkServer.sh start-foreground with SERVER_JVMFLAGS
// (superDigest, extendedTypesEnabled) and kills the script's process to
// stop a server, which bin/zkServer.sh makes vrkeeper's own process. The
// suite is copied out of the module cache (go-zookeeper is a dependency);
// nothing of it is kept in this repository. Its reconfiguration tests skip
// themselves unless ZK_VERSION is set (vrkeeper has no reconfig).
func TestGoZookeeperSuite(t *testing.T) {
	if target != "vrkeeper" {
		return // the harness starts vrkeeper through bin/zkServer.sh
	}
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/go-zookeeper/zk").Output()
	if err != nil {
		t.Fatalf("locate go-zookeeper: %v", err)
	}
	src := strings.TrimSpace(string(out))
	suite := filepath.Join(t.TempDir(), "zk")
	if err := copyTree(src, suite); err != nil {
		t.Fatal(err)
	}
	binDir := t.TempDir()
	script, err := os.ReadFile("../bin/zkServer.sh")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(binDir, "zkServer.sh"), script, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "test", "-count=1", "-timeout", "600s", ".")
	cmd.Dir = suite
	cmd.Env = append(os.Environ(), "ZOOKEEPER_BIN_PATH="+binDir, "VRKEEPER_BIN="+vrkeeperBin, "GOFLAGS=")
	res, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go-zookeeper's suite failed against vrkeeper: %v\n%s", err, tail(res, 16<<10))
	}
	if !strings.Contains(string(res), "ok ") {
		t.Fatalf("go-zookeeper's suite printed no result:\n%s", tail(res, 4<<10))
	}
}

// copyTree copies a directory of regular files, writable.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
}
