package frontend

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzAdminRequest feeds raw HTTP requests to the AdminServer's handler on
// a live single-node server: whatever the bytes, the answer has a known
// status, a JSON body where it says so, a bounded size, and the server
// goes on answering. Seeds: testdata/fuzz/FuzzAdminRequest.
//
//	go test ./frontend -run XXX -fuzz FuzzAdminRequest -fuzztime 1m
func FuzzAdminRequest(f *testing.F) {
	for _, seed := range []string{
		"GET /commands HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /commands/monitor HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /commands/set_trace_mask?traceMask=12 HTTP/1.1\r\nHost: x\r\n\r\n",
		"POST /commands/stat_reset HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc",
		"GET /commands/watches_by_path?path=%2F HTTP/1.1\r\nHost: x\r\n\r\n",
		"PUT /commands/dump HTTP/1.1\r\nHost: x\r\n\r\n",
	} {
		f.Add([]byte(seed))
	}
	srv, _ := startTestServer(f, nil)
	h := srv.AdminHandler("")
	f.Fuzz(func(t *testing.T, raw []byte) {
		req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
		if err != nil {
			return // not HTTP: net/http refuses it before any handler
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case 200, 400, 404, 405, 413, 414, 503:
		default:
			t.Fatalf("status %d for %q", rec.Code, raw)
		}
		if rec.Body.Len() > 1<<20 {
			t.Fatalf("answer of %d bytes", rec.Body.Len())
		}
		if strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") && !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("invalid JSON for %q: %s", raw, rec.Body.Bytes())
		}
		check := httptest.NewRecorder()
		h.ServeHTTP(check, httptest.NewRequest("GET", "/commands/ruok", nil))
		if check.Code != 200 {
			t.Fatalf("ruok after %q: %d", raw, check.Code)
		}
	})
}
