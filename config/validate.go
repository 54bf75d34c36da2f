package config

import (
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	// The subscribers' time zones must resolve on hosts without tzdata
	// (minimal containers); this embeds it (about 450 KB).
	_ "time/tzdata"

	"github.com/robfig/cron/v3"
	"go.yaml.in/yaml/v3"

	"github.com/minewatch/minewatch/news"
)

// Value checks. Each reports its own problem at the value's position.

var idRe = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

func (d *decoder) checkID(n *yaml.Node, v string) {
	if !idRe.MatchString(v) {
		d.errorf(n, "bad id %q: use 1–64 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit", v)
	}
}

func (d *decoder) oneOf(key, what string, allowed ...string) func(*yaml.Node, string) {
	return func(n *yaml.Node, v string) {
		for _, a := range allowed {
			if v == a {
				return
			}
		}
		msg := "unknown " + what + " " + strconv.Quote(v) + " (want " + quoteJoin(allowed) + ")"
		if s := suggest(v, allowed); s != "" {
			msg = "unknown " + what + " " + strconv.Quote(v) + " (did you mean " + strconv.Quote(s) + "?)"
		}
		d.errorf(n, "%s: %s", key, msg)
	}
}

func quoteJoin(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	if len(q) <= 2 {
		return strings.Join(q, " or ")
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

// badURL says what is wrong with an absolute http(s) URL, or "".
func badURL(v string) string {
	for _, r := range v {
		if r <= ' ' || r == 0x7f || r > 0x7e {
			return "contains spaces or non-ASCII characters; percent-encode them"
		}
	}
	u, err := url.Parse(v)
	if err != nil {
		return strings.TrimPrefix(err.Error(), "parse "+strconv.Quote(v)+": ")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "must be an absolute http or https URL"
	}
	if u.Host == "" || u.Hostname() == "" {
		return "has no host"
	}
	if u.User != nil {
		return "must not contain credentials"
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "has a bad port"
		}
	}
	return ""
}

func (d *decoder) checkURL(key string) func(*yaml.Node, string) {
	return func(n *yaml.Node, v string) {
		if msg := badURL(v); msg != "" {
			d.errorf(n, "%s: bad URL %q: %s", key, v, msg)
		}
	}
}

func (d *decoder) checkURLItem(key string) func(*yaml.Node, string) string {
	return func(n *yaml.Node, v string) string {
		d.checkURL(key)(n, v)
		return v
	}
}

func (d *decoder) checkContact(n *yaml.Node, v string) {
	if strings.HasPrefix(v, "mailto:") {
		if _, err := mail.ParseAddress(strings.TrimPrefix(v, "mailto:")); err != nil {
			d.errorf(n, "contact: bad mailto address %q", v)
		}
		return
	}
	if msg := badURL(v); msg != "" {
		d.errorf(n, "contact: bad URL %q: %s (use an http(s) page or mailto: address)", v, msg)
	}
}

// checkUserAgent keeps the header valid: a product token of visible ASCII.
func (d *decoder) checkUserAgent(n *yaml.Node, v string) {
	for _, r := range v {
		if r < ' ' || r > '~' {
			d.errorf(n, "user_agent: %q contains characters not allowed in an HTTP header", v)
			return
		}
	}
}

func (d *decoder) checkPrivate(n *yaml.Node, v string) string {
	if _, err := netip.ParsePrefix(v); err == nil {
		return v
	}
	if _, err := netip.ParseAddr(v); err == nil {
		return v
	}
	if validHostname(v) {
		return strings.ToLower(v)
	}
	d.errorf(n, "allow_private: %q is not a host name, IP address or CIDR prefix", v)
	return v
}

var labelRe = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)

func validHostname(h string) bool {
	h = strings.TrimSuffix(h, ".")
	if h == "" || len(h) > 253 {
		return false
	}
	labels := strings.Split(h, ".")
	for _, l := range labels {
		if !labelRe.MatchString(l) {
			return false
		}
	}
	// An all-digit last label is a mistyped IP address (300.1.1.1), not a name.
	return strings.Trim(labels[len(labels)-1], "0123456789") != ""
}

