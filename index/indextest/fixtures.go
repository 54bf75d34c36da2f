package indextest

import (
	"fmt"
	"time"

	"github.com/minewatch/minewatch/news"
)

// base is the fixtures' reference time; the fixtures are dated before it.
var base = time.Date(2025, time.December, 1, 12, 0, 0, 0, time.UTC)

// doc builds a fixture document.
func doc(key, source, lang string, published time.Time, title, text string, topics []string, ents ...news.Entity) news.Document {
	canonical := "https://" + source + ".example/news/" + key
	d := news.Document{
		Article: news.Article{
			ID:            news.ArticleID(canonical),
			SourceID:      source,
			URL:           canonical + "?utm_source=rss",
			CanonicalURL:  canonical,
			Title:         title,
			Text:          text,
			Language:      lang,
			Published:     published,
			PublishedFrom: "feed",
			FirstSeen:     published.Add(7 * time.Minute),
		},
	}
	for _, t := range topics {
		d.Classification.Topics = append(d.Classification.Topics, news.TopicScore{Topic: t, Score: 2})
	}
	d.Classification.Entities = ents
	d.Classification.Relevant = len(topics) > 0
	d.Classification.Score = 2 * float64(len(topics))
	d.Classification.RulesVersion = "test-1"
	d.StoryID = d.ID
	return d
}

func ent(country string, a news.Action, t news.Treaty, evidence string) news.Entity {
	return news.Entity{Country: country, Action: a, Treaty: t, Evidence: evidence}
}

// Fixture keys, for tests that look documents up.
const (
	KeyPoland    = "pl-sejm"
	KeyLithuania = "lt-ccm"
	KeyFinland   = "fi-notify"
	KeyUkraine   = "ua-decree"
	KeyNorway    = "no-remain"
	KeyNavalMine = "lv-naval"
	KeyDemining  = "us-demining"
	KeyEstonia   = "ee-vote"
)

// Fixtures returns the suite's documents, keyed by the Key constants: news in
// Polish, Lithuanian, English, Ukrainian, German and Estonian about the 2025
// withdrawals, one irrelevant naval-mine story, and a funding story. Other
// packages may use them as realistic test data.
func Fixtures() map[string]news.Document {
	day := func(n int) time.Time { return base.AddDate(0, 0, -n) }
	docs := map[string]news.Document{
		KeyPoland: doc(KeyPoland, "pap", "pl", day(80),
			"Sejm za wypowiedzeniem Konwencji ottawskiej",
			"Sejm uchwalił ustawę o wypowiedzeniu Konwencji ottawskiej o zakazie min przeciwpiechotnych. "+
				"Minister obrony zapowiedział wznowienie produkcji min w Polsce. Łotwa i Litwa zrobiły to wcześniej.",
			[]string{news.TopicTreatyWithdrawal, news.TopicProduction},
			ent("PL", news.ActionWithdrawVote, news.TreatyOttawa, "Sejm uchwalił ustawę o wypowiedzeniu Konwencji ottawskiej o zakazie min przeciwpiechotnych."),
			ent("PL", news.ActionResumeProduction, news.TreatyNone, "Minister obrony zapowiedział wznowienie produkcji min w Polsce.")),
		KeyLithuania: doc(KeyLithuania, "lrt", "lt", day(400),
			"Seimas pritarė pasitraukimui iš Kasetinių šaudmenų konvencijos",
			"Nuo kovo 6 dienos Lietuvą nebesaisto Kasetinių šaudmenų konvencija. "+
				"Krašto apsaugos ministerija teigia, kad sprendimas sustiprins atgrasymą.",
			[]string{news.TopicTreatyWithdrawal, news.TopicClusterMunitions},
			ent("LT", news.ActionWithdrawEffective, news.TreatyCCM, "Nuo kovo 6 dienos Lietuvą nebesaisto Kasetinių šaudmenų konvencija.")),
		KeyFinland: doc(KeyFinland, "reuters", "en", day(150),
			"Finland notifies UN of its exit from the Ottawa Convention",
			"Finland has formally notified the United Nations Secretary-General of its withdrawal from the Ottawa Convention "+
				"banning anti-personnel mines. The withdrawal takes effect six months after the notification.",
			[]string{news.TopicTreatyWithdrawal},
			ent("FI", news.ActionWithdrawNotify, news.TreatyOttawa, "Finland has formally notified the United Nations Secretary-General of its withdrawal from the Ottawa Convention banning anti-personnel mines.")),
		KeyUkraine: doc(KeyUkraine, "ukrinform", "uk", day(120),
			"Президент підписав указ про вихід з конвенції",
			"Президент підписав указ про вихід України з Оттавської конвенції про заборону протипіхотних мін. "+
				"Рішення пояснюють війною.",
			[]string{news.TopicTreatyWithdrawal},
			ent("UA", news.ActionWithdrawAnnounce, news.TreatyOttawa, "Президент підписав указ про вихід України з Оттавської конвенції про заборону протипіхотних мін.")),
		KeyNorway: doc(KeyNorway, "dw", "de", day(60),
			"Norwegen bleibt im Ottawa-Abkommen",
			"Die norwegische Regierung bekräftigte, dass Norwegen am Verbot von Antipersonenminen festhält.",
			[]string{news.TopicTreatyMembership},
			ent("NO", news.ActionRemain, news.TreatyOttawa, "Die norwegische Regierung bekräftigte, dass Norwegen am Verbot von Antipersonenminen festhält.")),
		KeyNavalMine: doc(KeyNavalMine, "lsm", "en", day(30),
			"Second World War sea mine found in Liepāja port",
			"Navy divers found a Second World War sea mine during dredging works in the port of Liepāja. "+
				"The mine was destroyed in a controlled explosion at sea.",
			nil),
		KeyDemining: doc(KeyDemining, "reuters", "en", day(10),
			"US cuts demining funding",
			"The State Department cut funding for humanitarian demining programmes, including in countries that left the Ottawa Convention. "+
				"Clearance groups warned that casualties would rise.",
			[]string{news.TopicDeminingFunding},
			ent("US", news.ActionFundingCut, news.TreatyNone, "The State Department cut funding for humanitarian demining programmes, including in countries that left the Ottawa Convention.")),
		KeyEstonia: doc(KeyEstonia, "err", "et", day(200),
			"Riigikogu hääletas Ottawa konventsioonist lahkumise poolt",
			"Riigikogu kiitis heaks Eesti lahkumise jalaväemiinide keelustamise konventsioonist.",
			[]string{news.TopicTreatyWithdrawal},
			ent("EE", news.ActionWithdrawVote, news.TreatyOttawa, "Riigikogu kiitis heaks Eesti lahkumise jalaväemiinide keelustamise konventsioonist.")),
	}
	return docs
}

// filler returns n generated documents for paging tests: several share a
// publication time, so the sort's tie-break is exercised.
func filler(n int) []news.Document {
	out := make([]news.Document, n)
	for i := range out {
		key := fmt.Sprintf("filler-%03d", i)
		published := base.Add(-time.Duration(i/3) * time.Hour)
		out[i] = doc(key, "bulk", "en", published,
			fmt.Sprintf("Mine action bulletin %d", i),
			fmt.Sprintf("Bulletin number %d reports clearance of landmines in region %d.", i, i%5),
			[]string{news.TopicDeminingFunding})
	}
	return out
}
