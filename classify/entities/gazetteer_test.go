package entities

import (
	"slices"
	"strings"
	"testing"
)

// iso3166 is the ISO 3166-1 alpha-2 list (249 codes, as maintained by the ISO
// 3166 Maintenance Agency), written out here independently of the generated
// data so the test can catch a code lost or duplicated by the generator.
const iso3166 = `
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ
BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ
CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ
DE DJ DK DM DO DZ
EC EE EG EH ER ES ET
FI FJ FK FM FO FR
GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY
HK HM HN HR HT HU
ID IE IL IM IN IO IQ IR IS IT
JE JM JO JP
KE KG KH KI KM KN KP KR KW KY KZ
LA LB LC LI LK LR LS LT LU LV LY
MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ
NA NC NE NF NG NI NL NO NP NR NU NZ
OM
PA PE PF PG PH PK PL PM PN PR PS PT PW PY
QA
RE RO RS RU RW
SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ
TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ
UA UG UM US UY UZ
VA VC VE VG VI VN VU
WF WS
YE YT
ZA ZM ZW
`

func TestEveryISOCountryExactlyOnce(t *testing.T) {
	data, err := dataFS.ReadFile("data/countries.tsv")
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Fields(iso3166)
	if len(want) != 249 {
		t.Fatalf("the ISO list in this test has %d codes, want 249", len(want))
	}
	seen := map[string]int{}
	for line := range strings.SplitSeq(string(data), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		code, name, ok := strings.Cut(line, "\t")
		if !ok || name == "" {
			t.Errorf("countries.tsv: malformed line %q", line)
			continue
		}
		seen[code]++
	}
	for _, c := range want {
		switch seen[c] {
		case 0:
			t.Errorf("%s missing from countries.tsv", c)
		case 1:
		default:
			t.Errorf("%s listed %d times in countries.tsv", c, seen[c])
		}
	}
	for c := range seen {
		if !slices.Contains(want, c) {
			t.Errorf("countries.tsv has %s, which is not an ISO 3166-1 code", c)
		}
	}
}

func TestEnglishShortNames(t *testing.T) {
	x := extractor(t)
	for _, tt := range []struct{ name, code string }{
		{"Poland", "PL"}, {"United States", "US"}, {"United Kingdom", "GB"}, {"Marshall Islands", "MH"},
		{"Russia", "RU"}, {"Syria", "SY"}, {"Myanmar", "MM"}, {"Sri Lanka", "LK"}, {"Ukraine", "UA"},
		{"Lithuania", "LT"}, {"Latvia", "LV"}, {"Estonia", "EE"}, {"Finland", "FI"}, {"Norway", "NO"},
		{"Germany", "DE"}, {"Ireland", "IE"}, {"Cambodia", "KH"}, {"Thailand", "TH"}, {"Nigeria", "NG"},
		{"Peru", "PE"}, {"Japan", "JP"}, {"Afghanistan", "AF"}, {"Tonga", "TO"}, {"Niger", "NE"},
		{"czechia", "CZ"}, {"Côte d'Ivoire", "CI"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := x.CountryCode(tt.name)
			if !ok || got != tt.code {
				t.Errorf("CountryCode(%q) = %q, %v; want %q", tt.name, got, ok, tt.code)
			}
			if n := x.CountryName(tt.code); !strings.EqualFold(n, tt.name) && tt.name != "czechia" {
				t.Errorf("CountryName(%q) = %q, want %q", tt.code, n, tt.name)
			}
		})
	}
	if n := len(x.Countries()); n != 249 {
		t.Errorf("Countries() has %d entries, want 249", n)
	}
}

func mentionCodes(x *Extractor, text, lang string) []string {
	var out []string
	for _, m := range x.Mentions(text, lang) {
		out = append(out, m.Code)
	}
	return out
}

