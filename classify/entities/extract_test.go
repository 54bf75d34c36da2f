package entities

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minewatch/minewatch/news"
)

var (
	testOnce sync.Once
	testX    *Extractor
	testErr  error
)

// extractor returns one shared Extractor whose clock is pinned to mid-2026, so
// "in 2012" is history and "in 2025" is not, whatever year the tests run in.
func extractor(t testing.TB) *Extractor {
	t.Helper()
	testOnce.Do(func() {
		testX, testErr = New(WithNow(func() time.Time { return time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC) }))
	})
	if testErr != nil {
		t.Fatal(testErr)
	}
	return testX
}

// all topics: the tests of extraction itself do not depend on the rules.
var allTopics = []string{
	news.TopicTreatyWithdrawal, news.TopicTreatyMembership, news.TopicProduction, news.TopicStockpile,
	news.TopicTransferUse, news.TopicDeminingFunding, news.TopicCasualtiesVictims, news.TopicTreatyMeetings,
	news.TopicClusterMunitions,
}

func keysOf(es []news.Entity) []string {
	out := make([]string, 0, len(es))
	for _, e := range es {
		out = append(out, e.Key())
	}
	slices.Sort(out)
	return out
}

func TestExtract(t *testing.T) {
	x := extractor(t)
	tests := []struct {
		name, lang, title, text string
		topics                  []string // nil: allTopics
		want                    []string // sorted keys
	}{
		// Stages and their verbs.
		{name: "parliament vote", lang: "en",
			title: "Latvian parliament votes to leave anti-personnel mine ban treaty",
			text:  "Latvia's parliament on Wednesday voted to withdraw from the Ottawa Convention. The law now goes to the president.",
			want:  []string{"LV/withdraw_vote/ottawa"}},
		{name: "government decision is an announcement", lang: "en",
			title: "Finland to withdraw from Ottawa Convention",
			text:  "Finland will begin preparations to withdraw from the Ottawa Convention banning anti-personnel mines, the president said.",
			want:  []string{"FI/withdraw_announce/ottawa"}},
		{name: "notification with earlier steps as background", lang: "en",
			title: "Poland formally notifies UN of exit from landmine convention",
			text: "Poland has deposited its instrument of withdrawal from the Ottawa Convention with the United Nations Secretary-General, the Foreign Ministry said. " +
				"The notification follows the adoption of the withdrawal law by both chambers of parliament and its signature by the president. " +
				"Poland ratified the convention in 2012.",
			want: []string{"PL/withdraw_notify/ottawa"}},
		{name: "takes effect, notification in an after-clause", lang: "en",
			title: "Finland no longer bound by Ottawa Convention as exit takes effect",
			text:  "Finland's withdrawal from the convention prohibiting anti-personnel landmines took effect on Saturday, six months after Helsinki notified the United Nations of its decision.",
			want:  []string{"FI/withdraw_effective/ottawa"}},
		{name: "president signs the law is a vote", lang: "pl",
			title: "Prezydent podpisał ustawę o wyjściu Polski z konwencji ottawskiej",
			text:  "Prezydent podpisał ustawę o wypowiedzeniu konwencji ottawskiej, która zakazuje stosowania min przeciwpiechotnych. Wcześniej ustawę bez poprawek przyjął Senat.",
			want:  []string{"PL/withdraw_vote/ottawa"}},
		{name: "presidential decree is an announcement", lang: "uk",
			title: "Зеленський підписав указ про вихід України з Оттавської конвенції",
			text:  "Україна підписала конвенцію у 1999 році та ратифікувала її у 2005 році.",
			want:  []string{"UA/withdraw_announce/ottawa"}},
		// Parliaments stand for their country.
		{name: "Seimas", lang: "lt",
			title: "Seimas pritarė pasitraukimui iš Otavos konvencijos",
			text:  "Seimas ketvirtadienį pritarė pasitraukimui iš konvencijos. Už įstatymą balsavo 107 Seimo nariai.",
			want:  []string{"LT/withdraw_vote/ottawa"}},
		{name: "Saeima", lang: "lv",
			title: "Saeima atbalsta izstāšanos no Otavas konvencijas",
			text:  "Saeima trešdien galīgajā lasījumā pieņēma likumu par izstāšanos no konvencijas, kas aizliedz kājnieku mīnas.",
			want:  []string{"LV/withdraw_vote/ottawa"}},
		{name: "Riigikogu", lang: "et",
			title: "Riigikogu otsustas Ottawa konventsioonist välja astuda",
			text:  "Seaduse poolt hääletas 80 riigikogu liiget.",
			want:  []string{"EE/withdraw_vote/ottawa"}},
		{name: "Eduskunta", lang: "fi",
			title: "Eduskunta hyväksyi irtautumisen jalkaväkimiinat kieltävästä sopimuksesta",
			text:  "Eduskunta hyväksyi torstaina irtautumisen Ottawan sopimuksesta äänin 157–18.",
			want:  []string{"FI/withdraw_vote/ottawa"}},
		{name: "Sejm", lang: "pl",
			title: "Sejm za wypowiedzeniem konwencji ottawskiej",
			text:  "Sejm uchwalił w czwartek ustawę o wypowiedzeniu konwencji. Polska ratyfikowała konwencję w 2012 roku.",
			want:  []string{"PL/withdraw_vote/ottawa"}},
		{name: "Verkhovna Rada", lang: "uk",
			title: "Рада підтримала вихід з Оттавської конвенції",
			text:  "Верховна Рада ухвалила закон про вихід з Конвенції про заборону протипіхотних мін.",
			want:  []string{"UA/withdraw_vote/ottawa"}},
		// Hedges, future steps, history and negation.
		{name: "weighing is no entity", lang: "en",
			title: "Finland weighs leaving landmine ban",
			text:  "Finland is examining whether to withdraw from the Ottawa Convention, the defence minister said, adding that no decision had been taken.",
			want:  nil},
		{name: "future step of another country", lang: "lv",
			title: "Stājas spēkā Latvijas izstāšanās no Otavas konvencijas",
			text:  "Somija un Polija no konvencijas izstāsies nākamā gada sākumā.",
			want:  []string{"LV/withdraw_effective/ottawa"}},
		{name: "expected to follow is no entity", lang: "en",
			title: "Baltic states lodge landmine treaty withdrawal notices at UN",
			text: "Estonia, Latvia and Lithuania on Friday deposited their notifications of withdrawal from the Ottawa Convention with the UN Secretary-General. " +
				"Finland is expected to submit its own notification in July, while Poland's parliament has yet to complete the procedure.",
			want: []string{"EE/withdraw_notify/ottawa", "LT/withdraw_notify/ottawa", "LV/withdraw_notify/ottawa"}},
		{name: "no plans to withdraw is remain", lang: "en",
			title: "Norway will stay in mine ban treaty",
			text:  "Norway has no plans to withdraw from the Ottawa Convention, the foreign minister said.",
			want:  []string{"NO/remain/ottawa"}},
		{name: "German: kein Austritt", lang: "de",
			title: "Bundesregierung: Kein Austritt aus dem Ottawa-Übereinkommen",
			text:  "Die Bundesregierung plant keinen Austritt aus dem Ottawa-Übereinkommen über das Verbot von Antipersonenminen.",
			want:  []string{"DE/remain/ottawa"}},
		{name: "parliament rejecting a withdrawal bill is remain", lang: "en",
			title: "Norwegian parliament rejects proposal to quit landmine treaty",
			text:  "Norway's parliament on Tuesday voted down a proposal to begin withdrawing from the Ottawa Convention.",
			want:  []string{"NO/remain/ottawa"}},
		{name: "only some acting", lang: "en",
			title:  "Norway stays",
			text:   "Norway opted to stay within the treaty, unlike Poland, which has left it.",
			topics: []string{news.TopicTreatyMembership},
			want:   []string{"NO/remain/ottawa"}},
		{name: "will not produce is no entity", lang: "et",
			title: "Kaitseministeerium: Eesti ei kavatse jalaväemiine ise toota",
			text:  "Eesti ei kavatse hakata jalaväemiine ise tootma, kinnitas kaitseministeeriumi kantsler.",
			want:  nil},
		{name: "group names are no entity", lang: "en",
			title: "Campaigners: Mine treaty exits are 'a gift to aggressors'",
			text:  "The campaign condemned the decisions of five European states bordering Russia to leave the Mine Ban Treaty. The Baltic states have left the treaty.",
			want:  nil},
		{name: "opinion pieces give no entity", lang: "en",
			title: "Opinion: Leaving the mine ban will not make the eastern flank safer",
			text:  "Poland decided to withdraw from the Ottawa Convention. It is wrong.",
			want:  nil},
		{name: "allegation under investigation", lang: "en",
			title: "Russia using anti-personnel mines in Ukraine - monitor",
			text: "Russian forces have used anti-personnel mines extensively in Ukraine, the Landmine Monitor said. " +
				"The report said it was still examining allegations that Ukrainian forces had used anti-personnel mines.",
			want: []string{"RU/use/ottawa"}},
		// Metonyms and lists.
		{name: "capitals as metonyms in a list", lang: "lt",
			title: "Vilnius pranešė JT apie pasitraukimą iš Otavos konvencijos",
			text:  "Lietuva penktadienį įteikė Jungtinių Tautų generaliniam sekretoriui pranešimą apie pasitraukimą iš Otavos konvencijos. Tą pačią dieną tai padarė ir Ryga bei Talinas.",
			want:  []string{"EE/withdraw_notify/ottawa", "LT/withdraw_notify/ottawa", "LV/withdraw_notify/ottawa"}},
		{name: "joint recommendation of four ministers", lang: "en",
			title: "Poland and Baltic states to quit landmine treaty",
			text:  "The defence ministers of Poland, Lithuania, Latvia and Estonia said on Tuesday that they recommend withdrawing from the Ottawa Convention.",
			want:  []string{"EE/withdraw_announce/ottawa", "LT/withdraw_announce/ottawa", "LV/withdraw_announce/ottawa", "PL/withdraw_announce/ottawa"}},
		{name: "left together, future steps of others", lang: "lt",
			title: "Lietuva pasitraukė iš Otavos konvencijos",
			text:  "Šeštadienį įsigaliojo Lietuvos pasitraukimas iš Otavos konvencijos. Kartu su Lietuva konvenciją paliko Latvija ir Estija. Lenkija ir Suomija iš konvencijos pasitrauks vėliau.",
			want:  []string{"EE/withdraw_effective/ottawa", "LT/withdraw_effective/ottawa", "LV/withdraw_effective/ottawa"}},
		{name: "left the same day", lang: "uk",
			title: "Естонія офіційно вийшла з Оттавської конвенції",
			text:  "Вихід Естонії з Оттавської конвенції набрав чинності в суботу. Того ж дня конвенцію залишили також Латвія та Литва. Україна раніше ухвалила рішення про вихід з конвенції.",
			want:  []string{"EE/withdraw_effective/ottawa", "LT/withdraw_effective/ottawa", "LV/withdraw_effective/ottawa"}},
		{name: "an article before an adjective is no preposition", lang: "en",
			title:  "Arms maker to produce anti-personnel mines",
			text:   "A Polish company will produce anti-personnel mines for the army, its chief executive said.",
			topics: []string{news.TopicProduction},
			want:   []string{"PL/produce/ottawa"}},
		// Other actions and treaties.
		{name: "cluster munitions withdrawal takes effect", lang: "fr",
			title: "La Lituanie quitte officiellement la Convention sur les armes à sous-munitions",
			text:  "La Lituanie est devenue jeudi le premier pays à se retirer de la Convention sur les armes à sous-munitions. Le Parlement lituanien avait voté le retrait en juillet dernier.",
			want:  []string{"LT/withdraw_effective/ccm"}},
		{name: "resumption of production subsumes production", lang: "en",
			title: "Poland to resume production of anti-personnel mines",
			text:  "Poland plans to resume production of anti-personnel landmines. \"We want these mines to be produced in Poland, by Polish companies,\" the minister said.",
			want:  []string{"PL/resume_production/ottawa"}},
		{name: "transfer names the supplier", lang: "ru",
			title: "США начали поставки противопехотных мин Украине",
			text:  "Соединенные Штаты начали поставки Украине противопехотных мин.",
			want:  []string{"US/transfer/ottawa"}},
		{name: "funding names the donor", lang: "en",
			title: "Japan pledges extra $35 million for demining in Ukraine",
			text:  "Japan will provide an additional $35 million to support humanitarian mine clearance in Ukraine.",
			want:  []string{"JP/funding_increase/none"}},
		{name: "casualties leave out the attacker", lang: "en",
			title: "Russian cluster strike on Kharkiv residential area kills three",
			text:  "KHARKIV - Russian forces struck a residential district of Kharkiv with a missile carrying cluster munitions, killing three people.",
			want:  []string{"RU/use/ccm", "UA/casualties/ccm"}},
		{name: "casualties from unspecified mines", lang: "en",
			title: "Landmine casualties hit four-year high",
			text:  "Myanmar recorded the highest number of casualties for a second year, followed by Syria, Afghanistan and Ukraine.",
			want:  []string{"AF/casualties/none", "MM/casualties/none", "SY/casualties/none", "UA/casualties/none"}},
		{name: "joining", lang: "en",
			title: "Nigeria ratifies Convention on Cluster Munitions",
			text:  "Nigeria signed the convention in 2008 but took fifteen years to ratify it.",
			want:  []string{"NG/join_ratify/ccm"}},
		{name: "stockpile destruction", lang: "en",
			title: "Sri Lanka completes destruction of anti-personnel mine stockpile",
			text:  "Sri Lanka has destroyed the last of its stockpiled anti-personnel mines, the Defence Ministry said. Sri Lanka acceded to the convention in 2017.",
			want:  []string{"LK/destroy_stockpile/ottawa"}},
		// Topic gating.
		{name: "background withdrawal in a production story", lang: "lt",
			title:  "Lietuva planuoja pradėti gaminti priešpėstines minas",
			text:   "Lietuva planuoja pradėti gaminti priešpėstines minas. Lietuvos pasitraukimas iš Otavos konvencijos įsigaliojo gruodžio pabaigoje.",
			topics: []string{news.TopicProduction},
			want:   []string{"LT/produce/ottawa"}},
		{name: "not relevant", lang: "en",
			title:  "Latvian parliament votes to withdraw from Istanbul Convention",
			text:   "Latvia's parliament voted to withdraw from the Istanbul Convention.",
			topics: []string{},
			want:   nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			topics := tt.topics
			if topics == nil {
				topics = allTopics
			}
			got := x.Extract(tt.title, tt.text, tt.lang, topics)
			if g := keysOf(got); !slices.Equal(g, tt.want) {
				t.Errorf("got %v, want %v", g, tt.want)
				for _, e := range got {
					t.Logf("  %s: %q", e.Key(), e.Evidence)
				}
			}
			checkEvidence(t, tt.title, tt.text, got)
		})
	}
}

