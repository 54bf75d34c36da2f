// Package treaty knows where every country stands in the Ottawa Convention and the
// Convention on Cluster Munitions, and how a withdrawal moves through its stages.
package treaty

import (
	"bufio"
	"bytes"
	_ "embed"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/minewatch/minewatch/news"
)

// Membership is a country's standing in one convention.
type Membership string

const (
	Party     Membership = "party"     // bound by it (in force for the country)
	Signatory Membership = "signatory" // signed, never ratified
	NotParty  Membership = "not_party" // neither signed nor joined
	Withdrawn Membership = "withdrawn" // was a party; the withdrawal has taken effect
	// Territory marks ISO entries that are not states able to join on their own.
	Territory Membership = "territory"
)

// Move kinds in withdrawals.tsv.
const (
	KindWithdrawal = "withdrawal"
	// KindSuspension is Ukraine's 2025 "suspension" of the Ottawa Convention:
	// the treaty has no such clause and its legal effect is disputed.
	KindSuspension = "suspension"
)

// Withdrawal is a country's exit (or attempted suspension) from one convention.
// Zero dates are unknown.
type Withdrawal struct {
	Kind      string
	Announced time.Time
	Voted     time.Time
	Notified  time.Time // instrument received by the UN Secretary-General
	Effective time.Time // zero for a suspension
	Note      string
}

// CountryStatus is a country's standing in one convention.
type CountryStatus struct {
	Treaty     news.Treaty
	Membership Membership // "" for a code the data does not know
	// InForce is when the convention entered into force for the country; zero
	// when unknown (see the data file's header) or never.
	InForce    time.Time
	Withdrawal *Withdrawal // nil when it never moved to leave
}

// At is the membership on day t: a withdrawn country was a party until its
// withdrawal took effect, which the events timeline needs for past dates.
func (c CountryStatus) At(t time.Time) Membership {
	if c.Membership == Withdrawn && c.Withdrawal != nil && !c.Withdrawal.Effective.IsZero() &&
		t.Before(c.Withdrawal.Effective) {
		if !c.InForce.IsZero() && t.Before(c.InForce) {
			return NotParty
		}
		return Party
	}
	if c.Membership == Party && !c.InForce.IsZero() && t.Before(c.InForce) {
		return NotParty
	}
	return c.Membership
}

// Disputed reports a move whose legal effect is contested (Ukraine's suspension).
func (c CountryStatus) Disputed() bool {
	return c.Withdrawal != nil && c.Withdrawal.Kind == KindSuspension
}

// Pending reports a notified withdrawal that has not taken effect by t.
func (c CountryStatus) Pending(t time.Time) bool {
	w := c.Withdrawal
	return w != nil && w.Kind == KindWithdrawal && !w.Effective.IsZero() && t.Before(w.Effective)
}

// Label is a short human description, e.g. "withdrawn (effective 27 Dec 2025)".
func (c CountryStatus) Label() string {
	switch {
	case c.Membership == "":
		return "unknown"
	case c.Disputed():
		return "party (suspension notified " + day(c.Withdrawal.Notified) + ", disputed)"
	case c.Membership == Withdrawn && c.Withdrawal != nil && !c.Withdrawal.Effective.IsZero():
		return "withdrawn (effective " + day(c.Withdrawal.Effective) + ")"
	case c.Membership == Party && !c.InForce.IsZero():
		return "party since " + day(c.InForce)
	case c.Membership == NotParty:
		return "not party"
	case c.Membership == Territory:
		return "not a state (covered by its sovereign)"
	}
	return string(c.Membership)
}

func day(t time.Time) string {
	if t.IsZero() {
		return "date unknown"
	}
	return t.Format("2 Jan 2006")
}

// Country is one ISO 3166-1 entry with its standing in both conventions.
type Country struct {
	Code    string // ISO 3166-1 alpha-2 (XK for Kosovo)
	Numeric string // ISO 3166-1 numeric, three digits, as Natural Earth ids use
	Name    string
	Ottawa  CountryStatus
	CCM     CountryStatus
}

// In returns the country's standing in treaty t (ottawa or ccm).
func (c Country) In(t news.Treaty) CountryStatus {
	if t == news.TreatyCCM {
		return c.CCM
	}
	return c.Ottawa
}

//go:embed data/status.tsv
var statusTSV []byte

//go:embed data/withdrawals.tsv
var withdrawalsTSV []byte

type table struct {
	list      []Country
	byCode    map[string]int
	byNumeric map[string]int
}

