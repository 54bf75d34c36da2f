// Package config loads minewatch.yaml: sources, topic rules, fetch, index, web,
// mail and alert settings, reporting every problem at once with file:line:col.
package config

import (
	"embed"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/minewatch/minewatch/news"
)

// DefaultName is Config.File and the position file name of the embedded default.
const DefaultName = "(default)"

// EnvConfig names the environment variable that points at the config file.
const EnvConfig = "MINEWATCH_CONFIG"

// LocalFile is the config file looked for in the working directory.
const LocalFile = "minewatch.yaml"

//go:embed minewatch.yaml rules.yaml
var embedded embed.FS

// Config is everything minewatch.yaml says, with defaults filled in.
type Config struct {
	File   string // where it was loaded from; "(default)" for the embedded one
	Fetch  Fetch
	Index  Index
	Web    Web
	Mail   Mail
	Alerts []Alert
	// Subscribers receive the digest.
	Subscribers []Subscriber
	Sources     []Source
	Topics      []Topic
}

// Position is a place in a config file. Line and Col count from 1; 0 means unknown.
type Position struct {
	File      string
	Line, Col int
}

func (p Position) String() string {
	switch {
	case p.Line == 0:
		return p.File
	case p.Col == 0:
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Fetch configures how ingest talks to the web.
type Fetch struct {
	UserAgent          string // product token; the contact URL is appended (see UserAgentHeader)
	Contact            string // http(s) or mailto: URL where site owners can reach the operator
	Timeout            Duration
	PerHostDelay       Duration
	MaxBodyBytes       int64
	Workers            int
	PerHostConcurrency int
	Retries            int
	AllowPrivate       []string // hosts, IPs or CIDR prefixes exempt from the private-address block
	IgnoreRobots       bool
}

// UserAgentHeader is the User-Agent value to send: "minewatch/1 (+https://…)".
func (f Fetch) UserAgentHeader() string {
	if f.Contact == "" {
		return f.UserAgent
	}
	return f.UserAgent + " (+" + f.Contact + ")"
}

// Index chooses and configures the search backend.
type Index struct {
	Backend string // BackendEmbedded (default) or BackendElasticsearch
	Dir     string // embedded backend's directory; default ./data
	// Optimize is when `run` merges the embedded index's full-text
	// segments (a cron spec, default DefaultOptimize; OptimizeOff never):
	// searches read every segment, and weeks of small writes leave many.
	Optimize      string
	Elasticsearch Elasticsearch
}

// OptimizeOff turns the scheduled optimize of the embedded index off.
const OptimizeOff = "off"

// Index backends.
const (
	BackendEmbedded      = "embedded"
	BackendElasticsearch = "elasticsearch"
)

// Elasticsearch configures the Elasticsearch backend. Credentials are named by
// environment variable, never written in the file.
type Elasticsearch struct {
	URLs        []string
	Username    string
	PasswordEnv string
	APIKeyEnv   string
	CAFile      string
	IndexPrefix string
}

// Web configures the HTTP server and who may use it.
type Web struct {
	Listen  string // host:port; default 127.0.0.1:8080
	BaseURL string // public URL used in links from mail; "" means http://Listen
	// Auth is AuthAuto (default: a login is required when Listen is beyond
	// loopback) or AuthRequired (always).
	Auth string
	// SessionTTL is how long a login lasts; default DefaultSessionTTL.
	SessionTTL Duration
	// PublicMetrics serves /metrics without a token even when logins are
	// required (for a scraper on a trusted network).
	PublicMetrics bool
	// TrustedProxies are the reverse proxies (IPs or CIDR prefixes) whose
	// X-Forwarded-For names the client, for the login rate limit.
	TrustedProxies []string
	Users          []WebUser
	Tokens         []WebToken
}

// Web.Auth values.
const (
	AuthAuto     = "auto"
	AuthRequired = "required"
)

// Roles of users and API tokens.
const (
	RoleViewer = "viewer" // reads everything, keeps saved searches
	RoleAdmin  = "admin"  // also fetches sources, tests rules and alerts, reclassifies
)

// WebUser is an account that logs in to the web interface with a password.
type WebUser struct {
	Name string
	Role string // RoleViewer or RoleAdmin
	// PasswordHash is an argon2id hash in PHC format ($argon2id$v=19$…), as
	// printed by `minewatch users hash-password`, or a bcrypt hash ($2b$…).
	PasswordHash string
	Pos          Position
}

// WebToken is an API token, sent as "Authorization: Bearer <token>". The
// token itself is never in the file: either its SHA-256 (TokenHash, 64 hex
// digits) or the name of the environment variable holding it (TokenEnv).
type WebToken struct {
	Name      string
	Role      string
	TokenHash string // lowercase hex SHA-256 of the token
	TokenEnv  string
	Pos       Position
}

// Mail configures the SMTP server digests and alerts are sent through.
type Mail struct {
	Host        string
	Port        int // default 587 for starttls, 465 for tls, 25 for none
	Username    string
	PasswordEnv string
	From        string
	TLS         string // TLSStartTLS (default), TLSImplicit or TLSNone
}

// Mail TLS modes.
const (
	TLSStartTLS = "starttls"
	TLSImplicit = "tls"
	TLSNone     = "none"
)

// Alert says which treaty events are sent where. Empty filters match everything.
type Alert struct {
	ID        string
	Actions   []string // news.Action ids
	Countries []string // ISO 3166-1 alpha-2, upper case
	Treaties  []string // ottawa, ccm, none
	Query     string   // optional rule-syntax query the event's article must match
	// SavedSearch is the id of a saved search (index.SearchSaver) whose
	// query the event's article must also match.
	SavedSearch string
	// On says which new events fire the rule: OnAny (default), OnNewEvent or
	// OnNewStage (see the constants).
	On string
	// Cooldown is the least time between two firings of the rule; events
	// within it are delayed, not dropped. 0 means no cooldown.
	Cooldown Duration
	Channels []Channel
	Pos      Position // of the first character of Query (like Rule.Pos); of the alert when Query is empty
}

// Alert.On values.
const (
	// OnAny fires for every event recorded for the first time: a new
	// (country, action, treaty), so each new withdrawal stage too.
	OnAny = "any"
	// OnNewEvent fires only for moves not known before: for a withdrawal
	// stage, when no other stage of that country's withdrawal from that
	// treaty is known; other actions behave as with OnAny.
	OnNewEvent = "new_event"
	// OnNewStage fires only for a further stage (announce, vote, notify,
	// effective) of a withdrawal already known.
	OnNewStage = "new_stage"
)

// Subscriber receives the digest by e-mail on their own schedule.
type Subscriber struct {
	ID       string
	Name     string
	Email    string
	TimeZone string // IANA name; default UTC
	// SendAt is a cron spec read in TimeZone: "0 7 * * *" is 07:00 there.
	// Default DefaultSendAt.
	SendAt string
	// What they follow; all empty means everything. An article is in their
	// digest when it matches any of them.
	Topics        []string
	Countries     []string
	Actions       []string
	Queries       []string // rule-syntax queries
	SavedSearches []string // ids of saved searches
	// SendEmpty says whether a period with nothing new sends a short
	// "nothing new" mail (default true) or nothing.
	SendEmpty bool
	Pos       Position // of the subscriber's first key
}

// Location is the subscriber's time zone; TimeZone was checked by Parse.
func (s Subscriber) Location() *time.Location {
	loc, err := time.LoadLocation(s.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// Channel kinds.
const (
	ChannelEmail   = "email"
	ChannelWebhook = "webhook"
	ChannelSlack   = "slack"
	ChannelTeams   = "teams"
)

// Channel is one destination of an alert.
type Channel struct {
	Kind      string   // email, webhook, slack or teams
	To        []string // email: recipients
	URL       string   // webhook, slack, teams: where to POST
	SecretEnv string   // webhook: env var holding the HMAC signing secret
}

// Source is one configured news source.
type Source struct {
	ID, Name, Kind, URL, Language, Country, Schedule string
	// FetchPages is nil when the file does not say; NewsSources then applies the
	// kind's default.
	FetchPages *bool
	Selectors  Selectors
	Pos        Position // of the source's first key
}

// Selectors are CSS selectors for pages the generic extractor gets wrong.
type Selectors struct{ Links, Title, Body, Date string }

// Topic is a named group of weighted keyword rules.
type Topic struct {
	ID, Name  string
	Threshold float64 // score at which an article is put in the topic; default 1
	Rules     []Rule
	Pos       Position // of the topic's first key
}

// Rule is one analyst query in the classify/query syntax.
type Rule struct {
	ID, Language, Query string
	Weight              float64 // default 1; negative weights count against the topic
	// Pos is the position of the first character of Query in the file, so that
	// a syntax error at line l, column c of the query is at Pos.Line+l-1, and on
	// its first line at column Pos.Col+c-1.
	Pos Position
}

// Duration is a time.Duration written in Go syntax ("30s", "15m", "1h30m").
type Duration struct{ time.Duration }

// Error is one problem in a config file.
type Error struct {
	Pos Position
	Msg string
}

func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

// Errors is every problem Parse found, sorted by position.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.As find the individual *Error values.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

func (es Errors) sort() {
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i].Pos, es[j].Pos
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
}

// Resolve picks the config file: the --config flag, else $MINEWATCH_CONFIG,
// else ./minewatch.yaml if it exists, else "" (the embedded default).
func Resolve(flag string, getenv func(string) string, exists func(string) bool) string {
	if flag != "" {
		return flag
	}
	if getenv != nil {
		if p := getenv(EnvConfig); p != "" {
			return p
		}
	}
	if exists != nil && exists(LocalFile) {
		return LocalFile
	}
	return ""
}

// FileExists reports whether path names an existing regular file; it is the
// exists argument cmd passes to Resolve.
func FileExists(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

// Load reads and parses the config at path; "" means the embedded default.
// Problems in the file come back as Errors.
func Load(path string) (*Config, error) {
	if path == "" {
		return Parse(DefaultName, DefaultYAML())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config %s: %w", path, err)
	}
	return Parse(path, data)
}

// CheckFile reads path like Load but parses it with Check.
func CheckFile(path string) (*Config, error) {
	if path == "" {
		return Check(DefaultName, DefaultYAML())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config %s: %w", path, err)
	}
	return Check(path, data)
}

// DefaultYAML is the embedded default config: minewatch.yaml followed by the
// default rule pack, rules.yaml. It is what `minewatch config print` shows.
func DefaultYAML() []byte {
	main, err1 := embedded.ReadFile("minewatch.yaml")
	rules, err2 := embedded.ReadFile("rules.yaml")
	if err := errors.Join(err1, err2); err != nil {
		panic("config: embedded files missing: " + err.Error())
	}
	out := make([]byte, 0, len(main)+len(rules)+1)
	out = append(out, main...)
	if len(out) > 0 && out[len(out)-1] != '\n' {
		out = append(out, '\n')
	}
	return append(out, rules...)
}

// Default is the embedded default config, parsed. It panics only if the
// embedded file is broken, which a test rules out.
func Default() *Config {
	c, err := parse(DefaultName, DefaultYAML(), nil)
	if err != nil {
		panic("config: embedded default is invalid:\n" + err.Error())
	}
	return c
}

// NewsSources converts the configured sources to the shared news type, applying
// the kind's FetchPages default: true except for query feeds, whose items link
// to many outlets and are mostly worth only their summary.
func (c *Config) NewsSources() []news.Source {
	out := make([]news.Source, len(c.Sources))
	for i, s := range c.Sources {
		fetch := news.SourceKind(s.Kind) != news.KindQuery
		if s.FetchPages != nil {
			fetch = *s.FetchPages
		}
		out[i] = news.Source{
			ID:         s.ID,
			Name:       s.Name,
			Kind:       news.SourceKind(s.Kind),
			URL:        s.URL,
			Language:   s.Language,
			Country:    s.Country,
			Schedule:   s.Schedule,
			FetchPages: fetch,
			Selectors: news.Selectors{
				Links: s.Selectors.Links,
				Title: s.Selectors.Title,
				Body:  s.Selectors.Body,
				Date:  s.Selectors.Date,
			},
		}
	}
	return out
}

// UnmarshalYAML reads a duration written like "30s" or "1h30m".
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return fmt.Errorf("duration: %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration: %w", err)
	}
	d.Duration = v
	return nil
}

// MarshalYAML writes the duration the way UnmarshalYAML reads it.
func (d Duration) MarshalYAML() (any, error) { return d.Duration.String(), nil }
