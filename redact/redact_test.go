package redact

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"strings"
	"testing"
)

const secret = "s3cr3t-K3y-0123456789"

func TestURL(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"no secret stays as written", "https://news.example.org/feed.xml?lang=en&b=2", "https://news.example.org/feed.xml?lang=en&b=2"},
		{"apiKey", "https://newsapi.example/v2/everything?q=landmine&apiKey=" + secret, "https://newsapi.example/v2/everything?q=landmine&apiKey=REDACTED"},
		{"token first, order kept", "https://x.example/rss?token=" + secret + "&q=mines&page=2", "https://x.example/rss?token=REDACTED&q=mines&page=2"},
		{"suffix names", "https://x.example/?x_api_key=" + secret + "&feed-token=" + secret, "https://x.example/?x_api_key=REDACTED&feed-token=REDACTED"},
		{"escaped name", "https://x.example/?api%5Fkey=" + secret, "https://x.example/?api%5Fkey=REDACTED"},
		{"signature", "https://cdn.example/f.xml?sig=" + secret + "&se=2026", "https://cdn.example/f.xml?sig=REDACTED&se=2026"},
		{"userinfo", "https://reader:" + secret + "@feeds.example/all.xml", "https://REDACTED@feeds.example/all.xml"},
		{"not a secret name", "https://x.example/?monkey=1&keyword=mines", "https://x.example/?monkey=1&keyword=mines"},
		{"parameter without value", "https://x.example/?token", "https://x.example/?token"},
		{"unparsable", "https://x.example/%zz?token=" + secret, Mask},
		{"empty", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := URL(tc.in); got != tc.want {
				t.Errorf("URL(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"go http error", `fetch https://api.example/v1?apiKey=` + secret + `: Get "https://api.example/v1?apiKey=` + secret + `": dial tcp: connection refused`,
			`fetch https://api.example/v1?apiKey=REDACTED: Get "https://api.example/v1?apiKey=REDACTED": dial tcp: connection refused`},
		{"punctuation after a secret goes with it", "moved to https://x.example/?token=" + secret + ".", "moved to https://x.example/?token=REDACTED"},
		{"punctuation after a plain URL stays", "(see https://x.example/?q=mines).", "(see https://x.example/?q=mines)."},
		{"parenthesis after a secret stays", "(see https://x.example/?key=" + secret + "), then", "(see https://x.example/?key=REDACTED), then"},
		{"two urls", "https://a.example/?token=1 -> https://b.example/?token=2", "https://a.example/?token=REDACTED -> https://b.example/?token=REDACTED"},
		{"no url", "connection reset by peer", "connection reset by peer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Text(tc.in); got != tc.want {
				t.Errorf("Text(%q)\n = %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestError(t *testing.T) {
	if Error(nil) != nil {
		t.Error("Error(nil) != nil")
	}
	plain := errors.New("no url here")
	if Error(plain) != plain {
		t.Error("an error without a URL should come back as is")
	}
	base := fmt.Errorf("fetch https://x.example/?apiKey=%s: %w", secret, fs.ErrNotExist)
	err := Error(base)
	if strings.Contains(err.Error(), secret) {
		t.Errorf("message still has the secret: %s", err)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Error("errors.Is lost the wrapped sentinel")
	}
	if Error(err) != err {
		t.Error("redacting twice should not wrap twice")
	}
	if wrapped := fmt.Errorf("collect src: %w", err); strings.Contains(wrapped.Error(), secret) {
		t.Errorf("wrapping the redacted error shows the secret: %s", wrapped)
	}
}

// FuzzURL checks that the value of a secret parameter never survives, that
// redacting is idempotent, and that nothing panics.
func FuzzURL(f *testing.F) {
	f.Add("https://newsapi.example/v2/everything?q=mines", secret)
	f.Add("https://u:p@x.example/a?b=c&d", "tok")
	f.Add("%zz", "x")
	f.Add("http://[::1]:8080/?token=", "")
	f.Fuzz(func(t *testing.T, raw, value string) {
		once := URL(raw)
		if URL(once) != once {
			t.Errorf("not idempotent: %q -> %q -> %q", raw, once, URL(once))
		}
		t2 := Text(raw)
		if Text(t2) != t2 {
			t.Errorf("Text not idempotent: %q -> %q -> %q", raw, t2, Text(t2))
		}
		if len(value) < 6 {
			return
		}
		prefix := "https://feeds.example/rss?q=mines&apiKey="
		esc := url.QueryEscape(value)
		if strings.Contains(prefix, esc) || strings.Contains(Mask, esc) {
			return
		}
		if got := URL(prefix + esc); strings.Contains(got, esc) {
			t.Errorf("URL(%q) = %q keeps the key", prefix+esc, got)
		}
		if got := Text("error: Get \"" + prefix + esc + "\": EOF"); strings.Contains(got, esc) {
			t.Errorf("Text kept the key: %q", got)
		}
	})
}
