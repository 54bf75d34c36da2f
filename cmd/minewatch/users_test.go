package main

import (
	"bytes"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minewatch/minewatch/config"
	"github.com/minewatch/minewatch/web"
)

// writeConfig writes a config whose index lives in a temp dir and which
// fetches nothing, plus extra YAML.
func writeConfig(t *testing.T, extra string) string {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "minewatch.yaml")
	text := "index: {dir: '" + filepath.Join(dir, "data") + "'}\nsources: []\n" + extra
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRunRefusesBeyondLoopbackWithoutLogin(t *testing.T) {
	tests := []struct {
		name, extra, listen string
		want                []string
	}{
		{"every interface", "", "0.0.0.0:0", []string{"beyond loopback", "web.users", "web.tokens", "hash-password", "127.0.0.1"}},
		{"auth required on loopback", "web: {auth: required}\n", "127.0.0.1:0", []string{`web.auth is "required"`, "web.users"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := writeConfig(t, tt.extra)
			_, _, err := runCLI(t, "", "--config", cfg, "run", "--listen", tt.listen)
			var ue usageError
			if err == nil || !errors.As(err, &ue) || !errors.Is(err, errNoLogin) {
				t.Fatalf("run: %v, want a usage error saying no users are configured", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestWebAuthDecision(t *testing.T) {
	hash, err := web.HashPassword("pw", web.Argon2Params{Memory: 64, Time: 1, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	users := "web:\n  users: [{name: ana, role: admin, password_hash: '" + hash + "'}]\n  tokens: [{name: ci, role: viewer, token_env: CI_TOKEN}]\n"
	tests := []struct {
		name   string
		extra  string
		addr   net.Addr
		env    map[string]string
		logins bool
		errHas string
	}{
		{"loopback v4, auto", users, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}, map[string]string{"CI_TOKEN": "t"}, false, ""},
		{"loopback v6, auto", users, &net.TCPAddr{IP: net.IPv6loopback}, map[string]string{"CI_TOKEN": "t"}, false, ""},
		{"all interfaces", users, &net.TCPAddr{IP: net.IPv4zero}, map[string]string{"CI_TOKEN": "t"}, true, ""},
		{"all interfaces v6", users, &net.TCPAddr{IP: net.IPv6unspecified}, map[string]string{"CI_TOKEN": "t"}, true, ""},
		{"public address", users, &net.TCPAddr{IP: net.IPv4(192, 0, 2, 10)}, map[string]string{"CI_TOKEN": "t"}, true, ""},
		{"token env unset", users, &net.TCPAddr{IP: net.IPv4zero}, nil, false, "CI_TOKEN (token_env) is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Load(writeConfig(t, tt.extra))
			if err != nil {
				t.Fatal(err)
			}
			a := &app{cfg: cfg, getenv: func(k string) string { return tt.env[k] }}
			auth, err := a.webAuth(tt.addr)
			if tt.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errHas) {
					t.Fatalf("err %v, want %q", err, tt.errHas)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (auth != nil) != tt.logins {
				t.Fatalf("logins = %v, want %v", auth != nil, tt.logins)
			}
			if auth != nil && (len(auth.Users) != 1 || len(auth.Tokens) != 1 || auth.Tokens[0].SHA256 != sha(web.HashToken("t"))) {
				t.Fatalf("auth options %+v", auth)
			}
		})
	}
}

func sha(hexHash string) (out [32]byte) {
	b, _ := hex.DecodeString(hexHash)
	copy(out[:], b)
	return out
}

func TestUsersCommands(t *testing.T) {
	out, _, err := runCLI(t, "tr0ub4dor&3\n", "users", "hash-password")
	if err != nil {
		t.Fatal(err)
	}
	h := strings.TrimSpace(out)
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") || web.ParsePasswordHash(h) != nil {
		t.Fatalf("hash-password printed %q", out)
	}
	// The printed hash is accepted by the config as a user's password_hash.
	if _, err := config.Load(writeConfig(t, "web: {users: [{name: ana, role: viewer, password_hash: '"+h+"'}]}\n")); err != nil {
		t.Fatalf("config rejects the hash: %v", err)
	}
	if _, _, err := runCLI(t, "", "users", "hash-password"); err == nil {
		t.Fatal("hash-password with nothing on stdin succeeded")
	}
	out, _, err = runCLI(t, "", "users", "new-token")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Fields(out)
	if len(lines) != 2 || web.HashToken(lines[0]) != lines[1] || len(lines[0]) < 40 {
		t.Fatalf("new-token printed %q", out)
	}
	out, _, err = runCLI(t, lines[0]+"\n", "users", "hash-token")
	if err != nil || strings.TrimSpace(out) != lines[1] {
		t.Fatalf("hash-token: %q %v", out, err)
	}
}

// Every secret the config can hold must come out of `config print
// --effective` as REDACTED, and never reach the log of commands that use
// it: the failed delivery of a test alert to a Slack URL is the classic leak.
func TestSecretsNeverShown(t *testing.T) {
	const (
		slackSecret   = "T0SECRET/B0SECRET/XyZsecretpathtoken"
		teamsSecret   = "webhookb2/teams-secret-path-0123"
		webhookSecret = "hook-secret-path-9876"
		sourceKey     = "src-api-key-5555"
	)
	hash, err := web.HashPassword("pw", web.Argon2Params{Memory: 64, Time: 1, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	tokenHash := web.HashToken("some-token")
	// A server that fails every delivery, and one address nothing listens on.
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "nope", http.StatusInternalServerError)
	}))
	defer failing.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	extra := `web:
  users: [{name: ana, role: admin, password_hash: '` + hash + `'}]
  tokens: [{name: ci, role: admin, token_hash: ` + tokenHash + `}]
alerts:
  - id: leaky
    channels:
      - {kind: slack, url: "http://` + dead + `/services/` + slackSecret + `"}
      - {kind: teams, url: "` + failing.URL + `/` + teamsSecret + `"}
      - {kind: webhook, url: "` + failing.URL + `/` + webhookSecret + `"}
`
	path := writeConfig(t, extra)
	data, _ := os.ReadFile(path)
	data = bytes.Replace(data, []byte("sources: []\n"),
		[]byte("sources: [{id: keyed, url: 'https://api.example.org/news?q=mines&apikey="+sourceKey+"'}]\n"), 1)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	secrets := []string{slackSecret, teamsSecret, webhookSecret, sourceKey, hash, tokenHash}

	printed, _, err := runCLI(t, "", "--config", path, "config", "print", "--effective")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"password_hash: REDACTED", "token_hash: REDACTED", "/REDACTED", "apikey=REDACTED", "q=mines"} {
		if !strings.Contains(printed, want) {
			t.Errorf("config print --effective lacks %q:\n%s", want, printed)
		}
	}
	// What is printed must still load as a config.
	if _, err := config.Parse("printed.yaml", []byte(strings.ReplaceAll(printed, "REDACTED", "x"))); err != nil &&
		!strings.Contains(err.Error(), "password_hash") && !strings.Contains(err.Error(), "token_hash") {
		t.Errorf("printed config does not parse: %v", err)
	}

	stdout, stderr, err := runCLI(t, "", "--config", path, "--log-level", "debug", "alerts", "test", "leaky")
	if err == nil {
		t.Fatalf("alerts test against failing servers succeeded:\n%s", stdout)
	}
	all := printed + stdout + stderr + err.Error()
	for _, s := range secrets {
		if strings.Contains(all, s) {
			t.Errorf("secret %q shown in output or log", s)
		}
	}
	t.Logf("alerts test output:\n%s", stdout)
	if !strings.Contains(stdout, "FAILED") {
		t.Errorf("alerts test does not report the failures:\n%s", stdout)
	}
}