func TestMentions(t *testing.T) {
	x := extractor(t)
	tests := []struct {
		name, lang, text string
		want             []string
	}{
		{"Polish cases", "pl", "Polska, Polski, Polskę, Polsce, Polską; polskie wojsko w Warszawie i Warszawy.", []string{"PL", "PL", "PL", "PL", "PL", "PL", "PL", "PL"}},
		{"Lithuanian cases", "lt", "Lietuva, Lietuvos, Lietuvą, Lietuvoje; Vilnius, Vilniaus, Vilniuje.", []string{"LT", "LT", "LT", "LT", "LT", "LT", "LT"}},
		{"Latvian cases", "lv", "Latvija, Latvijas, Latvijā; Rīga, Rīgas, Rīgā.", []string{"LV", "LV", "LV", "LV", "LV", "LV"}},
		{"Estonian cases", "et", "Eesti, Eestis; Tallinn, Tallinnas.", []string{"EE", "EE", "EE", "EE"}},
		{"Finnish cases", "fi", "Suomi, Suomen, Suomessa; Helsinki, Helsingin.", []string{"FI", "FI", "FI", "FI", "FI"}},
		{"Ukrainian cases", "uk", "Україна, України, Україну, Україні; Київ, Києва.", []string{"UA", "UA", "UA", "UA", "UA", "UA"}},
		{"Russian names of the region", "ru", "Россия, России, Москва; Польша, Польши; Литва, Литвы, Вильнюс.", []string{"RU", "RU", "RU", "PL", "PL", "LT", "LT", "LT"}},
		{"German names", "de", "Polen, Litauen, Lettland, Estland, Finnland.", []string{"PL", "LT", "LV", "EE", "FI"}},
		{"French names", "fr", "La Pologne, la Lituanie, la Lettonie, l'Estonie et la Finlande.", []string{"PL", "LT", "LV", "EE", "FI"}},
		{"parliaments", "en", "The Seimas, the Saeima, the Riigikogu, the Eduskunta, the Sejm and the Verkhovna Rada.", []string{"LT", "LV", "EE", "FI", "PL", "UA"}},
		{"longest name wins", "en", "Papua New Guinea and Equatorial Guinea, not Guinea-Bissau.", []string{"PG", "GQ", "GW"}},
		{"Niger is not Nigeria", "en", "Nigeria and Niger signed.", []string{"NG", "NE"}},
		{"turkey the bird", "en", "We ate turkey at Thanksgiving.", nil},
		{"Chad the name", "en", "Chad Smith played drums. Chad closed its border.", []string{"TD"}},
		{"Georgia the state", "en", "He lives in Atlanta, Georgia. Georgia's parliament met.", []string{"GE"}},
		{"Jordan the name", "en", "Michael Jordan retired.", nil},
		{"us the pronoun", "en", "Join us in the US.", []string{"US"}},
		{"Ottawa the treaty", "en", "The Ottawa Convention bans mines; Ottawa announced tariffs.", []string{"CA"}},
		{"Oslo the treaty", "fr", "La Convention d'Oslo a été signée à Oslo.", []string{"NO"}},
		{"generated stems in their language", "pl", "Austria i Austrii oraz Chorwacji.", []string{"AT", "AT", "HR"}},
		{"no stem across languages", "de", "Der Austritt aus dem Abkommen.", nil},
		{"apostrophes", "uk", "М'янма та Україна.", []string{"MM", "UA"}},
		{"places locate", "uk", "На Харківщині підірвався трактор.", []string{"UA"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mentionCodes(x, tt.text, tt.lang); !slices.Equal(got, tt.want) {
				t.Errorf("Mentions(%q) = %v, want %v", tt.text, got, tt.want)
			}
		})
	}
}

func TestMentionOffsets(t *testing.T) {
	x := extractor(t)
	text := "Wcześniej Łotwa i Litwa."
	ms := x.Mentions(text, "pl")
	if len(ms) != 2 {
		t.Fatalf("got %d mentions, want 2", len(ms))
	}
	if got := text[ms[0].Start:ms[0].End]; got != "Łotwa" {
		t.Errorf("first mention %q, want Łotwa", got)
	}
	if ms[0].Kind != KindName || ms[0].Kind.String() != "name" {
		t.Errorf("kind %v, want name", ms[0].Kind)
	}
}

func TestDataErrors(t *testing.T) {
	countries := []byte("PL\tPoland\n")
	for _, tt := range []struct{ name, names, infl, want string }{
		{"unknown country", "", "XX\ten\tname\tNowhere\n", "unknown country"},
		{"unknown kind", "", "PL\ten\tnoun\tPoland\n", "unknown kind"},
		{"unknown flag", "", "PL\ten\tname\tPoland\tshout\n", "unknown flag"},
		{"short prefix", "", "PL\ten\tname\tPo*\n", "shorter than 3"},
		{"too few fields", "PL\ten\n", "", "want 4"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadGazetteer(countries, []byte(tt.names), []byte(tt.infl))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
	if _, err := loadGazetteer([]byte("PL\tPoland\nPL\tPoland\n"), nil, nil); err == nil {
		t.Error("a country listed twice was accepted")
	}
	for _, tt := range []struct{ cues, want string }{
		{"zzz\ten\tword\n", "unknown class"},
		{"vote\ten\tword\tnosuch\n", "unknown marker class"},
		{"vote\ten\ta/b-c\n", "not one word"},
		{"vote\ten\t~2 word\n", "bad gap"},
		{"vote\ten\t@nosuch word\n", "unknown marker class"},
	} {
		if _, err := compileCues([]byte(tt.cues)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("compileCues(%q): error %v, want %q", tt.cues, err, tt.want)
		}
	}
}

// TestCompileWordsRejectsInnerPrefix keeps data files honest: a "*" on any
// word but the last would be dropped by the tokenizer and the form would
// never match an inflected word.
func TestCompileWordsRejectsInnerPrefix(t *testing.T) {
	tests := []struct {
		form string
		ok   bool
	}{
		{"Верховна Рада", true},
		{"Verkhovna Rad*", true},
		{"Верховн* Рада", false},
		{"Сейм* Литвы*", false},
	}
	for _, tt := range tests {
		t.Run(tt.form, func(t *testing.T) {
			_, err := compileWords(tt.form)
			if (err == nil) != tt.ok {
				t.Errorf("compileWords(%q) error %v, want ok=%v", tt.form, err, tt.ok)
			}
		})
	}
}