// checkEvidence verifies that every entity's span points at its evidence.
func checkEvidence(t *testing.T, title, text string, es []news.Entity) {
	t.Helper()
	for _, e := range es {
		src := text
		if e.EvidenceAt.Field == news.FieldTitle {
			src = title
		}
		if e.EvidenceAt.Start < 0 || e.EvidenceAt.End > len(src) || e.EvidenceAt.Start > e.EvidenceAt.End {
			t.Errorf("%s: span %+v outside the %s (%d bytes)", e.Key(), e.EvidenceAt, e.EvidenceAt.Field, len(src))
			continue
		}
		if got := strings.TrimSpace(src[e.EvidenceAt.Start:e.EvidenceAt.End]); got != e.Evidence {
			t.Errorf("%s: span text %q, evidence %q", e.Key(), got, e.Evidence)
		}
		if e.CountryName == "" {
			t.Errorf("%s: no country name", e.Key())
		}
	}
}

func TestExtractDeduplicates(t *testing.T) {
	x := extractor(t)
	title := "Estonia's exit from Ottawa Convention takes effect"
	text := "Estonia's withdrawal from the Ottawa Convention took effect on Saturday. Estonia formally left the Ottawa Convention, the ministry said."
	got := x.Extract(title, text, "en", allTopics)
	if len(got) != 1 || got[0].Key() != "EE/withdraw_effective/ottawa" {
		t.Fatalf("got %v, want one EE/withdraw_effective/ottawa", keysOf(got))
	}
	if got[0].EvidenceAt.Field != news.FieldTitle {
		t.Errorf("evidence from %s, want the title (the first sentence that says it)", got[0].EvidenceAt.Field)
	}
}

