package alert

import (
	"bytes"
	"cmp"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/minewatch/minewatch/news"
	"github.com/minewatch/minewatch/treaty"
)

// countryName is the name the article's entity gave the country, else the code.
func countryName(ev news.Event, d news.Document) string {
	for _, e := range d.Classification.Entities {
		if e.Country == ev.Country && e.CountryName != "" {
			return e.CountryName
		}
	}
	return ev.Country
}

// Payload is the generic webhook's JSON body (documented in doc.go).
type Payload struct {
	ID      string         `json:"id"`
	Rule    string         `json:"rule"`
	Event   PayloadEvent   `json:"event"`
	Article PayloadArticle `json:"article"`
	Sent    time.Time      `json:"sent"`
}

// PayloadEvent is the event in a Payload.
type PayloadEvent struct {
	Key           string     `json:"key"`
	Country       string     `json:"country"`
	CountryName   string     `json:"country_name"`
	Action        string     `json:"action"`
	ActionLabel   string     `json:"action_label"`
	Treaty        string     `json:"treaty"`
	TreatyLabel   string     `json:"treaty_label"`
	FirstSeen     time.Time  `json:"first_seen"`
	Evidence      string     `json:"evidence"`
	Articles      int        `json:"articles"`
	EffectiveDate *time.Time `json:"effective_date,omitempty"`
}

// PayloadArticle is the event's first article in a Payload.
type PayloadArticle struct {
	ID        string     `json:"id"`
	Title     string     `json:"title"`
	URL       string     `json:"url"`
	Source    string     `json:"source"`
	Published *time.Time `json:"published,omitempty"`
	Language  string     `json:"language,omitempty"`
	Link      string     `json:"link,omitempty"`
}

// notice is everything a channel renders, gathered once per delivery.
type notice struct {
	Payload
	Subject string
}

func newNotice(m news.Message, d news.Document, baseURL string, now time.Time) notice {
	ev := m.Event
	p := Payload{
		ID:   m.ID,
		Rule: m.RuleID,
		Event: PayloadEvent{
			Key: ev.Key, Country: ev.Country, CountryName: countryName(ev, d),
			Action: string(ev.Action), ActionLabel: treaty.ActionLabel(ev.Action),
			Treaty: string(ev.Treaty), TreatyLabel: treaty.TreatyLabel(ev.Treaty),
			FirstSeen: ev.FirstSeen.UTC(), Evidence: ev.Evidence, Articles: max(ev.Articles, 1),
		},
		Article: PayloadArticle{
			ID: d.ID, Title: d.Title, URL: articleURL(d), Source: d.SourceID, Language: d.Language,
		},
		Sent: now.UTC(),
	}
	if !ev.EffectiveDate.IsZero() {
		t := ev.EffectiveDate.UTC()
		p.Event.EffectiveDate = &t
	}
	if !d.Published.IsZero() {
		t := d.Published.UTC()
		p.Article.Published = &t
	}
	if baseURL != "" && d.ID != "" {
		p.Article.Link = strings.TrimRight(baseURL, "/") + "/articles/" + d.ID
	}
	subject := fmt.Sprintf("%s – %s – %s", p.Event.CountryName, p.Event.ActionLabel, p.Event.TreatyLabel)
	return notice{Payload: p, Subject: oneLine(subject)}
}

// articleURL is the address every channel links to. Articles are fetched over
// HTTP(S), so any other scheme (javascript:, data:) is hostile input from a
// page's canonical link or a feed and is dropped rather than linked.
func articleURL(d news.Document) string {
	for _, u := range []string{d.CanonicalURL, d.URL} {
		if webLink(u) {
			return u
		}
	}
	return ""
}

// webLink reports whether u is an absolute http or https URL with a host, the
// only kind of link a notification may carry.
func webLink(u string) bool {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" {
		return false
	}
	switch strings.ToLower(p.Scheme) {
	case "http", "https":
		return true
	}
	return false
}

// oneLine keeps text from the web out of header syntax: no line breaks.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// Sign returns the X-Minewatch-Signature value for body.
func Sign(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// VerifySignature reports whether header is body's signature under secret,
// in constant time; receivers written in Go can use it as is.
func VerifySignature(secret, body []byte, header string) bool {
	want, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return false
	}
	got, err := hex.DecodeString(want)
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}

// wordJoiner (U+2060) is invisible and is neither space nor punctuation, so
// Slack's parser does not see a word boundary next to it.
const wordJoiner = "\u2060"

