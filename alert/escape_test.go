package alert

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/net/html"

	"github.com/minewatch/minewatch/news"
)

// hostile is text a feed or page could carry, aimed at every renderer at
// once: HTML/JS, Slack link and mention syntax, Markdown, control characters.
var hostile = []string{
	`<script>window.__pwned=1</script>`,
	`<img src=x onerror="window.__pwned=2">`,
	`"><svg onload=window.__pwned=3>`,
	`<a href="javascript:alert(4)">click</a>`,
	`<!channel> <!here> <!everyone> <@U024BE7LH> <#C024BE7LR>`,
	`@here @channel @everyone`,
	`<https://evil.example|click me> a | b > c & d`,
	"*bold* _italic_ ~strike~ `code` [x](javascript:alert(5)) **strong** # heading",
	"line one\r\nBcc: victim@example.org",
}

// hostileNotice builds a notice whose every web-sourced field carries all of
// hostile: title, text, evidence, source, the entity's country name, URLs.
func hostileNotice(t *testing.T, articleURL string) notice {
	t.Helper()
	all := strings.Join(hostile, " ")
	ev := news.Event{Key: "LT/withdraw_vote/ccm", Country: "LT", Action: news.ActionWithdrawVote, Treaty: news.TreatyCCM,
		FirstSeen: t0, Evidence: all, Articles: 3}
	d := news.Document{Article: news.Article{ID: "art-evil", SourceID: "evil " + all, Title: all, Text: all,
		URL: articleURL, CanonicalURL: articleURL, Published: t0, Language: "en"},
		Classification: news.Classification{Entities: []news.Entity{{Country: "LT", CountryName: "Lithuania " + all}}}}
	m := news.Message{ID: "alert/r/slack/" + ev.Key, RuleID: "r", Event: ev}
	return newNotice(m, d, "https://minewatch.example.org/", t0.Add(time.Hour))
}

var slackLinkRE = regexp.MustCompile(`<([^|<>]*)\|([^<>]*)>`)

func TestSlackBodyNeutralisesWebText(t *testing.T) {
	tests := []struct {
		name, url string
		linked    bool
	}{
		{"https article", "https://www.lrt.lt/en/a?x=1&y=2|<x>", true},
		{"javascript URL", "javascript:alert(document.cookie)", false},
		{"data URL", "data:text/html,<script>alert(1)</script>", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body, err := slackBody(hostileNotice(t, tc.url))
			if err != nil {
				t.Fatal(err)
			}
			var msg struct {
				Text   string `json:"text"`
				Blocks []struct {
					Text struct {
						Type     string `json:"type"`
						Text     string `json:"text"`
						Verbatim bool   `json:"verbatim"`
					} `json:"text"`
				} `json:"blocks"`
			}
			if err := json.Unmarshal(body, &msg); err != nil {
				t.Fatal(err)
			}
			if len(msg.Blocks) != 1 || msg.Blocks[0].Text.Type != "mrkdwn" || !msg.Blocks[0].Text.Verbatim {
				t.Fatalf("want one verbatim mrkdwn section: %s", body)
			}
			for name, text := range map[string]string{"fallback text": msg.Text, "section": msg.Blocks[0].Text.Text} {
				// Our own links are the only <...> allowed, and only to http(s).
				var targets []string
				rest := slackLinkRE.ReplaceAllStringFunc(text, func(l string) string {
					sm := slackLinkRE.FindStringSubmatch(l)
					targets = append(targets, sm[1])
					return sm[2]
				})
				for _, u := range targets {
					if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
						t.Errorf("%s links to %q", name, u)
					}
				}
				if tc.linked != slices.Contains(targets, "https://www.lrt.lt/en/a?x=1&y=2%7C%3Cx%3E") {
					if name == "section" {
						t.Errorf("%s: article linked = %v, want %v: %s", name, !tc.linked, tc.linked, text)
					}
				}
				// Only the evidence quote's leading "> " is ours.
				rest = strings.ReplaceAll(rest, "\n> ", "\n")
				if i := strings.IndexAny(rest, "<>"); i >= 0 {
					t.Errorf("%s has a raw %q from the web: %s", name, rest[i], rest)
				}
				for _, bad := range []string{"<!", "<@", "<#", "@here", "@channel", "@everyone"} {
					if strings.Contains(text, bad) {
						t.Errorf("%s carries the mention %q: %s", name, bad, text)
					}
				}
				if i := strings.Index(strings.NewReplacer("&amp;", "", "&lt;", "", "&gt;", "").Replace(rest), "&"); i >= 0 {
					t.Errorf("%s has a raw & from the web: %s", name, rest)
				}
				// Every emphasis mark from the web sits between word joiners;
				// the only bare ones are the two around our bold subject.
				bare := strings.NewReplacer(wordJoiner+"*"+wordJoiner, "", wordJoiner+"_"+wordJoiner, "",
					wordJoiner+"~"+wordJoiner, "", wordJoiner+"`"+wordJoiner, "").Replace(rest)
				if name == "section" {
					bare = strings.TrimPrefix(bare, "*")
					bare = strings.Replace(bare, "*\n", "\n", 1)
				}
				if i := strings.IndexAny(bare, "*_~`"); i >= 0 {
					t.Errorf("%s has a bare mrkdwn mark %q: %s", name, bare[i], bare)
				}
			}
			// What a reader sees, once Slack decodes the entities, is the
			// text exactly as published.
			shown := strings.NewReplacer(wordJoiner, "", "&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(msg.Blocks[0].Text.Text)
			for _, h := range hostile[:len(hostile)-1] {
				if !strings.Contains(shown, h) {
					t.Errorf("the reader does not see %q literally: %s", h, shown)
				}
			}
		})
	}
}

