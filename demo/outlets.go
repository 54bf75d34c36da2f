package demo

import "github.com/minewatch/minewatch/news"

// format is how an outlet publishes its list of articles.
type format int

const (
	formatRSS     format = iota // RSS 2.0
	formatAtom                  // Atom 1.0
	formatJSON                  // JSON Feed 1.1
	formatListing               // an HTML page of links, no feed
	formatSitemap               // a Google News sitemap
)

// outlet is one invented publication of the demo site. Everything that decides
// how it is served lives here; its articles live in content/<ID>.yaml.
type outlet struct {
	ID       string // path segment and content file name
	Name     string
	Tagline  string
	Language string // of the site chrome and the default for its articles; "" = mixed
	Country  string
	Format   format
	// Index is the path, relative to the outlet's prefix, that a minewatch
	// source reads: the feed, the listing page or the news sitemap.
	Index string
	// Selector finds article links on a listing outlet's index page.
	Selector string

	// Where the publication date is in its pages. Outlets differ on purpose,
	// so every date source of the extractor gets exercised.
	MetaDates bool // article:published_time / article:modified_time
	JSONLD    bool // NewsArticle JSON-LD with datePublished
	DateStyle string

	// Chrome around the article, in the outlet's language, which a good
	// extractor must leave out.
	Nav         []string
	ByLabel     string
	Related     string
	MostRead    string
	Cookie      string
	Newsletter  string
	Footer      string
	ReadMore    string
	ShareLabel  string
	Theme       string // CSS accent colour
	SourceEvery string // cron spec of the minewatch source
}

// prefix is the outlet's path prefix, with both slashes.
func (o *outlet) prefix() string { return "/" + o.ID + "/" }

