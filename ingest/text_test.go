package ingest

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/minewatch/minewatch/ingest/extract"
	"github.com/minewatch/minewatch/ingest/fetch"
)

func TestHTMLText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "Norway stays.", "Norway stays."},
		{"plain paragraphs", "One.\n\n  Two  words.\n", "One.\n\nTwo words."},
		{"paragraphs", "<p>Seimas <b>balsavo</b>.</p><p>Priimta.</p>", "Seimas balsavo.\n\nPriimta."},
		{"entities and br", "Mine&nbsp;Ban<br>Treaty &amp; CCM", "Mine Ban Treaty & CCM"},
		{"script dropped", "<p>a</p><script>var x = '<p>';</script><p>b</p>", "a\n\nb"},
		{"list", "<ul><li>Poland</li><li>Finland</li></ul>", "Poland\n\nFinland"},
		{"table cells", "<table><tr><td>LT</td><td>2025</td></tr></table>", "LT 2025"},
		{"empty", "", ""},
		{"unclosed", "<p>Estonia <i>left", "Estonia left"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := htmlText(tt.in); got != tt.want {
				t.Errorf("htmlText(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestNormLang(t *testing.T) {
	tests := map[string]string{
		"lt": "lt", "LT": "lt", "en-GB": "en", "pt_BR": "pt", " uk ": "uk",
		"": "", "eng": "", "x": "", "12": "", "zh-Hant-TW": "zh",
	}
	for in, want := range tests {
		t.Run(in, func(t *testing.T) {
			if got := normLang(in); got != want {
				t.Errorf("normLang(%q) = %q, want %q", in, got, want)
			}
		})
	}
}

func TestCanonicalFromPage(t *testing.T) {
	item := "https://www.lrt.lt/naujienos/1?id=2"
	tests := []struct {
		name, canonical, final, want string
	}{
		{"same host", "https://www.lrt.lt/naujienos/seimas", item, "https://www.lrt.lt/naujienos/seimas"},
		{"relative", "/naujienos/seimas?utm_source=x", item, "https://www.lrt.lt/naujienos/seimas"},
		{"www difference ignored", "https://lrt.lt/naujienos/seimas", item, "https://lrt.lt/naujienos/seimas"},
		{"other host", "https://www.delfi.lt/x", item, ""},
		{"home page", "https://www.lrt.lt/", item, ""},
		{"none", "", item, ""},
		{"unparseable", "http://[::1", item, ""},
		{"redirected elsewhere", "https://consent.example/", "https://consent.example/?continue=1", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &fetchedPage{Page: &extract.Page{CanonicalURL: tt.canonical}, finalURL: tt.final}
			if got := canonicalFromPage(item, p); got != tt.want {
				t.Errorf("canonicalFromPage = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNotBefore(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		ttl  time.Duration
		resp fetch.Response
		want time.Time
	}{
		{"nothing", 0, fetch.Response{}, time.Time{}},
		{"ttl", time.Hour, fetch.Response{MaxAge: time.Minute}, now.Add(time.Hour)},
		{"max-age", time.Minute, fetch.Response{MaxAge: 2 * time.Hour}, now.Add(2 * time.Hour)},
		{"expires", 0, fetch.Response{Expires: now.Add(3 * time.Hour)}, now.Add(3 * time.Hour)},
		{"past expires ignored", 0, fetch.Response{Expires: now.Add(-time.Hour)}, time.Time{}},
		{"retry-after", time.Minute, fetch.Response{RetryAfter: 4 * time.Hour}, now.Add(4 * time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := notBefore(now, tt.ttl, &tt.resp); !got.Equal(tt.want) {
				t.Errorf("notBefore = %s, want %s", got, tt.want)
			}
		})
	}
}

func FuzzHTMLText(f *testing.F) {
	f.Add("<p>Seimas <b>balsavo</b>.</p><p>Priimta.</p>")
	f.Add("<script><p>x</script>")
	f.Add("a&amp;b<br/>c\n\nd")
	f.Add("<table><td>\xff</td>")
	f.Fuzz(func(t *testing.T, in string) {
		out := htmlText(in)
		if !utf8.ValidString(in) {
			return
		}
		if strings.Contains(out, "\n\n\n") || out != strings.TrimSpace(out) {
			t.Fatalf("badly joined paragraphs: %q", out)
		}
	})
}

func BenchmarkHTMLText(b *testing.B) {
	in := strings.Repeat("<p>Lietuva pasitraukė iš <b>Otavos konvencijos</b> dėl priešpėstinių minų.</p>\n", 200)
	for b.Loop() {
		htmlText(in)
	}
}
