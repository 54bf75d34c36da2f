package alert

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/minewatch/minewatch/news"
)

// Labels for the taxonomy ids, so a notification reads as a sentence.
var actionLabels = map[news.Action]string{
	news.ActionWithdrawAnnounce:  "announced withdrawal",
	news.ActionWithdrawVote:      "voted or signed withdrawal law",
	news.ActionWithdrawNotify:    "notified withdrawal to the UN",
	news.ActionWithdrawEffective: "withdrawal took effect",
	news.ActionRemain:            "stays in the treaty",
	news.ActionJoinRatify:        "joined or ratified",
	news.ActionResumeProduction:  "resumes production",
	news.ActionProduce:           "produces",
	news.ActionDestroyStockpile:  "destroyed stockpile",
	news.ActionTransfer:          "transferred",
	news.ActionUse:               "used",
	news.ActionFundingCut:        "cut mine-action funding",
	news.ActionFundingIncrease:   "raised mine-action funding",
	news.ActionCasualties:        "casualties",
	news.ActionClearance:         "clearance",
}

var treatyLabels = map[news.Treaty]string{
	news.TreatyOttawa: "Ottawa Convention",
	news.TreatyCCM:    "Convention on Cluster Munitions",
	news.TreatyNone:   "no treaty",
}

func actionLabel(a news.Action) string {
	if l, ok := actionLabels[a]; ok {
		return l
	}
	return string(a)
}

func treatyLabel(t news.Treaty) string {
	if l, ok := treatyLabels[t]; ok {
		return l
	}
	return string(t)
}

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
			Action: string(ev.Action), ActionLabel: actionLabel(ev.Action),
			Treaty: string(ev.Treaty), TreatyLabel: treatyLabel(ev.Treaty),
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

func articleURL(d news.Document) string {
	if d.CanonicalURL != "" {
		return d.CanonicalURL
	}
	return d.URL
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

// slackEscape escapes the three characters Slack's mrkdwn treats as control
// characters; everything else is shown as written.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// slackLink writes a link whose text came from the web. A URL with | or >
// would break out of the <url|text> form, so those are percent-encoded.
func slackLink(u, text string) string {
	u = strings.NewReplacer("|", "%7C", ">", "%3E", "<", "%3C", " ", "%20").Replace(u)
	return "<" + u + "|" + slackEscape(oneLine(text)) + ">"
}

func slackBody(n notice) ([]byte, error) {
	title := n.Article.Title
	if title == "" {
		title = n.Article.URL
	}
	head := fmt.Sprintf("*%s*", slackEscape(n.Subject))
	var lines []string
	lines = append(lines, head)
	if n.Event.Evidence != "" {
		lines = append(lines, "> "+slackEscape(oneLine(n.Event.Evidence)))
	}
	if n.Article.URL != "" {
		lines = append(lines, slackLink(n.Article.URL, title)+" ("+slackEscape(n.Article.Source)+")")
	}
	if n.Article.Link != "" {
		lines = append(lines, slackLink(n.Article.Link, "Open in minewatch"))
	}
	text := strings.Join(lines, "\n")
	body := map[string]any{
		"text": slackEscape(n.Subject),
		"blocks": []any{
			map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": text}},
		},
	}
	return json.Marshal(body)
}

// teamsEscape backslash-escapes the characters Adaptive Card TextBlocks read
// as Markdown, and the angle brackets some Teams clients render.
func teamsEscape(s string) string {
	var b strings.Builder
	for _, r := range oneLine(s) {
		switch r {
		case '\\', '*', '_', '[', ']', '(', ')', '#', '`', '~', '>', '<', '!', '|':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func teamsBody(n notice) ([]byte, error) {
	blocks := []any{
		map[string]any{"type": "TextBlock", "text": teamsEscape(n.Subject), "weight": "Bolder", "size": "Medium", "wrap": true},
	}
	if n.Event.Evidence != "" {
		blocks = append(blocks, map[string]any{"type": "TextBlock", "text": teamsEscape(n.Event.Evidence), "wrap": true, "isSubtle": true})
	}
	if n.Article.Title != "" {
		blocks = append(blocks, map[string]any{"type": "TextBlock", "text": teamsEscape(n.Article.Title) + " (" + teamsEscape(n.Article.Source) + ")", "wrap": true})
	}
	var actions []any
	if n.Article.URL != "" {
		actions = append(actions, map[string]any{"type": "Action.OpenUrl", "title": "Read the article", "url": n.Article.URL})
	}
	if n.Article.Link != "" {
		actions = append(actions, map[string]any{"type": "Action.OpenUrl", "title": "Open in minewatch", "url": n.Article.Link})
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
	return json.Marshal(map[string]any{
		"type": "message",
		"attachments": []any{map[string]any{
			"contentType": "application/vnd.microsoft.card.adaptive",
			"contentUrl":  nil,
			"content":     card,
		}},
	})
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
{{if .Article.URL}}<p style="margin:0 0 8px 0"><a href="{{.Article.URL}}" style="color:#0b57d0">{{if .Article.Title}}{{.Article.Title}}{{else}}{{.Article.URL}}{{end}}</a> <span style="color:#666">({{.Article.Source}}{{if .Article.Published}}, {{.Article.Published.Format "2 Jan 2006"}}{{end}})</span></p>{{end}}
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
	if n.Article.URL != "" {
		fmt.Fprintf(&t, "%s (%s)\n%s\n\n", oneLine(n.Article.Title), n.Article.Source, n.Article.URL)
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