// newOutlets lists the demo site's publications in the order they are shown.
// It builds them afresh on each call so no caller can change another's copy.
func newOutlets() []*outlet {
	return []*outlet{
		{
			ID: "bpb", Name: "BPB News", Tagline: "Baltic Public Broadcasting — the English service",
			Language: "en", Country: "LV", Format: formatRSS, Index: "rss.xml",
			MetaDates: true, JSONLD: true, DateStyle: "2 January 2006, 15:04",
			Nav:     []string{"News", "Politics", "Defence", "Economy", "Culture", "Sport", "Weather"},
			ByLabel: "By", Related: "Related stories", MostRead: "Most read",
			Cookie:     "We use cookies to measure our audience. You can change your choice at any time in the privacy settings.",
			Newsletter: "Get the morning briefing from the Baltics in your inbox. Subscribe now.",
			Footer:     "Baltic Public Broadcasting is funded by the public. All rights reserved.",
			ReadMore:   "Read more", ShareLabel: "Share this story", Theme: "#0b4f8a", SourceEvery: "@every 15m",
		},
		{
			ID: "kurier", Name: "Kurier Nadwiślański", Tagline: "Wiadomości z kraju i ze świata",
			Language: "pl", Country: "PL", Format: formatAtom, Index: "atom.xml",
			JSONLD: true, DateStyle: "02.01.2006 15:04",
			Nav:     []string{"Kraj", "Świat", "Gospodarka", "Obronność", "Sport", "Kultura", "Pogoda"},
			ByLabel: "Autor:", Related: "Czytaj także", MostRead: "Najczęściej czytane",
			Cookie:     "Korzystamy z plików cookies, aby serwis działał poprawnie. Szczegóły znajdziesz w polityce prywatności.",
			Newsletter: "Zapisz się na nasz newsletter i otrzymuj najważniejsze wiadomości dnia.",
			Footer:     "Wszelkie prawa zastrzeżone. Kopiowanie materiałów bez zgody redakcji zabronione.",
			ReadMore:   "Czytaj dalej", ShareLabel: "Udostępnij", Theme: "#b3001b", SourceEvery: "@every 20m",
		},
		{
			ID: "nemuno", Name: "Nemuno žinios", Tagline: "Naujienos iš Lietuvos ir pasaulio",
			Language: "lt", Country: "LT", Format: formatRSS, Index: "rss",
			MetaDates: true, DateStyle: "2006-01-02 15:04",
			Nav:     []string{"Lietuvoje", "Pasaulyje", "Verslas", "Gynyba", "Sportas", "Kultūra"},
			ByLabel: "Autorius:", Related: "Susiję straipsniai", MostRead: "Skaitomiausi",
			Cookie:     "Šioje svetainėje naudojami slapukai. Tęsdami naršymą sutinkate su slapukų politika.",
			Newsletter: "Užsiprenumeruokite naujienlaiškį ir gaukite svarbiausias dienos naujienas.",
			Footer:     "Visos teisės saugomos. Kopijuoti be redakcijos sutikimo draudžiama.",
			ReadMore:   "Skaityti daugiau", ShareLabel: "Dalintis", Theme: "#006a44", SourceEvery: "@every 20m",
		},
		{
			ID: "nordbalt", Name: "NordBalt Wire", Tagline: "Uudised · Ziņas · Uutiset",
			Language: "", Country: "", Format: formatJSON, Index: "feed.json",
			MetaDates: true, JSONLD: true, DateStyle: "02.01.2006",
			Nav:     []string{"Eesti", "Latvija", "Suomi", "Baltic Sea", "Wire"},
			ByLabel: "—", Related: "Vaata ka · Skatīt arī · Katso myös", MostRead: "Populaarsed · Populārākie · Luetuimmat",
			Cookie:     "NordBalt Wire kasutab küpsiseid. NordBalt Wire izmanto sīkdatnes. NordBalt Wire käyttää evästeitä.",
			Newsletter: "Telli uudiskiri · Abonē jaunumus · Tilaa uutiskirje",
			Footer:     "NordBalt Wire. Tallinn · Rīga · Helsinki.",
			ReadMore:   "→", ShareLabel: "Jaga · Dalīties · Jaa", Theme: "#5a2d82", SourceEvery: "@every 30m",
		},
		{
			ID: "visnyk", Name: "Дніпровський вісник", Tagline: "Новини України",
			Language: "uk", Country: "UA", Format: formatRSS, Index: "rss.xml",
			MetaDates: true, DateStyle: "02.01.2006, 15:04",
			Nav:     []string{"Головне", "Політика", "Війна", "Економіка", "Регіони", "Спорт"},
			ByLabel: "Автор:", Related: "Читайте також", MostRead: "Найпопулярніше",
			Cookie:     "Ми використовуємо файли cookie, щоб покращити роботу сайту.",
			Newsletter: "Підпишіться на розсилку — головні новини дня щоранку.",
			Footer:     "Усі права захищено. Використання матеріалів дозволяється за умови посилання на сайт.",
			ReadMore:   "Детальніше", ShareLabel: "Поділитися", Theme: "#1c5bb8", SourceEvery: "@every 15m",
		},
		{
			ID: "lfn", Name: "Landmine Free Network", Tagline: "Campaigning for a world free of landmines and cluster munitions",
			Language: "en", Country: "", Format: formatListing, Index: "news/", Selector: "article h2 a",
			JSONLD: true, DateStyle: "2 January 2006",
			Nav:     []string{"About us", "Our work", "Campaigns", "News", "Resources", "Donate"},
			ByLabel: "Posted by", Related: "More from the campaign", MostRead: "Take action",
			Cookie:     "This site uses only essential cookies.",
			Newsletter: "Join 12,000 supporters: sign up for campaign updates.",
			Footer:     "Landmine Free Network is a registered charity. Geneva · Oslo · Phnom Penh.",
			ReadMore:   "Read more", ShareLabel: "Share", Theme: "#e0701a", SourceEvery: "@every 1h",
		},
		{
			ID: "naw", Name: "North Atlantic Wire", Tagline: "World news, around the clock",
			Language: "en", Country: "", Format: formatSitemap, Index: "sitemap-news.xml",
			MetaDates: true, DateStyle: "Jan 2, 2006 3:04 PM MST",
			Nav:     []string{"World", "Europe", "Americas", "Business", "Technology", "Sport", "Odd news"},
			ByLabel: "By", Related: "More from the Wire", MostRead: "Trending",
			Cookie:     "We and our partners use cookies to personalise content and ads.",
			Newsletter: "The Wire Daily: the five stories you need, every morning.",
			Footer:     "North Atlantic Wire. Reproduction without licence is prohibited.",
			ReadMore:   "Full story", ShareLabel: "Share", Theme: "#222222", SourceEvery: "@every 10m",
		},
	}
}

// kind is the minewatch source kind that reads an outlet.
func (o *outlet) kind() news.SourceKind {
	switch o.Format {
	case formatListing:
		return news.KindListing
	case formatSitemap:
		return news.KindSitemap
	default:
		return news.KindFeed
	}
}
