package config

import (
	"strings"
	"testing"
)

const testHash = "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$0zW6Ux8lrD7NJbJ3E2E0lVq3kCkqF3tJ0rmMkzz8z3c"

func TestWebAuthKeys(t *testing.T) {
	good := "web:\n  listen: 0.0.0.0:8080\n  auth: required\n  session_ttl: 2h\n  public_metrics: true\n" +
		"  trusted_proxies: [10.0.0.0/8, 192.0.2.1]\n" +
		"  users:\n    - {name: ana, role: admin, password_hash: '" + testHash + "'}\n" +
		"    - {name: bo.b, role: viewer, password_hash: '$2b$10$abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0'}\n" +
		"  tokens:\n    - {name: ci, role: viewer, token_env: MW_CI}\n" +
		"    - {name: ops, role: admin, token_hash: 'sha256:" + strings.Repeat("AB", 32) + "'}\n"
	c, err := Parse("w.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	w := c.Web
	if w.Auth != AuthRequired || w.SessionTTL.Hours() != 2 || !w.PublicMetrics || len(w.TrustedProxies) != 2 ||
		len(w.Users) != 2 || w.Users[0].Role != RoleAdmin || len(w.Tokens) != 2 ||
		w.Tokens[1].TokenHash != strings.Repeat("ab", 32) || w.Tokens[0].TokenEnv != "MW_CI" {
		t.Fatalf("web = %+v", w)
	}
	d, err := Parse("d.yaml", []byte("web: {listen: ':9000'}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if d.Web.Auth != AuthAuto || d.Web.SessionTTL.Duration != DefaultSessionTTL {
		t.Fatalf("defaults: auth %q, session_ttl %v", d.Web.Auth, d.Web.SessionTTL)
	}

	tests := []struct {
		name, yaml, want string
	}{
		{"bad auth", "web: {auth: off}\n", `unknown auth mode "off"`},
		{"plain password", "web: {users: [{name: a, role: admin, password_hash: hunter2}]}\n", "password_hash: not an argon2id"},
		{"password key", "web: {users: [{name: a, role: admin, password: hunter2}]}\n", "would put a secret in the file"},
		{"token key", "web: {tokens: [{name: a, role: admin, token: abc}]}\n", "would put a secret in the file"},
		{"bad role", "web: {users: [{name: a, role: root, password_hash: '" + testHash + "'}]}\n", `unknown role "root"`},
		{"missing role", "web: {users: [{name: a, password_hash: '" + testHash + "'}]}\n", `missing required key "role"`},
		{"duplicate user", "web: {users: [{name: a, role: admin, password_hash: '" + testHash + "'}, {name: A, role: viewer, password_hash: '" + testHash + "'}]}\n", "duplicate user"},
		{"bad user name", "web: {users: [{name: 'a b', role: admin, password_hash: '" + testHash + "'}]}\n", "bad name"},
		{"token without secret", "web: {tokens: [{name: a, role: admin}]}\n", "needs token_hash"},
		{"token with both", "web: {tokens: [{name: a, role: admin, token_env: X, token_hash: '" + strings.Repeat("a", 64) + "'}]}\n", "not both"},
		{"short token hash", "web: {tokens: [{name: a, role: admin, token_hash: abc}]}\n", "token_hash: not a SHA-256"},
		{"token env holds a value", "web: {tokens: [{name: a, role: admin, token_env: 'mw_secret-token!'}]}\n", "not an environment variable name"},
		{"tiny session", "web: {session_ttl: 5s}\n", "too short"},
		{"bad proxy", "web: {trusted_proxies: [proxy.example.org]}\n", "not an IP address or CIDR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("bad.yaml", []byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the error repeats the password: %v", err)
			}
		})
	}
}