// load parses the embedded data once; the result is never modified, so it is
// shared by every caller without locks.
var load = sync.OnceValue(func() *table {
	t, err := parse(statusTSV, withdrawalsTSV)
	if err != nil {
		// The data is compiled in and checked by the tests: failing here is a
		// build defect, like a bad regexp.MustCompile literal.
		panic(err)
	}
	return t
})

// Status returns a country's standing in the Ottawa Convention and the CCM.
// An unknown code gives zero values (Membership "").
func Status(country string) (ottawa, ccm CountryStatus) {
	c, ok := Lookup(country)
	if !ok {
		return CountryStatus{Treaty: news.TreatyOttawa}, CountryStatus{Treaty: news.TreatyCCM}
	}
	return c.Ottawa, c.CCM
}

// Lookup finds a country by alpha-2 code, in any case.
func Lookup(code string) (Country, bool) {
	t := load()
	i, ok := t.byCode[strings.ToUpper(strings.TrimSpace(code))]
	if !ok {
		return Country{}, false
	}
	return t.list[i], true
}

// ByNumeric finds a country by its ISO 3166-1 numeric code ("616" or "004").
func ByNumeric(num string) (Country, bool) {
	t := load()
	i, ok := t.byNumeric[num]
	if !ok {
		return Country{}, false
	}
	return t.list[i], true
}

// All returns every country, ordered by code. The slice is a copy.
func All() []Country {
	return slices.Clone(load().list)
}

// Name returns the country's English short name, or the code when unknown.
func Name(code string) string {
	if c, ok := Lookup(code); ok {
		return c.Name
	}
	return code
}

// EffectiveDate is when a withdrawal notified on that day takes effect: six
// months after the Depositary receives the instrument (Ottawa art. 20(3), CCM
// art. 20(2)). A day the later month lacks (31 Aug → Feb) becomes its last
// day. It ignores the armed-conflict proviso, which needs facts no date has.
func EffectiveDate(notified time.Time) time.Time {
	y, m, d := notified.Date()
	first := time.Date(y, m+6, 1, 0, 0, 0, 0, notified.Location())
	last := first.AddDate(0, 1, -1).Day()
	return time.Date(first.Year(), first.Month(), min(d, last),
		notified.Hour(), notified.Minute(), notified.Second(), notified.Nanosecond(), notified.Location())
}

// Stage is a step of a withdrawal, in legal order.
type Stage int

const (
	StageNone      Stage = iota // not a withdrawal step
	StageAnnounce               // a government announces or decides it
	StageVote                   // parliament votes or the head of state signs the law
	StageNotify                 // the instrument reaches the UN Secretary-General
	StageEffective              // six months later, the country is out
)

var stageNames = [...]string{"none", "announce", "vote", "notify", "effective"}

func (s Stage) String() string {
	if s < 0 || int(s) >= len(stageNames) {
		return fmt.Sprintf("Stage(%d)", int(s))
	}
	return stageNames[s]
}

// StageOf maps an action to its withdrawal stage (StageNone for other actions).
func StageOf(a news.Action) Stage {
	switch a {
	case news.ActionWithdrawAnnounce:
		return StageAnnounce
	case news.ActionWithdrawVote:
		return StageVote
	case news.ActionWithdrawNotify:
		return StageNotify
	case news.ActionWithdrawEffective:
		return StageEffective
	}
	return StageNone
}

// CompareActions orders actions for a timeline: withdrawal stages first, in
// legal order (announce < vote < notify < effective), then the other actions in
// taxonomy order. It breaks ties between moves reported on the same day.
func CompareActions(a, b news.Action) int {
	return rank(a) - rank(b)
}

func rank(a news.Action) int {
	if s := StageOf(a); s != StageNone {
		return int(s)
	}
	if i := slices.Index(news.Actions, a); i >= 0 {
		return 100 + i
	}
	return 1000
}

