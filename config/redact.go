package config

import (
	"bytes"
	"fmt"
	"net/url"
	"strconv"

	"go.yaml.in/yaml/v3"

	"github.com/minewatch/minewatch/redact"
)

// Redacted replaces every secret in RedactedYAML's output.
const Redacted = redact.Mask

// RedactURL hides the credentials a URL may carry: userinfo, and the values
// of query parameters named like keys, tokens or signatures (redact.URL, so
// the config and the logs agree on what a secret is).
func RedactURL(raw string) string { return redact.URL(raw) }

// RedactWebhookURL keeps only the scheme and host of a webhook URL: Slack,
// Teams and most webhook services put the credential in the path.
func RedactWebhookURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return Redacted
	}
	return u.Scheme + "://" + u.Host + "/" + Redacted
}

// RedactedYAML writes the effective configuration (the file with every
// default filled in) as YAML in the file's own key names, with each secret
// replaced: password hashes, token hashes, webhook, Slack and Teams URLs, and
// credentials in source and Elasticsearch URLs. Environment variable names
// stay: they are not secrets, and the operator needs them.
func (c *Config) RedactedYAML() ([]byte, error) {
	root := mapNode()
	f := c.Fetch
	add(root, "fetch", mapNode(
		"user_agent", f.UserAgent, "contact", f.Contact, "timeout", f.Timeout.String(),
		"per_host_delay", f.PerHostDelay.String(), "max_body_bytes", f.MaxBodyBytes, "workers", f.Workers,
		"per_host_concurrency", f.PerHostConcurrency, "retries", f.Retries,
		"allow_private", f.AllowPrivate, "ignore_robots", f.IgnoreRobots))
	es := c.Index.Elasticsearch
	esURLs := make([]string, len(es.URLs))
	for i, u := range es.URLs {
		esURLs[i] = RedactURL(u)
	}
	add(root, "index", mapNode("backend", c.Index.Backend, "dir", c.Index.Dir,
		"elasticsearch", mapNode("urls", esURLs, "username", es.Username, "password_env", es.PasswordEnv,
			"api_key_env", es.APIKeyEnv, "ca_file", es.CAFile, "index_prefix", es.IndexPrefix)))
	w := c.Web
	users := seqNode()
	for _, u := range w.Users {
		users.Content = append(users.Content, mapNode("name", u.Name, "role", u.Role, "password_hash", Redacted))
	}
	tokens := seqNode()
	for _, t := range w.Tokens {
		m := mapNode("name", t.Name, "role", t.Role)
		if t.TokenHash != "" {
			add(m, "token_hash", Redacted)
		}
		if t.TokenEnv != "" {
			add(m, "token_env", t.TokenEnv)
		}
		tokens.Content = append(tokens.Content, m)
	}
	add(root, "web", mapNode("listen", w.Listen, "base_url", w.BaseURL, "auth", w.Auth,
		"session_ttl", w.SessionTTL.String(), "public_metrics", w.PublicMetrics,
		"trusted_proxies", w.TrustedProxies, "users", users, "tokens", tokens))
	m := c.Mail
	add(root, "mail", mapNode("host", m.Host, "port", m.Port, "username", m.Username,
		"password_env", m.PasswordEnv, "from", m.From, "tls", m.TLS))
	alerts := seqNode()
	for _, a := range c.Alerts {
		chans := seqNode()
		for _, ch := range a.Channels {
			cm := mapNode("kind", ch.Kind)
			if len(ch.To) > 0 {
				add(cm, "to", ch.To)
			}
			if ch.URL != "" {
				add(cm, "url", RedactWebhookURL(ch.URL))
			}
			if ch.SecretEnv != "" {
				add(cm, "secret_env", ch.SecretEnv)
			}
			chans.Content = append(chans.Content, cm)
		}
		alerts.Content = append(alerts.Content, mapNode("id", a.ID, "actions", a.Actions, "countries", a.Countries,
			"treaties", a.Treaties, "query", a.Query, "saved_search", a.SavedSearch, "on", a.On,
			"cooldown", a.Cooldown.String(), "channels", chans))
	}
	add(root, "alerts", alerts)
	subs := seqNode()
	for _, s := range c.Subscribers {
		subs.Content = append(subs.Content, mapNode("id", s.ID, "name", s.Name, "email", s.Email,
			"time_zone", s.TimeZone, "send_at", s.SendAt, "topics", s.Topics, "countries", s.Countries,
			"actions", s.Actions, "queries", s.Queries, "saved_searches", s.SavedSearches, "send_empty", s.SendEmpty))
	}
	add(root, "subscribers", subs)
	srcs := seqNode()
	for _, s := range c.Sources {
		sm := mapNode("id", s.ID, "name", s.Name, "kind", s.Kind, "url", RedactURL(s.URL),
			"language", s.Language, "country", s.Country, "schedule", s.Schedule)
		if s.FetchPages != nil {
			add(sm, "fetch_pages", *s.FetchPages)
		}
		if s.Selectors != (Selectors{}) {
			add(sm, "selectors", mapNode("links", s.Selectors.Links, "title", s.Selectors.Title,
				"body", s.Selectors.Body, "date", s.Selectors.Date))
		}
		srcs.Content = append(srcs.Content, sm)
	}
	add(root, "sources", srcs)
	topics := seqNode()
	for _, t := range c.Topics {
		rules := seqNode()
		for _, r := range t.Rules {
			rules.Content = append(rules.Content, mapNode("id", r.ID, "language", r.Language, "query", r.Query, "weight", r.Weight))
		}
		topics.Content = append(topics.Content, mapNode("id", t.ID, "name", t.Name, "threshold", t.Threshold, "rules", rules))
	}
	add(root, "topics", topics)

	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# Effective configuration of %s, defaults filled in; secrets shown as %s.\n", c.File, Redacted)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{root}}); err != nil {
		return nil, fmt.Errorf("encode config: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode config: %w", err)
	}
	return buf.Bytes(), nil
}

func seqNode() *yaml.Node { return &yaml.Node{Kind: yaml.SequenceNode} }

// mapNode builds a mapping from key, value pairs; empty strings and lists are
// left out so the output stays as short as a hand-written file.
func mapNode(kv ...any) *yaml.Node {
	m := &yaml.Node{Kind: yaml.MappingNode}
	for i := 0; i+1 < len(kv); i += 2 {
		add(m, kv[i].(string), kv[i+1])
	}
	return m
}

func add(m *yaml.Node, key string, v any) {
	var n *yaml.Node
	switch v := v.(type) {
	case *yaml.Node:
		n = v
	case string:
		if v == "" {
			return
		}
		n = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v}
	case []string:
		if len(v) == 0 {
			return
		}
		n = seqNode()
		n.Style = yaml.FlowStyle
		for _, s := range v {
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s})
		}
	case bool:
		n = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(v)}
	case int:
		n = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(v)}
	case int64:
		n = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatInt(v, 10)}
	case float64:
		n = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: strconv.FormatFloat(v, 'g', -1, 64)}
	default:
		panic(fmt.Sprintf("config: add %q: unsupported type %T", key, v))
	}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, n)
}
