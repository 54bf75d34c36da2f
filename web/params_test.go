package web

import (
	"errors"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/minewatch/minewatch/index"
	"github.com/minewatch/minewatch/news"
)

var testNow = time.Date(2026, 3, 15, 12, 30, 0, 0, time.UTC)

func TestParamsToQuery(t *testing.T) {
	base := func(mod func(*index.Query)) index.Query {
		q := index.Query{RelevantOnly: true, Limit: defaultLimit, Facets: true}
		mod(&q)
		return q
	}
	tests := []struct {
		name  string
		query string
		want  index.Query
	}{
		{"empty", "", base(func(*index.Query) {})},
		{"text trimmed", "q=+ottawa+NEAR/5+withdraw*+", base(func(q *index.Query) { q.Text = "ottawa NEAR/5 withdraw*" })},
		{"repeated filters", "topic=treaty_withdrawal&topic=production&country=pl&country=LT",
			base(func(q *index.Query) {
				q.Topics = []string{"treaty_withdrawal", "production"}
				q.Countries = []string{"PL", "LT"}
			})},
		{"comma lists and duplicates", "country=pl,ee,PL&lang=PL,fi&source=gn-pl,,bbc",
			base(func(q *index.Query) {
				q.Countries = []string{"PL", "EE"}
				q.Languages = []string{"pl", "fi"}
				q.Sources = []string{"gn-pl", "bbc"}
			})},
		{"actions and treaties", "action=withdraw_vote&treaty=ottawa&treaty=CCM",
			base(func(q *index.Query) {
				q.Actions = []news.Action{news.ActionWithdrawVote}
				q.Treaties = []news.Treaty{news.TreatyOttawa, news.TreatyCCM}
			})},
		{"preset 24h", "preset=24h", base(func(q *index.Query) { q.Since = testNow.Add(-24 * time.Hour) })},
		{"preset 7d ignores custom dates", "preset=7d&since=2020-01-01&until=2020-02-01",
			base(func(q *index.Query) { q.Since = testNow.Add(-7 * 24 * time.Hour) })},
		{"preset 30d", "preset=30d", base(func(q *index.Query) { q.Since = testNow.Add(-30 * 24 * time.Hour) })},
		{"custom days, until inclusive", "preset=custom&since=2025-06-01&until=2025-06-30",
			base(func(q *index.Query) {
				q.Since = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
				q.Until = time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)
			})},
		{"since only without preset", "since=2025-06-01",
			base(func(q *index.Query) { q.Since = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC) })},
		{"rfc3339 until", "until=2025-06-01T10:00:00%2B02:00",
			base(func(q *index.Query) { q.Until = time.Date(2025, 6, 1, 8, 0, 0, 0, time.UTC) })},
		{"sort date", "sort=date", base(func(q *index.Query) { q.Sort = index.SortDate })},
		{"sort relevance", "sort=relevance", base(func(q *index.Query) { q.Sort = index.SortRelevance })},
		{"limit", "limit=50", base(func(q *index.Query) { q.Limit = 50 })},
		{"limit clamped", "limit=5000", base(func(q *index.Query) { q.Limit = maxLimit })},
		{"cursor", "cursor=abc%3D%3D", base(func(q *index.Query) { q.Cursor = "abc==" })},
		{"relevant off", "relevant=0", base(func(q *index.Query) { q.RelevantOnly = false })},
		{"form sends hidden 0 then checkbox 1", "relevant=0&relevant=1", base(func(*index.Query) {})},
		{"form sends only hidden 0", "relevant=0", base(func(q *index.Query) { q.RelevantOnly = false })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := url.ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			p, err := parseParams(v)
			if err != nil {
				t.Fatalf("parseParams: %v", err)
			}
			got, err := p.query(testNow)
			if err != nil {
				t.Fatalf("query: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("query =\n %+v\nwant\n %+v", got, tt.want)
			}
			// The canonical URL form must describe the same search.
			p2, err := parseParams(p.values())
			if err != nil {
				t.Fatalf("reparse %q: %v", p.values().Encode(), err)
			}
			again, err := p2.query(testNow)
			if err != nil || !reflect.DeepEqual(again, got) {
				t.Errorf("round trip via %q = %+v, %v", p.values().Encode(), again, err)
			}
		})
	}
}