// slackEscape makes text from the web inert in Slack mrkdwn. &, < and > are
// Slack's control characters (links, <!channel>, <@U…> mentions) and become
// entities, as Slack documents. Mrkdwn has no escape for its emphasis marks,
// and they only act at a word boundary, so each of * _ ~ ` is wrapped in word
// joiners; a bare @ before a name gets one too, so neither "*bold*" nor
// "@here" is parsed while both still read exactly as written.
func slackEscape(s string) string {
	var b strings.Builder
	b.Grow(len(s) + len(s)/8)
	rs := []rune(s)
	for i, r := range rs {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '*', '_', '~', '`':
			b.WriteString(wordJoiner)
			b.WriteRune(r)
			b.WriteString(wordJoiner)
		case '@':
			b.WriteRune(r)
			if i+1 < len(rs) && !unicode.IsSpace(rs[i+1]) {
				b.WriteString(wordJoiner)
			}
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// slackLink writes a <url|text> link whose text came from the web; the URL is
// an http(s) URL (webLink). A URL with | or > would break out of the
// <url|text> form, so those are percent-encoded.
func slackLink(u, text string) string {
	u = strings.NewReplacer("|", "%7C", ">", "%3E", "<", "%3C", " ", "%20").Replace(u)
	return "<" + u + "|" + slackEscape(oneLine(text)) + ">"
}

func slackBody(n notice) ([]byte, error) {
	title := cmp.Or(n.Article.Title, n.Article.URL)
	var lines []string
	lines = append(lines, "*"+slackEscape(n.Subject)+"*")
	if n.Event.Evidence != "" {
		lines = append(lines, "> "+slackEscape(oneLine(n.Event.Evidence)))
	}
	switch {
	case webLink(n.Article.URL):
		lines = append(lines, slackLink(n.Article.URL, title)+" ("+slackEscape(oneLine(n.Article.Source))+")")
	case n.Article.Title != "":
		lines = append(lines, slackEscape(oneLine(n.Article.Title))+" ("+slackEscape(oneLine(n.Article.Source))+")")
	}
	if webLink(n.Article.Link) {
		lines = append(lines, slackLink(n.Article.Link, "Open in minewatch"))
	}
	text := strings.Join(lines, "\n")
	body := map[string]any{
		// text is the notification's fallback; it is parsed as mrkdwn too.
		"text": slackEscape(n.Subject),
		"blocks": []any{
			map[string]any{"type": "section", "text": map[string]any{
				"type": "mrkdwn", "text": text,
				// verbatim stops Slack from turning bare URLs, #channel
				// names and @mentions in the text into links or pings; our
				// own <url|text> links still work.
				"verbatim": true,
			}},
		},
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("encode slack body %s: %w", n.ID, err)
	}
	return b, nil
}

// teamsText is a run of text from the web in a Teams card. Adaptive Card
// TextBlocks read Markdown (and Teams clients have no reliable escape for
// it); TextRuns inside a RichTextBlock never do, so text from the web only
// ever goes into a TextRun, shown exactly as written. Teams mentions need an
// msteams.entities list, which these cards never carry.
func teamsText(s string) map[string]any {
	return map[string]any{"type": "TextRun", "text": oneLine(s)}
}

func teamsRich(runs ...map[string]any) map[string]any {
	inlines := make([]any, len(runs))
	for i, r := range runs {
		inlines[i] = r
	}
	return map[string]any{"type": "RichTextBlock", "inlines": inlines}
}

func teamsOpen(title, u string) map[string]any {
	return map[string]any{"type": "Action.OpenUrl", "title": title, "url": u}
}

func teamsBody(n notice) ([]byte, error) {
	subject := teamsText(n.Subject)
	subject["weight"], subject["size"] = "Bolder", "Medium"
	blocks := []any{teamsRich(subject)}
	if n.Event.Evidence != "" {
		ev := teamsText(n.Event.Evidence)
		ev["isSubtle"], ev["italic"] = true, true
		blocks = append(blocks, teamsRich(ev))
	}
	if n.Article.Title != "" || n.Article.Source != "" {
		title := teamsText(cmp.Or(n.Article.Title, n.Article.URL))
		if webLink(n.Article.URL) {
			title["selectAction"] = teamsOpen("Read the article", n.Article.URL)
		}
		blocks = append(blocks, teamsRich(title, teamsText(" ("+n.Article.Source+")")))
	}
	var actions []any
	if webLink(n.Article.URL) {
		actions = append(actions, teamsOpen("Read the article", n.Article.URL))
	}
	if webLink(n.Article.Link) {
		actions = append(actions, teamsOpen("Open in minewatch", n.Article.Link))
	}
	card := map[string]any{
		"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
		"type":    "AdaptiveCard",
		"version": "1.4",
		"body":    blocks,
	}
	if len(actions) > 0 {
		card["actions"] = actions
	}
	b, err := json.Marshal(map[string]any{
		"type": "message",
		"attachments": []any{map[string]any{
			"contentType": "application/vnd.microsoft.card.adaptive",
			"contentUrl":  nil,
			"content":     card,
		}},
	})
	if err != nil {
		return nil, fmt.Errorf("encode teams body %s: %w", n.ID, err)
	}
	return b, nil
}

var emailHTML = template.Must(template.New("alert").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{.Subject}}</title></head>
<body style="margin:0;padding:16px;background:#f4f4f4;font-family:Arial,Helvetica,sans-serif;color:#222">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="max-width:640px;background:#ffffff;border:1px solid #ddd">
<tr><td style="padding:16px;border-bottom:3px solid #b3261e">
<div style="font-size:12px;color:#666;text-transform:uppercase">minewatch alert · rule {{.Rule}}</div>
<div style="font-size:20px;font-weight:bold;margin-top:4px">{{.Subject}}</div>
</td></tr>
<tr><td style="padding:16px">
{{if .Event.Evidence}}<blockquote style="margin:0 0 12px 0;padding:8px 12px;border-left:4px solid #ccc;color:#444">{{.Event.Evidence}}</blockquote>{{end}}
{{if .Article.URL}}<p style="margin:0 0 8px 0"><a href="{{.Article.URL}}" style="color:#0b57d0">{{if .Article.Title}}{{.Article.Title}}{{else}}{{.Article.URL}}{{end}}</a> <span style="color:#666">({{.Article.Source}}{{if .Article.Published}}, {{.Article.Published.Format "2 Jan 2006"}}{{end}})</span></p>{{else if .Article.Title}}<p style="margin:0 0 8px 0">{{.Article.Title}} <span style="color:#666">({{.Article.Source}}{{if .Article.Published}}, {{.Article.Published.Format "2 Jan 2006"}}{{end}})</span></p>{{end}}
{{if .Event.EffectiveDate}}<p style="margin:0 0 8px 0">Takes effect: {{.Event.EffectiveDate.Format "2 Jan 2006"}}</p>{{end}}
{{if .Article.Link}}<p style="margin:0"><a href="{{.Article.Link}}" style="color:#0b57d0">Open in minewatch</a></p>{{end}}
</td></tr>
<tr><td style="padding:12px 16px;font-size:12px;color:#666;border-top:1px solid #eee">You receive this because alert rule “{{.Rule}}” sends new treaty events to this address. Event {{.Event.Key}}.</td></tr>
</table></body></html>
`))

func emailBodies(n notice) (html, text string, err error) {
	var b bytes.Buffer
	if err := emailHTML.Execute(&b, n); err != nil {
		return "", "", fmt.Errorf("render alert mail: %w", err)
	}
	var t strings.Builder
	fmt.Fprintf(&t, "%s\n\n", n.Subject)
	if n.Event.Evidence != "" {
		fmt.Fprintf(&t, "  \"%s\"\n\n", oneLine(n.Event.Evidence))
	}
	switch {
	case n.Article.URL != "":
		fmt.Fprintf(&t, "%s (%s)\n%s\n\n", oneLine(n.Article.Title), oneLine(n.Article.Source), n.Article.URL)
	case n.Article.Title != "":
		fmt.Fprintf(&t, "%s (%s)\n\n", oneLine(n.Article.Title), oneLine(n.Article.Source))
	}
	if n.Event.EffectiveDate != nil {
		fmt.Fprintf(&t, "Takes effect: %s\n\n", n.Event.EffectiveDate.Format("2 Jan 2006"))
	}
	if n.Article.Link != "" {
		fmt.Fprintf(&t, "Open in minewatch: %s\n\n", n.Article.Link)
	}
	fmt.Fprintf(&t, "-- \nYou receive this because alert rule %q sends new treaty events to this address. Event %s.\n", n.Rule, n.Event.Key)
	return b.String(), t.String(), nil
}

func jsonBody(p Payload) ([]byte, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encode webhook body %s: %w", p.ID, err)
	}
	return b, nil
}
