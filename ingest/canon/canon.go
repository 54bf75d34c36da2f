// Package canon canonicalises article URLs, so that the same story reached through
// different links (tracking parameters, case, default ports, fragments) gets one identity.
package canon

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"

	"golang.org/x/net/idna"
)

var (
	// ErrUnsupportedScheme is returned for URLs that are not http or https.
	ErrUnsupportedScheme = errors.New("unsupported URL scheme")
	// ErrNoHost is returned for URLs without a host name.
	ErrNoHost = errors.New("URL has no host")
)

// trackingParams are query parameters that only identify a campaign or a click;
// dropping them never changes the page a server returns.
var trackingParams = map[string]bool{
	"fbclid": true, "gclid": true, "dclid": true, "msclkid": true,
	"mc_cid": true, "mc_eid": true, "yclid": true, "_ga": true, "igshid": true,
	"ref_src": true, "cmpid": true, "ocid": true, "at_medium": true,
	"at_campaign": true, "wt_mc": true,
}

// trackingPrefixes are families of tracking parameters (Google Analytics utm_*,
// comScore ns_*).
var trackingPrefixes = []string{"utm_", "ns_"}

// IsTrackingParam reports whether the query parameter name (decoded) is one that
// Clean removes.
func IsTrackingParam(name string) bool {
	name = strings.ToLower(name)
	if trackingParams[name] {
		return true
	}
	for _, p := range trackingPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// hostProfile converts internationalised host names to ASCII. Lookup's strict
// STD3 rules would reject real host names with underscores, so they are relaxed.
var hostProfile = idna.New(
	idna.MapForLookup(),
	idna.BidiRule(),
	idna.StrictDomainName(false),
	idna.Transitional(false),
)

// Clean returns the canonical form of an http or https URL: lower-case scheme and
// host, host in ASCII (IDNA), no default port, no fragment, no tracking
// parameters, remaining query parameters sorted by name (values of one name keep
// their order), dot segments resolved and percent-encoding normalised. Trailing
// slashes are kept as they are, except that an empty path becomes "/". Clean is
// idempotent.
func Clean(rawURL string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil {
		return "", fmt.Errorf("canon: parse %q: %w", rawURL, err)
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", fmt.Errorf("canon: %q: %w %q", rawURL, ErrUnsupportedScheme, u.Scheme)
	}
	if u.Opaque != "" || u.Host == "" {
		return "", fmt.Errorf("canon: %q: %w", rawURL, ErrNoHost)
	}
	host, err := cleanHost(u.Hostname())
	if err != nil {
		return "", fmt.Errorf("canon: %q: %w", rawURL, err)
	}
	port := u.Port()
	if port != "" {
		port = strings.TrimLeft(port, "0")
		if port == "" {
			port = "0"
		}
	}
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		port = ""
	}

	var b strings.Builder
	b.Grow(len(rawURL))
	b.WriteString(scheme)
	b.WriteString("://")
	if u.User != nil {
		b.WriteString(u.User.String())
		b.WriteByte('@')
	}
	if strings.Contains(host, ":") {
		b.WriteString("[" + host + "]")
	} else {
		b.WriteString(host)
	}
	if port != "" {
		b.WriteByte(':')
		b.WriteString(port)
	}
	path := removeDotSegments(normEscapes(u.EscapedPath()))
	if path == "" {
		path = "/"
	}
	b.WriteString(path)
	if q := cleanQuery(u.RawQuery); q != "" {
		b.WriteByte('?')
		b.WriteString(q)
	}
	return b.String(), nil
}

// cleanHost lower-cases the host and converts it to ASCII. IP literals are
// returned in their canonical textual form.
func cleanHost(h string) (string, error) {
	h = strings.TrimRight(h, ".")
	if h == "" {
		return "", ErrNoHost
	}
	if ip := net.ParseIP(h); ip != nil {
		return ip.String(), nil
	}
	ascii := true
	for i := 0; i < len(h); i++ {
		if h[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		h = strings.ToLower(h)
		if strings.ContainsAny(h, " %\"<>\\^`{|}") {
			return "", fmt.Errorf("invalid host %q", h)
		}
		return h, nil
	}
	a, err := hostProfile.ToASCII(h)
	if err != nil {
		return "", fmt.Errorf("host %q to ASCII: %w", h, err)
	}
	a = strings.TrimRight(strings.ToLower(a), ".")
	if a == "" || strings.ContainsAny(a, " %\"<>\\^`{|}") {
		return "", fmt.Errorf("invalid host %q", h)
	}
	return a, nil
}

type param struct {
	key, raw string // key decoded for comparison; raw is "key=value" normalised
}

// cleanQuery drops tracking parameters and sorts the rest by name. Only '&'
// separates parameters: ';' is left alone, since few servers treat it as one.
func cleanQuery(raw string) string {
	if raw == "" {
		return ""
	}
	var params []param
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, v, hasEq := strings.Cut(part, "=")
		k = normEscapes(k)
		dk, err := url.QueryUnescape(k)
		if err != nil {
			dk = k
		}
		if IsTrackingParam(dk) {
			continue
		}
		p := param{key: k, raw: k}
		if hasEq {
			p.raw = k + "=" + normEscapes(v)
		}
		params = append(params, p)
	}
	slices.SortStableFunc(params, func(a, b param) int { return strings.Compare(a.key, b.key) })
	parts := make([]string, len(params))
	for i, p := range params {
		parts[i] = p.raw
	}
	return strings.Join(parts, "&")
}

func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

const upperHex = "0123456789ABCDEF"

// normEscapes normalises percent-encoding (RFC 3986 §6.2.2): escapes of
// unreserved characters are decoded, other escapes get upper-case hex, a stray
// '%' becomes "%25", and bytes that may not appear raw are escaped.
func normEscapes(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' {
			if i+2 < len(s) {
				hi, ok1 := unhex(s[i+1])
				lo, ok2 := unhex(s[i+2])
				if ok1 && ok2 {
					d := hi<<4 | lo
					if isUnreserved(d) {
						b.WriteByte(d)
					} else {
						b.WriteByte('%')
						b.WriteByte(upperHex[d>>4])
						b.WriteByte(upperHex[d&15])
					}
					i += 2
					continue
				}
			}
			b.WriteString("%25")
			continue
		}
		if c <= 0x20 || c >= 0x7f || strings.IndexByte("\"<>\\^`{|}#", c) >= 0 {
			b.WriteByte('%')
			b.WriteByte(upperHex[c>>4])
			b.WriteByte(upperHex[c&15])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// removeDotSegments implements RFC 3986 §5.2.4 on an escaped path.
func removeDotSegments(p string) string {
	if !strings.Contains(p, ".") {
		return p
	}
	segs := strings.Split(p, "/")
	out := make([]string, 0, len(segs))
	for i, s := range segs {
		last := i == len(segs)-1
		switch s {
		case ".":
			if last {
				out = append(out, "")
			}
		case "..":
			// Never pop the leading empty segment of an absolute path.
			if len(out) > 1 {
				out = out[:len(out)-1]
			}
			if last {
				out = append(out, "")
			}
		default:
			out = append(out, s)
		}
	}
	r := strings.Join(out, "/")
	if strings.HasPrefix(p, "/") && !strings.HasPrefix(r, "/") {
		r = "/" + r
	}
	return r
}
