package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"
)

// statusCommand is `vrkeeper status --servers h:p,...`: one line per
// server, from its mntr answer (srvr where mntr is not allowed).
func statusCommand(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	fs.SetOutput(stdout)
	servers := fs.String("servers", "127.0.0.1:2181", "the servers' client addresses, comma-separated")
	timeout := fs.Duration("timeout", 5*time.Second, "how long to wait for each server")
	if err := fs.Parse(args); err != nil {
		return err
	}
	addrs := splitList(*servers)
	if len(addrs) == 0 {
		return errors.New("status: --servers names no server")
	}
	rows := make([]serverRow, len(addrs))
	var wg sync.WaitGroup
	for i, a := range addrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rows[i] = probe(a, *timeout)
		}()
	}
	wg.Wait()
	var primaryOp uint64
	for _, r := range rows {
		if r.role == "primary" {
			primaryOp = r.op
		}
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVER\tROLE\tVIEW\tOP\tCOMMIT\tLAG\tSESSIONS\tZNODES\tLAST SNAPSHOT")
	bad := 0
	for _, r := range rows {
		if r.err != "" {
			bad++
			fmt.Fprintf(tw, "%s\t%s\t-\t-\t-\t-\t-\t-\t-\n", r.addr, r.err)
			continue
		}
		lag := "-"
		if r.haveVR && primaryOp > 0 {
			lag = strconv.FormatUint(primaryOp-min(primaryOp, r.op), 10)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.addr, r.role, r.vr("view"), r.vrHex("op_number"),
			r.vrHex("commit_number"), lag, r.get("global_sessions"), r.get("znode_count"), r.vrHex("last_snapshot_zxid"))
	}
	tw.Flush()
	if bad > 0 {
		return fmt.Errorf("status: %d of %d servers did not answer as serving", bad, len(rows))
	}
	return nil
}

// serverRow is what status learned of one server.
type serverRow struct {
	addr   string
	role   string
	err    string // why there is nothing to show
	kv     map[string]string
	haveVR bool   // mntr gave vrkeeper's replica figures
	op     uint64 // its op-number
}

func (r *serverRow) get(k string) string {
	if v, ok := r.kv["zk_"+k]; ok {
		return v
	}
	return "-"
}

func (r *serverRow) vr(k string) string { return r.get("vrkeeper_" + k) }

func (r *serverRow) vrHex(k string) string {
	v, err := strconv.ParseUint(r.vr(k), 10, 64)
	if err != nil {
		return "-"
	}
	return fmt.Sprintf("0x%x", v)
}

// roles maps ZooKeeper's mode names to vrkeeper's.
var roles = map[string]string{"leader": "primary", "follower": "backup", "standalone": "standalone"}

// probe asks one server for mntr, or srvr if mntr is not allowed.
func probe(addr string, timeout time.Duration) serverRow {
	row := serverRow{addr: addr}
	text, err := fourLetterWord(addr, "mntr", timeout)
	if err != nil {
		row.err = "unreachable"
		return row
	}
	if strings.Contains(text, "not currently serving") {
		row.err = "not serving"
		return row
	}
	if strings.Contains(text, "not in the whitelist") {
		if text, err = fourLetterWord(addr, "srvr", timeout); err != nil {
			row.err = "unreachable"
			return row
		}
		row.kv = parseSrvr(text)
	} else {
		row.kv = parseMntr(text)
	}
	mode := row.kv["zk_server_state"]
	if mode == "" {
		row.err = "not serving"
		return row
	}
	row.role = roles[mode]
	if row.role == "" {
		row.role = mode
	}
	if v, err := strconv.ParseUint(row.kv["zk_vrkeeper_op_number"], 10, 64); err == nil {
		row.haveVR, row.op = true, v
	}
	return row
}

// parseMntr reads mntr's tab-separated lines.
func parseMntr(text string) map[string]string {
	kv := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "\t"); ok {
			kv[k] = v
		}
	}
	return kv
}

// parseSrvr reads srvr's Mode and Node count into mntr's keys.
func parseSrvr(text string) map[string]string {
	kv := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ": ")
		if !ok {
			continue
		}
		switch k {
		case "Mode":
			kv["zk_server_state"] = v
		case "Node count":
			kv["zk_znode_count"] = v
		}
	}
	return kv
}

// fourLetterWord sends a word and returns the answer.
func fourLetterWord(addr, word string, timeout time.Duration) (string, error) {
	nc, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return "", err
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(timeout))
	if _, err := nc.Write([]byte(word)); err != nil {
		return "", err
	}
	b, err := io.ReadAll(io.LimitReader(nc, 16<<20))
	if err != nil && len(b) == 0 {
		return "", err
	}
	return string(b), nil
}

// metricsCommand is `vrkeeper metrics --server h:p`: the server's mntr
// figures, one per line; with --prometheus, its Prometheus endpoint's text.
func metricsCommand(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("metrics", flag.ContinueOnError)
	fs.SetOutput(stdout)
	server := fs.String("server", "127.0.0.1:2181", "the server's client address")
	prom := fs.String("prometheus", "", "read the Prometheus endpoint at this host:port instead (metricsProvider.httpPort)")
	timeout := fs.Duration("timeout", 5*time.Second, "how long to wait")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *prom != "" {
		c := http.Client{Timeout: *timeout}
		resp, err := c.Get("http://" + *prom + "/metrics")
		if err != nil {
			return fmt.Errorf("metrics: %w", err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("metrics: %s answered %s", *prom, resp.Status)
		}
		_, err = io.Copy(stdout, resp.Body)
		return err
	}
	text, err := fourLetterWord(*server, "mntr", *timeout)
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	if !strings.Contains(text, "\t") {
		return fmt.Errorf("metrics: %s answered %q (is mntr in 4lw.commands.whitelist?)", *server, strings.TrimSpace(text))
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		k, v, _ := strings.Cut(line, "\t")
		fmt.Fprintf(tw, "%s\t%s\n", strings.TrimPrefix(k, "zk_"), v)
	}
	return tw.Flush()
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
