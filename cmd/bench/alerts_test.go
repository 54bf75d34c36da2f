package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minewatch/minewatch/alert"
	"github.com/minewatch/minewatch/config"
	"github.com/minewatch/minewatch/ingest/feed"
)

// TestAlertsSmall runs every case of the alert benchmark tiny: each event
// must reach the signed webhook once (the command fails otherwise) and the
// table must report one row per case with its n.
func TestAlertsSmall(t *testing.T) {
	var out bytes.Buffer
	args := []string{"-events", "6", "-outlets", "2", "-digest-articles", "90", "-digest-runs", "2",
		"-per-host-delay", "-1ns", "-timeout", "20s", "-dir", t.TempDir()}
	if err := benchAlerts(t.Context(), args, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	report := out.String()
	t.Log("\n" + report)
	rowRe := regexp.MustCompile(`(?m)^\| ([^|]+) \| (\d+) \| [^|]+ \| [^|]+ \| [^|]+ \| p99 ≤ 1s \| (met|missed) \|$`)
	rows := map[string]int{}
	for _, m := range rowRe.FindAllStringSubmatch(report, -1) {
		n, _ := strconv.Atoi(m[2])
		rows[m[1]] = n
	}
	tests := []struct {
		row  string
		want int
	}{
		{"fetch → webhook", 6},
		{"WebSub push → webhook", 6},
		{"digest, 90 articles", 2},
	}
	for _, tt := range tests {
		t.Run(tt.row, func(t *testing.T) {
			if got, ok := rows[tt.row]; !ok || got != tt.want {
				t.Errorf("row %q: n = %d (present %v), want %d", tt.row, got, ok, tt.want)
			}
		})
	}
	if !strings.Contains(report, "90 articles folded into 30 stories") {
		t.Errorf("digest note does not show every article folded three to a story:\n%s", report)
	}
}

func TestAlertsRejectsBadFlags(t *testing.T) {
	tests := map[string][]string{
		"too many events": {"-events", "100000"},
		"no outlets":      {"-outlets", "0"},
		"unknown case":    {"-cases", "fetch,pigeon"},
	}
	for name, args := range tests {
		t.Run(name, func(t *testing.T) {
			if err := benchAlerts(t.Context(), args, io.Discard); err == nil {
				t.Errorf("benchAlerts(%v) succeeded", args)
			}
		})
	}
}

// TestAlertEventsDistinct checks the full set the benchmark uses: every
// article gives exactly its own new event with the default rules.
func TestAlertEventsDistinct(t *testing.T) {
	cl, err := farmClassifier(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	evs, err := alertEvents(cl, 200, 20)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, ev := range evs {
		if seen[ev.key] {
			t.Errorf("key %s twice", ev.key)
		}
		seen[ev.key] = true
	}
	if len(seen) != 200 {
		t.Errorf("%d distinct keys, want 200", len(seen))
	}
}

func TestNewsSiteFeed(t *testing.T) {
	cl, err := farmClassifier(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	evs, err := alertEvents(cl, 4, 2)
	if err != nil {
		t.Fatal(err)
	}
	site, err := startNewsSite(t.Context(), evs, 2, "http://127.0.0.1:1/hub")
	if err != nil {
		t.Fatal(err)
	}
	defer site.close()
	get := func(etag string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, site.feedURL(0), nil)
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	first, body := get("")
	f, err := feed.Parse(body, site.feedURL(0))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Items) != 1 || f.Hub != "http://127.0.0.1:1/hub" {
		t.Fatalf("before publishing: %d items, hub %q; want the base item and the hub", len(f.Items), f.Hub)
	}
	if _, ok := site.servedAt(0); ok {
		t.Error("event 0 marked served before it was published")
	}
	if err := site.publish(2); err == nil {
		t.Error("publishing outlet 0's second event before its first succeeded")
	}
	if err := site.publish(0); err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	tests := []struct {
		name   string
		etag   string
		status int
		items  int
	}{
		{"old validator sees the new item", first.Header.Get("ETag"), http.StatusOK, 2},
		{"no validator", "", http.StatusOK, 2},
		{"current validator", `"e0"`, http.StatusNotModified, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := get(tt.etag)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if tt.status != http.StatusOK {
				return
			}
			f, err := feed.Parse(body, site.feedURL(0))
			if err != nil {
				t.Fatal(err)
			}
			if len(f.Items) != tt.items || f.Items[0].Title != evs[0].title {
				t.Errorf("%d items, first %q; want %d, first %q", len(f.Items), f.Items[0].Title, tt.items, evs[0].title)
			}
		})
	}
	if at, ok := site.servedAt(0); !ok || at.Before(before) {
		t.Errorf("event 0 served at %v (%v), want after %v", at, ok, before)
	}
}

func TestWebhookReceiverChecksSignature(t *testing.T) {
	secret := []byte("s3cret")
	rc, err := startReceiver(t.Context(), secret)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.close()
	body := []byte(`{"id":"alert/r/webhook/PL/withdraw_vote/ottawa","event":{"key":"PL/withdraw_vote/ottawa"}}`)
	tests := []struct {
		name, id, sig string
		want          int
	}{
		{"forged signature", "alert/r/webhook/PL/withdraw_vote/ottawa", alert.Sign([]byte("other"), body), http.StatusUnauthorized},
		{"id differs from body", "alert/r/webhook/x", alert.Sign(secret, body), http.StatusBadRequest},
		{"valid", "alert/r/webhook/PL/withdraw_vote/ottawa", alert.Sign(secret, body), http.StatusNoContent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, rc.url, bytes.NewReader(body))
			req.Header.Set("X-Minewatch-Delivery", tt.id)
			req.Header.Set("X-Minewatch-Signature", tt.sig)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if _, err := rc.await(ctx, "alert/r/webhook/PL/withdraw_vote/ottawa", 10*time.Second); err != nil {
		t.Error(err)
	}
	if n := rc.bad.Load(); n != 2 {
		t.Errorf("%d rejected requests, want 2", n)
	}
}