// Each field that can hold a secret, and what config print --effective must
// show instead of it.
func TestRedactedYAML(t *testing.T) {
	const (
		slack   = "https://hooks.slack.com/services/T000/B000/SLACKSECRET"
		teams   = "https://example.webhook.office.com/webhookb2/TEAMSSECRET"
		webhook = "https://hooks.example.org/WEBHOOKSECRET?sig=SIGSECRET"
		source  = "https://api.example.org/v2/news?q=landmines&apiKey=SRCSECRET&token=TOKSECRET"
		tokHash = "abababababababababababababababababababababababababababababababab"
	)
	text := "web:\n  users: [{name: ana, role: admin, password_hash: '" + testHash + "'}]\n" +
		"  tokens: [{name: ci, role: admin, token_hash: " + tokHash + "}, {name: env, role: viewer, token_env: MW_TOKEN}]\n" +
		"mail: {host: smtp.example.org, from: a@example.org, username: mailer, password_env: MW_SMTP}\n" +
		"index: {elasticsearch: {urls: ['https://es.example.org:9200'], username: elastic, password_env: MW_ES}}\n" +
		"alerts:\n  - id: r\n    channels:\n" +
		"      - {kind: slack, url: '" + slack + "'}\n" +
		"      - {kind: teams, url: '" + teams + "'}\n" +
		"      - {kind: webhook, url: '" + webhook + "', secret_env: MW_HOOK}\n" +
		"sources: [{id: s, url: '" + source + "'}]\n"
	c, err := Parse("secret.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.RedactedYAML()
	if err != nil {
		t.Fatal(err)
	}
	got := string(out)
	fields := []struct {
		field, secret, shown string
	}{
		{"web.users[].password_hash", testHash, "password_hash: REDACTED"},
		{"web.tokens[].token_hash", tokHash, "token_hash: REDACTED"},
		{"alerts[].channels[slack].url", "SLACKSECRET", "https://hooks.slack.com/REDACTED"},
		{"alerts[].channels[teams].url", "TEAMSSECRET", "https://example.webhook.office.com/REDACTED"},
		{"alerts[].channels[webhook].url", "WEBHOOKSECRET", "https://hooks.example.org/REDACTED"},
		{"alerts[].channels[webhook].url query", "SIGSECRET", "https://hooks.example.org/REDACTED"},
		{"sources[].url apiKey", "SRCSECRET", "apiKey=REDACTED"},
		{"sources[].url token", "TOKSECRET", "token=REDACTED"},
	}
	for _, f := range fields {
		if strings.Contains(got, f.secret) {
			t.Errorf("%s: the secret is printed", f.field)
		}
		if !strings.Contains(got, f.shown) {
			t.Errorf("%s: output lacks %q", f.field, f.shown)
		}
	}
	// Names of environment variables are not secrets, and the operator
	// needs them; the rest of the URL stays for telling sources apart.
	for _, keep := range []string{"token_env: MW_TOKEN", "password_env: MW_SMTP", "password_env: MW_ES", "secret_env: MW_HOOK",
		"q=landmines", "https://es.example.org:9200"} {
		if !strings.Contains(got, keep) {
			t.Errorf("output lacks %q", keep)
		}
	}
	// With the placeholders replaced, the output is a config again.
	back, err := Parse("back.yaml", []byte(strings.NewReplacer("password_hash: REDACTED", "password_hash: '"+testHash+"'",
		"token_hash: REDACTED", "token_hash: "+tokHash).Replace(got)))
	if err != nil {
		t.Fatalf("redacted output does not parse:\n%v\n%s", err, got)
	}
	if len(back.Alerts) != 1 || len(back.Web.Users) != 1 || len(back.Topics) != len(c.Topics) {
		t.Errorf("round trip lost sections")
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://example.org/rss", "https://example.org/rss"},
		{"https://u:p@example.org/rss", "https://REDACTED@example.org/rss"},
		{"https://example.org/rss?key=abc&q=x", "https://example.org/rss?key=REDACTED&q=x"},
		{"https://example.org/rss?client_secret=abc", "https://example.org/rss?client_secret=REDACTED"},
		{"%zz", "REDACTED"},
	}
	for _, tt := range tests {
		if got := RedactURL(tt.in); got != tt.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