func TestTeamsBodyKeepsWebTextOutOfMarkdown(t *testing.T) {
	tests := []struct {
		name, url string
		linked    bool
	}{
		{"https article", "https://www.lrt.lt/en/a?x=1&y=2", true},
		{"javascript URL", "javascript:alert(document.cookie)", false},
		{"relative URL", "/articles/../../etc", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body, err := teamsBody(hostileNotice(t, tc.url))
			if err != nil {
				t.Fatal(err)
			}
			var msg any
			if err := json.Unmarshal(body, &msg); err != nil {
				t.Fatal(err)
			}
			var runs []string
			var urls []string
			var walk func(path string, v any)
			walk = func(path string, v any) {
				switch v := v.(type) {
				case map[string]any:
					if _, ok := v["msteams"]; ok {
						t.Errorf("%s: msteams entities (mentions) in the card", path)
					}
					typ, _ := v["type"].(string)
					for k, x := range v {
						s, isString := x.(string)
						switch {
						case k == "text" && isString:
							// TextBlock, FactSet and the like read Markdown;
							// only TextRun is shown as written.
							if typ != "TextRun" {
								t.Errorf("%s: web text in a %q, which reads Markdown: %q", path, typ, s)
							}
							runs = append(runs, s)
						case k == "url" && isString:
							urls = append(urls, s)
						default:
							walk(path+"."+k, x)
						}
					}
				case []any:
					for _, x := range v {
						walk(path+"[]", x)
					}
				}
			}
			walk("$", msg)
			for _, u := range urls {
				if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
					t.Errorf("card links to %q", u)
				}
			}
			if got := slices.Contains(urls, tc.url); got != tc.linked {
				t.Errorf("article linked = %v, want %v (urls %q)", got, tc.linked, urls)
			}
			shown := strings.Join(runs, "")
			for _, h := range hostile[:len(hostile)-1] {
				if !strings.Contains(shown, h) {
					t.Errorf("the reader does not see %q literally: %q", h, shown)
				}
			}
			if strings.ContainsAny(shown, "\r\n") {
				t.Errorf("line breaks from the web reached the card: %q", shown)
			}
		})
	}
}