func TestExtractNilTopicsDoesNotFilter(t *testing.T) {
	x := extractor(t)
	got := x.Extract("Japan pledges extra $35 million for demining in Ukraine", "", "en", nil)
	if want := []string{"JP/funding_increase/none"}; !slices.Equal(keysOf(got), want) {
		t.Errorf("got %v, want %v", keysOf(got), want)
	}
}

func TestExtractConcurrent(t *testing.T) {
	x := extractor(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got := x.Extract("Latvian parliament votes to leave anti-personnel mine ban treaty",
				fmt.Sprintf("Latvia's parliament voted to withdraw from the Ottawa Convention (%d).", i), "en", allTopics)
			if len(got) != 1 {
				t.Errorf("goroutine %d: got %v", i, keysOf(got))
			}
		}()
	}
	wg.Wait()
}

// TestExtractWireStories checks whole wire-style stories whose later paragraphs
// recall other countries' earlier steps: only the reported event counts.
func TestExtractWireStories(t *testing.T) {
	x := extractor(t)
	for i, a := range []struct {
		lang, title, text string
		want              []string
	}{
		{"en", "Estonia's parliament votes to leave landmine treaty", `TALLINN, June 4 (Reuters) - Estonia's parliament voted on Wednesday to withdraw from the Ottawa Convention that bans anti-personnel landmines, joining Latvia, Lithuania and Poland in abandoning the treaty over fears of Russian aggression.

The bill passed with 81 votes in favour and one against in the 101-seat Riigikogu. It now needs to be signed by President Alar Karis.

Estonia, Latvia, Lithuania and Poland said in March they would leave the treaty, citing a changed security environment. Finland announced a similar decision in April. Latvia's parliament approved its exit in April, and Lithuania's in May.

"This decision sends a clear signal that we are ready to use every means to defend our country," Defence Minister Hanno Pevkur said. Russia is not a party to the convention and has used landmines extensively in Ukraine, according to rights groups.

The withdrawal will take effect six months after Estonia notifies the United Nations.`, []string{"EE/withdraw_vote/ottawa"}},
		{"en", "Ukraine's Zelenskiy signs decree to exit landmine treaty", `KYIV, June 29 (Reuters) - Ukrainian President Volodymyr Zelenskiy has signed a decree to withdraw Ukraine from the Ottawa Convention banning anti-personnel landmines, according to a document published on the presidential website on Sunday.

The decision must still be approved by parliament. Russia, which is not a signatory, has used anti-personnel mines widely since its full-scale invasion in 2022, Kyiv says.

Poland and the three Baltic states have announced their withdrawal from the convention. Ukraine signed the treaty in 1999 and ratified it in 2005.`, []string{"UA/withdraw_announce/ottawa"}},
		{"en", "Finland's withdrawal from anti-personnel mine treaty takes effect", `HELSINKI (AP) - Finland officially withdrew from the Ottawa Convention on Saturday, six months after notifying the United Nations, becoming the first Nordic country to leave the treaty.

The government said the move would give the military more flexibility. Defence Minister Antti Hakkanen said Finland had no plans to lay mines in peacetime.

Lithuania, Latvia and Estonia left the treaty in December, while Poland's exit will take effect in February. Norway, the only other Nordic country bordering Russia, has said it will stay in the convention.`, []string{"FI/withdraw_effective/ottawa"}},
	} {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			got := x.Extract(a.title, a.text, a.lang, []string{news.TopicTreatyWithdrawal, news.TopicTreatyMembership})
			if g := keysOf(got); !slices.Equal(g, a.want) {
				t.Errorf("%s: got %v, want %v", a.title, g, a.want)
			}
			checkEvidence(t, a.title, a.text, got)
		})
	}
}

