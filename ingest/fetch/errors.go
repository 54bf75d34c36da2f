package fetch

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"
)

// Sentinel errors. Match them with errors.Is; the returned errors wrap them
// with the URL and the detail.
var (
	ErrTooLarge        = errors.New("fetch: body too large")
	ErrPrivateAddress  = errors.New("fetch: refusing private or local address")
	ErrBlockedByRobots = errors.New("fetch: disallowed by robots.txt")
	ErrBadScheme       = errors.New("fetch: only http and https URLs are fetched")
	// ErrUserinfo refuses URLs carrying user:password@: a credential would
	// end up in logs and stored URLs, and "trusted.example@10.0.0.1" is a
	// classic way to dress an internal address up as a trusted one.
	ErrUserinfo         = errors.New("fetch: URLs with user information (user@host) are not fetched")
	ErrTooManyRedirects = errors.New("fetch: too many redirects")
	ErrEmptyBody        = errors.New("fetch: empty body")
)

// StatusError is a response that was neither 2xx nor 304.
type StatusError struct {
	Code int
	// RetryAfter is the server's Retry-After on 429 and 503, zero otherwise.
	RetryAfter time.Duration
}

func (e *StatusError) Error() string {
	s := fmt.Sprintf("fetch: HTTP %d %s", e.Code, http.StatusText(e.Code))
	if e.RetryAfter > 0 {
		s += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
	}
	return s
}

// Classifier lets errors from outside this package (a feed parser's, say)
// name their own class for Class.
type Classifier interface {
	error
	ErrorClass() string
}

// Class names the kind of a fetch failure for source state, logs and metrics:
// "dns", "tls", "timeout", "http", "robots", "private", "too_large",
// "network" or "other". "private" is every refusal of where to fetch from:
// a non-public address, a scheme other than http(s), credentials in the URL.
// An error that implements Classifier names its own.
func Class(err error) string {
	if err == nil {
		return ""
	}
	if c, ok := errors.AsType[Classifier](err); ok {
		return c.ErrorClass()
	}
	switch {
	case errors.Is(err, ErrBlockedByRobots):
		return "robots"
	case errors.Is(err, ErrPrivateAddress), errors.Is(err, ErrBadScheme), errors.Is(err, ErrUserinfo):
		return "private"
	case errors.Is(err, ErrTooLarge), isHeaderOverflow(err):
		return "too_large"
	case errors.Is(err, ErrTooManyRedirects), errors.Is(err, ErrEmptyBody):
		return "http"
	}
	if _, ok := errors.AsType[*StatusError](err); ok {
		return "http"
	}
	if _, ok := errors.AsType[*net.DNSError](err); ok {
		return "dns"
	}
	if isTLS(err) {
		return "tls"
	}
	if isTimeout(err) {
		return "timeout"
	}
	if errors.Is(err, context.Canceled) {
		return "other"
	}
	if _, ok := errors.AsType[*net.OpError](err); ok {
		return "network"
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.EHOSTUNREACH) ||
		errors.Is(err, syscall.ENETUNREACH) {
		return "network"
	}
	return "other"
}

// IsTransient reports whether trying again soon may succeed: timeouts,
// dropped connections, temporary DNS failures, 408, 429, 500, 502, 503 and 504.
// Robots refusals, private addresses, oversized bodies, other 4xx, refused
// connections and unknown hosts are not: they need a human or a long wait.
func IsTransient(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrBlockedByRobots) || errors.Is(err, ErrPrivateAddress) ||
		errors.Is(err, ErrTooLarge) || errors.Is(err, ErrBadScheme) || errors.Is(err, ErrUserinfo) ||
		isHeaderOverflow(err) ||
		errors.Is(err, ErrTooManyRedirects) || errors.Is(err, context.Canceled) {
		return false
	}
	if se, ok := errors.AsType[*StatusError](err); ok {
		switch se.Code {
		case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
			http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return true
		}
		return false
	}
	if de, ok := errors.AsType[*net.DNSError](err); ok {
		return de.IsTimeout || de.IsTemporary
	}
	if isTLS(err) {
		return false
	}
	if isTimeout(err) {
		return true
	}
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}

// isHeaderOverflow reports net/http's refusal of a header block over
// Transport.MaxResponseHeaderBytes, which has no typed error.
func isHeaderOverflow(err error) bool {
	return strings.Contains(err.Error(), "server response headers exceeded")
}

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, errAttemptTimeout) {
		return true
	}
	ne, ok := errors.AsType[net.Error](err)
	return ok && ne.Timeout()
}

func isTLS(err error) bool {
	if _, ok := errors.AsType[*tls.CertificateVerificationError](err); ok {
		return true
	}
	if _, ok := errors.AsType[tls.RecordHeaderError](err); ok {
		return true
	}
	if _, ok := errors.AsType[tls.AlertError](err); ok {
		return true
	}
	if _, ok := errors.AsType[x509.UnknownAuthorityError](err); ok {
		return true
	}
	if _, ok := errors.AsType[x509.HostnameError](err); ok {
		return true
	}
	if _, ok := errors.AsType[x509.CertificateInvalidError](err); ok {
		return true
	}
	// Handshake failures without a typed error still say so.
	return strings.Contains(err.Error(), "tls: ")
}