func TestParamsRejectBadValues(t *testing.T) {
	tests := []struct{ name, query string }{
		{"bad sort", "sort=popular"},
		{"bad preset", "preset=1y"},
		{"bad since", "since=yesterday"},
		{"bad until", "until=2025-13-01"},
		{"range reversed", "since=2025-06-02&until=2025-06-01"},
		{"limit zero", "limit=0"},
		{"limit text", "limit=ten"},
		{"country name", "country=Poland"},
		{"country digits", "country=12"},
		{"lang too long", "lang=polish"},
		{"unknown action", "action=invade"},
		{"unknown treaty", "treaty=istanbul"},
		{"control char", "source=a%00b"},
		{"relevant garbage", "relevant=maybe"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, _ := url.ParseQuery(tt.query)
			p, err := parseParams(v)
			if err == nil {
				_, err = p.query(testNow)
			}
			if !errors.Is(err, ErrBadParameter) {
				t.Fatalf("err = %v, want ErrBadParameter", err)
			}
		})
	}
}

func TestToggled(t *testing.T) {
	p, err := parseParams(url.Values{"q": {"mines"}, "country": {"PL", "LT"}, "cursor": {"c1"}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, key, value string
		want             string
	}{
		{"remove selected", "country", "PL", "country=LT&q=mines"},
		{"add new", "country", "EE", "country=PL&country=LT&country=EE&q=mines"},
		{"other facet keeps state", "topic", "production", "country=PL&country=LT&q=mines&topic=production"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.toggled(tt.key, tt.value).values().Encode(); got != tt.want {
				t.Errorf("toggled = %q, want %q", got, tt.want)
			}
		})
	}
	if len(p.Countries) != 2 || p.Cursor != "c1" {
		t.Errorf("toggled changed the original: %+v", p)
	}
}

// FuzzParseParams checks that any URL query either fails cleanly or yields a
// state whose canonical URL means the same search.
func FuzzParseParams(f *testing.F) {
	for _, s := range []string{
		"", "q=ottawa&topic=production&country=pl,lt&preset=7d",
		"since=2025-01-01&until=2025-02-01&sort=date&limit=10&relevant=0",
		"q=%22anti-personnel%20mines%22%20NEAR/s%20poland&cursor=xyz",
		"country=%C3%A9%C3%A9&lang=p%00", "limit=-1&preset=custom&until=2025-06-01T00:00:00Z",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		p, err := parseParams(v)
		if err != nil {
			if !errors.Is(err, ErrBadParameter) {
				t.Fatalf("error %v does not wrap ErrBadParameter", err)
			}
			return
		}
		q, err := p.query(testNow)
		if err != nil {
			return
		}
		if q.Limit < 1 || q.Limit > maxLimit {
			t.Fatalf("limit %d out of range", q.Limit)
		}
		p2, err := parseParams(p.values())
		if err != nil {
			t.Fatalf("canonical form %q does not parse: %v", p.values().Encode(), err)
		}
		q2, err := p2.query(testNow)
		if err != nil || !reflect.DeepEqual(q, q2) {
			t.Fatalf("canonical form changes the query:\n%+v\n%+v (%v)", q, q2, err)
		}
	})
}

func TestFillFormPresets(t *testing.T) {
	tests := []struct {
		query, wantChecked string
	}{
		{"", ""},
		{"preset=24h", "24h"},
		{"since=2025-01-01", "custom"},
		{"preset=custom&until=2025-01-01", "custom"},
		{"preset=30d&since=2025-01-01", "30d"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			v, _ := url.ParseQuery(tt.query)
			p, err := parseParams(v)
			if err != nil {
				t.Fatal(err)
			}
			page := searchPage{P: p}
			page.fillForm()
			var checked []string
			for _, o := range page.Presets {
				if o.Checked {
					checked = append(checked, o.Value)
				}
			}
			if len(checked) != 1 || checked[0] != tt.wantChecked {
				t.Errorf("checked presets = %q, want [%q]", checked, tt.wantChecked)
			}
		})
	}
}
