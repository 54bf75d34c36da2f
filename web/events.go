package web

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/minewatch/minewatch/index"
	"github.com/minewatch/minewatch/news"
	"github.com/minewatch/minewatch/treaty"
)

const (
	// chartRange is the span of the volume charts on the events pages.
	chartRange = 90 * 24 * time.Hour
	// maxTimeline bounds the moves shown for one country, and so the number
	// of searches one page makes for the articles behind them.
	maxTimeline = 60
	// stepArticles is how many articles are listed under each move.
	stepArticles = 5
)

// statusClass is the CSS class (and API value) of a country's standing on day
// now: a notified withdrawal that has not taken effect yet is "leaving".
func statusClass(st treaty.CountryStatus, now time.Time) string {
	switch {
	case st.Membership == "":
		return "unknown"
	case st.Disputed():
		return "suspended"
	case st.Pending(now):
		return "leaving"
	}
	switch st.At(now) {
	case treaty.Party:
		return "party"
	case treaty.Signatory:
		return "signatory"
	case treaty.Withdrawn:
		return "withdrawn"
	case treaty.Territory:
		return "territory"
	}
	return "notparty"
}

var statusLegend = []struct{ Class, Label string }{
	{"party", "State party"},
	{"leaving", "Withdrawal notified, not yet in effect"},
	{"withdrawn", "Withdrawn"},
	{"suspended", "\"Suspension\" notified (disputed)"},
	{"signatory", "Signatory only"},
	{"notparty", "Not party"},
}

func stageLabel(a news.Action) string {
	if s := treaty.StageOf(a); s != treaty.StageNone {
		return s.String()
	}
	return strings.ReplaceAll(string(a), "_", " ")
}

type statusView struct {
	Class string
	Label string
}

func newStatusView(st treaty.CountryStatus, now time.Time) statusView {
	return statusView{Class: statusClass(st, now), Label: st.Label()}
}

type countryRow struct {
	Code, Name  string
	Ottawa, CCM statusView
	Latest      *news.Event
	Moves       int
}

type mapShape struct {
	Code, Name, Path, Class, Title string
}

type legendItem struct {
	Class, Label string
	Count        int
}

type eventsPage struct {
	Title       string
	Nav         string
	Treaty      string // map's convention: ottawa or ccm
	TreatyLabel string
	OtherURL    string
	OtherLabel  string
	ViewBox     string
	Shapes      []mapShape
	Legend      []legendItem
	Rows        []countryRow
	NoEvents    bool // no event store configured
	EventsError string
	Chart       volumeChart
}

func (s *Server) handleEventsPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	now := s.now()
	mapTreaty := news.TreatyOttawa
	if strings.EqualFold(r.URL.Query().Get("treaty"), string(news.TreatyCCM)) {
		mapTreaty = news.TreatyCCM
	}
	page := eventsPage{Title: "Treaty events", Nav: "events", Treaty: string(mapTreaty), TreatyLabel: treatyLabel(mapTreaty)}
	if mapTreaty == news.TreatyCCM {
		page.OtherURL, page.OtherLabel = "/events", treatyLabel(news.TreatyOttawa)
	} else {
		page.OtherURL, page.OtherLabel = "/events?treaty=ccm", treatyLabel(news.TreatyCCM)
	}
	rows, err := s.countryRows(ctx)
	switch {
	case errors.Is(err, errNoEvents):
		page.NoEvents = true
	case err != nil:
		if ctx.Err() != nil {
			return
		}
		s.log.ErrorContext(ctx, "list events", "err", err)
		page.EventsError = "The treaty moves could not be loaded; the table shows the treaties' status only. Please reload in a moment."
	}
	page.Rows = rows
	counts := map[string]int{}
	rowByCode := map[string]countryRow{}
	for _, row := range rows {
		rowByCode[row.Code] = row
	}
	wm := treaty.World()
	page.ViewBox = wm.ViewBox
	for _, sh := range wm.Shapes {
		c, _ := treaty.Lookup(sh.Code)
		st := c.In(mapTreaty)
		class := statusClass(st, now)
		counts[class]++
		title := c.Name + ": " + st.Label()
		if row, ok := rowByCode[sh.Code]; ok && row.Latest != nil {
			title += "; latest move " + actionLabel(row.Latest.Action) + " (" + row.Latest.FirstSeen.UTC().Format("2 Jan 2006") + ")"
		}
		page.Shapes = append(page.Shapes, mapShape{Code: sh.Code, Name: c.Name, Path: sh.Path, Class: class, Title: title})
	}
	for _, l := range statusLegend {
		page.Legend = append(page.Legend, legendItem{Class: l.Class, Label: l.Label, Count: counts[l.Class]})
	}
	page.Chart = s.chart(ctx, "Relevant articles per day by topic", index.Query{}, now, "topic")
	s.render(w, r, http.StatusOK, "events", page)
}