func TestExtractLanguageTags(t *testing.T) {
	x := extractor(t)
	for _, lang := range []string{"lt", "LT", "lt-LT", "lt_LT", ""} {
		t.Run(lang, func(t *testing.T) {
			got := x.Extract("Seimas pritarė pasitraukimui iš Otavos konvencijos", "", lang, allTopics)
			if want := []string{"LT/withdraw_vote/ottawa"}; !slices.Equal(keysOf(got), want) {
				t.Errorf("got %v, want %v", keysOf(got), want)
			}
		})
	}
}

// An article is read as of its own date: its year is not history to it.
func TestExtractAtPublicationDate(t *testing.T) {
	x, err := New(WithNow(func() time.Time { return time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC) }))
	if err != nil {
		t.Fatal(err)
	}
	title := "Lithuanian parliament votes to leave cluster munitions convention"
	text := "Lithuania's parliament, the Seimas, voted on 18 July 2024 to withdraw from the Convention on Cluster Munitions, with 103 votes in favour."
	topics := []string{news.TopicTreatyWithdrawal, news.TopicClusterMunitions}
	got := x.ExtractAt(time.Date(2024, 7, 18, 15, 0, 0, 0, time.UTC), title, text, "en", topics)
	found := false
	for _, e := range got {
		found = found || (e.Country == "LT" && e.Action == news.ActionWithdrawVote && e.Treaty == news.TreatyCCM)
	}
	if !found {
		t.Errorf("published 2024: entities %+v, want LT withdraw_vote ccm", got)
	}
}

