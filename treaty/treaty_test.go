package treaty

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minewatch/minewatch/news"
)

// isoCodes is ISO 3166-1 alpha-2 as officially assigned (249 codes), written
// out independently of the data file so a dropped or doubled row shows.
const isoCodes = `AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ
BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE
EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR
HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS
LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL
NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI
SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY
UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW`

func d(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestEveryISOCountryOnce(t *testing.T) {
	want := strings.Fields(isoCodes)
	if len(want) != 249 {
		t.Fatalf("test list has %d codes, want 249", len(want))
	}
	all := All()
	seen := map[string]int{}
	nums := map[string]string{}
	for _, c := range all {
		seen[c.Code]++
		if other, dup := nums[c.Numeric]; dup {
			t.Errorf("numeric %s used by %s and %s", c.Numeric, other, c.Code)
		}
		nums[c.Numeric] = c.Code
		if c.Name == "" {
			t.Errorf("%s has no name", c.Code)
		}
	}
	for _, code := range want {
		if seen[code] != 1 {
			t.Errorf("%s present %d times, want once", code, seen[code])
		}
	}
	for code := range seen {
		if !slices.Contains(want, code) && code != "XK" {
			t.Errorf("%s is not an ISO 3166-1 code (only XK, Kosovo, is allowed besides)", code)
		}
	}
	if !slices.IsSortedFunc(all, func(a, b Country) int { return strings.Compare(a.Code, b.Code) }) {
		t.Error("All is not ordered by code")
	}
}

// TestTotals pins the published counts (REFERENCE.md): a wrong row moves them.
func TestTotals(t *testing.T) {
	count := map[news.Treaty]map[Membership]int{news.TreatyOttawa: {}, news.TreatyCCM: {}}
	for _, c := range All() {
		count[news.TreatyOttawa][c.Ottawa.Membership]++
		count[news.TreatyCCM][c.CCM.Membership]++
		if (c.Ottawa.Membership == Territory) != (c.CCM.Membership == Territory) {
			t.Errorf("%s is a territory in one convention only", c.Code)
		}
	}
	tests := []struct {
		treaty news.Treaty
		m      Membership
		want   int
	}{
		{news.TreatyOttawa, Party, 161},    // 166 after MH and TO, minus LT LV EE FI PL
		{news.TreatyOttawa, Withdrawn, 5},  // LT LV EE FI PL
		{news.TreatyOttawa, NotParty, 33},  // 31 UN-recognised states + XK + TW
		{news.TreatyCCM, Party, 111},       // 112 minus Lithuania
		{news.TreatyCCM, Signatory, 12},    //
		{news.TreatyCCM, Withdrawn, 1},     // Lithuania
		{news.TreatyOttawa, Signatory, 0},  // the Marshall Islands ratified in 2025
		{news.TreatyOttawa, Territory, 51}, //
	}
	for _, tt := range tests {
		t.Run(string(tt.treaty)+"/"+string(tt.m), func(t *testing.T) {
			if got := count[tt.treaty][tt.m]; got != tt.want {
				t.Errorf("%d countries %s in %s, want %d", got, tt.m, tt.treaty, tt.want)
			}
		})
	}
}

func TestWithdrawals(t *testing.T) {
	tests := []struct {
		code      string
		treaty    news.Treaty
		notified  string
		effective string
	}{
		{"LT", news.TreatyOttawa, "2025-06-27", "2025-12-27"},
		{"LV", news.TreatyOttawa, "2025-06-27", "2025-12-27"},
		{"EE", news.TreatyOttawa, "2025-06-27", "2025-12-27"},
		{"FI", news.TreatyOttawa, "2025-07-10", "2026-01-10"},
		{"PL", news.TreatyOttawa, "2025-08-20", "2026-02-20"},
		{"LT", news.TreatyCCM, "2024-09-06", "2025-03-06"},
	}
	for _, tt := range tests {
		t.Run(tt.code+"/"+string(tt.treaty), func(t *testing.T) {
			c, ok := Lookup(tt.code)
			if !ok {
				t.Fatalf("%s unknown", tt.code)
			}
			st := c.In(tt.treaty)
			if st.Membership != Withdrawn || st.Withdrawal == nil {
				t.Fatalf("membership %s, withdrawal %v; want withdrawn", st.Membership, st.Withdrawal)
			}
			w := st.Withdrawal
			if !w.Notified.Equal(d(tt.notified)) || !w.Effective.Equal(d(tt.effective)) {
				t.Errorf("notified %v effective %v, want %s and %s", w.Notified, w.Effective, tt.notified, tt.effective)
			}
			if got := EffectiveDate(w.Notified); !got.Equal(w.Effective) {
				t.Errorf("EffectiveDate(%v) = %v, the data says %v", w.Notified, got, w.Effective)
			}
			if st.Disputed() {
				t.Error("a withdrawal is not disputed")
			}
			if got := st.At(w.Effective.AddDate(0, 0, -1)); got != Party {
				t.Errorf("the day before it took effect: %s, want party", got)
			}
			if got := st.At(w.Effective); got != Withdrawn {
				t.Errorf("on the effective day: %s, want withdrawn", got)
			}
			if !st.Pending(w.Notified) || st.Pending(w.Effective) {
				t.Error("Pending should hold between notification and effect only")
			}
		})
	}
}

func TestStatus(t *testing.T) {
	tests := []struct {
		code         string
		ottawa, ccm  Membership
		disputed     bool
		ottawaInForc string
	}{
		{"UA", Party, NotParty, true, "2006-06-01"},
		{"NO", Party, Party, false, "1999-03-01"},
		{"MH", Party, NotParty, false, "2025-09-01"},
		{"TO", Party, NotParty, false, "2025-12-01"},
		{"US", NotParty, NotParty, false, ""},
		{"RU", NotParty, NotParty, false, ""},
		{"DE", Party, Party, false, "1999-03-01"},
		{"CU", NotParty, Party, false, ""},
		{"ID", Party, Signatory, false, ""},
		{"pl", Withdrawn, NotParty, false, "2013-06-01"},
		{"GL", Territory, Territory, false, ""},
		{"ZZ", "", "", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			o, c := Status(tt.code)
			if o.Membership != tt.ottawa || c.Membership != tt.ccm {
				t.Errorf("Status = %s / %s, want %s / %s", o.Membership, c.Membership, tt.ottawa, tt.ccm)
			}
			if o.Treaty != news.TreatyOttawa || c.Treaty != news.TreatyCCM {
				t.Errorf("treaties %s / %s", o.Treaty, c.Treaty)
			}
			if o.Disputed() != tt.disputed {
				t.Errorf("Disputed = %v, want %v", o.Disputed(), tt.disputed)
			}
			var want time.Time
			if tt.ottawaInForc != "" {
				want = d(tt.ottawaInForc)
			}
			if !o.InForce.Equal(want) {
				t.Errorf("Ottawa in force %v, want %v", o.InForce, want)
			}
			if o.Label() == "" || c.Label() == "" {
				t.Error("empty label")
			}
		})
	}
	// Joining countries were not parties before the convention bound them.
	mh, _ := Status("MH")
	if got := mh.At(d("2025-08-31")); got != NotParty {
		t.Errorf("MH on 31 Aug 2025: %s, want not_party", got)
	}
	ua, _ := Status("UA")
	if !strings.Contains(ua.Label(), "disputed") || !ua.Withdrawal.Effective.IsZero() {
		t.Errorf("Ukraine: label %q, effective %v; want a disputed suspension without effective date", ua.Label(), ua.Withdrawal.Effective)
	}
}

