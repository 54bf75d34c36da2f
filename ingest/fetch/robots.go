package fetch

import (
	"bufio"
	"bytes"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// robotsToken is the product token minewatch answers to in robots.txt.
const robotsToken = "minewatch"

// maxRobotsBytes is how much of a robots.txt is read. RFC 9309 §2.5 asks
// crawlers to parse at least 500 KiB; the rest is ignored.
const maxRobotsBytes = 512 << 10

// robotsRules are the rules of the groups of one robots.txt that apply to one
// user agent (RFC 9309).
type robotsRules struct {
	rules      []robotsRule
	crawlDelay time.Duration
}

type robotsRule struct {
	allow   bool
	pattern string // percent-encoding normalised; may hold '*' and a final '$'
}

type robotsGroup struct {
	agents     []string
	rules      []robotsRule
	crawlDelay time.Duration
}

// parseRobots parses a robots.txt and keeps the groups that apply to agent:
// every group naming its product token, else every "*" group, else none
// (which allows everything). It never fails: lines it does not understand are
// skipped, as RFC 9309 §2.2 asks.
func parseRobots(data []byte, agent string) *robotsRules {
	if len(data) > maxRobotsBytes {
		data = data[:maxRobotsBytes]
	}
	data = bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))
	var groups []*robotsGroup
	var cur *robotsGroup
	inAgents := false // the previous meaningful line was a user-agent line
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), maxRobotsBytes+1)
	sc.Split(scanRobotsLines)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		key = strings.ToLower(strings.TrimSpace(key))
		value = strings.TrimSpace(value)
		switch key {
		case "user-agent":
			if !inAgents || cur == nil {
				cur = &robotsGroup{}
				groups = append(groups, cur)
			}
			cur.agents = append(cur.agents, agentToken(value))
			inAgents = true
		case "allow", "disallow":
			inAgents = false
			if cur == nil || value == "" {
				// Rules before any user-agent line belong to no group, and an
				// empty Disallow means "nothing is disallowed".
				continue
			}
			cur.rules = append(cur.rules, robotsRule{allow: key == "allow", pattern: normalisePath(value)})
		case "crawl-delay":
			inAgents = false
			if cur == nil {
				continue
			}
			if s, err := strconv.ParseFloat(value, 64); err == nil && s > 0 && s < 1e6 {
				cur.crawlDelay = time.Duration(s * float64(time.Second))
			}
		case "sitemap":
			// A sitemap line belongs to no group and does not end one.
		default:
			inAgents = false
		}
	}
	agent = strings.ToLower(agent)
	out := &robotsRules{}
	matched := false
	for _, wantStar := range []bool{false, true} {
		for _, g := range groups {
			for _, a := range g.agents {
				if (wantStar && a == "*") || (!wantStar && a == agent) {
					out.rules = append(out.rules, g.rules...)
					out.crawlDelay = max(out.crawlDelay, g.crawlDelay)
					matched = true
					break
				}
			}
		}
		if matched {
			break
		}
	}
	return out
}

// scanRobotsLines splits on LF, CR LF or a lone CR, as RFC 9309 allows all three.
func scanRobotsLines(data []byte, atEOF bool) (int, []byte, error) {
	if atEOF && len(data) == 0 {
		return 0, nil, nil
	}
	if i := bytes.IndexAny(data, "\r\n"); i >= 0 {
		if data[i] == '\r' {
			if i+1 < len(data) {
				if data[i+1] == '\n' {
					return i + 2, data[:i], nil
				}
				return i + 1, data[:i], nil
			}
			if !atEOF {
				return 0, nil, nil // a LF may follow
			}
		}
		return i + 1, data[:i], nil
	}
	if atEOF {
		return len(data), data, nil
	}
	return 0, nil, nil
}

// agentToken reduces a user-agent line's value to a lower-case product token:
// "MineWatch/1.0 (+url)" names "minewatch".
func agentToken(v string) string {
	if i := strings.IndexAny(v, "/ \t"); i >= 0 {
		v = v[:i]
	}
	return strings.ToLower(v)
}

const upperHex = "0123456789ABCDEF"

// normalisePath percent-encodes bytes outside printable ASCII and upper-cases
// existing escapes, so a rule and a URL path compare octet by octet
// (RFC 9309 §2.2.2).
func normalisePath(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b.WriteByte('%')
			b.WriteByte(upper(s[i+1]))
			b.WriteByte(upper(s[i+2]))
			i += 2
		case c <= 0x20 || c >= 0x7F:
			b.WriteByte('%')
			b.WriteByte(upperHex[c>>4])
			b.WriteByte(upperHex[c&0xF])
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func upper(c byte) byte {
	if 'a' <= c && c <= 'f' {
		return c - 'a' + 'A'
	}
	return c
}

// allowed reports whether the rules let the agent fetch u. The longest
// matching pattern wins; on a tie, Allow wins (RFC 9309 §2.2.2).
func (r *robotsRules) allowed(u *url.URL) bool {
	if r == nil || len(r.rules) == 0 {
		return true
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	if path == "/robots.txt" {
		return true
	}
	if u.RawQuery != "" {
		path += "?" + u.RawQuery
	}
	path = normalisePath(path)
	best, allow := -1, true
	for _, rule := range r.rules {
		if !matchRobots(rule.pattern, path) {
			continue
		}
		n := len(rule.pattern)
		if n > best || (n == best && rule.allow) {
			best, allow = n, rule.allow
		}
	}
	return allow
}

// matchRobots matches a robots.txt path pattern against a path: '*' matches
// any run of octets, a final '$' anchors the end, and otherwise the pattern
// is a prefix. It runs in O(len(pattern)·len(path)) at worst, with no
// recursion, so a hostile robots.txt cannot make it blow up.
func matchRobots(pattern, path string) bool {
	if strings.HasSuffix(pattern, "$") {
		pattern = pattern[:len(pattern)-1]
	} else {
		pattern += "*"
	}
	p, s := 0, 0
	star, mark := -1, 0
	for s < len(path) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, s
			p++
		case p < len(pattern) && pattern[p] == path[s]:
			p++
			s++
		case star >= 0:
			p = star + 1
			mark++
			s = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