func TestEmailBodiesNeutraliseWebText(t *testing.T) {
	tests := []struct {
		name, url string
		linked    bool
	}{
		{"https article", "https://www.lrt.lt/en/a?x=1&y=2", true},
		{"javascript URL", "javascript:alert(document.cookie)", false},
		{"vbscript URL", "VBScript:msgbox(1)", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := hostileNotice(t, tc.url)
			if strings.ContainsAny(n.Subject, "\r\n") {
				t.Errorf("subject carries a line break: %q", n.Subject)
			}
			htmlPart, text, err := emailBodies(n)
			if err != nil {
				t.Fatal(err)
			}
			doc, err := html.Parse(strings.NewReader(htmlPart))
			if err != nil {
				t.Fatal(err)
			}
			var hrefs []string
			var textContent strings.Builder
			for node := range doc.Descendants() {
				switch node.Type {
				case html.ElementNode:
					switch node.Data {
					case "script", "img", "svg", "iframe", "object", "embed", "form":
						t.Errorf("the HTML part has a <%s> element", node.Data)
					}
					for _, a := range node.Attr {
						if strings.HasPrefix(strings.ToLower(a.Key), "on") {
							t.Errorf("<%s> has the handler %s=%q", node.Data, a.Key, a.Val)
						}
						if a.Key == "href" || a.Key == "src" {
							hrefs = append(hrefs, a.Val)
						}
					}
				case html.TextNode:
					if node.Parent != nil && node.Parent.Data != "title" {
						textContent.WriteString(node.Data)
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
			for _, h := range hostile[:len(hostile)-1] {
				if !strings.Contains(textContent.String(), h) {
					t.Errorf("the HTML part does not show %q as text", h)
				}
				if !strings.Contains(text, h) {
					t.Errorf("the text part does not show %q literally", h)
				}
			}
			if strings.Contains(text, "\nBcc:") {
				t.Errorf("a line break from the web reached the text part: %q", text)
			}
		})
	}
}

func TestWebhookCarriesWebTextAsData(t *testing.T) {
	tests := []struct {
		name, url, want string
	}{
		{"https article", "https://www.lrt.lt/en/a?x=1&y=2", "https://www.lrt.lt/en/a?x=1&y=2"},
		{"javascript URL dropped", "javascript:alert(1)", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := hostileNotice(t, tc.url)
			body, err := jsonBody(n.Payload)
			if err != nil {
				t.Fatal(err)
			}
			var p Payload
			if err := json.Unmarshal(body, &p); err != nil {
				t.Fatal(err)
			}
			if p.Article.Title != n.Article.Title || p.Event.Evidence != n.Event.Evidence {
				t.Errorf("web text did not round-trip as data")
			}
			if p.Article.URL != tc.want {
				t.Errorf("article url %q, want %q", p.Article.URL, tc.want)
			}
		})
	}
}

// FuzzSlackEscape checks, for any text, that what reaches Slack has no
// control character, mention or emphasis mark left active, and that a reader
// still sees the text as written.
func FuzzSlackEscape(f *testing.F) {
	for _, h := range hostile {
		f.Add(h)
	}
	f.Add("@")
	f.Add("a@ b")
	f.Add("\u2060*\u2060")
	f.Fuzz(func(t *testing.T, s string) {
		got := slackEscape(s)
		if strings.ContainsAny(got, "<>") {
			t.Fatalf("slackEscape(%q) = %q has < or >", s, got)
		}
		if rest := strings.NewReplacer("&amp;", "", "&lt;", "", "&gt;", "").Replace(got); strings.Contains(rest, "&") {
			t.Fatalf("slackEscape(%q) = %q has a raw &", s, got)
		}
		bare := strings.NewReplacer(wordJoiner+"*"+wordJoiner, "", wordJoiner+"_"+wordJoiner, "",
			wordJoiner+"~"+wordJoiner, "", wordJoiner+"`"+wordJoiner, "").Replace(got)
		if strings.ContainsAny(bare, "*_~`") {
			t.Fatalf("slackEscape(%q) = %q has a bare emphasis mark", s, got)
		}
		for _, m := range []string{"@here", "@channel", "@everyone"} {
			if strings.Contains(got, m) {
				t.Fatalf("slackEscape(%q) = %q carries %s", s, got, m)
			}
		}
		if !utf8.ValidString(s) {
			return
		}
		shown := strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(strings.ReplaceAll(got, wordJoiner, ""))
		if want := strings.ReplaceAll(s, wordJoiner, ""); shown != want {
			t.Fatalf("slackEscape(%q) reads as %q", s, shown)
		}
	})
}
