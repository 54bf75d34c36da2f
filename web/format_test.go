package web

import (
	"testing"
	"time"

	"github.com/minewatch/minewatch/news"
)

func TestWebURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://example.com/a?b=1", "https://example.com/a?b=1"},
		{" http://example.com ", "http://example.com"},
		{"HTTPS://Example.com/x", "https://Example.com/x"},
		{"javascript:alert(1)", ""},
		{"JavaScript:alert(1)", ""},
		{"data:text/html,<script>alert(1)</script>", ""},
		{"//example.com/no-scheme", ""},
		{"/relative/path", ""},
		{"ftp://example.com/file", ""},
		{"http://[::1", ""},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := webURL(tt.in); got != tt.want {
				t.Errorf("webURL(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestThousands(t *testing.T) {
	tests := []struct {
		n    int
		want string
	}{{0, "0"}, {999, "999"}, {1000, "1,000"}, {1234567, "1,234,567"}, {-12345, "-12,345"}}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := thousands(tt.n); got != tt.want {
				t.Errorf("thousands(%d) = %q, want %q", tt.n, got, tt.want)
			}
		})
	}
}

func TestHumanTime(t *testing.T) {
	tests := []struct {
		in   time.Time
		want string
	}{
		{time.Time{}, "unknown date"},
		{time.Date(2025, 6, 20, 11, 0, 0, 0, time.FixedZone("CEST", 2*3600)), "20 Jun 2025 09:00 UTC"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := humanTime(tt.in); got != tt.want {
				t.Errorf("humanTime = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestExcerpt(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"short  text\n\nhere", 50, "short text here"},
		{"one two three four five", 12, "one two…"},
		{"żółwżółwżółw", 5, "żó…"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := excerpt(tt.in, tt.n); got != tt.want {
				t.Errorf("excerpt(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
			}
		})
	}
}

func TestArticleLink(t *testing.T) {
	tests := []struct {
		name, canonical, url, want string
	}{
		{"canonical wins", "https://a.example/x", "https://feed.example/x", "https://a.example/x"},
		{"javascript canonical falls back", "javascript:alert(1)", "https://feed.example/x", "https://feed.example/x"},
		{"relative canonical falls back", "/x", "http://feed.example/x", "http://feed.example/x"},
		{"no web link at all", "data:text/html,x", "javascript:x", ""},
		{"empty canonical", "", "https://feed.example/x", "https://feed.example/x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := news.Document{Article: news.Article{CanonicalURL: tt.canonical, URL: tt.url}}
			if got := articleLink(d); got != tt.want {
				t.Errorf("articleLink = %q, want %q", got, tt.want)
			}
		})
	}
}
