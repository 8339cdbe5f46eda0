// Command zkrecord captures the golden conversations of zkproto's tests:
// it runs real ZooKeeper clients (zkCli.sh, ZooKeeper's Java client,
// go-zookeeper, kazoo, the C client cli_mt) against a real ZooKeeper
// server through the recording proxy of internal/zkrecord, one scenario
// per golden file.
//
// Usage:
//
//	zkrecord -server 127.0.0.1:21820 -out zkproto/testdata/golden [-only name,name] [-keep-going]
//
// Scenarios marked cross-check only (the assumptions scenario: raw frames
// outside the codec's rules, such as a ping answered under another xid) run
// only with -cross-check, which scripts/compare-clients passes; they are not
// zkproto golden files.
//
// With -keep-going a failing scenario (its partial record is kept as
// <name>.golden.failed) does not stop the others; scripts/compare-clients
// records this way against ZooKeeper and vrkeeper and compares the results
// with cmd/zkcompare.
//
// The server must be a fresh ZooKeeper 3.8 with extendedTypesEnabled=true
// (scripts/capture-golden starts one). Every scenario works under its own
// root znode, so scenarios do not disturb each other, but the zxids they
// see depend on the scenarios run before them.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vrkeeper/vrkeeper/internal/zkrecord"
)

func main() {
	server := flag.String("server", "127.0.0.1:21820", "ZooKeeper client address to record against")
	out := flag.String("out", "zkproto/testdata/golden", "folder the golden files are written to")
	only := flag.String("only", "", "comma-separated scenario names to run (default: all)")
	timeout := flag.Duration("timeout", 2*time.Minute, "time limit of one scenario")
	keepGoing := flag.Bool("keep-going", false, "run the other scenarios after one fails (exit status 1 at the end)")
	crossCheck := flag.Bool("cross-check", false, "also run the cross-check-only scenarios (not golden files)")
	flag.Parse()
	if err := run(*server, *out, *only, *timeout, *keepGoing, *crossCheck); err != nil {
		fmt.Fprintln(os.Stderr, "zkrecord:", err)
		os.Exit(1)
	}
}

func run(server, out, only string, timeout time.Duration, keepGoing, crossCheck bool) error {
	version, err := serverVersion(server)
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "zkrecord-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	env := &env{server: server, work: work}
	selected := map[string]bool{}
	for _, n := range strings.Split(only, ",") {
		if n != "" {
			selected[n] = true
		}
	}
	var failed []string
	for _, sc := range scenarios {
		if len(selected) > 0 && !selected[sc.name] || sc.crossCheckOnly && !crossCheck {
			continue
		}
		fmt.Fprintf(os.Stderr, "zkrecord: %s\n", sc.name)
		path := filepath.Join(out, sc.name+".golden")
		os.Remove(path + ".failed") // a stale partial record would be compared
		if err := capture(env, sc, version, path, timeout); err != nil {
			err = fmt.Errorf("scenario %s: %w", sc.name, err)
			if !keepGoing {
				return err
			}
			fmt.Fprintln(os.Stderr, "zkrecord:", err)
			failed = append(failed, sc.name)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("scenarios failed: %s", strings.Join(failed, ", "))
	}
	return nil
}

// env is what scenarios share.
type env struct {
	server    string // the real ZooKeeper
	work      string // scratch folder (compiled Java client)
	javaBuilt bool   // GoldenClient.java is compiled in work/java
}

// scenario is one golden file: a client run against the server through a
// fresh proxy and recorder.
type scenario struct {
	name   string
	client string // which client, for the file's header
	about  string // what the conversation covers, for the file's header
	run    func(ctx context.Context, env *env, p *zkrecord.Proxy, rec *zkrecord.Recorder) error
	// crossCheckOnly scenarios run only with -cross-check: they are not
	// zkproto golden files.
	crossCheckOnly bool
}

// capture runs one scenario and writes its golden file.
func capture(env *env, sc scenario, version, path string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	rec := zkrecord.NewRecorder()
	rec.Comment("vrkeeper golden conversation %q; format: README.md in this folder", sc.name)
	rec.Comment("client: %s", sc.client)
	rec.Comment("server: %s, standalone, extendedTypesEnabled=true", version)
	for _, line := range strings.Split(sc.about, "\n") {
		rec.Comment("covers: %s", line)
	}
	rec.Comment("re-capture: scripts/capture-golden %s", sc.name)
	p, err := zkrecord.Listen("127.0.0.1:0", env.server, rec)
	if err != nil {
		return err
	}
	runErr := sc.run(ctx, env, p, rec)
	if runErr != nil {
		p.Close()
	} else {
		waitProxy(ctx, p)
	}
	if runErr != nil {
		// Keep what was recorded, to see where the client failed.
		if f, err := os.Create(path + ".failed"); err == nil {
			zkrecord.Write(f, rec.Entries())
			f.Close()
		}
		return fmt.Errorf("%w (partial record in %s.failed)", runErr, path)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := zkrecord.Write(f, rec.Entries()); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// waitProxy lets the proxy's connections end by themselves (clients have
// closed their sessions), closing them if that takes longer than ctx.
func waitProxy(ctx context.Context, p *zkrecord.Proxy) {
	done := make(chan struct{})
	go func() { p.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		p.Close()
		<-done
	}
}

// serverVersion asks the server's srvr four-letter word for its version line.
func serverVersion(server string) (string, error) {
	c, err := net.DialTimeout("tcp", server, 5*time.Second)
	if err != nil {
		return "", fmt.Errorf("reach ZooKeeper at %s: %w", server, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte("srvr")); err != nil {
		return "", err
	}
	b, err := io.ReadAll(c)
	if err != nil {
		return "", err
	}
	first, _, _ := strings.Cut(string(b), "\n")
	first = strings.TrimPrefix(first, "Zookeeper version: ")
	first, _, _ = strings.Cut(first, ",")
	return "Apache ZooKeeper " + strings.TrimSpace(first), nil
}
