package main

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minewatch/minewatch/web"
)

// A source whose URL carries an API key shows it nowhere: not in the
// /sources page, the JSON API, `minewatch sources`, the fetch summary or the
// log lines of fetch, ingest and the monitor, although the source fails
// and its error quotes the URL.
func TestSourceKeysNeverLeaveTheProcess(t *testing.T) {
	const key = "k3y-ab12cd34ef56"
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "bad gateway", http.StatusBadGateway)
	}))
	defer upstream.Close()
	dataDir := t.TempDir()
	cfgPath := filepath.Join(t.TempDir(), "minewatch.yaml")
	cfgText := fmt.Sprintf(`fetch:
  allow_private: ["127.0.0.0/8"]
  retries: 0
index:
  dir: %q
sources:
  - {id: keyed, name: Keyed API, url: %q, language: en, schedule: "@every 1h"}
`, dataDir, upstream.URL+"/v2/everything?q=landmine&apiKey="+key)
	if err := os.WriteFile(cfgPath, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	noLeak := func(t *testing.T, where, s string) {
		t.Helper()
		if strings.Contains(s, key) {
			t.Errorf("the key leaked in %s:\n%s", where, s)
		}
		if !strings.Contains(s, "REDACTED") {
			t.Errorf("%s does not show the source's URL redacted:\n%s", where, s)
		}
	}

	run := func(args ...string) (string, string) {
		var out, errOut bytes.Buffer
		root := newRoot(strings.NewReader(""), &out, &errOut, func(string) string { return "" })
		root.SetArgs(append([]string{"--config", cfgPath, "--log-level", "debug"}, args...))
		err := root.ExecuteContext(t.Context())
		if err != nil && !strings.Contains(err.Error(), "sources failed") {
			t.Fatalf("%v: %v\n%s", args, err, errOut.String())
		}
		return out.String(), errOut.String()
	}
	for _, format := range []string{"text", "json"} {
		t.Run("fetch logs "+format, func(t *testing.T) {
			out, logs := run("--log-format", format, "fetch")
			noLeak(t, "the fetch summary", out)
			noLeak(t, "the "+format+" logs", logs)
		})
	}
	t.Run("sources command", func(t *testing.T) {
		out, _ := run("sources")
		noLeak(t, "`minewatch sources`", out)
	})

	cfg, err := (&globals{configPath: cfgPath, getenv: func(string) string { return "" }}).loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	a, err := build(t.Context(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), buildOptions{withMonitor: true})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	srv, err := a.newWebServer(nil, web.AdminOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/sources", "/api/sources"} {
		t.Run(path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
			if rec.Code != http.StatusOK {
				t.Fatalf("GET %s: %d\n%s", path, rec.Code, rec.Body)
			}
			noLeak(t, path, rec.Body.String())
			if !strings.Contains(rec.Body.String(), "502") {
				t.Errorf("%s does not show the source's last error:\n%s", path, rec.Body)
			}
		})
	}
}