var errNoEvents = errors.New("web: no event store")

// countryRows lists every state (territories left out) with both statuses and
// its latest move; countries with moves come first, most recent first.
// Without an event store it returns the rows and errNoEvents.
func (s *Server) countryRows(ctx context.Context) ([]countryRow, error) {
	now := s.now()
	var evs []news.Event
	var evErr error
	if s.events == nil {
		evErr = errNoEvents
	} else {
		evs, evErr = s.events.Events(ctx, index.EventFilter{})
	}
	latest := map[string]news.Event{}
	moves := map[string]int{}
	for _, ev := range evs {
		moves[ev.Country]++
		if l, ok := latest[ev.Country]; !ok || laterMove(ev, l) {
			latest[ev.Country] = ev
		}
	}
	var rows []countryRow
	for _, c := range treaty.All() {
		if c.Ottawa.Membership == treaty.Territory && moves[c.Code] == 0 {
			continue
		}
		row := countryRow{Code: c.Code, Name: c.Name, Ottawa: newStatusView(c.Ottawa, now), CCM: newStatusView(c.CCM, now), Moves: moves[c.Code]}
		if ev, ok := latest[c.Code]; ok {
			row.Latest = &ev
		}
		rows = append(rows, row)
	}
	slices.SortStableFunc(rows, func(a, b countryRow) int {
		switch {
		case a.Latest != nil && b.Latest != nil:
			return b.Latest.FirstSeen.Compare(a.Latest.FirstSeen)
		case a.Latest != nil:
			return -1
		case b.Latest != nil:
			return 1
		}
		return 0
	})
	return rows, evErr
}

// laterMove orders two moves of one country: by day first seen, then by stage,
// so a notification reported the same day as the vote counts as the latest.
func laterMove(a, b news.Event) bool {
	if c := midnight(a.FirstSeen).Compare(midnight(b.FirstSeen)); c != 0 {
		return c > 0
	}
	return treaty.CompareActions(a.Action, b.Action) > 0
}

// chart runs a histogram search over the last chartRange and builds the chart;
// a failure is logged and leaves the chart out, as the page is still useful.
func (s *Server) chart(ctx context.Context, title string, q index.Query, now time.Time, by string) volumeChart {
	q.Histogram = true
	q.Limit = 1
	q.RelevantOnly = true
	q.Since = midnight(now.UTC().Add(-chartRange))
	q.Sort = index.SortDate
	hits, err := s.search.Search(ctx, q)
	if err != nil {
		if ctx.Err() == nil {
			s.log.WarnContext(ctx, "volume chart search", "err", err)
		}
		return volumeChart{}
	}
	return buildChart(title, hits.Histogram, q.Since, now, by)
}

type stepArticle struct {
	ID, Title, Source string
	Date              time.Time
}

type timelineStep struct {
	Event             news.Event
	Stage             string
	ActionLabel       string
	TreatyLabel       string
	Effective         time.Time
	EffectiveDerived  bool // computed here from the first report, not from the event
	Articles          []stepArticle
	MoreArticles      int
	SearchURL         string
	ArticlesSearchErr bool
}

type stageCell struct {
	Stage   string
	Label   string
	Reached bool
	Seen    time.Time // first report in the news
	Record  time.Time // date in the treaty record (withdrawals.tsv)
	Derived bool      // Record is computed (effective = notified + 6 months)
}

type stageTrack struct {
	Treaty      string
	TreatyLabel string
	Kind        string // withdrawal or suspension
	Note        string
	Cells       []stageCell
}

type countryPage struct {
	Title       string
	Nav         string
	Code        string
	Name        string
	Ottawa, CCM statusView
	Tracks      []stageTrack
	Steps       []timelineStep
	Truncated   int
	NoEvents    bool
	EventsError string
	Chart       volumeChart
	SearchURL   string
}

