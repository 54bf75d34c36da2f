package config

import (
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/minewatch/minewatch/news"
)

// Parse parses one config file's text; file names it in error positions.
// Sections left out take their defaults; a file without a sources: or topics:
// key uses the embedded default sources or topics, so a small file that only
// sets, say, web.listen is a complete config. On any problem it returns nil
// and Errors holding all of them.
func Parse(file string, data []byte) (*Config, error) {
	c, err := parse(file, data, Default)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Check is Parse for checkers: with the Errors it also returns the config as
// far as it could be read, so a caller can look further (the rules' query
// syntax) and report every problem at once. Never run with such a config.
func Check(file string, data []byte) (*Config, error) {
	return parse(file, data, Default)
}

// parse does Parse's work; fallback supplies the sources and topics a file
// leaves out (nil when parsing the default itself).
func parse(file string, data []byte, fallback func() *Config) (c *Config, err error) {
	d := &decoder{file: file, lines: strings.Split(string(data), "\n")}
	defer func() {
		// The YAML library has panicked on hostile input in the past; a config
		// loader must report, not crash.
		if r := recover(); r != nil {
			c, err = &Config{File: file}, Errors{{Pos: Position{File: file}, Msg: fmt.Sprintf("cannot parse: %v", r)}}
		}
	}()
	c = &Config{File: file}
	root := d.document(data)
	var seen map[string]*yaml.Node
	if root != nil || len(d.errs) == 0 {
		if root == nil {
			root = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: 1, Column: 1}
		}
		seen = d.mapping("config", root, []field{
			{key: "fetch", set: func(n *yaml.Node) { d.fetch(n, &c.Fetch) }},
			{key: "index", set: func(n *yaml.Node) { d.index(n, &c.Index) }},
			{key: "web", set: func(n *yaml.Node) { d.web(n, &c.Web) }},
			{key: "mail", set: func(n *yaml.Node) { d.mail(n, &c.Mail) }},
			{key: "alerts", set: func(n *yaml.Node) { d.alerts(n, &c.Alerts) }},
			{key: "subscribers", set: func(n *yaml.Node) { d.subscribers(n, &c.Subscribers) }},
			{key: "sources", set: func(n *yaml.Node) { d.sources(n, &c.Sources) }},
			{key: "topics", set: func(n *yaml.Node) { d.topics(n, &c.Topics) }},
			// x- keys are free for YAML anchors shared by several entries
			// (as in Compose files); their values are not read.
			{key: "x-*", set: func(*yaml.Node) {}},
		})
		d.crossChecks(c, seen)
	}
	if len(d.errs) > 0 {
		d.errs.sort()
		return c, d.errs
	}
	applyDefaults(c)
	if fallback != nil {
		_, hasSources := seen["sources"]
		_, hasTopics := seen["topics"]
		if !hasSources || !hasTopics {
			def := fallback()
			if !hasSources {
				c.Sources = def.Sources
			}
			if !hasTopics {
				c.Topics = def.Topics
			}
		}
	}
	return c, nil
}

func (d *decoder) fetch(n *yaml.Node, f *Fetch) {
	d.mapping("fetch", n, []field{
		{key: "user_agent", set: d.str("user_agent", &f.UserAgent, d.checkUserAgent)},
		{key: "contact", set: d.str("contact", &f.Contact, d.checkContact)},
		{key: "timeout", set: d.duration("timeout", &f.Timeout)},
		{key: "per_host_delay", set: d.duration("per_host_delay", &f.PerHostDelay)},
		{key: "max_body_bytes", set: d.byteSize("max_body_bytes", &f.MaxBodyBytes)},
		{key: "workers", set: d.integer("workers", &f.Workers, 0, 256)},
		{key: "per_host_concurrency", set: d.integer("per_host_concurrency", &f.PerHostConcurrency, 0, 16)},
		{key: "retries", set: d.integer("retries", &f.Retries, 0, 10)},
		{key: "allow_private", set: d.strList("allow_private", &f.AllowPrivate, d.checkPrivate)},
		{key: "ignore_robots", set: d.boolean("ignore_robots", &f.IgnoreRobots)},
	})
}