func (d *decoder) checkHost(key string) func(*yaml.Node, string) {
	return func(n *yaml.Node, v string) {
		if _, err := netip.ParseAddr(v); err != nil && !validHostname(v) {
			d.errorf(n, "%s: %q is not a host name or IP address", key, v)
		}
	}
}

func (d *decoder) checkListen(n *yaml.Node, v string) {
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		d.errorf(n, "listen: bad address %q: want host:port, e.g. 127.0.0.1:8080", v)
		return
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		d.errorf(n, "listen: bad port in %q", v)
		return
	}
	if host == "" {
		return
	}
	if _, err := netip.ParseAddr(host); err != nil && !validHostname(host) {
		d.errorf(n, "listen: bad host in %q", v)
	}
}

var envRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func (d *decoder) checkEnv(key string) func(*yaml.Node, string) {
	return func(n *yaml.Node, v string) {
		if !envRe.MatchString(v) {
			d.errorf(n, "%s: %q is not an environment variable name (it holds the name, e.g. MINEWATCH_SMTP_PASSWORD, not the secret)", key, v)
		}
	}
}

func (d *decoder) checkAddress(key string) func(*yaml.Node, string) {
	return func(n *yaml.Node, v string) {
		if _, err := mail.ParseAddress(v); err != nil {
			d.errorf(n, "%s: bad email address %q", key, v)
		}
	}
}

// Elasticsearch index names are lowercase and exclude these characters.
var indexPrefixRe = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,199}$`)

func (d *decoder) checkIndexPrefix(n *yaml.Node, v string) {
	if !indexPrefixRe.MatchString(v) {
		d.errorf(n, "index_prefix: %q is not a valid Elasticsearch index name prefix (lowercase letters, digits, '.', '_', '-')", v)
	}
}

func (d *decoder) checkSchedule(n *yaml.Node, v string) {
	if _, err := cron.ParseStandard(v); err != nil {
		d.errorf(n, "schedule: bad cron spec %q: %v (e.g. \"*/15 * * * *\", \"@every 30m\" or \"@hourly\")", v, err)
	}
}

func (d *decoder) checkOptimize(n *yaml.Node, v string) {
	if v == OptimizeOff {
		return
	}
	if _, err := cron.ParseStandard(v); err != nil {
		d.errorf(n, "optimize: bad cron spec %q: %v (e.g. \"30 3 * * *\" for 03:30 every night, or %q)", v, err, OptimizeOff)
	}
}

// checkSelector catches selectors that are plainly not CSS. Full CSS
// validation belongs to ingest, which compiles them with cascadia.
// checkSendAt takes standard cron specs only: a digest is a time of day in
// the subscriber's zone, which "@every" cannot say.
func (d *decoder) checkSendAt(n *yaml.Node, v string) {
	if strings.HasPrefix(v, "@every") {
		d.errorf(n, "send_at: %q is an interval; give a time of day as a cron spec, e.g. \"0 7 * * *\" (07:00) or \"30 6 * * 1-5\"", v)
		return
	}
	if strings.HasPrefix(strings.ToUpper(v), "TZ=") || strings.HasPrefix(strings.ToUpper(v), "CRON_TZ=") {
		d.errorf(n, "send_at: %q sets a time zone; use time_zone instead", v)
		return
	}
	if _, err := cron.ParseStandard(v); err != nil {
		d.errorf(n, "send_at: bad cron spec %q: %v (e.g. \"0 7 * * *\" for 07:00 every day)", v, err)
	}
}

func (d *decoder) checkTimeZone(n *yaml.Node, v string) {
	if _, err := time.LoadLocation(v); err != nil || v == "Local" {
		d.errorf(n, "time_zone: unknown time zone %q (use an IANA name such as Europe/Vilnius or UTC)", v)
	}
}

func (d *decoder) checkSelector(key string) func(*yaml.Node, string) {
	return func(n *yaml.Node, v string) {
		if strings.Count(v, "[") != strings.Count(v, "]") || strings.Count(v, "(") != strings.Count(v, ")") {
			d.errorf(n, "selectors.%s: unbalanced brackets in %q", key, v)
		}
	}
}

func (d *decoder) checkLanguage(n *yaml.Node, v string) {
	if !isLanguage(strings.ToLower(v)) {
		msg := "language: %q is not an ISO 639-1 code (two letters, e.g. en, pl, uk)"
		d.errorf(n, msg, v)
	}
}

func (d *decoder) checkCountry(key string) func(*yaml.Node, string) {
	return func(n *yaml.Node, v string) {
		if !isCountry(strings.ToUpper(v)) {
			d.errorf(n, "%s: %q is not an ISO 3166-1 alpha-2 code (two letters, e.g. PL, UA, LT)", key, v)
		}
	}
}

func (d *decoder) checkCountryItem(key string) func(*yaml.Node, string) string {
	return func(n *yaml.Node, v string) string {
		d.checkCountry(key)(n, v)
		return strings.ToUpper(v)
	}
}

func (d *decoder) checkAction(n *yaml.Node, v string) string {
	ids := make([]string, len(news.Actions))
	for i, a := range news.Actions {
		if string(a) == v {
			return v
		}
		ids[i] = string(a)
	}
	if s := suggest(v, ids); s != "" {
		d.errorf(n, "actions: unknown action %q (did you mean %q?)", v, s)
	} else {
		d.errorf(n, "actions: unknown action %q (want one of %s)", v, strings.Join(ids, ", "))
	}
	return v
}

func (d *decoder) checkTreaty(n *yaml.Node, v string) string {
	d.oneOf("treaties", "treaty", string(news.TreatyOttawa), string(news.TreatyCCM), string(news.TreatyNone))(n, v)
	return v
}

func (d *decoder) positive(key string) func(*yaml.Node, float64) {
	return func(n *yaml.Node, v float64) {
		if v < 0 {
			d.errorf(n, "%s: must not be negative", key)
		}
	}
}

var userNameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`)

