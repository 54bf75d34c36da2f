// Package mailtest gives tests a real SMTP server to send to: a Mailpit started
// by scripts/mailpit.sh, and a client for its API to read the mail back.
package mailtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"testing"
	"time"
)

// Environment variables scripts/mailpit.sh exports.
const (
	EnvSMTP    = "MINEWATCH_TEST_SMTP"    // host:port of Mailpit's SMTP listener
	EnvMailpit = "MINEWATCH_TEST_MAILPIT" // base URL of Mailpit's HTTP API
)

// Mailpit is a running Mailpit server.
type Mailpit struct {
	Host string // SMTP host
	Port int    // SMTP port
	API  string // HTTP API base URL
	hc   *http.Client
}

// Start returns the Mailpit named by the environment. Without it the test is
// skipped, except under CI (CI=true), where a missing server is a failure:
// CI must run the tests that need it.
func Start(t testing.TB) *Mailpit {
	t.Helper()
	smtp, api := os.Getenv(EnvSMTP), os.Getenv(EnvMailpit)
	if smtp == "" || api == "" {
		msg := "no Mailpit: run `eval \"$(scripts/mailpit.sh)\"` to start one and export " + EnvSMTP + " and " + EnvMailpit
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + " (CI=true: these tests must run)")
		}
		t.Skip(msg)
	}
	host, portStr, err := net.SplitHostPort(smtp)
	if err != nil {
		t.Fatalf("%s=%q: %v", EnvSMTP, smtp, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		t.Fatalf("%s=%q: bad port", EnvSMTP, smtp)
	}
	return &Mailpit{Host: host, Port: port, API: api, hc: &http.Client{Timeout: 10 * time.Second}}
}

// Address is a mail address as Mailpit reports it.
type Address struct {
	Name    string `json:"Name"`
	Address string `json:"Address"`
}

// Summary is one message in a search result.
type Summary struct {
	ID        string    `json:"ID"`
	MessageID string    `json:"MessageID"`
	From      Address   `json:"From"`
	To        []Address `json:"To"`
	Subject   string    `json:"Subject"`
}

// Message is one message in full.
type Message struct {
	Summary
	Text    string              `json:"Text"`
	HTML    string              `json:"HTML"`
	Headers map[string][]string `json:"-"`
}

// Search returns the messages matching a Mailpit search query (e.g.
// `to:"a@example.org"`), newest first.
func (m *Mailpit) Search(ctx context.Context, query string) ([]Summary, error) {
	var out struct {
		Messages []Summary `json:"messages"`
	}
	if err := m.get(ctx, "/api/v1/search?limit=1000&query="+url.QueryEscape(query), &out); err != nil {
		return nil, err
	}
	return out.Messages, nil
}

// Get returns one message with its bodies and headers.
func (m *Mailpit) Get(ctx context.Context, id string) (Message, error) {
	var msg Message
	if err := m.get(ctx, "/api/v1/message/"+url.PathEscape(id), &msg); err != nil {
		return msg, err
	}
	if err := m.get(ctx, "/api/v1/message/"+url.PathEscape(id)+"/headers", &msg.Headers); err != nil {
		return msg, err
	}
	return msg, nil
}

func (m *Mailpit) get(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.API+path, nil)
	if err != nil {
		return err
	}
	resp, err := m.hc.Do(req)
	if err != nil {
		return fmt.Errorf("mailpit %s: %w", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("mailpit %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("mailpit %s: %w", path, err)
	}
	return nil
}

// Unique returns an address no other test run uses, so tests sharing one
// Mailpit find only their own mail.
func Unique(t testing.TB, local string) string {
	t.Helper()
	return fmt.Sprintf("%s-%d@test.minewatch.example", local, time.Now().UnixNano())
}