func (d *decoder) index(n *yaml.Node, ix *Index) {
	seen := d.mapping("index", n, []field{
		{key: "backend", set: d.str("backend", &ix.Backend, d.oneOf("backend", "index backend", BackendEmbedded, BackendElasticsearch))},
		{key: "dir", set: d.str("dir", &ix.Dir, nil)},
		{key: "optimize", set: d.str("optimize", &ix.Optimize, d.checkOptimize)},
		{key: "elasticsearch", set: func(n *yaml.Node) { d.elasticsearch(n, &ix.Elasticsearch) }},
	})
	if ix.Backend == BackendElasticsearch && len(ix.Elasticsearch.URLs) == 0 {
		at := n
		if v, ok := seen["backend"]; ok {
			at = v
		}
		d.errorf(at, "index backend %q needs elasticsearch.urls", BackendElasticsearch)
	}
}

func (d *decoder) elasticsearch(n *yaml.Node, es *Elasticsearch) {
	seen := d.mapping("elasticsearch", n, []field{
		{key: "urls", set: d.strList("urls", &es.URLs, d.checkURLItem("urls"))},
		{key: "username", set: d.str("username", &es.Username, nil)},
		{key: "password_env", set: d.str("password_env", &es.PasswordEnv, d.checkEnv("password_env"))},
		{key: "api_key_env", set: d.str("api_key_env", &es.APIKeyEnv, d.checkEnv("api_key_env"))},
		{key: "ca_file", set: d.str("ca_file", &es.CAFile, nil)},
		{key: "index_prefix", set: d.str("index_prefix", &es.IndexPrefix, d.checkIndexPrefix)},
	})
	if es.APIKeyEnv != "" && (es.Username != "" || es.PasswordEnv != "") {
		d.errorf(seen["api_key_env"], "elasticsearch: use either api_key_env or username/password_env, not both")
	}
}

func (d *decoder) web(n *yaml.Node, w *Web) {
	d.mapping("web", n, []field{
		{key: "listen", set: d.str("listen", &w.Listen, d.checkListen)},
		{key: "base_url", set: d.str("base_url", &w.BaseURL, d.checkURL("base_url"))},
		{key: "auth", set: d.str("auth", &w.Auth, d.oneOf("auth", "auth mode", AuthAuto, AuthRequired))},
		{key: "session_ttl", set: d.duration("session_ttl", &w.SessionTTL)},
		{key: "public_metrics", set: d.boolean("public_metrics", &w.PublicMetrics)},
		{key: "trusted_proxies", set: d.strList("trusted_proxies", &w.TrustedProxies, d.checkProxy)},
		{key: "users", set: func(n *yaml.Node) { d.webUsers(n, &w.Users) }},
		{key: "tokens", set: func(n *yaml.Node) { d.webTokens(n, &w.Tokens) }},
	})
	if w.SessionTTL.Duration != 0 && w.SessionTTL.Duration < time.Minute {
		d.errorf(n, "session_ttl: %s is too short for anyone to work (use at least 1m)", w.SessionTTL.Duration)
	}
}

func (d *decoder) webUsers(n *yaml.Node, out *[]WebUser) {
	names := map[string]*yaml.Node{}
	d.list("users", n, func(e *yaml.Node) {
		u := WebUser{Pos: d.pos(e)}
		seen := d.mapping("user", e, []field{
			{key: "name", required: true, set: d.str("name", &u.Name, d.checkUserName)},
			{key: "role", required: true, set: d.str("role", &u.Role, d.oneOf("role", "role", RoleViewer, RoleAdmin))},
			{key: "password_hash", required: true, set: d.str("password_hash", &u.PasswordHash, d.checkPasswordHash)},
		})
		d.unique("user", names, seen["name"], strings.ToLower(u.Name))
		*out = append(*out, u)
	})
}