func TestEffectiveDate(t *testing.T) {
	tests := []struct{ notified, want string }{
		{"2025-06-27", "2025-12-27"},
		{"2025-07-10", "2026-01-10"},
		{"2025-08-20", "2026-02-20"},
		{"2024-09-06", "2025-03-06"},
		{"2025-08-31", "2026-02-28"}, // no 31 Feb: the month's last day
		{"2027-08-31", "2028-02-29"}, // leap year
		{"2025-12-31", "2026-06-30"},
		{"2025-03-31", "2025-09-30"},
	}
	for _, tt := range tests {
		t.Run(tt.notified, func(t *testing.T) {
			if got := EffectiveDate(d(tt.notified)); !got.Equal(d(tt.want)) {
				t.Errorf("EffectiveDate(%s) = %s, want %s", tt.notified, got.Format(time.DateOnly), tt.want)
			}
		})
	}
}

func TestStages(t *testing.T) {
	order := []news.Action{news.ActionWithdrawAnnounce, news.ActionWithdrawVote, news.ActionWithdrawNotify,
		news.ActionWithdrawEffective, news.ActionRemain, news.ActionResumeProduction}
	for i := 1; i < len(order); i++ {
		if CompareActions(order[i-1], order[i]) >= 0 {
			t.Errorf("%s should sort before %s", order[i-1], order[i])
		}
	}
	if !(StageAnnounce < StageVote && StageVote < StageNotify && StageNotify < StageEffective) {
		t.Error("stages out of order")
	}
	tests := []struct {
		a    news.Action
		want Stage
	}{
		{news.ActionWithdrawAnnounce, StageAnnounce},
		{news.ActionWithdrawVote, StageVote},
		{news.ActionWithdrawNotify, StageNotify},
		{news.ActionWithdrawEffective, StageEffective},
		{news.ActionRemain, StageNone},
		{"made_up", StageNone},
	}
	for _, tt := range tests {
		t.Run(string(tt.a), func(t *testing.T) {
			if got := StageOf(tt.a); got != tt.want {
				t.Errorf("StageOf = %s, want %s", got, tt.want)
			}
		})
	}
	if s := Stage(9).String(); s != "Stage(9)" {
		t.Errorf("String of a bad stage = %q", s)
	}
}

