package frontend

import (
	"bytes"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"
)

// This file is ZooKeeper's AdminServer: HTTP GET (or POST) on
// <commandURL>/<command>[?k=v] answers a JSON object with the command's
// fields, "command" and "error"; <commandURL> alone lists the commands.
// As in ZooKeeper 3.8, the status is 200 for every answer, an unknown
// command included ("error" tells); requests that are not commands at all
// get a 4xx status with a JSON error.

// DefaultCommandURL is admin.commandURL's default.
const DefaultCommandURL = "/commands"

// Bounds on what the AdminServer reads; larger requests are refused
// before any work.
const (
	adminMaxPath     = 256      // bytes of the command part of the path
	adminMaxQuery    = 4 << 10  // bytes of the query string
	adminMaxBody     = 64 << 10 // bytes of a POST body (read and ignored)
	adminMaxInFlight = 8        // requests served at once; more get 503
)

// AdminHandler returns the AdminServer's handler, with the commands under
// commandURL (DefaultCommandURL if empty).
func (s *Server) AdminHandler(commandURL string) http.Handler {
	if commandURL == "" {
		commandURL = DefaultCommandURL
	}
	commandURL = "/" + strings.Trim(commandURL, "/")
	slots := make(chan struct{}, adminMaxInFlight)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case slots <- struct{}{}:
			defer func() { <-slots }()
		default:
			adminError(w, http.StatusServiceUnavailable, "too many admin requests at once")
			return
		}
		s.serveAdmin(w, r, commandURL)
	})
}

// serveAdmin answers one request.
func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request, base string) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, POST, HEAD")
		adminError(w, http.StatusMethodNotAllowed, "method "+clip(r.Method)+" not allowed")
		return
	}
	if r.Body != nil {
		body := http.MaxBytesReader(w, r.Body, adminMaxBody)
		if _, err := io.Copy(io.Discard, body); err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				adminError(w, http.StatusRequestEntityTooLarge, "request body too large")
			} else {
				adminError(w, http.StatusBadRequest, "reading the request body: "+clip(err.Error()))
			}
			return
		}
	}
	path := r.URL.Path
	if path != base && !strings.HasPrefix(path, base+"/") {
		adminError(w, http.StatusNotFound, "no such page: the commands are under "+base)
		return
	}
	name := strings.TrimPrefix(strings.TrimPrefix(path, base), "/")
	if name == "" {
		s.listCommands(w, base)
		return
	}
	if len(name) > adminMaxPath || len(r.URL.RawQuery) > adminMaxQuery {
		adminError(w, http.StatusRequestURITooLong, "request too long")
		return
	}
	args, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		adminError(w, http.StatusBadRequest, "malformed query: "+clip(err.Error()))
		return
	}
	cmd := lookupCommand(name)
	var out object
	if cmd == nil {
		out.set("command", clip(name))
		out.set("error", "Unknown command: "+clip(name))
	} else {
		out = s.runCommand(cmd, args)
	}
	var b bytes.Buffer
	writeJSON(&b, out, 0)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(b.Bytes())
}

// runCommand runs cmd and completes its answer with "command" and "error"
// as ZooKeeper does: after the fields, or alone with the error.
func (s *Server) runCommand(cmd *adminCommand, args url.Values) object {
	var out object
	var errText string
	switch {
	case cmd.serving && !s.serving():
		errText = "This ZooKeeper instance is not currently serving requests"
	default:
		fields, err := cmd.run(s, args)
		if err != nil {
			errText = err.Error()
		} else {
			out = fields
		}
	}
	if errText != "" {
		return object{{"error", errText}, {"command", cmd.names[0]}}
	}
	out.set("command", cmd.names[0])
	out.set("error", nil)
	return out
}

// listCommands writes the command list page, as ZooKeeper's: one link per
// command (its primary name).
func (s *Server) listCommands(w http.ResponseWriter, base string) {
	var b bytes.Buffer
	for _, c := range adminCommands {
		name := html.EscapeString(c.names[0])
		fmt.Fprintf(&b, "<a href=\"%s/%s\">%s</a>\n<br/>\n", html.EscapeString(base), name, name)
	}
	w.Header().Set("Content-Type", "text/html")
	w.Write(b.Bytes())
}

// adminError answers a request that is not a command with a JSON error.
func adminError(w http.ResponseWriter, status int, msg string) {
	var b bytes.Buffer
	writeJSON(&b, object{{"error", msg}}, 0)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

// clip shortens text from a request for echoing it back: at most 64 bytes
// of valid UTF-8.
func clip(s string) string {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return strings.ToValidUTF8(s, string(utf8.RuneError))
}
