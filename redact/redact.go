// Package redact hides the credentials that URLs carry (userinfo, API keys
// and tokens in the query) before a URL or a message quoting one leaves the
// process: logs, error texts, web pages and the JSON API.
package redact

import (
	"net/url"
	"regexp"
	"strings"
)

// Mask replaces every secret.
const Mask = "REDACTED"

// secretParams are query parameters that commonly carry credentials (news
// APIs take ?apiKey= or ?token=, signed URLs ?sig=). A parameter matches by
// its whole name or a suffix after "_" or "-" (x_api_key, feed-token).
var secretParams = []string{"key", "apikey", "api_key", "token", "access_token", "auth", "secret",
	"password", "passwd", "sig", "signature", "client_secret", "code"}

// IsSecretParam reports whether a query parameter of this name is taken to
// carry a credential.
func IsSecretParam(name string) bool {
	k := strings.ToLower(name)
	for _, s := range secretParams {
		if k == s || strings.HasSuffix(k, "_"+s) || strings.HasSuffix(k, "-"+s) {
			return true
		}
	}
	return false
}

// URL hides the credentials raw may carry: userinfo, and the values of the
// query parameters IsSecretParam names. The rest stays as written, in its
// order, so an operator can still tell which feed or host is meant. A URL
// that does not parse is masked whole: what it hides cannot be told.
func URL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return Mask
	}
	changed := false
	if u.User != nil {
		u.User = url.User(Mask)
		changed = true
	}
	if q, ok := query(u.RawQuery); ok {
		u.RawQuery = q
		changed = true
	}
	if !changed {
		return raw
	}
	return u.String()
}

// query masks the secret values of a raw query, keeping every other byte;
// ok is false when nothing needed masking.
func query(raw string) (string, bool) {
	if raw == "" {
		return raw, false
	}
	parts := strings.Split(raw, "&")
	ok := false
	for i, p := range parts {
		name, _, hasValue := strings.Cut(p, "=")
		if n, err := url.QueryUnescape(name); err == nil {
			name = n
		}
		if hasValue && IsSecretParam(name) {
			parts[i] = p[:strings.IndexByte(p, '=')+1] + Mask
			ok = true
		}
	}
	return strings.Join(parts, "&"), ok
}

// urlInText finds absolute URLs in free text: up to a space, a quote or an
// angle bracket, which is how Go's errors and logs delimit them.
var urlInText = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^\s"'<>` + "`" + `]+`)

// Text applies URL to every absolute URL in s, such as an error message
// quoting the URL that failed.
func Text(s string) string {
	if !strings.Contains(s, "://") {
		return s
	}
	return urlInText.ReplaceAllStringFunc(s, func(u string) string {
		// "fetch URL: error" and "(URL)" keep their punctuation outside the
		// URL. Only characters a query value carries escaped are left out
		// (QueryEscape escapes them); a full stop may end a key, so it goes
		// with the URL, and a sentence may lose it.
		trimmed := strings.TrimRight(u, ":,;)]}")
		return URL(trimmed) + u[len(trimmed):]
	})
}

// Error wraps err so that its message shows every URL redacted, while
// errors.Is and errors.As still see err and what it wraps. nil stays nil.
func Error(err error) error {
	if err == nil {
		return nil
	}
	if _, done := err.(*redactedError); done {
		return err
	}
	msg := err.Error()
	clean := Text(msg)
	if clean == msg {
		return err
	}
	return &redactedError{err: err, msg: clean}
}

type redactedError struct {
	err error
	msg string
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