func (s *Server) handleCountryPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	c, ok := treaty.Lookup(r.PathValue("country"))
	if !ok {
		s.renderError(w, r, http.StatusNotFound, "Unknown country",
			"There is no country with this code. Use an ISO 3166-1 alpha-2 code such as PL, or pick one on the events page.")
		return
	}
	if r.PathValue("country") != c.Code {
		http.Redirect(w, r, "/events/"+c.Code, http.StatusMovedPermanently)
		return
	}
	page, err := s.countryData(ctx, c)
	if err != nil && ctx.Err() != nil {
		return
	}
	page.Chart = s.chart(ctx, "Relevant articles per day about "+c.Name, index.Query{Countries: []string{c.Code}}, s.now(), "topic")
	s.render(w, r, http.StatusOK, "country", page)
}

// countryData builds a country's timeline. Errors are logged and shown in the
// page; the returned error only tells the caller whether the client left.
func (s *Server) countryData(ctx context.Context, c treaty.Country) (countryPage, error) {
	now := s.now()
	page := countryPage{
		Title: c.Name + ": treaty moves", Nav: "events", Code: c.Code, Name: c.Name,
		Ottawa: newStatusView(c.Ottawa, now), CCM: newStatusView(c.CCM, now),
		SearchURL: "/?" + searchParams{Countries: []string{c.Code}, Sort: string(index.SortDate)}.values().Encode(),
	}
	var evs []news.Event
	if s.events == nil {
		page.NoEvents = true
	} else {
		var err error
		evs, err = s.events.Events(ctx, index.EventFilter{Countries: []string{c.Code}})
		if err != nil {
			if ctx.Err() != nil {
				return page, err
			}
			s.log.ErrorContext(ctx, "list country events", "country", c.Code, "err", err)
			page.EventsError = "The treaty moves could not be loaded. Please reload in a moment."
		}
	}
	slices.SortStableFunc(evs, func(a, b news.Event) int {
		if d := midnight(a.FirstSeen).Compare(midnight(b.FirstSeen)); d != 0 {
			return d
		}
		if d := treaty.CompareActions(a.Action, b.Action); d != 0 {
			return d
		}
		return cmp.Compare(a.Treaty, b.Treaty)
	})
	if len(evs) > maxTimeline {
		// The newest moves matter most each morning.
		page.Truncated = len(evs) - maxTimeline
		evs = evs[len(evs)-maxTimeline:]
	}
	page.Steps = make([]timelineStep, len(evs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for i, ev := range evs {
		step := timelineStep{Event: ev, Stage: stageLabel(ev.Action), ActionLabel: actionLabel(ev.Action),
			TreatyLabel: treatyLabel(ev.Treaty), Effective: ev.EffectiveDate}
		if step.Effective.IsZero() && ev.Action == news.ActionWithdrawNotify && ev.Treaty != news.TreatyNone && !ev.FirstSeen.IsZero() {
			step.Effective, step.EffectiveDerived = treaty.EffectiveDate(midnight(ev.FirstSeen)), true
		}
		p := searchParams{Countries: []string{ev.Country}, Actions: []string{string(ev.Action)},
			Treaties: []string{string(ev.Treaty)}, Sort: string(index.SortDate), AllArticles: true}
		step.SearchURL = "/?" + p.values().Encode()
		page.Steps[i] = step
		g.Go(func() error {
			hits, err := s.search.Search(gctx, index.Query{
				Countries: []string{ev.Country}, Actions: []news.Action{ev.Action}, Treaties: []news.Treaty{ev.Treaty},
				Sort: index.SortDate, Limit: stepArticles,
			})
			if err != nil {
				if gctx.Err() == nil {
					s.log.WarnContext(gctx, "articles behind a move", "key", ev.Key, "err", err)
				}
				page.Steps[i].ArticlesSearchErr = true
				return nil
			}
			for _, h := range hits.Docs {
				d := h.Document
				date := d.Published
				if date.IsZero() {
					date = d.FirstSeen
				}
				page.Steps[i].Articles = append(page.Steps[i].Articles, stepArticle{
					ID: d.ID, Title: firstNonEmpty(strings.TrimSpace(d.Title), "(untitled)"), Source: displaySource(d, nil), Date: date})
			}
			page.Steps[i].MoreArticles = max(0, hits.Total-len(hits.Docs))
			return nil
		})
	}
	_ = g.Wait() // step errors are recorded per step
	for _, tr := range []news.Treaty{news.TreatyOttawa, news.TreatyCCM} {
		if t, ok := stageTrackFor(c, tr, evs); ok {
			page.Tracks = append(page.Tracks, t)
		}
	}
	return page, ctx.Err()
}

// stageTrackFor lays the withdrawal stages of one convention side by side:
// when the news first reported each, and the date in the treaty record.
func stageTrackFor(c treaty.Country, tr news.Treaty, evs []news.Event) (stageTrack, bool) {
	st := c.In(tr)
	actions := []news.Action{news.ActionWithdrawAnnounce, news.ActionWithdrawVote, news.ActionWithdrawNotify, news.ActionWithdrawEffective}
	t := stageTrack{Treaty: string(tr), TreatyLabel: treatyLabel(tr)}
	shown := st.Withdrawal != nil
	if w := st.Withdrawal; w != nil {
		t.Kind, t.Note = w.Kind, w.Note
	}
	for _, a := range actions {
		cell := stageCell{Stage: treaty.StageOf(a).String(), Label: actionLabel(a)}
		for _, ev := range evs {
			if ev.Action == a && ev.Treaty == tr && (cell.Seen.IsZero() || ev.FirstSeen.Before(cell.Seen)) {
				cell.Seen = ev.FirstSeen
			}
		}
		if w := st.Withdrawal; w != nil {
			switch a {
			case news.ActionWithdrawAnnounce:
				cell.Record = w.Announced
			case news.ActionWithdrawVote:
				cell.Record = w.Voted
			case news.ActionWithdrawNotify:
				cell.Record = w.Notified
			case news.ActionWithdrawEffective:
				cell.Record = w.Effective
				if cell.Record.IsZero() && !w.Notified.IsZero() && w.Kind == treaty.KindWithdrawal {
					cell.Record, cell.Derived = treaty.EffectiveDate(w.Notified), true
				}
			}
		}
		cell.Reached = !cell.Seen.IsZero() || !cell.Record.IsZero()
		shown = shown || !cell.Seen.IsZero()
		t.Cells = append(t.Cells, cell)
	}
	return t, shown
}

// API

type apiStatus struct {
	Status     string         `json:"status"` // at the server's now, see statusClass
	Membership string         `json:"membership"`
	Label      string         `json:"label"`
	InForce    *time.Time     `json:"in_force"`
	Withdrawal *apiWithdrawal `json:"withdrawal"`
}

type apiWithdrawal struct {
	Kind      string     `json:"kind"`
	Announced *time.Time `json:"announced"`
	Voted     *time.Time `json:"voted"`
	Notified  *time.Time `json:"notified"`
	Effective *time.Time `json:"effective"`
	Note      string     `json:"note"`
}

type apiEvent struct {
	Key              string     `json:"key"`
	Country          string     `json:"country"`
	Action           string     `json:"action"`
	Stage            string     `json:"stage"`
	Treaty           string     `json:"treaty"`
	FirstSeen        *time.Time `json:"first_seen"`
	FirstArticleID   string     `json:"first_article_id"`
	FirstSourceID    string     `json:"first_source_id"`
	Evidence         string     `json:"evidence"`
	Articles         int        `json:"articles"`
	EffectiveDate    *time.Time `json:"effective_date"`
	EffectiveDerived bool       `json:"effective_date_derived"`
}

type apiCountry struct {
	Code       string    `json:"code"`
	Name       string    `json:"name"`
	Ottawa     apiStatus `json:"ottawa"`
	CCM        apiStatus `json:"ccm"`
	Moves      int       `json:"moves"`
	LatestMove *apiEvent `json:"latest_move"`
}

type apiEvents struct {
	Countries []apiCountry `json:"countries"`
	// EventsAvailable is false when the server has no event store: statuses
	// are then the treaty record only.
	EventsAvailable bool `json:"events_available"`
}

type apiStepArticle struct {
	ID        string     `json:"id"`
	Title     string     `json:"title"`
	Source    string     `json:"source"`
	Published *time.Time `json:"published"`
}

type apiStep struct {
	apiEvent
	ArticleList  []apiStepArticle `json:"article_list"`
	MoreArticles int              `json:"more_articles"`
}

type apiCountryTimeline struct {
	Country         apiCountry       `json:"country"`
	EventsAvailable bool             `json:"events_available"`
	Timeline        []apiStep        `json:"timeline"`
	Histogram       []index.DayCount `json:"histogram"`
}

func newAPIStatus(st treaty.CountryStatus, now time.Time) apiStatus {
	out := apiStatus{Status: statusClass(st, now), Membership: string(st.Membership), Label: st.Label(), InForce: optTime(st.InForce)}
	if w := st.Withdrawal; w != nil {
		out.Withdrawal = &apiWithdrawal{Kind: w.Kind, Announced: optTime(w.Announced), Voted: optTime(w.Voted),
			Notified: optTime(w.Notified), Effective: optTime(w.Effective), Note: w.Note}
	}
	return out
}

func newAPIEvent(ev news.Event) *apiEvent {
	return &apiEvent{Key: ev.Key, Country: ev.Country, Action: string(ev.Action), Stage: treaty.StageOf(ev.Action).String(),
		Treaty: string(ev.Treaty), FirstSeen: optTime(ev.FirstSeen), FirstArticleID: ev.FirstArticleID,
		FirstSourceID: ev.FirstSourceID, Evidence: ev.Evidence, Articles: ev.Articles, EffectiveDate: optTime(ev.EffectiveDate)}
}

func (s *Server) handleAPIEvents(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	now := s.now()
	rows, err := s.countryRows(ctx)
	if err != nil && !errors.Is(err, errNoEvents) {
		if ctx.Err() != nil {
			return
		}
		s.log.ErrorContext(ctx, "api events", "err", err)
		s.writeProblem(w, r, http.StatusInternalServerError, "", "", "the treaty moves could not be loaded")
		return
	}
	out := apiEvents{Countries: make([]apiCountry, 0, len(rows)), EventsAvailable: s.events != nil}
	for _, row := range rows {
		c, _ := treaty.Lookup(row.Code)
		ac := apiCountry{Code: c.Code, Name: c.Name, Ottawa: newAPIStatus(c.Ottawa, now), CCM: newAPIStatus(c.CCM, now), Moves: row.Moves}
		if row.Latest != nil {
			ac.LatestMove = newAPIEvent(*row.Latest)
		}
		out.Countries = append(out.Countries, ac)
	}
	s.writeJSON(w, r, http.StatusOK, "application/json", out)
}

func (s *Server) handleAPICountry(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	now := s.now()
	c, ok := treaty.Lookup(r.PathValue("country"))
	if !ok {
		s.writeProblem(w, r, http.StatusNotFound, "", "", "no country with code "+r.PathValue("country")+": want ISO 3166-1 alpha-2, e.g. PL")
		return
	}
	page, err := s.countryData(ctx, c)
	if err != nil {
		return
	}
	if page.EventsError != "" {
		s.writeProblem(w, r, http.StatusInternalServerError, "", "", "the treaty moves could not be loaded")
		return
	}
	out := apiCountryTimeline{
		Country:         apiCountry{Code: c.Code, Name: c.Name, Ottawa: newAPIStatus(c.Ottawa, now), CCM: newAPIStatus(c.CCM, now), Moves: len(page.Steps) + page.Truncated},
		EventsAvailable: s.events != nil,
		Timeline:        make([]apiStep, 0, len(page.Steps)),
		Histogram:       []index.DayCount{},
	}
	for _, st := range page.Steps {
		ev := newAPIEvent(st.Event)
		ev.EffectiveDate, ev.EffectiveDerived = optTime(st.Effective), st.EffectiveDerived
		step := apiStep{apiEvent: *ev, ArticleList: []apiStepArticle{}, MoreArticles: st.MoreArticles}
		for _, a := range st.Articles {
			step.ArticleList = append(step.ArticleList, apiStepArticle{ID: a.ID, Title: a.Title, Source: a.Source, Published: optTime(a.Date)})
		}
		out.Timeline = append(out.Timeline, step)
	}
	if n := len(out.Timeline); n > 0 {
		last := out.Timeline[n-1].apiEvent
		out.Country.LatestMove = &last
	}
	hits, err := s.search.Search(ctx, index.Query{Countries: []string{c.Code}, RelevantOnly: true, Histogram: true, Limit: 1,
		Since: midnight(now.UTC().Add(-chartRange))})
	if err == nil && hits.Histogram != nil {
		out.Histogram = hits.Histogram
	}
	s.writeJSON(w, r, http.StatusOK, "application/json", out)
}
