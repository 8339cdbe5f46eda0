// Command zkcompare compares the conversations cmd/zkrecord recorded
// against two servers, scenario by scenario, after normalising what
// legitimately differs (internal/zkcompare; docs/compat.md).
//
// Usage:
//
//	zkcompare [-v] [-only name,name] REFERENCE_DIR COMPARED_DIR
//
// REFERENCE_DIR holds the recordings against Apache ZooKeeper, COMPARED_DIR
// those against vrkeeper (each <scenario>.golden, or <scenario>.golden.failed
// for a client that failed). It prints every difference and exits with
// status 1 if any fails the comparison (timing notes, the children-order
// note and the known differences of docs/compat.md do not), 2 on bad use.
// -v also prints each scenario's normalised frames, for reading by eye.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/vrkeeper/vrkeeper/internal/zkcompare"
)

func main() {
	verbose := flag.Bool("v", false, "print the normalised conversations too")
	only := flag.String("only", "", "comma-separated scenario names (default: every scenario in REFERENCE_DIR)")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: zkcompare [-v] [-only name,name] REFERENCE_DIR COMPARED_DIR")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 2 {
		flag.Usage()
		os.Exit(2)
	}
	failing, err := run(os.Stdout, flag.Arg(0), flag.Arg(1), *only, *verbose)
	if err != nil {
		fmt.Fprintln(os.Stderr, "zkcompare:", err)
		os.Exit(2)
	}
	if failing {
		os.Exit(1)
	}
}

// run compares every scenario and reports whether any comparison failed.
func run(w io.Writer, refDir, gotDir, only string, verbose bool) (failing bool, err error) {
	names, err := scenarios(refDir, only)
	if err != nil {
		return false, err
	}
	for _, name := range names {
		ref, err := zkcompare.Load(refDir, name)
		if err != nil {
			return false, err
		}
		got, err := zkcompare.Load(gotDir, name)
		if err != nil {
			return false, err
		}
		if verbose {
			printConversation(w, "reference", ref)
			printConversation(w, "compared", got)
		}
		diffs := zkcompare.Compare(ref, got)
		bad := len(zkcompare.Failing(diffs))
		verdict := "same"
		if bad > 0 {
			verdict = fmt.Sprintf("%d difference(s)", bad)
			failing = true
		}
		if n := len(diffs) - bad; n > 0 {
			verdict += fmt.Sprintf(", %d note(s)", n)
		}
		frames := 0
		for _, c := range got.Conns {
			frames += len(c.Frames)
		}
		fmt.Fprintf(w, "%-14s %s (%d calls, %d connections, %d frames compared)\n", name, verdict, len(got.Steps)-1, len(got.Conns), frames)
		for _, d := range diffs {
			kind := string(d.Kind)
			if d.Known != "" {
				kind += ": " + d.Known
			}
			fmt.Fprintf(w, "  [%s] %s\n", kind, strings.ReplaceAll(d.Text, "\n", "\n  "))
		}
	}
	return failing, nil
}

// scenarios lists the scenario names to compare: -only's, or every
// recording in the reference folder.
func scenarios(dir, only string) ([]string, error) {
	if only != "" {
		return strings.Split(only, ","), nil
	}
	var names []string
	for _, pattern := range []string{"*.golden", "*.golden.failed"} {
		paths, err := filepath.Glob(filepath.Join(dir, pattern))
		if err != nil {
			return nil, err
		}
		for _, p := range paths {
			n := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(p), ".failed"), ".golden")
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no recordings in %s", dir)
	}
	slices.Sort(names)
	return names, nil
}

func printConversation(w io.Writer, which string, c *zkcompare.Conversation) {
	fmt.Fprintf(w, "=== %s %s (failed: %v)\n", which, c.Name, c.Failed)
	for _, conn := range c.Conns {
		for _, f := range conn.Frames {
			fmt.Fprintf(w, "%d:%d [%s] %s\n", conn.Number, f.Line, c.Steps[f.Step].Title, f.Text())
		}
	}
}
