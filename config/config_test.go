package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minewatch/minewatch/news"
)

// expectedErrors pins every message Parse gives, with its position, to a
// fixture that triggers it (Prometheus's *.bad.yml table).
var expectedErrors = []struct {
	file string
	want []string
}{
	{"alert_filters.bad.yaml", []string{
		"alert_filters.bad.yaml:3:15: actions: unknown action \"withdraw_notfy\" (did you mean \"withdraw_notify\"?)",
		"alert_filters.bad.yaml:3:31: actions: unknown action \"leave\" (want one of withdraw_announce, withdraw_vote, withdraw_notify, withdraw_effective, remain, join_ratify, resume_production, produce, destroy_stockpile, transfer, use, funding_cut, funding_increase, casualties, clearance)",
		"alert_filters.bad.yaml:4:21: countries: \"XX\" is not an ISO 3166-1 alpha-2 code (two letters, e.g. PL, UA, LT)",
		"alert_filters.bad.yaml:5:24: treaties: unknown treaty \"oslo\" (want \"ottawa\", \"ccm\" or \"none\")",
		"alert_filters.bad.yaml:7:15: kind: unknown channel kind \"pager\" (want \"email\", \"webhook\", \"slack\" or \"teams\")",
	}},
	{"alert_trigger.bad.yaml", []string{
		"alert_trigger.bad.yaml:3:9: on: unknown alert trigger \"new_stag\" (did you mean \"new_stage\"?)",
		"alert_trigger.bad.yaml:4:15: cooldown: bad duration \"10\" (write it like 30s, 15m or 1h30m)",
	}},
	{"alert_no_channels.bad.yaml", []string{
		"alert_no_channels.bad.yaml:3:15: alert \"withdrawals\" has no channels",
	}},
	{"bad_address.bad.yaml", []string{
		"bad_address.bad.yaml:3:9: from: bad email address \"minewatch at example.org\"",
	}},
	{"bad_allow_private.bad.yaml", []string{
		"bad_allow_private.bad.yaml:2:31: allow_private: \"not a host\" is not a host name, IP address or CIDR prefix",
		"bad_allow_private.bad.yaml:2:45: allow_private: \"300.1.1.1\" is not a host name, IP address or CIDR prefix",
	}},
	{"bad_contact.bad.yaml", []string{
		"bad_contact.bad.yaml:2:12: contact: bad URL \"analysts@example.org\": must be an absolute http or https URL (use an http(s) page or mailto: address)",
	}},
	{"bad_country.bad.yaml", []string{
		"bad_country.bad.yaml:4:14: country: \"UK\" is not an ISO 3166-1 alpha-2 code (two letters, e.g. PL, UA, LT)",
	}},
	{"bad_cron.bad.yaml", []string{
		"bad_cron.bad.yaml:4:15: schedule: bad cron spec \"*/15 * *\": expected exactly 5 fields, found 3: [*/15 * *] (e.g. \"*/15 * * * *\", \"@every 30m\" or \"@hourly\")",
	}},
	{"bad_duration.bad.yaml", []string{
		"bad_duration.bad.yaml:2:12: timeout: bad duration \"30\" (write it like 30s, 15m or 1h30m)",
	}},
	{"bad_env.bad.yaml", []string{
		"bad_env.bad.yaml:3:17: password_env: \"hunter2!\" is not an environment variable name (it holds the name, e.g. MINEWATCH_SMTP_PASSWORD, not the secret)",
	}},
	{"bad_id.bad.yaml", []string{
		"bad_id.bad.yaml:2:9: bad id \"ERR News\": use 1–64 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit",
	}},
	{"bad_index_prefix.bad.yaml", []string{
		"bad_index_prefix.bad.yaml:3:19: index_prefix: \"MineWatch\" is not a valid Elasticsearch index name prefix (lowercase letters, digits, '.', '_', '-')",
	}},
	{"bad_optimize.bad.yaml", []string{
		"bad_optimize.bad.yaml:3:13: optimize: bad cron spec \"every night\": expected exactly 5 fields, found 2: [every night] (e.g. \"30 3 * * *\" for 03:30 every night, or \"off\")",
	}},
	{"bad_language.bad.yaml", []string{
		"bad_language.bad.yaml:4:15: language: \"est\" is not an ISO 639-1 code (two letters, e.g. en, pl, uk)",
	}},
	{"bad_listen.bad.yaml", []string{
		"bad_listen.bad.yaml:2:11: listen: bad address \"localhost\": want host:port, e.g. 127.0.0.1:8080",
	}},
	{"bad_listen_port.bad.yaml", []string{
		"bad_listen_port.bad.yaml:2:11: listen: bad port in \"127.0.0.1:80800\"",
	}},
	{"bad_mail_host.bad.yaml", []string{
		"bad_mail_host.bad.yaml:2:9: host: \"smtp example org\" is not a host name or IP address",
		"bad_mail_host.bad.yaml:3:8: tls: unknown mail TLS mode \"ssl\" (want \"starttls\", \"tls\" or \"none\")",
	}},
	{"bad_merge.bad.yaml", []string{
		"bad_merge.bad.yaml:2:9: merge key \"<<\": expected a mapping or a list of mappings",
	}},
	{"bad_selector.bad.yaml", []string{
		"bad_selector.bad.yaml:6:14: selectors.links: unbalanced brackets in \"a[href*=news\"",
	}},
	{"bad_size.bad.yaml", []string{
		"bad_size.bad.yaml:2:19: max_body_bytes: bad size \"10 megabytes\" (write bytes, or a number with KB, MB, KiB or MiB)",
	}},
	{"bad_url_relative.bad.yaml", []string{
		"bad_url_relative.bad.yaml:3:10: url: bad URL \"/rss\": must be an absolute http or https URL",
	}},
	{"bad_url_scheme.bad.yaml", []string{
		"bad_url_scheme.bad.yaml:3:10: url: bad URL \"ftp://news.err.ee/rss\": must be an absolute http or https URL",
	}},
	{"bad_url_space.bad.yaml", []string{
		"bad_url_space.bad.yaml:4:10: url: bad URL \"https://news.google.com/rss/search?q=konwencja ottawska\": contains spaces or non-ASCII characters; percent-encode them",
	}},
	{"bad_user_agent.bad.yaml", []string{
		"bad_user_agent.bad.yaml:2:15: user_agent: \"minewatch\\n1.0\" contains characters not allowed in an HTTP header",
	}},
	{"bad_weight.bad.yaml", []string{
		"bad_weight.bad.yaml:3:16: threshold: must not be negative",
		"bad_weight.bad.yaml:7:17: weight: expected a number, got a string \"heavy\"",
	}},
	{"duplicate_key.bad.yaml", []string{
		"duplicate_key.bad.yaml:3:3: duplicate key \"listen\" (first at 2:3)",
	}},
	{"duplicate_rule.bad.yaml", []string{
		"duplicate_rule.bad.yaml:8:13: duplicate rule id \"prod\" (first at 4:13)",
	}},
	{"duplicate_source.bad.yaml", []string{
		"duplicate_source.bad.yaml:4:9: duplicate source id \"err-news\" (first at 2:9)",
	}},
	{"duplicate_topic.bad.yaml", []string{
		"duplicate_topic.bad.yaml:6:9: duplicate topic id \"production\" (first at 2:9)",
	}},
	{"email_without_mail.bad.yaml", []string{
		"email_without_mail.bad.yaml:2:5: email alerts need mail.host",
		"email_without_mail.bad.yaml:2:5: email alerts need mail.from",
	}},
	{"email_without_to.bad.yaml", []string{
		"email_without_to.bad.yaml:7:9: email channel needs \"to\" (a list of addresses)",
		"email_without_to.bad.yaml:8:14: email channel takes \"to\", not \"url\"",
	}},
	{"empty_query.bad.yaml", []string{
		"empty_query.bad.yaml:5:16: rule \"prod-en\" has an empty query",
	}},
	{"es_auth_both.bad.yaml", []string{
		"es_auth_both.bad.yaml:7:18: elasticsearch: use either api_key_env or username/password_env, not both",
	}},
	{"es_without_urls.bad.yaml", []string{
		"es_without_urls.bad.yaml:2:12: index backend \"elasticsearch\" needs elasticsearch.urls",
	}},
	{"links_on_feed.bad.yaml", []string{
		"links_on_feed.bad.yaml:5:7: selectors.links is only used by listing sources",
	}},
	{"listing_without_links.bad.yaml", []string{
		"listing_without_links.bad.yaml:2:5: listing source \"ngo-news\" needs selectors.links (the CSS selector of its article links)",
	}},
	{"many.bad.yaml", []string{
		"many.bad.yaml:3:3: unknown key \"timout\" (did you mean \"timeout\"?)",
		"many.bad.yaml:4:12: workers: expected an integer, got a string \"lots\"",
		"many.bad.yaml:5:3: key \"password\" would put a secret in the file: name an environment variable with a *_env key instead",
		"many.bad.yaml:7:12: backend: unknown index backend \"elastic\" (want \"embedded\" or \"elasticsearch\")",
		"many.bad.yaml:9:11: listen: bad address \"nowhere\": want host:port, e.g. 127.0.0.1:8080",
		"many.bad.yaml:12:10: url: bad URL \"ftp://news.err.ee/rss\": must be an absolute http or https URL",
		"many.bad.yaml:13:15: language: \"english\" is not an ISO 639-1 code (two letters, e.g. en, pl, uk)",
		"many.bad.yaml:14:14: country: \"Estonia\" is not an ISO 3166-1 alpha-2 code (two letters, e.g. PL, UA, LT)",
		"many.bad.yaml:15:5: unknown key \"shedule\" (did you mean \"schedule\"?)",
		"many.bad.yaml:16:9: duplicate source id \"err-news\" (first at 11:9)",
		"many.bad.yaml:18:15: schedule: bad cron spec \"every fifteen minutes\": expected exactly 5 fields, found 3: [every fifteen minutes] (e.g. \"*/15 * * * *\", \"@every 30m\" or \"@hourly\")",
		"many.bad.yaml:19:5: source is missing required key \"id\"",
		"many.bad.yaml:19:5: source is missing required key \"url\"",
		"many.bad.yaml:25:13: duplicate rule id \"prod\" (first at 23:13)",
		"many.bad.yaml:26:19: language: \"xx\" is not an ISO 639-1 code (two letters, e.g. en, pl, uk)",
	}},
	{"merge_bomb.bad.yaml", []string{
		"merge_bomb.bad.yaml:3:14: merge keys expand to more than 10000 keys",
	}},
	{"missing_required.bad.yaml", []string{
		"missing_required.bad.yaml:2:5: source is missing required key \"url\"",
	}},
	{"missing_rules.bad.yaml", []string{
		"missing_rules.bad.yaml:2:5: topic is missing required key \"rules\"",
	}},
	{"negative_duration.bad.yaml", []string{
		"negative_duration.bad.yaml:2:19: per_host_delay: duration \"-2s\" must not be negative",
	}},
	{"non_string_key.bad.yaml", []string{
		"non_string_key.bad.yaml:2:3: web: keys must be strings, got a list",
	}},
	{"not_mapping.bad.yaml", []string{
		"not_mapping.bad.yaml:1:1: config: expected a mapping, got a list",
	}},
	{"out_of_range.bad.yaml", []string{
		"out_of_range.bad.yaml:2:12: workers: 1000 is out of range [0, 256]",
		"out_of_range.bad.yaml:3:12: retries: -1 is out of range [0, 10]",
	}},
	{"secret_key.bad.yaml", []string{
		"secret_key.bad.yaml:3:3: key \"password\" would put a secret in the file: put it in an environment variable and give its name with \"password_env\"",
	}},
	{"secret_key_generic.bad.yaml", []string{
		"secret_key_generic.bad.yaml:2:3: key \"api_token\" would put a secret in the file: name an environment variable with a *_env key instead",
	}},
	{"subscriber_fields.bad.yaml", []string{
		"subscriber_fields.bad.yaml:4:12: email: bad email address \"ana at example.org\"",
		"subscriber_fields.bad.yaml:5:16: time_zone: unknown time zone \"Europe/Vilnus\" (use an IANA name such as Europe/Vilnius or UTC)",
		"subscriber_fields.bad.yaml:6:14: send_at: \"@every 24h\" is an interval; give a time of day as a cron spec, e.g. \"0 7 * * *\" (07:00) or \"30 6 * * 1-5\"",
		"subscriber_fields.bad.yaml:7:21: countries: \"XX\" is not an ISO 3166-1 alpha-2 code (two letters, e.g. PL, UA, LT)",
		"subscriber_fields.bad.yaml:8:15: actions: unknown action \"withdraw\" (want one of withdraw_announce, withdraw_vote, withdraw_notify, withdraw_effective, remain, join_ratify, resume_production, produce, destroy_stockpile, transfer, use, funding_cut, funding_increase, casualties, clearance)",
		"subscriber_fields.bad.yaml:9:17: send_empty: expected true or false, got a string \"maybe\"",
		"subscriber_fields.bad.yaml:10:9: duplicate subscriber id \"ana\" (first at 3:9)",
		"subscriber_fields.bad.yaml:12:14: send_at: bad cron spec \"0 7 * *\": expected exactly 5 fields, found 4: [0 7 * *] (e.g. \"0 7 * * *\" for 07:00 every day)",
		"subscriber_fields.bad.yaml:15:14: send_at: \"CRON_TZ=Europe/Riga 0 7 * * *\" sets a time zone; use time_zone instead",
		"subscriber_fields.bad.yaml:16:5: subscriber is missing required key \"id\"",
		"subscriber_fields.bad.yaml:16:5: subscriber is missing required key \"email\"",
	}},
	{"subscriber_without_mail.bad.yaml", []string{
		"subscriber_without_mail.bad.yaml:2:5: digest subscribers need mail.host",
		"subscriber_without_mail.bad.yaml:2:5: digest subscribers need mail.from",
	}},
	{"syntax.bad.yaml", []string{
		"syntax.bad.yaml:4: YAML syntax: did not find expected '-' indicator",
	}},
	{"topic_no_rules.bad.yaml", []string{
		"topic_no_rules.bad.yaml:3:12: topic \"production\" has no rules",
	}},
	{"two_documents.bad.yaml", []string{
		"two_documents.bad.yaml:3:1: only one YAML document is allowed in a config file",
	}},
	{"unknown_backend.bad.yaml", []string{
		"unknown_backend.bad.yaml:2:12: backend: unknown index backend \"elasticsearh\" (did you mean \"elasticsearch\"?)",
	}},
	{"unknown_backend_far.bad.yaml", []string{
		"unknown_backend_far.bad.yaml:2:12: backend: unknown index backend \"postgres\" (want \"embedded\" or \"elasticsearch\")",
	}},
	{"unknown_key.bad.yaml", []string{
		"unknown_key.bad.yaml:3:3: unknown key \"colour\"",
	}},
	{"unknown_key_typo.bad.yaml", []string{
		"unknown_key_typo.bad.yaml:4:5: unknown key \"shedule\" (did you mean \"schedule\"?)",
	}},
	{"unknown_kind.bad.yaml", []string{
		"unknown_kind.bad.yaml:3:11: kind: unknown source kind \"rss\" (want \"feed\", \"query\", \"listing\" or \"sitemap\")",
	}},
	{"webhook_without_url.bad.yaml", []string{
		"webhook_without_url.bad.yaml:4:9: webhook channel needs \"url\"",
		"webhook_without_url.bad.yaml:5:13: webhook channel takes \"url\", not \"to\"",
		"webhook_without_url.bad.yaml:7:21: secret_env is only used by webhook channels",
	}},
	{"wrong_type_bool.bad.yaml", []string{
		"wrong_type_bool.bad.yaml:2:18: ignore_robots: expected true or false, got a string \"sometimes\"",
	}},
	{"wrong_type_int.bad.yaml", []string{
		"wrong_type_int.bad.yaml:2:12: workers: expected an integer, got a string \"many\"",
	}},
	{"wrong_type_list.bad.yaml", []string{
		"wrong_type_list.bad.yaml:2:3: sources: expected a list, got a mapping",
	}},
	{"wrong_type_mapping.bad.yaml", []string{
		"wrong_type_mapping.bad.yaml:2:3: fetch: expected a mapping, got a list",
	}},
	{"wrong_type_string.bad.yaml", []string{
		"wrong_type_string.bad.yaml:3:10: url: expected a string, got a list",
	}},
}

