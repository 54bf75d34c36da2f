package entities

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/minewatch/minewatch/news"
)

// FuzzExtract feeds arbitrary headlines and bodies to the extractor: it must
// not panic, and every entity must be well formed with a span that points at
// its evidence.
func FuzzExtract(f *testing.F) {
	for _, a := range readArticles(f) {
		f.Add(a.title, a.text, a.lang)
	}
	f.Add("", "", "")
	f.Add("US", "us US U.S. Chad chad", "en")
	f.Add("Seimas", "Seimas Seimas Seimas pritarė", "lt")
	f.Add("KHARKIV -", "KHARKIV - , , and and Russia", "en")
	f.Add("Ottawa\u0345", "Convention d'Oslo d' d'", "fr")
	f.Add("\xff\xfe", "Polska\x00wypowiedziała konwencję ottawską 2012 2012 1999", "pl")
	f.Fuzz(func(t *testing.T, title, text, lang string) {
		x := extractor(t)
		for _, e := range x.Extract(title, text, lang, nil) {
			if x.CountryName(e.Country) == "" || e.CountryName == "" {
				t.Fatalf("entity %+v: unknown country", e)
			}
			if !slices.Contains(news.Actions, e.Action) {
				t.Fatalf("entity %+v: unknown action", e)
			}
			switch e.Treaty {
			case news.TreatyOttawa, news.TreatyCCM, news.TreatyNone:
			default:
				t.Fatalf("entity %+v: unknown treaty", e)
			}
			src := text
			if e.EvidenceAt.Field == news.FieldTitle {
				src = title
			}
			sp := e.EvidenceAt
			if sp.Start < 0 || sp.Start > sp.End || sp.End > len(src) {
				t.Fatalf("entity %+v: span outside its field of %d bytes", e, len(src))
			}
			if strings.TrimSpace(src[sp.Start:sp.End]) != e.Evidence {
				t.Fatalf("entity %+v: span does not hold the evidence", e)
			}
			if utf8.ValidString(src) && !utf8.ValidString(e.Evidence) {
				t.Fatalf("entity %+v: evidence cut inside a character", e)
			}
		}
	})
}
