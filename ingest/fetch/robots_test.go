package fetch

import (
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestRobotsAllowed(t *testing.T) {
	const google = `# comment
User-agent: *
Disallow: /search
Allow: /search/about
Disallow: /*.pdf$
Disallow: /private*/secret

User-agent: otherbot
Disallow: /
`
	const ours = `User-agent: Googlebot
User-agent: MineWatch/1.0
Disallow: /archive/
Allow: /archive/2025/
Crawl-delay: 2.5

User-agent: *
Disallow: /
`
	tests := []struct {
		name  string
		robot string
		path  string
		want  bool
	}{
		{"star group disallow", google, "/search?q=mines", false},
		{"longer allow wins", google, "/search/about", true},
		{"dollar anchors end", google, "/doc/report.pdf", false},
		{"dollar does not match longer path", google, "/doc/report.pdf?x=1", true},
		{"wildcard in middle", google, "/private-zone/secret/x", false},
		{"unrelated path", google, "/news/2025/lithuania", true},
		{"our group replaces star", ours, "/news/today", true},
		{"our group disallows", ours, "/archive/2024/x", false},
		{"our group allow is longer", ours, "/archive/2025/x", true},
		{"robots.txt always allowed", "User-agent: *\nDisallow: /", "/robots.txt", true},
		{"empty disallow allows", "User-agent: *\nDisallow:\n", "/anything", true},
		{"no groups", "", "/x", true},
		{"rules before agent ignored", "Disallow: /\nUser-agent: *\nAllow: /", "/x", true},
		{"tie goes to allow", "User-agent: *\nDisallow: /page\nAllow: /page", "/page", true},
		{"CR line endings", "User-agent: *\rDisallow: /x\r", "/x/y", false},
		{"case-insensitive keys", "USER-AGENT: *\nDISALLOW: /X", "/X", false},
		{"paths are case-sensitive", "User-agent: *\nDisallow: /X", "/x", true},
		{"percent-encoding compared normalised", "User-agent: *\nDisallow: /%e2%82%ac", "/%E2%82%AC/x", false},
		{"non-ASCII rule matches encoded path", "User-agent: *\nDisallow: /ž", "/%C5%BE", false},
		{"groups for us are merged", "User-agent: minewatch\nDisallow: /a\n\nUser-agent: minewatch\nDisallow: /b", "/b", false},
		{"sitemap line does not end agents", "User-agent: a\nSitemap: /s.xml\nUser-agent: minewatch\nDisallow: /z", "/z", false},
		{"root disallow", "User-agent: *\nDisallow: /", "/", false},
		{"query disallowed", "User-agent: *\nDisallow: /*?", "/a?b", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := url.Parse("https://example.org" + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			got := parseRobots([]byte(tt.robot), robotsToken).allowed(u)
			if got != tt.want {
				t.Errorf("allowed(%s) = %v, want %v", tt.path, got, tt.want)
			}
		})
	}
}

func TestRobotsCrawlDelay(t *testing.T) {
	r := parseRobots([]byte("User-agent: minewatch\nCrawl-delay: 2.5\nDisallow: /x"), robotsToken)
	if r.crawlDelay != 2500*time.Millisecond {
		t.Fatalf("crawl delay = %s", r.crawlDelay)
	}
}

func TestMatchRobots(t *testing.T) {
	tests := []struct {
		pattern, path string
		want          bool
	}{
		{"/", "/", true},
		{"/a", "/abc", true},
		{"/a$", "/abc", false},
		{"/a$", "/a", true},
		{"/*", "/", true},
		{"/*/c", "/a/b/c", true},
		{"/*/c$", "/a/b/c/d", false},
		{"/a*b*c", "/aXbYc", true},
		{"/a*b*c", "/aXcYb", false},
		{"*", "", true},
		{"/**", "/", true},
	}
	for _, tt := range tests {
		t.Run(tt.pattern+" "+tt.path, func(t *testing.T) {
			if got := matchRobots(tt.pattern, tt.path); got != tt.want {
				t.Errorf("matchRobots(%q, %q) = %v", tt.pattern, tt.path, got)
			}
		})
	}
}

func FuzzParseRobots(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "robots", "*.txt"))
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, "/news/2025/a?b=c")
	}
	f.Add([]byte("User-agent: *\nDisallow: /*a*a*a*a*a*a*a*a*b$"), "/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
	f.Add([]byte("User-agent: minewatch\r\nAllow: /\rDisallow: /%zz\n"), "/%zz")
	f.Fuzz(func(t *testing.T, data []byte, path string) {
		r := parseRobots(data, robotsToken)
		u := &url.URL{Scheme: "https", Host: "example.org", Path: path}
		_ = r.allowed(u)
		if !r.allowed(&url.URL{Scheme: "https", Host: "example.org", Path: "/robots.txt"}) {
			t.Fatal("robots.txt itself disallowed")
		}
	})
}

func BenchmarkRobotsAllowed(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("testdata", "robots", "news-site.txt"))
	if err != nil {
		b.Fatal(err)
	}
	r := parseRobots(data, robotsToken)
	u, _ := url.Parse("https://example.org/world/europe/2025/06/27/lithuania-latvia-estonia-leave-ottawa-treaty?ref=rss")
	for b.Loop() {
		r.allowed(u)
	}
}