func (d *decoder) webTokens(n *yaml.Node, out *[]WebToken) {
	names := map[string]*yaml.Node{}
	d.list("tokens", n, func(e *yaml.Node) {
		t := WebToken{Pos: d.pos(e)}
		seen := d.mapping("token", e, []field{
			{key: "name", required: true, set: d.str("name", &t.Name, d.checkUserName)},
			{key: "role", required: true, set: d.str("role", &t.Role, d.oneOf("role", "role", RoleViewer, RoleAdmin))},
			{key: "token_hash", set: d.str("token_hash", &t.TokenHash, d.checkTokenHash)},
			{key: "token_env", set: d.str("token_env", &t.TokenEnv, d.checkEnv("token_env"))},
		})
		t.TokenHash = strings.ToLower(strings.TrimPrefix(t.TokenHash, "sha256:"))
		d.unique("token", names, seen["name"], t.Name)
		switch {
		case t.TokenHash == "" && t.TokenEnv == "":
			d.errorf(e, "token %q needs token_hash (the SHA-256 of the token, from `minewatch users hash-token`) or token_env (the environment variable holding it)", t.Name)
		case t.TokenHash != "" && t.TokenEnv != "":
			d.errorf(seen["token_env"], "token %q: give token_hash or token_env, not both", t.Name)
		}
		*out = append(*out, t)
	})
}

func (d *decoder) mail(n *yaml.Node, m *Mail) {
	d.mapping("mail", n, []field{
		{key: "host", set: d.str("host", &m.Host, d.checkHost("host"))},
		{key: "port", set: d.integer("port", &m.Port, 0, 65535)},
		{key: "username", set: d.str("username", &m.Username, nil)},
		{key: "password_env", set: d.str("password_env", &m.PasswordEnv, d.checkEnv("password_env"))},
		{key: "from", set: d.str("from", &m.From, d.checkAddress("from"))},
		{key: "tls", set: d.str("tls", &m.TLS, d.oneOf("tls", "mail TLS mode", TLSStartTLS, TLSImplicit, TLSNone))},
	})
}

func (d *decoder) alerts(n *yaml.Node, out *[]Alert) {
	ids := map[string]*yaml.Node{}
	d.list("alerts", n, func(e *yaml.Node) {
		var a Alert
		var queryKeyCol int
		a.Pos = d.pos(e)
		seen := d.mapping("alert", e, []field{
			{key: "id", required: true, set: d.str("id", &a.ID, d.checkID)},
			{key: "actions", set: d.strList("actions", &a.Actions, d.checkAction)},
			{key: "countries", set: d.strList("countries", &a.Countries, d.checkCountryItem("countries"))},
			{key: "treaties", set: d.strList("treaties", &a.Treaties, d.checkTreaty)},
			{key: "query", set: d.str("query", &a.Query, nil)},
			{key: "saved_search", set: d.str("saved_search", &a.SavedSearch, nil)},
			{key: "on", set: d.str("on", &a.On, d.oneOf("on", "alert trigger", OnAny, OnNewEvent, OnNewStage))},
			{key: "cooldown", set: d.duration("cooldown", &a.Cooldown)},
			{key: "channels", required: true, set: func(n *yaml.Node) { d.channels(n, &a.Channels) }},
		})
		d.unique("alert", ids, seen["id"], a.ID)
		if q, ok := seen["query"]; ok && a.Query != "" {
			queryKeyCol = keyColumn(e, "query")
			a.Pos = d.queryPos(resolve(q), queryKeyCol)
		}
		if v, ok := seen["channels"]; ok && len(a.Channels) == 0 && !isNull(resolve(v)) {
			d.errorf(resolve(v), "alert %q has no channels", a.ID)
		}
		*out = append(*out, a)
	})
}

func (d *decoder) subscribers(n *yaml.Node, out *[]Subscriber) {
	ids := map[string]*yaml.Node{}
	d.list("subscribers", n, func(e *yaml.Node) {
		s := Subscriber{SendEmpty: true}
		s.Pos = d.pos(e)
		var sendEmpty *bool
		seen := d.mapping("subscriber", e, []field{
			{key: "id", required: true, set: d.str("id", &s.ID, d.checkID)},
			{key: "name", set: d.str("name", &s.Name, nil)},
			{key: "email", required: true, set: d.str("email", &s.Email, d.checkAddress("email"))},
			{key: "time_zone", set: d.str("time_zone", &s.TimeZone, d.checkTimeZone)},
			{key: "send_at", set: d.str("send_at", &s.SendAt, d.checkSendAt)},
			{key: "topics", set: d.strList("topics", &s.Topics, nil)},
			{key: "countries", set: d.strList("countries", &s.Countries, d.checkCountryItem("countries"))},
			{key: "actions", set: d.strList("actions", &s.Actions, d.checkAction)},
			{key: "queries", set: d.strList("queries", &s.Queries, nil)},
			{key: "saved_searches", set: d.strList("saved_searches", &s.SavedSearches, nil)},
			{key: "send_empty", set: d.optBool("send_empty", &sendEmpty)},
		})
		if sendEmpty != nil {
			s.SendEmpty = *sendEmpty
		}
		d.unique("subscriber", ids, seen["id"], s.ID)
		*out = append(*out, s)
	})
}