func TestByNumeric(t *testing.T) {
	for num, want := range map[string]string{"616": "PL", "004": "AF", "804": "UA", "983": "XK", "999": ""} {
		c, ok := ByNumeric(num)
		if ok != (want != "") || c.Code != want {
			t.Errorf("ByNumeric(%s) = %s, %v; want %q", num, c.Code, ok, want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	good := "PL\t616\tPoland\twithdrawn\t\tnot_party\t\n"
	goodW := "PL\tottawa\twithdrawal\t\t\t2025-08-20\t2026-02-20\t\n"
	tests := []struct {
		name, status, withdrawals, want string
	}{
		{"bad status", "PL\t616\tPoland\tmember\t\tnot_party\t\n", "", "member"},
		{"bad date", "PL\t616\tPoland\tparty\t2013/06/01\tnot_party\t\n", "", "YYYY-MM-DD"},
		{"date for non-party", "PL\t616\tPoland\tnot_party\t2013-06-01\tnot_party\t\n", "", "in-force"},
		{"duplicate", good + good, goodW, "twice"},
		{"lower-case code", "pl\t616\tPoland\tparty\t\tnot_party\t\n", "", "capital"},
		{"too many fields", "PL\t616\tPoland\tparty\t\tnot_party\t\textra\n", "", "fields"},
		{"withdrawn without row", good, "", "without a row"},
		{"row disagrees", "PL\t616\tPoland\tparty\t\tnot_party\t\n", goodW, "want withdrawn"},
		{"unknown country", good, "QQ\tottawa\twithdrawal\t\t\t\t\t\n", "unknown country"},
		{"bad treaty", good, "PL\tgeneva\twithdrawal\t\t\t\t\t\n", "treaty"},
		{"bad kind", good, "PL\tottawa\texit\t\t\t\t\t\n", "kind"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse([]byte(tt.status), []byte(tt.withdrawals))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
	if _, err := parse([]byte("# header\n\n"+good), []byte(goodW)); err != nil {
		t.Errorf("good data: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("PL\t616\tPoland\twithdrawn\t\tnot_party\t\n"), []byte("PL\tottawa\twithdrawal\t\t\t2025-08-20\t2026-02-20\t\n"))
	f.Add(statusTSV, withdrawalsTSV)
	f.Add([]byte("UA\t804\tUkraine\tparty\t2006-06-01\tnot_party\n"), []byte("UA\tottawa\tsuspension\t\t\t2025-07-18\t\tdisputed\n"))
	f.Fuzz(func(t *testing.T, status, withdrawals []byte) {
		tab, err := parse(status, withdrawals)
		if err != nil {
			return
		}
		for i, c := range tab.list {
			if tab.byCode[c.Code] != i || tab.byNumeric[c.Numeric] != i {
				t.Fatalf("index out of step for %s", c.Code)
			}
		}
	})
}

func BenchmarkStatus(b *testing.B) {
	for b.Loop() {
		Status("PL")
	}
}

func TestWorldMap(t *testing.T) {
	m := World()
	if m.ViewBox != "0 0 1000 438" {
		t.Errorf("viewBox %q", m.ViewBox)
	}
	codes := map[string]bool{}
	for _, s := range m.Shapes {
		if codes[s.Code] {
			t.Errorf("%s drawn twice", s.Code)
		}
		codes[s.Code] = true
		if _, ok := Lookup(s.Code); !ok {
			t.Errorf("map shape %s is not a known country", s.Code)
		}
		if !strings.HasPrefix(s.Path, "M") || !strings.HasSuffix(s.Path, "z") {
			t.Errorf("%s path %.20q is not closed SVG path data", s.Code, s.Path)
		}
	}
	// The countries the analysts follow most must be on the map.
	for _, c := range []string{"PL", "FI", "EE", "LV", "LT", "UA", "NO", "US", "RU", "XK"} {
		if !codes[c] {
			t.Errorf("%s missing from the map", c)
		}
	}
	if len(m.Shapes) < 150 {
		t.Errorf("only %d shapes", len(m.Shapes))
	}
	if _, err := parseMap("viewbox\t0 0 1 1\nPL\tM0 0l1 1z\"><script>\n"); err == nil {
		t.Error("markup in a path was accepted")
	}
}
