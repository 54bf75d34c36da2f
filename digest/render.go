package digest

import (
	"bytes"
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/minewatch/minewatch/treaty"
)

// The HTML part uses tables and inline styles only: Outlook, Gmail and Apple
// Mail drop <style> blocks, external CSS and most layout features, but all
// render these.
var htmlTmpl = template.Must(template.New("digest").Funcs(template.FuncMap{
	"day": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2 Jan 2006")
	},
}).Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>{{.Subject}}</title></head>
<body style="margin:0;padding:0;background:#f4f4f4">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f4f4f4"><tr><td align="center" style="padding:16px">
<table role="presentation" width="640" cellpadding="0" cellspacing="0" style="width:640px;max-width:100%;background:#ffffff;border:1px solid #dddddd;font-family:Arial,Helvetica,sans-serif;color:#222222">
<tr><td style="padding:16px 20px;border-bottom:3px solid #1f4e79">
<div style="font-size:12px;color:#666666;text-transform:uppercase;letter-spacing:1px">minewatch digest</div>
<div style="font-size:20px;font-weight:bold;margin-top:4px">{{.Subject}}</div>
</td></tr>
{{if .D.Empty}}
<tr><td style="padding:20px;font-size:15px">Nothing new {{.Covered}}.</td></tr>
{{else}}
{{if .D.Events}}
<tr><td style="padding:16px 20px 4px 20px;font-size:16px;font-weight:bold;color:#b3261e">New treaty events ({{len .D.Events}})</td></tr>
{{range .D.Events}}
<tr><td style="padding:6px 20px">
<div style="font-size:15px;font-weight:bold">{{.CountryName}} – {{.ActionLabel}} – {{.TreatyLabel}}</div>
{{if .Stage}}<div style="font-size:12px;color:#666666">{{.Stage}}{{if not .EffectiveDate.IsZero}} · takes effect {{day .EffectiveDate}}{{end}}</div>{{end}}
{{if .Evidence}}<div style="font-size:14px;color:#444444;border-left:3px solid #cccccc;padding-left:8px;margin:4px 0">{{.Evidence}}</div>{{end}}
<div style="font-size:12px;color:#666666">First seen {{day .FirstSeen}} in {{.FirstSource}} · {{.Outlets}} {{if eq .Outlets 1}}article{{else}}articles{{end}}</div>
</td></tr>
{{end}}
{{end}}
{{range .D.Topics}}
<tr><td style="padding:16px 20px 4px 20px;font-size:16px;font-weight:bold;color:#1f4e79;border-top:1px solid #eeeeee">{{.Label}} ({{len .Entries}})</td></tr>
{{range .Entries}}
<tr><td style="padding:6px 20px">
{{if .URL}}<a href="{{.URL}}" style="font-size:15px;color:#0b57d0;text-decoration:none">{{.Title}}</a>{{else}}<span style="font-size:15px">{{.Title}}</span>{{end}}
<div style="font-size:12px;color:#666666">{{.Source}}{{with day .Date}} · {{.}}{{end}}{{if .MoreOutlets}} · +{{.MoreOutlets}} {{if eq .MoreOutlets 1}}outlet{{else}}outlets{{end}}{{end}}{{if .Link}} · <a href="{{.Link}}" style="color:#0b57d0">in minewatch</a>{{end}}</div>
{{if .Evidence}}<div style="font-size:13px;color:#444444;margin-top:2px">{{.Evidence}}</div>{{end}}
</td></tr>
{{end}}
{{end}}
{{if .D.Truncated}}<tr><td style="padding:12px 20px;font-size:13px;color:#b3261e">This period had more articles than a digest can hold; search minewatch for the rest.</td></tr>{{end}}
{{end}}
<tr><td style="padding:14px 20px;font-size:12px;color:#666666;border-top:1px solid #eeeeee">{{.Why}}</td></tr>
</table>
</td></tr></table>
</body></html>
`))

type view struct {
	D       Digest
	Subject string
	Covered string
	Why     string
}

// Subject is the digest mail's subject line.
func Subject(d Digest) string {
	date := d.Period.End.In(loc(d.Subscriber)).Format("2 Jan 2006")
	switch {
	case d.Empty():
		return "minewatch digest " + date + ": nothing new"
	case len(d.Events) > 0:
		return fmt.Sprintf("minewatch digest %s: %d new %s, %d %s", date, len(d.Events), plural(len(d.Events), "event", "events"),
			d.Articles, plural(d.Articles, "article", "articles"))
	}
	return fmt.Sprintf("minewatch digest %s: %d %s", date, d.Articles, plural(d.Articles, "article", "articles"))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func loc(s Subscriber) *time.Location {
	if s.Location == nil {
		return time.UTC
	}
	return s.Location
}

// why is the footer: what the subscriber follows and when it is sent, so a
// recipient who forgot knows why the mail came and what to change.
func why(d Digest) string {
	s := d.Subscriber
	var follows []string
	if len(s.Topics) > 0 {
		var ls []string
		for _, t := range s.Topics {
			ls = append(ls, topicLabel(t))
		}
		follows = append(follows, "topics "+strings.Join(ls, ", "))
	}
	if len(s.Countries) > 0 {
		follows = append(follows, "countries "+strings.Join(s.Countries, ", "))
	}
	if len(s.Actions) > 0 {
		var ls []string
		for _, a := range s.Actions {
			ls = append(ls, treaty.ActionLabel(a))
		}
		follows = append(follows, "actions "+strings.Join(ls, ", "))
	}
	for _, q := range s.Queries {
		follows = append(follows, "the search "+q)
	}
	what := "everything minewatch finds"
	if len(follows) > 0 {
		what = strings.Join(follows, "; ")
	}
	return fmt.Sprintf("You receive this because %s is subscribed to the minewatch digest as %q, following %s, sent on the schedule %q (%s). To change or stop it, ask your minewatch administrator or reply with \"unsubscribe\".",
		s.Email, s.ID, what, s.SendAt, loc(s))
}

func covered(d Digest) string {
	l := loc(d.Subscriber)
	return fmt.Sprintf("between %s and %s", d.Period.Start.In(l).Format("2 Jan 15:04"), d.Period.End.In(l).Format("2 Jan 15:04 MST"))
}

// Render writes the digest as HTML and as plain text.
func Render(d Digest) (html, text string, err error) {
	v := view{D: d, Subject: Subject(d), Covered: covered(d), Why: why(d)}
	var b bytes.Buffer
	b.Grow(4096 + 600*d.Articles)
	if err := htmlTmpl.Execute(&b, v); err != nil {
		return "", "", fmt.Errorf("render digest %s: %w", d.Subscriber.ID, err)
	}
	return b.String(), renderText(v), nil
}

func renderText(v view) string {
	d := v.D
	var t strings.Builder
	t.Grow(2048 + 400*d.Articles)
	t.WriteString(v.Subject + "\n" + strings.Repeat("=", len([]rune(v.Subject))) + "\n\n")
	if d.Empty() {
		t.WriteString("Nothing new " + v.Covered + ".\n\n")
	}
	if len(d.Events) > 0 {
		fmt.Fprintf(&t, "NEW TREATY EVENTS (%d)\n\n", len(d.Events))
		for _, e := range d.Events {
			fmt.Fprintf(&t, "* %s – %s – %s\n", e.CountryName, e.ActionLabel, e.TreatyLabel)
			if e.Stage != "" {
				fmt.Fprintf(&t, "  %s\n", e.Stage)
			}
			if !e.EffectiveDate.IsZero() {
				fmt.Fprintf(&t, "  takes effect %s\n", e.EffectiveDate.UTC().Format("2 Jan 2006"))
			}
			if e.Evidence != "" {
				fmt.Fprintf(&t, "  \"%s\"\n", oneLine(e.Evidence))
			}
			fmt.Fprintf(&t, "  first seen %s in %s · %d %s\n\n", e.FirstSeen.UTC().Format("2 Jan 2006"), e.FirstSource, e.Outlets, plural(e.Outlets, "article", "articles"))
		}
	}
	for _, g := range d.Topics {
		fmt.Fprintf(&t, "%s (%d)\n\n", strings.ToUpper(g.Label), len(g.Entries))
		for _, e := range g.Entries {
			fmt.Fprintf(&t, "* %s\n  %s", e.Title, e.Source)
			if !e.Date.IsZero() {
				fmt.Fprintf(&t, " · %s", e.Date.UTC().Format("2 Jan 2006"))
			}
			if e.MoreOutlets > 0 {
				fmt.Fprintf(&t, " · +%d %s", e.MoreOutlets, plural(e.MoreOutlets, "outlet", "outlets"))
			}
			t.WriteString("\n")
			if e.URL != "" {
				fmt.Fprintf(&t, "  %s\n", e.URL)
			}
			if e.Link != "" {
				fmt.Fprintf(&t, "  in minewatch: %s\n", e.Link)
			}
			if e.Evidence != "" {
				fmt.Fprintf(&t, "  %s\n", e.Evidence)
			}
			t.WriteString("\n")
		}
	}
	if d.Truncated {
		t.WriteString("This period had more articles than a digest can hold; search minewatch for the rest.\n\n")
	}
	t.WriteString("-- \n" + v.Why + "\n")
	return t.String()
}