func (d *decoder) channels(n *yaml.Node, out *[]Channel) {
	d.list("channels", n, func(e *yaml.Node) {
		var ch Channel
		seen := d.mapping("channel", e, []field{
			{key: "kind", required: true, set: d.str("kind", &ch.Kind, d.oneOf("kind", "channel kind", ChannelEmail, ChannelWebhook, ChannelSlack, ChannelTeams))},
			{key: "to", set: d.strList("to", &ch.To, func(n *yaml.Node, v string) string { d.checkAddress("to")(n, v); return v })},
			{key: "url", set: d.str("url", &ch.URL, d.checkURL("url"))},
			{key: "secret_env", set: d.str("secret_env", &ch.SecretEnv, d.checkEnv("secret_env"))},
		})
		switch ch.Kind {
		case ChannelEmail:
			if len(ch.To) == 0 {
				d.errorf(e, "email channel needs \"to\" (a list of addresses)")
			}
			if v, ok := seen["url"]; ok {
				d.errorf(v, "email channel takes \"to\", not \"url\"")
			}
		case ChannelWebhook, ChannelSlack, ChannelTeams:
			if ch.URL == "" {
				d.errorf(e, "%s channel needs \"url\"", ch.Kind)
			}
			if v, ok := seen["to"]; ok {
				d.errorf(v, "%s channel takes \"url\", not \"to\"", ch.Kind)
			}
		}
		if v, ok := seen["secret_env"]; ok && ch.Kind != "" && ch.Kind != ChannelWebhook {
			d.errorf(v, "secret_env is only used by webhook channels")
		}
		*out = append(*out, ch)
	})
}

func (d *decoder) sources(n *yaml.Node, out *[]Source) {
	ids := map[string]*yaml.Node{}
	d.list("sources", n, func(e *yaml.Node) {
		var s Source
		s.Pos = d.pos(e)
		seen := d.mapping("source", e, []field{
			{key: "id", required: true, set: d.str("id", &s.ID, d.checkID)},
			{key: "name", set: d.str("name", &s.Name, nil)},
			{key: "kind", set: d.str("kind", &s.Kind, d.oneOf("kind", "source kind",
				string(news.KindFeed), string(news.KindQuery), string(news.KindListing), string(news.KindSitemap)))},
			{key: "url", required: true, set: d.str("url", &s.URL, d.checkURL("url"))},
			{key: "language", set: d.str("language", &s.Language, d.checkLanguage)},
			{key: "country", set: d.str("country", &s.Country, d.checkCountry("country"))},
			{key: "schedule", set: d.str("schedule", &s.Schedule, d.checkSchedule)},
			{key: "fetch_pages", set: d.optBool("fetch_pages", &s.FetchPages)},
			{key: "selectors", set: func(n *yaml.Node) { d.selectors(n, &s.Selectors) }},
		})
		s.Language = strings.ToLower(s.Language)
		s.Country = strings.ToUpper(s.Country)
		d.unique("source", ids, seen["id"], s.ID)
		if s.Kind == string(news.KindListing) && s.Selectors.Links == "" {
			d.errorf(e, "listing source %q needs selectors.links (the CSS selector of its article links)", s.ID)
		}
		if s.Kind != string(news.KindListing) && s.Selectors.Links != "" {
			if v, ok := seen["selectors"]; ok {
				d.errorf(resolve(v), "selectors.links is only used by listing sources")
			}
		}
		*out = append(*out, s)
	})
}

