package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minewatch/minewatch/alert"
	"github.com/minewatch/minewatch/demo"
	"github.com/minewatch/minewatch/index"
	"github.com/minewatch/minewatch/index/disk"
	"github.com/minewatch/minewatch/news"
)

// demoConfig is a config file fetching the demo site at base, alerting
// every event on a signed webhook, its index in dataDir.
func demoConfig(t *testing.T, base, webhook, dataDir string) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, `fetch:
  allow_private: ["127.0.0.0/8"]
  per_host_delay: 1ms
index:
  dir: %q
alerts:
  - id: everything
    channels:
      - kind: webhook
        url: %q
        secret_env: %s
sources:
`, dataDir, webhook, e2eSecretEnv)
	for _, s := range demo.Sources(base) {
		fmt.Fprintf(&b, "  - {id: %s, name: %q, kind: %s, url: %q, language: %s, schedule: %q",
			s.ID, s.Name, s.Kind, s.URL, s.Language, s.Schedule)
		if s.Selectors.Links != "" {
			fmt.Fprintf(&b, ", selectors: {links: %q}", s.Selectors.Links)
		}
		b.WriteString("}\n")
	}
	path := filepath.Join(t.TempDir(), "minewatch.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// runCLIEnv is runCLI with an environment.
func runCLIEnv(t *testing.T, env map[string]string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := newRoot(strings.NewReader(""), &out, &errOut, func(k string) string { return env[k] })
	root.SetArgs(args)
	err := root.ExecuteContext(t.Context())
	if err != nil {
		t.Logf("stderr:\n%s", errOut.String())
	}
	return out.String(), err
}

// outboxOf lists the messages of the index in dataDir, as `alerts list`
// would, with the store closed again before the next command opens it.
func outboxOf(t *testing.T, dataDir string) []news.Message {
	t.Helper()
	st, err := disk.Open(t.Context(), disk.Options{Dir: dataDir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	msgs, err := st.Messages(t.Context(), index.MessageFilter{Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

func eventsOf(ctx context.Context, t *testing.T, dataDir string) []news.Event {
	t.Helper()
	st, err := disk.Open(ctx, disk.Options{Dir: dataDir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	evs, err := st.Events(ctx, index.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// An event first seen by `minewatch fetch` is alerted like one seen by
// `minewatch run`: queued with the event, and delivered by fetch itself
// unless --no-deliver leaves it to run (here, to the next fetch).
func TestFetchAlertsNewEvents(t *testing.T) {
	site := httptest.NewServer(demo.Handler())
	defer site.Close()
	env := map[string]string{e2eSecretEnv: "fetch-secret"}
	tests := []struct {
		name      string
		firstArgs []string
		// deliveredFirst says whether the first fetch sends the alerts.
		deliveredFirst bool
	}{
		{"fetch delivers", nil, true},
		{"no-deliver queues for run", []string{"--no-deliver"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sink, rcv := newWebhookSink(t, env[e2eSecretEnv])
			dataDir := t.TempDir()
			cfg := demoConfig(t, site.URL, rcv.URL, dataDir)

			out, err := runCLIEnv(t, env, append([]string{"--config", cfg, "--log-level", "error", "fetch"}, tc.firstArgs...)...)
			if err != nil {
				t.Fatalf("fetch: %v\n%s", err, out)
			}
			evs := eventsOf(t.Context(), t, dataDir)
			if len(evs) < 5 {
				t.Fatalf("the demo gave %d events, want ≥ 5", len(evs))
			}
			msgs := outboxOf(t, dataDir)
			if len(msgs) != len(evs) {
				t.Errorf("%d outbox messages for %d events, want one each", len(msgs), len(evs))
			}
			wantState := news.MessagePending
			if tc.deliveredFirst {
				wantState = news.MessageDelivered
			}
			for _, m := range msgs {
				if m.State != wantState {
					t.Errorf("after the first fetch, %s is %s (%s), want %s", m.ID, m.State, m.LastError, wantState)
				}
			}
			if _, n := sink.counts(); tc.deliveredFirst != (n > 0) {
				t.Errorf("first fetch: %d webhook deliveries; delivering = %v", n, tc.deliveredFirst)
			}
			if !strings.Contains(out, "Alerts: ") {
				t.Errorf("the summary says nothing about alerts:\n%s", out)
			}

			// A second fetch finds nothing new and sends what is still due.
			if out, err := runCLIEnv(t, env, "--config", cfg, "--log-level", "error", "fetch"); err != nil {
				t.Fatalf("second fetch: %v\n%s", err, out)
			}
			got, raw := sink.counts()
			for _, ev := range evs {
				if id := alert.MessageID("everything", "webhook", ev.Key); got[id] != 1 {
					t.Errorf("event %s: %d deliveries, want 1", ev.Key, got[id])
				}
			}
			if raw != len(evs) {
				t.Errorf("%d webhook deliveries for %d events, want one each", raw, len(evs))
			}
			for _, m := range outboxOf(t, dataDir) {
				if m.State != news.MessageDelivered {
					t.Errorf("after the second fetch, %s is %s, want delivered", m.ID, m.State)
				}
			}
		})
	}
}