func (d *decoder) checkUserName(n *yaml.Node, v string) {
	if !userNameRe.MatchString(v) {
		d.errorf(n, "name: bad name %q: use 1–64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit", v)
	}
}

// Password hash formats: argon2id in PHC string format, and bcrypt. The web
// package parses them fully when it starts; this catches a pasted password
// or a truncated hash with its position in the file.
var (
	argon2idRe = regexp.MustCompile(`^\$argon2id\$v=19\$m=[0-9]{1,10},t=[0-9]{1,10},p=[0-9]{1,3}\$[A-Za-z0-9+/]{11,}\$[A-Za-z0-9+/]{22,}$`)
	bcryptRe   = regexp.MustCompile(`^\$2[aby]\$[0-3][0-9]\$[./A-Za-z0-9]{53}$`)
)

func (d *decoder) checkPasswordHash(n *yaml.Node, v string) {
	if argon2idRe.MatchString(v) || bcryptRe.MatchString(v) {
		return
	}
	// Never echo the value: it may be a password typed in by mistake.
	d.errorf(n, "password_hash: not an argon2id ($argon2id$v=19$m=…,t=…,p=…$salt$hash) or bcrypt ($2b$…) hash; make one with `minewatch users hash-password`")
}

var sha256HexRe = regexp.MustCompile(`^(sha256:)?[0-9a-fA-F]{64}$`)

func (d *decoder) checkTokenHash(n *yaml.Node, v string) {
	if !sha256HexRe.MatchString(v) {
		d.errorf(n, "token_hash: not a SHA-256 in hex (64 hex digits); make one with `minewatch users hash-token`")
	}
}

func (d *decoder) checkProxy(n *yaml.Node, v string) string {
	if _, err := netip.ParsePrefix(v); err == nil {
		return v
	}
	if _, err := netip.ParseAddr(v); err == nil {
		return v
	}
	d.errorf(n, "trusted_proxies: %q is not an IP address or CIDR prefix", v)
	return v
}