// TestExtractGeneralises covers the kinds of phrasing the dev set lacked and
// the demo site and the challenge set showed: lists of countries in the body,
// stages whose sentence names no country, years that name a treaty, case
// endings that make a country an object, victims named a sentence away, and
// staying in both treaties at once. Every text is written for this test.
func TestExtractGeneralises(t *testing.T) {
	x := extractor(t)
	tests := []struct {
		name, lang, title, text string
		want                    []string
	}{
		{name: "joint statement lists the countries, the treaty is dated", lang: "en",
			title: "Baltic and Polish ministers back leaving landmine ban",
			text:  "The defence ministers of Estonia, Latvia, Lithuania and Poland on Monday recommended that their countries pull out of the 1997 convention banning anti-personnel mines.",
			want:  []string{"EE/withdraw_announce/ottawa", "LT/withdraw_announce/ottawa", "LV/withdraw_announce/ottawa", "PL/withdraw_announce/ottawa"}},
		{name: "a year that dates the event is still history", lang: "en",
			title: "Mine ban treaty marks anniversary",
			text:  "Poland ratified the Ottawa Convention in 2012.",
			want:  nil},
		{name: "stage with no country in the headline goes to the headline's country", lang: "pl",
			title: "Prezydent podpisał ustawę. Polska wychodzi z konwencji ottawskiej",
			text:  "Prezydent podpisał w środę ustawę o wypowiedzeniu konwencji ottawskiej, poinformowała kancelaria.",
			want:  []string{"PL/withdraw_vote/ottawa"}},
		{name: "stage with no country further down explains the procedure", lang: "en",
			title: "Lithuania's parliament votes to quit landmine treaty",
			text:  "Lithuania's Seimas voted on Thursday to leave the Ottawa Convention. The withdrawal takes effect six months after the notification.",
			want:  []string{"LT/withdraw_vote/ottawa"}},
		{name: "no longer a party, with już inside the phrase", lang: "pl",
			title: "Polska formalnie poza konwencją ottawską",
			text:  "Od piątku Polska nie jest już stroną konwencji ottawskiej.",
			want:  []string{"PL/withdraw_effective/ottawa"}},
		{name: "Ukraine's suspension voted by the Rada", lang: "ru",
			title: "Рада одобрила приостановление Оттавской конвенции",
			text:  "Верховная рада Украины во вторник приняла закон о приостановлении действия Оттавской конвенции.",
			want:  []string{"UA/withdraw_vote/ottawa"}},
		{name: "suspension in Ukrainian", lang: "uk",
			title: "Парламент проголосував за зупинення для України конвенції про протипіхотні міни",
			text:  "Верховна Рада ухвалила документ 299 голосами.",
			want:  []string{"UA/withdraw_vote/ottawa"}},
		{name: "countries listed after the stage verb", lang: "uk",
			title: "Балтійські країни остаточно поза Оттавською конвенцією",
			text:  "У суботу набув чинності вихід Литви, Латвії та Естонії з Оттавської конвенції.",
			want:  []string{"EE/withdraw_effective/ottawa", "LT/withdraw_effective/ottawa", "LV/withdraw_effective/ottawa"}},
		{name: "no plans to quit either treaty is remain for both", lang: "en",
			title: "Germany has no plans to quit mine or cluster bomb bans",
			text:  "Germany has no plans to withdraw from the anti-personnel mine ban treaty or the Convention on Cluster Munitions, the defence minister said.",
			want:  []string{"DE/remain/ccm", "DE/remain/ottawa"}},
		{name: "neither nor in German is remain", lang: "de",
			title: "Berlin bleibt bei den Verboten",
			text:  "Deutschland will weder aus dem Ottawa-Übereinkommen noch aus dem Übereinkommen über Streumunition austreten.",
			want:  []string{"DE/remain/ccm", "DE/remain/ottawa"}},
		{name: "Finnish allative is the recipient, not the donor", lang: "fi",
			title: "Suomi lisää tukeaan miinanraivaukseen",
			text:  "Suomi myöntää Ukrainalle viisi miljoonaa euroa lisärahoitusta humanitaariseen miinanraivaukseen.",
			want:  []string{"FI/funding_increase/none"}},
		{name: "Ukrainian donor raises its contribution", lang: "uk",
			title: "Нідерланди збільшать внесок на розмінування",
			text:  "Нідерланди збільшать свій внесок на гуманітарне розмінування в Україні.",
			want:  []string{"NL/funding_increase/none"}},
		{name: "victims a sentence after the attack, weapon from it", lang: "et",
			title: "Venemaa ründas Harkivit",
			text:  "Vene väed tabasid Harkivi elamurajooni kassettlahingumoonaga. Rünnakus sai viga viis tsiviilisikut.",
			want:  []string{"RU/use/ccm", "UA/casualties/ccm"}},
		{name: "French attacker after its noun", lang: "fr",
			title: "Bombes à sous-munitions sur Kharkiv",
			text:  "L'armée russe a frappé Kharkiv avec des armes à sous-munitions, blessant quatre civils.",
			want:  []string{"RU/use/ccm", "UA/casualties/ccm"}},
		{name: "a preposition before a list governs all of it", lang: "en",
			title: "US funding freeze halts mine clearance",
			text:  "Partners in Laos, Iraq and Angola say they have had to leave marked minefields half cleared.",
			want:  []string{"US/funding_cut/none"}},
		{name: "neighbours took the same step", lang: "uk",
			title: "Естонія повідомила ООН про вихід з Оттавської конвенції",
			text:  "Естонія передала Генеральному секретарю ООН повідомлення про вихід з конвенції. Того ж дня аналогічні кроки зробили Латвія та Литва.",
			want:  []string{"EE/withdraw_notify/ottawa", "LT/withdraw_notify/ottawa", "LV/withdraw_notify/ottawa"}},
		{name: "finally approving is a vote, not the exit", lang: "lt",
			title: "Latvijos Saeima nubalsavo už pasitraukimą iš Otavos konvencijos",
			text:  "Latvijos Saeima trečiadienį galutinai pritarė šalies pasitraukimui iš Otavos konvencijos.",
			want:  []string{"LV/withdraw_vote/ottawa"}},
		{name: "Latvian ministers do not make a sentence about mines", lang: "en",
			title: "Ministers meet in Riga",
			text:  "Defence ministers of Latvia and Estonia met in Riga to discuss the budget.",
			want:  nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := keysOf(x.Extract(tt.title, tt.text, tt.lang, allTopics))
			want := tt.want
			if want == nil {
				want = []string{}
			}
			if !slices.Equal(got, want) {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}
}