func (d *decoder) selectors(n *yaml.Node, s *Selectors) {
	d.mapping("selectors", n, []field{
		{key: "links", set: d.str("links", &s.Links, d.checkSelector("links"))},
		{key: "title", set: d.str("title", &s.Title, d.checkSelector("title"))},
		{key: "body", set: d.str("body", &s.Body, d.checkSelector("body"))},
		{key: "date", set: d.str("date", &s.Date, d.checkSelector("date"))},
	})
}

func (d *decoder) topics(n *yaml.Node, out *[]Topic) {
	topicIDs := map[string]*yaml.Node{}
	ruleIDs := map[string]*yaml.Node{}
	d.list("topics", n, func(e *yaml.Node) {
		var t Topic
		t.Pos = d.pos(e)
		seen := d.mapping("topic", e, []field{
			{key: "id", required: true, set: d.str("id", &t.ID, d.checkID)},
			{key: "name", set: d.str("name", &t.Name, nil)},
			{key: "threshold", set: d.float("threshold", &t.Threshold, d.positive("threshold"))},
			{key: "rules", required: true, set: func(n *yaml.Node) { d.rules(n, &t.Rules, ruleIDs) }},
		})
		d.unique("topic", topicIDs, seen["id"], t.ID)
		if v, ok := seen["rules"]; ok && len(t.Rules) == 0 && !isNull(resolve(v)) {
			d.errorf(resolve(v), "topic %q has no rules", t.ID)
		}
		*out = append(*out, t)
	})
}

func (d *decoder) rules(n *yaml.Node, out *[]Rule, ids map[string]*yaml.Node) {
	d.list("rules", n, func(e *yaml.Node) {
		var r Rule
		seen := d.mapping("rule", e, []field{
			{key: "id", required: true, set: d.str("id", &r.ID, d.checkID)},
			{key: "language", set: d.str("language", &r.Language, d.checkLanguage)},
			{key: "query", required: true, set: d.str("query", &r.Query, nil)},
			{key: "weight", set: d.float("weight", &r.Weight, nil)},
		})
		r.Language = strings.ToLower(r.Language)
		d.unique("rule", ids, seen["id"], r.ID)
		if q, ok := seen["query"]; ok {
			q = resolve(q)
			r.Pos = d.queryPos(q, keyColumn(e, "query"))
			if q.Kind == yaml.ScalarNode && !isNull(q) && strings.TrimSpace(r.Query) == "" {
				d.errorf(q, "rule %q has an empty query", r.ID)
			}
		}
		*out = append(*out, r)
	})
}

// keyColumn is the column of key in mapping m, or 0.
func keyColumn(m *yaml.Node, key string) int {
	m = resolve(m)
	if m == nil || m.Kind != yaml.MappingNode {
		return 0
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i].Column
		}
	}
	return 0
}

// unique reports the second use of an id.
func (d *decoder) unique(what string, ids map[string]*yaml.Node, at *yaml.Node, id string) {
	if id == "" || at == nil {
		return
	}
	at = resolve(at)
	if first, dup := ids[id]; dup {
		d.errorf(at, "duplicate %s id %q (first at %d:%d)", what, id, first.Line, first.Column)
		return
	}
	ids[id] = at
}

// crossChecks are the rules that tie sections together.
func (d *decoder) crossChecks(c *Config, seen map[string]*yaml.Node) {
	var emailAt *yaml.Node
	for _, a := range c.Alerts {
		for _, ch := range a.Channels {
			if ch.Kind == ChannelEmail && emailAt == nil {
				emailAt = &yaml.Node{Line: a.Pos.Line, Column: a.Pos.Col}
			}
		}
	}
	what := "email alerts"
	if emailAt == nil && len(c.Subscribers) > 0 {
		emailAt = &yaml.Node{Line: c.Subscribers[0].Pos.Line, Column: c.Subscribers[0].Pos.Col}
		what = "digest subscribers"
	}
	if emailAt == nil {
		return
	}
	at := emailAt
	if v, ok := seen["mail"]; ok {
		at = resolve(v)
	}
	if c.Mail.Host == "" {
		d.errorf(at, "%s need mail.host", what)
	}
	if c.Mail.From == "" {
		d.errorf(at, "%s need mail.from", what)
	}
}
