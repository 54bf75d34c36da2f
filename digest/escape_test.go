package digest

import (
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/minewatch/minewatch/news"
)

// hostile is text a feed or page could carry, aimed at the mail's HTML part
// and at the line structure of its text part.
var hostile = []string{
	`<script>window.__pwned=1</script>`,
	`<img src=x onerror="window.__pwned=2">`,
	`"><svg onload=window.__pwned=3>`,
	`<a href="javascript:alert(4)">click</a>`,
	`<style>body{display:none}</style>`,
	`&lt;b&gt;entity&lt;/b&gt; & <!-- comment -->`,
}

// forged is a line break with a line that looks like the digest's own.
const forged = "\n  in minewatch: https://evil.example/phish\n"

func hostileIndex(url string) *memIndex {
	all := strings.Join(hostile, " ")
	in := day.Add(-3 * time.Hour)
	ent := news.Entity{Country: "LT", CountryName: "Lithuania " + all + forged, Action: news.ActionWithdrawNotify,
		Treaty: news.TreatyCCM, Evidence: all + forged}
	d := article("evil", "evil", "evil", news.TopicTreatyWithdrawal, all+forged, in, ent)
	d.URL, d.CanonicalURL = url, url
	d.SiteName = "Evil " + all + forged
	return &memIndex{
		docs: []news.Document{d},
		events: []news.Event{{Key: "LT/withdraw_notify/ccm", Country: "LT", Action: news.ActionWithdrawNotify, Treaty: news.TreatyCCM,
			FirstSeen: in, FirstSourceID: "evil " + all + forged, Evidence: all + forged, Articles: 1}},
	}
}

func TestRenderNeutralisesWebText(t *testing.T) {
	tests := []struct {
		name, url string
		linked    bool
	}{
		{"https article", "https://evil.example/a?x=1&y=2", true},
		{"javascript URL", "javascript:alert(document.cookie)", false},
		{"data URL", "data:text/html,<script>alert(1)</script>", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sub := Subscriber{ID: "ana", Email: "ana@example.org", SendAt: "0 7 * * *"}
			p := Period{ID: "2026-11-26", Start: day.Add(-24 * time.Hour), End: day}
			idx := hostileIndex(tc.url)
			d, err := Build(t.Context(), idx, idx, sub, p, "https://mw.example.org/")
			if err != nil {
				t.Fatal(err)
			}
			if len(d.Events) != 1 || len(d.Topics) != 1 {
				t.Fatalf("digest has %d events and %d topics, want 1 and 1", len(d.Events), len(d.Topics))
			}
			htmlPart, text, err := Render(d)
			if err != nil {
				t.Fatal(err)
			}
			doc, err := html.Parse(strings.NewReader(htmlPart))
			if err != nil {
				t.Fatal(err)
			}
			var hrefs []string
			var shown strings.Builder
			for n := range doc.Descendants() {
				switch n.Type {
				case html.ElementNode:
					switch n.Data {
					case "script", "img", "svg", "style", "iframe", "object", "embed", "form":
						t.Errorf("the HTML part has a <%s> element", n.Data)
					}
					for _, a := range n.Attr {
						if strings.HasPrefix(strings.ToLower(a.Key), "on") {
							t.Errorf("<%s> has the handler %s=%q", n.Data, a.Key, a.Val)
						}
						if a.Key == "href" || a.Key == "src" {
							hrefs = append(hrefs, a.Val)
						}
					}
				case html.CommentNode:
					t.Errorf("the HTML part has a comment: %q", n.Data)
				case html.TextNode:
					if n.Parent != nil && n.Parent.Data != "title" {
						shown.WriteString(n.Data)
					}
				}
			}
			for _, h := range hrefs {
				if !strings.HasPrefix(h, "https://") && !strings.HasPrefix(h, "http://") {
					t.Errorf("the HTML part links to %q", h)
				}
			}
			if got := slices.Contains(hrefs, tc.url); got != tc.linked {
				t.Errorf("article linked = %v, want %v (hrefs %q)", got, tc.linked, hrefs)
			}
			for _, h := range hostile {
				if !strings.Contains(shown.String(), h) {
					t.Errorf("the HTML part does not show %q as text", h)
				}
				if !strings.Contains(text, h) {
					t.Errorf("the text part does not show %q literally", h)
				}
			}
			if strings.Contains(text, forged) || strings.Contains(text, "\n  in minewatch: https://evil") {
				t.Errorf("a line from the web forged a line of the text part:\n%s", text)
			}
			if !tc.linked && strings.Contains(text, tc.url) {
				t.Errorf("the text part offers the %q URL", tc.url)
			}
		})
	}
}