func parse(status, withdrawals []byte) (*table, error) {
	t := &table{byCode: map[string]int{}, byNumeric: map[string]int{}}
	err := eachRow(status, 7, func(line int, f []string) error {
		c := Country{Code: f[0], Numeric: f[1], Name: f[2]}
		if len(c.Code) != 2 || strings.ToUpper(c.Code) != c.Code {
			return fmt.Errorf("status.tsv:%d: code %q: want two capital letters", line, c.Code)
		}
		if len(c.Numeric) != 3 {
			return fmt.Errorf("status.tsv:%d: numeric %q: want three digits", line, c.Numeric)
		}
		var err error
		if c.Ottawa, err = statusCell(news.TreatyOttawa, f[3], f[4]); err != nil {
			return fmt.Errorf("status.tsv:%d: ottawa: %w", line, err)
		}
		if c.CCM, err = statusCell(news.TreatyCCM, f[5], f[6]); err != nil {
			return fmt.Errorf("status.tsv:%d: ccm: %w", line, err)
		}
		if _, dup := t.byCode[c.Code]; dup {
			return fmt.Errorf("status.tsv:%d: %s listed twice", line, c.Code)
		}
		if _, dup := t.byNumeric[c.Numeric]; dup {
			return fmt.Errorf("status.tsv:%d: numeric %s listed twice", line, c.Numeric)
		}
		t.byCode[c.Code] = len(t.list)
		t.byNumeric[c.Numeric] = len(t.list)
		t.list = append(t.list, c)
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = eachRow(withdrawals, 8, func(line int, f []string) error {
		i, ok := t.byCode[f[0]]
		if !ok {
			return fmt.Errorf("withdrawals.tsv:%d: unknown country %q", line, f[0])
		}
		w := &Withdrawal{Kind: f[2], Note: f[7]}
		if w.Kind != KindWithdrawal && w.Kind != KindSuspension {
			return fmt.Errorf("withdrawals.tsv:%d: kind %q: want withdrawal or suspension", line, w.Kind)
		}
		for j, dst := range []*time.Time{&w.Announced, &w.Voted, &w.Notified, &w.Effective} {
			d, err := date(f[3+j])
			if err != nil {
				return fmt.Errorf("withdrawals.tsv:%d: %w", line, err)
			}
			*dst = d
		}
		c := &t.list[i]
		var st *CountryStatus
		switch news.Treaty(f[1]) {
		case news.TreatyOttawa:
			st = &c.Ottawa
		case news.TreatyCCM:
			st = &c.CCM
		default:
			return fmt.Errorf("withdrawals.tsv:%d: treaty %q: want ottawa or ccm", line, f[1])
		}
		if st.Withdrawal != nil {
			return fmt.Errorf("withdrawals.tsv:%d: %s %s listed twice", line, f[0], f[1])
		}
		// The two files must agree, or the map and the timeline would tell
		// different stories.
		switch {
		case w.Kind == KindWithdrawal && st.Membership != Withdrawn:
			return fmt.Errorf("withdrawals.tsv:%d: %s %s is %s in status.tsv, want withdrawn", line, f[0], f[1], st.Membership)
		case w.Kind == KindSuspension && st.Membership != Party:
			return fmt.Errorf("withdrawals.tsv:%d: %s %s suspension but %s in status.tsv", line, f[0], f[1], st.Membership)
		}
		st.Withdrawal = w
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, c := range t.list {
		for _, st := range []CountryStatus{c.Ottawa, c.CCM} {
			if st.Membership == Withdrawn && st.Withdrawal == nil {
				return nil, fmt.Errorf("status.tsv: %s withdrawn from %s without a row in withdrawals.tsv", c.Code, st.Treaty)
			}
		}
	}
	slices.SortFunc(t.list, func(a, b Country) int { return strings.Compare(a.Code, b.Code) })
	for i, c := range t.list {
		t.byCode[c.Code] = i
		t.byNumeric[c.Numeric] = i
	}
	return t, nil
}

func statusCell(tr news.Treaty, m, inForce string) (CountryStatus, error) {
	st := CountryStatus{Treaty: tr, Membership: Membership(m)}
	switch st.Membership {
	case Party, Signatory, NotParty, Withdrawn, Territory:
	default:
		return st, fmt.Errorf("status %q: want party, signatory, not_party, withdrawn or territory", m)
	}
	d, err := date(inForce)
	if err != nil {
		return st, err
	}
	if !d.IsZero() && st.Membership != Party && st.Membership != Withdrawn {
		return st, fmt.Errorf("in-force date %s for a country that is %s", inForce, m)
	}
	st.InForce = d
	return st, nil
}

func date(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("date %q: want YYYY-MM-DD", s)
	}
	return d, nil
}

// eachRow calls fn for every data line (not blank, not a # comment), padded
// to n tab-separated fields; more than n fields is an error.
func eachRow(data []byte, n int, fn func(line int, fields []string) error) error {
	sc := bufio.NewScanner(bytes.NewReader(data))
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(text) == "" || strings.HasPrefix(text, "#") {
			continue
		}
		f := strings.Split(text, "\t")
		if len(f) > n {
			return fmt.Errorf("line %d: %d fields, want at most %d", line, len(f), n)
		}
		if len(f) < 3 {
			return fmt.Errorf("line %d: %d fields, want %d", line, len(f), n)
		}
		for len(f) < n {
			f = append(f, "")
		}
		for i := range f {
			f[i] = strings.TrimSpace(f[i])
		}
		if err := fn(line, f); err != nil {
			return err
		}
	}
	return sc.Err()
}