func TestBadFiles(t *testing.T) {
	covered := map[string]bool{}
	for _, tc := range expectedErrors {
		covered[tc.file] = true
		t.Run(tc.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			c, err := Parse(tc.file, data)
			if c != nil {
				t.Errorf("Parse returned a config along with errors")
			}
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("Parse error = %v (%T), want Errors", err, err)
			}
			got := make([]string, len(es))
			for i, e := range es {
				got[i] = e.Error()
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("errors:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
	// Every fixture must be in the table, so none is silently unchecked.
	files, err := filepath.Glob("testdata/*.bad.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !covered[filepath.Base(f)] {
			t.Errorf("%s has no entry in expectedErrors", f)
		}
	}
}

func TestErrorsAreSortedAndIndividuallyReachable(t *testing.T) {
	data, err := os.ReadFile("testdata/many.bad.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Parse("many.bad.yaml", data)
	var one *Error
	if !errors.As(err, &one) || one.Pos.Line != 3 || one.Pos.Col != 3 {
		t.Fatalf("errors.As(*Error) = %v, want the first error at 3:3", one)
	}
	var es Errors
	errors.As(err, &es)
	if len(es) < 10 {
		t.Fatalf("got %d errors, want every problem of the file", len(es))
	}
	for i := 1; i < len(es); i++ {
		a, b := es[i-1].Pos, es[i].Pos
		if a.Line > b.Line || (a.Line == b.Line && a.Col > b.Col) {
			t.Errorf("errors out of order: %v before %v", a, b)
		}
	}
	if got := strings.Count(err.Error(), "\n") + 1; got != len(es) {
		t.Errorf("Error() has %d lines, want one per error (%d)", got, len(es))
	}
}

func loadGood(t *testing.T) *Config {
	t.Helper()
	c, err := Load("testdata/good.yaml")
	if err != nil {
		t.Fatalf("Load(good.yaml): %v", err)
	}
	return c
}

func TestGoodFile(t *testing.T) {
	c := loadGood(t)
	checks := []struct {
		name      string
		got, want any
	}{
		{"file", c.File, "testdata/good.yaml"},
		{"user agent header", c.Fetch.UserAgentHeader(), "minewatch-test/2.0 (+mailto:ops@example.org)"},
		{"timeout", c.Fetch.Timeout.Duration, 45 * time.Second},
		{"per host delay", c.Fetch.PerHostDelay.Duration, 1500 * time.Millisecond},
		{"max body", c.Fetch.MaxBodyBytes, int64(4 << 20)},
		{"workers", c.Fetch.Workers, 8},
		{"per host concurrency", c.Fetch.PerHostConcurrency, 2},
		{"retries", c.Fetch.Retries, 3},
		{"allow private", strings.Join(c.Fetch.AllowPrivate, ","), "10.20.0.0/16,192.168.1.10,feeds.internal.example.org"},
		{"ignore robots", c.Fetch.IgnoreRobots, true},
		{"backend", c.Index.Backend, BackendElasticsearch},
		{"dir", c.Index.Dir, "/var/lib/minewatch"},
		{"es urls", len(c.Index.Elasticsearch.URLs), 2},
		{"es password env", c.Index.Elasticsearch.PasswordEnv, "MINEWATCH_ES_PASSWORD"},
		{"es prefix", c.Index.Elasticsearch.IndexPrefix, "mw-prod"},
		{"listen", c.Web.Listen, ":9090"},
		{"base url", c.Web.BaseURL, "https://minewatch.example.org"},
		{"mail port from tls", c.Mail.Port, 465},
		{"mail from", c.Mail.From, "minewatch <minewatch@example.org>"},
		{"alerts", len(c.Alerts), 2},
		{"alert countries upper-cased", strings.Join(c.Alerts[0].Countries, ","), "EE,LV,LT"},
		{"alert channels", len(c.Alerts[0].Channels), 4},
		{"alert query", c.Alerts[0].Query, "parliament OR Seimas"},
		{"alert query pos", c.Alerts[0].Pos.String(), "testdata/good.yaml:36:13"},
		{"alert on", c.Alerts[0].On, OnNewStage},
		{"alert on default", c.Alerts[1].On, OnAny},
		{"alert cooldown", c.Alerts[0].Cooldown.Duration, 2 * time.Hour},
		{"alert saved search", c.Alerts[0].SavedSearch, "baltic"},
		{"subscribers", len(c.Subscribers), 2},
		{"subscriber zone", c.Subscribers[0].Location().String(), "Europe/Vilnius"},
		{"subscriber send at", c.Subscribers[0].SendAt, "30 6 * * 1-5"},
		{"subscriber countries upper-cased", strings.Join(c.Subscribers[0].Countries, ","), "LT,LV"},
		{"subscriber queries", len(c.Subscribers[0].Queries), 1},
		{"subscriber send empty", c.Subscribers[0].SendEmpty, false},
		{"subscriber defaults", c.Subscribers[1].TimeZone + " " + c.Subscribers[1].SendAt + " " + c.Subscribers[1].Name, "UTC 0 7 * * * bo"},
		{"subscriber send empty default", c.Subscribers[1].SendEmpty, true},
		{"sources", len(c.Sources), 6},
		{"language lower-cased", c.Sources[0].Language, "en"},
		{"country upper-cased", c.Sources[0].Country, "EE"},
		{"merge key inherits schedule", c.Sources[1].Schedule, "*/10 * * * *"},
		{"merge key inherits country", c.Sources[1].Country, "EE"},
		{"merge key overrides language", c.Sources[1].Language, "et"},
		{"default name", c.Sources[2].Name, "gn-pl"},
		{"default kind", c.Sources[0].Kind, "feed"},
		{"query schedule default", c.Sources[2].Schedule, DefaultQuerySchedule},
		{"sitemap schedule", c.Sources[5].Schedule, "@every 2h"},
		{"selectors", c.Sources[4].Selectors, Selectors{Links: "article h2 a", Title: "h1", Body: ".entry-content", Date: "time[datetime]"}},
		{"topics", len(c.Topics), 2},
		{"threshold", c.Topics[0].Threshold, 2.5},
		{"threshold default", c.Topics[1].Threshold, DefaultThreshold},
		{"weight", c.Topics[0].Rules[0].Weight, 2.0},
		{"weight default", c.Topics[0].Rules[1].Weight, DefaultWeight},
		{"negative weight", c.Topics[0].Rules[3].Weight, -0.5},
		{"folded query", c.Topics[0].Rules[1].Query, `"konwencji ottawskiej" AND wypowiedz*`},
		{"topic name default", c.Topics[1].Name, "production"},
	}
	for _, tc := range checks {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %v, want %v", tc.got, tc.want)
			}
		})
	}
}

// charAt returns the rest of the line at p; yaml.v3 counts columns in
// characters, so the line is indexed by rune.
func charAt(t *testing.T, data []byte, p Position) string {
	t.Helper()
	lines := strings.Split(string(data), "\n")
	if p.Line < 1 || p.Line > len(lines) {
		t.Fatalf("position %v outside the file", p)
	}
	runes := []rune(lines[p.Line-1])
	if p.Col < 1 || p.Col > len(runes) {
		t.Fatalf("position %v outside line %q", p, lines[p.Line-1])
	}
	return string(runes[p.Col-1:])
}

// Rule.Pos must point at the first character of the query text, whatever the
// YAML style, because the classifier adds its own offsets to it.
func TestRulePositions(t *testing.T) {
	files := map[string][]byte{DefaultName: DefaultYAML()}
	good, err := os.ReadFile("testdata/good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	files["good.yaml"] = good
	for name, data := range files {
		c, err := Parse(name, data)
		if err != nil {
			t.Fatalf("Parse(%s): %v", name, err)
		}
		for _, tp := range c.Topics {
			for _, r := range tp.Rules {
				t.Run(name+"/"+r.ID, func(t *testing.T) {
					rest := charAt(t, data, r.Pos)
					firstLine, _, _ := strings.Cut(r.Query, "\n")
					if firstLine == "" {
						t.Fatalf("empty first line in %q", r.Query)
					}
					// The text at Pos starts with the query's first line (for
					// flow scalars, up to where YAML escaping could differ).
					prefix := firstLine[:min(len(firstLine), 8)]
					if !strings.HasPrefix(rest, prefix) {
						t.Errorf("text at %v is %q, want it to start with %q", r.Pos, rest, prefix)
					}
				})
			}
		}
	}
}

func TestDefault(t *testing.T) {
	c, err := Parse(DefaultName, DefaultYAML())
	if err != nil {
		t.Fatalf("the embedded default has errors:\n%v", err)
	}
	d := Default()
	if d.File != DefaultName {
		t.Errorf("Default().File = %q", d.File)
	}
	if len(d.Sources) != len(c.Sources) || len(d.Topics) == 0 {
		t.Errorf("Default() has %d sources and %d topics", len(d.Sources), len(d.Topics))
	}
	if n := len(c.Sources); n < 30 || n > 60 {
		t.Errorf("default has %d sources, want 30–60", n)
	}
	queryLangs := map[string]bool{}
	kinds := map[string]int{}
	for _, s := range c.Sources {
		kinds[s.Kind]++
		if s.Kind == string(news.KindQuery) {
			queryLangs[s.Language] = true
			if !strings.HasPrefix(s.URL, "https://news.google.com/rss/search?") &&
				!strings.HasPrefix(s.URL, "https://api.gdeltproject.org/api/v2/doc/doc?") {
				t.Errorf("query source %s has an unexpected URL %s", s.ID, s.URL)
			}
		}
	}
	for _, l := range []string{"en", "pl", "lt", "lv", "et", "fi", "uk", "ru", "de", "fr"} {
		if !queryLangs[l] {
			t.Errorf("no Google News query source in %q", l)
		}
	}
	if kinds["feed"] < 20 || kinds["query"] < 10 {
		t.Errorf("kinds = %v, want many feeds and query feeds", kinds)
	}
	// Every default source sits under a comment saying where its URL comes from.
	lines := strings.Split(string(DefaultYAML()), "\n")
	for _, s := range c.Sources {
		above := strings.TrimSpace(lines[s.Pos.Line-2])
		if !strings.HasPrefix(above, "#") {
			t.Errorf("source %s (line %d) has no comment above it", s.ID, s.Pos.Line)
		}
	}
}

// The defaults written in the embedded file must be the defaults of the
// code, so the file teaches the truth.
func TestEmptyFileGetsDefaults(t *testing.T) {
	for _, text := range []string{"", "# nothing\n", "fetch:\nindex:\nweb: {}\n"} {
		c, err := Parse("empty.yaml", []byte(text))
		if err != nil {
			t.Fatalf("Parse(%q): %v", text, err)
		}
		d := Default()
		if !equalJSONish(c.Fetch, d.Fetch) || c.Index.Backend != d.Index.Backend || c.Index.Dir != d.Index.Dir || c.Index.Optimize != d.Index.Optimize ||
			c.Index.Elasticsearch.IndexPrefix != d.Index.Elasticsearch.IndexPrefix || !reflect.DeepEqual(c.Web, d.Web) || c.Mail != d.Mail {
			t.Errorf("Parse(%q) settings differ from the embedded default:\n got %+v %+v %+v %+v\nwant %+v %+v %+v %+v",
				text, c.Fetch, c.Index, c.Web, c.Mail, d.Fetch, d.Index, d.Web, d.Mail)
		}
		if len(c.Sources) != len(d.Sources) || len(c.Topics) != len(d.Topics) {
			t.Errorf("Parse(%q) did not fall back to the default sources and topics", text)
		}
	}
}

func equalJSONish(a, b Fetch) bool {
	return a.UserAgent == b.UserAgent && a.Contact == b.Contact && a.Timeout == b.Timeout &&
		a.PerHostDelay == b.PerHostDelay && a.MaxBodyBytes == b.MaxBodyBytes && a.Workers == b.Workers &&
		a.PerHostConcurrency == b.PerHostConcurrency && a.Retries == b.Retries &&
		len(a.AllowPrivate) == len(b.AllowPrivate) && a.IgnoreRobots == b.IgnoreRobots
}

func TestExplicitEmptyListsOverrideDefaults(t *testing.T) {
	c, err := Parse("x.yaml", []byte("sources: []\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Sources) != 0 {
		t.Errorf("sources: [] gave %d sources, want none", len(c.Sources))
	}
	if len(c.Topics) == 0 {
		t.Errorf("a file without topics: should get the default topics")
	}
}

func TestExtensionKeysHoldAnchors(t *testing.T) {
	text := `x-ngo: &ngo {schedule: "@hourly", language: en}
sources:
  - {<<: *ngo, id: hrw, url: "https://www.hrw.org/rss/news"}
  - <<: *ngo
    id: icrc
    url: https://www.icrc.org/en/rss/news
    language: fr
`
	c, err := Parse("x.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if c.Sources[0].Schedule != "@hourly" || c.Sources[0].Language != "en" || c.Sources[1].Language != "fr" {
		t.Errorf("merged sources = %+v", c.Sources)
	}
}

func TestResolve(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == EnvConfig {
				return v
			}
			return ""
		}
	}
	exists := func(ok bool) func(string) bool { return func(string) bool { return ok } }
	tests := []struct {
		name   string
		flag   string
		getenv func(string) string
		exists func(string) bool
		want   string
	}{
		{"flag wins", "/etc/mw.yaml", env("/env.yaml"), exists(true), "/etc/mw.yaml"},
		{"env next", "", env("/env.yaml"), exists(true), "/env.yaml"},
		{"local file", "", env(""), exists(true), LocalFile},
		{"embedded default", "", env(""), exists(false), ""},
		{"nil funcs", "", nil, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Resolve(tc.flag, tc.getenv, tc.exists); got != tc.want {
				t.Errorf("Resolve = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	t.Run("missing file", func(t *testing.T) {
		_, err := Load(filepath.Join(t.TempDir(), "none.yaml"))
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("err = %v, want fs.ErrNotExist", err)
		}
	})
	t.Run("default", func(t *testing.T) {
		c, err := Load("")
		if err != nil || c.File != DefaultName {
			t.Errorf("Load(\"\") = %v, %v", c, err)
		}
	})
	t.Run("FileExists", func(t *testing.T) {
		if !FileExists("testdata/good.yaml") || FileExists("testdata") || FileExists("testdata/none.yaml") {
			t.Errorf("FileExists is wrong")
		}
	})
}

func TestNewsSources(t *testing.T) {
	c := loadGood(t)
	got := c.NewsSources()
	tests := []struct {
		i          int
		kind       news.SourceKind
		fetchPages bool
	}{
		{0, news.KindFeed, true},     // feed default
		{2, news.KindQuery, false},   // query default
		{3, news.KindQuery, true},    // explicit true
		{4, news.KindListing, false}, // explicit false
		{5, news.KindSitemap, true},  // sitemap default
	}
	for _, tc := range tests {
		t.Run(got[tc.i].ID, func(t *testing.T) {
			s := got[tc.i]
			if s.Kind != tc.kind || s.FetchPages != tc.fetchPages {
				t.Errorf("kind %q fetch_pages %v, want %q %v", s.Kind, s.FetchPages, tc.kind, tc.fetchPages)
			}
		})
	}
	want := news.Source{
		ID: "ngo-news", Name: "ngo-news", Kind: news.KindListing, URL: "https://ngo.example.org/news/",
		Schedule: "@hourly", Selectors: news.Selectors{Links: "article h2 a", Title: "h1", Body: ".entry-content", Date: "time[datetime]"},
	}
	if got[4] != want {
		t.Errorf("mapping:\n got %+v\nwant %+v", got[4], want)
	}
	if got[0].Language != "en" || got[0].Country != "EE" || got[0].Schedule != "*/10 * * * *" {
		t.Errorf("mapping lost fields: %+v", got[0])
	}
}

func TestSuggest(t *testing.T) {
	keys := []string{"schedule", "selectors", "url", "fetch_pages", "language", "country"}
	tests := []struct{ in, want string }{
		{"shedule", "schedule"},
		{"schedual", "schedule"},
		{"scheduel", "schedule"}, // transposition
		{"Schedule", "schedule"}, // case only
		{"urls", "url"},
		{"ulr", "url"},
		{"lang", ""},
		{"colour", ""},
		{"fetchpages", "fetch_pages"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := suggest(tc.in, keys); got != tc.want {
				t.Errorf("suggest(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1024", 1024, true},
		{"10MiB", 10 << 20, true},
		{"512 KB", 512000, true},
		{"1GiB", 1 << 30, true},
		{"10 megabytes", 0, false},
		{"99999999999999999GiB", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseSize(tc.in)
			if (err == nil) != tc.ok || got != tc.want {
				t.Errorf("parseSize(%q) = %d, %v", tc.in, got, err)
			}
		})
	}
}

func TestCodes(t *testing.T) {
	tests := []struct {
		code     string
		language bool
		country  bool
	}{
		{"en", true, false}, {"uk", true, false}, {"et", true, false}, {"sh", false, false},
		{"UA", false, true}, {"GB", false, true}, {"UK", false, false}, {"XK", false, true},
		{"eng", false, false}, {"", false, false}, {"e", false, false},
	}
	for _, tc := range tests {
		t.Run(tc.code, func(t *testing.T) {
			if isLanguage(tc.code) != tc.language || isCountry(tc.code) != tc.country {
				t.Errorf("isLanguage=%v isCountry=%v", isLanguage(tc.code), isCountry(tc.code))
			}
		})
	}
	if n := strings.Count(iso6391, " ") - 1; n != 183 {
		t.Errorf("ISO 639-1 table has %d codes, want 183", n)
	}
	if n := strings.Count(iso3166, " ") - 1; n != 250 {
		t.Errorf("ISO 3166-1 table has %d codes, want 249 + XK", n)
	}
}

func TestPositionString(t *testing.T) {
	tests := []struct {
		p    Position
		want string
	}{
		{Position{"a.yaml", 3, 5}, "a.yaml:3:5"},
		{Position{"a.yaml", 3, 0}, "a.yaml:3"},
		{Position{"a.yaml", 0, 0}, "a.yaml"},
	}
	for _, tc := range tests {
		if got := tc.p.String(); got != tc.want {
			t.Errorf("%#v.String() = %q, want %q", tc.p, got, tc.want)
		}
	}
}

func TestIndexOptimize(t *testing.T) {
	for text, want := range map[string]string{
		"":                                  DefaultOptimize,
		"index:\n  optimize: off\n":         OptimizeOff,
		"index:\n  optimize: '@daily'\n":    "@daily",
		"index:\n  optimize: '0 2 * * 0'\n": "0 2 * * 0",
	} {
		c, err := Parse("x.yaml", []byte(text))
		if err != nil {
			t.Fatalf("Parse(%q): %v", text, err)
		}
		if c.Index.Optimize != want {
			t.Errorf("Parse(%q): optimize %q, want %q", text, c.Index.Optimize, want)
		}
	}
}
