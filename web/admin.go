package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/minewatch/minewatch/news"
)

// The admin actions are implemented by the composition root (cmd/minewatch),
// which owns the monitor, classifier and alert dispatcher; web only sees
// these interfaces, so it imports none of those packages.

// SourceFetcher fetches one source now, whatever its schedule.
type SourceFetcher interface {
	// FetchSource collects the source and reports the outcome. A source
	// that fails (network, parse) is a result with Error set, not an error;
	// an unknown id is ErrNotFound, one already being fetched ErrBusy.
	FetchSource(ctx context.Context, sourceID string) (FetchResult, error)
}

// FetchResult is one source's collection.
type FetchResult struct {
	SourceID    string        `json:"source"`
	NotModified bool          `json:"not_modified"`
	Items       int           `json:"items"`
	New         int           `json:"new"`
	Indexed     int           `json:"indexed"`
	Relevant    int           `json:"relevant"`
	NewEvents   int           `json:"new_events"`
	Duration    time.Duration `json:"duration_ns"`
	Error       string        `json:"error,omitempty"`
	ErrorClass  string        `json:"error_class,omitempty"`
}

// RuleTester runs a query, and the configured rules, over a text.
type RuleTester interface {
	// TestRule matches t.Query (rule syntax; optional) and classifies the
	// text with the configured rules. A query with a syntax error is
	// ErrInvalid, wrapped with the parser's message.
	TestRule(ctx context.Context, t RuleTest) (RuleTestResult, error)
}

// RuleTest is a query and a text to try it on.
type RuleTest struct {
	Query    string `json:"query"`
	Title    string `json:"title"`
	Text     string `json:"text"`
	Language string `json:"language,omitempty"` // "" means detect
}

// RuleTestResult says whether the query matched, where, and how the
// configured rules classify the text (with each rule's explanation).
type RuleTestResult struct {
	Query          string              `json:"query,omitempty"`
	Matched        bool                `json:"matched"`
	Hits           []news.TermHit      `json:"hits,omitempty"`
	Language       string              `json:"language"`
	Classification news.Classification `json:"classification"`
}

// Reclassifier runs the configured rules over the archive again.
type Reclassifier interface {
	// StartReclassify starts a run in the background and returns at once;
	// ErrBusy when one is running. all redoes articles already classified
	// with the current rules.
	StartReclassify(ctx context.Context, all bool) (ReclassifyStatus, error)
	ReclassifyStatus(ctx context.Context) (ReclassifyStatus, error)
}

// ReclassifyStatus is the current or last reclassification.
type ReclassifyStatus struct {
	Running      bool      `json:"running"`
	Started      time.Time `json:"started,omitzero"`
	Finished     time.Time `json:"finished,omitzero"`
	RulesVersion string    `json:"rules_version"`
	Read         int       `json:"read"`
	Skipped      int       `json:"skipped"`
	Changed      int       `json:"changed"`
	Unchanged    int       `json:"unchanged"`
	Events       int       `json:"events"`
	Error        string    `json:"error,omitempty"`
}

// AlertTester sends sample alerts through a rule's channels.
type AlertTester interface {
	AlertRules(ctx context.Context) ([]AlertRule, error)
	// SendTestAlert sends a sample event through the rule's channels (one,
	// when channel is set). An unknown rule or channel is ErrNotFound; a
	// channel that fails is a result with Error set.
	SendTestAlert(ctx context.Context, ruleID, channel string) ([]ChannelResult, error)
}

// AlertRule is a configured alert rule and its channel ids.
type AlertRule struct {
	ID       string   `json:"id"`
	Channels []string `json:"channels"`
}

// ChannelResult is one channel's test delivery.
type ChannelResult struct {
	Channel string `json:"channel"`
	Error   string `json:"error,omitempty"`
}

// AdminOptions are the admin actions; each nil one is left out of the admin
// page and its endpoints answer 404.
type AdminOptions struct {
	Fetcher      SourceFetcher
	Rules        RuleTester
	Reclassifier Reclassifier
	Alerts       AlertTester
}

func (a AdminOptions) any() bool {
	return a.Fetcher != nil || a.Rules != nil || a.Reclassifier != nil || a.Alerts != nil
}

// Errors the admin interfaces return.
var (
	ErrNotFound = errors.New("not found")
	ErrBusy     = errors.New("already running")
	ErrInvalid  = errors.New("invalid input")
)

// maxRuleText bounds a pasted article.
const maxRuleText = 1 << 20

// adminPage is the data of admin.html.
type adminPage struct {
	Title, Nav string
	CSRF       string
	Sources    []SourceStatus
	SourcesErr string
	Rules      bool
	Test       RuleTest
	TestResult *RuleTestResult
	TestError  string
	Reclassify *ReclassifyStatus
	Alerts     []AlertRule
	AlertsErr  string
	// Notice reports the outcome of the action just taken.
	Notice      string
	NoticeError bool
	Fetch       *FetchResult
	AlertSent   []ChannelResult
}

func (s *Server) adminNotFound(w http.ResponseWriter, r *http.Request) {
	if wantsJSON(r) {
		s.writeProblem(w, r, http.StatusNotFound, "", "", "this admin action is not available on this server")
		return
	}
	s.renderError(w, r, http.StatusNotFound, "Not available", "This server does not offer that admin action.")
}

// renderAdmin shows the admin page with page's action outcome filled in.
func (s *Server) renderAdmin(w http.ResponseWriter, r *http.Request, status int, page adminPage) {
	ctx := r.Context()
	page.Title, page.Nav = "Admin", "admin"
	page.CSRF = csrfToken(w, r)
	if s.admin.Fetcher != nil && s.sources != nil {
		sts, err := s.sources.SourceStatuses(ctx)
		if err != nil {
			s.log.WarnContext(ctx, "admin: list sources", "err", err)
			page.SourcesErr = "The source list could not be loaded."
		}
		page.Sources = sts
	}
	page.Rules = s.admin.Rules != nil
	if s.admin.Reclassifier != nil && page.Reclassify == nil {
		st, err := s.admin.Reclassifier.ReclassifyStatus(ctx)
		if err != nil {
			s.log.WarnContext(ctx, "admin: reclassify status", "err", err)
		} else {
			page.Reclassify = &st
		}
	}
	if s.admin.Alerts != nil {
		rules, err := s.admin.Alerts.AlertRules(ctx)
		if err != nil {
			s.log.WarnContext(ctx, "admin: alert rules", "err", err)
			page.AlertsErr = "The alert rules could not be loaded."
		}
		page.Alerts = rules
	}
	s.render(w, r, status, "admin", page)
}

func (s *Server) handleAdminPage(w http.ResponseWriter, r *http.Request) {
	if !s.admin.any() {
		s.adminNotFound(w, r)
		return
	}
	s.renderAdmin(w, r, http.StatusOK, adminPage{})
}

// adminStatus maps the admin interfaces' errors to HTTP statuses.
func adminStatus(err error) int {
	switch {
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrBusy):
		return http.StatusConflict
	case errors.Is(err, ErrInvalid):
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

// adminFailed answers an admin action that returned err: the message for
// client errors, a generic one (and a log line) for server errors.
func (s *Server) adminFailed(w http.ResponseWriter, r *http.Request, what string, err error, page adminPage) {
	status := adminStatus(err)
	msg := err.Error()
	if status == http.StatusInternalServerError {
		s.log.ErrorContext(r.Context(), "admin "+what, "err", err)
		msg = what + " failed; the server log says why"
	}
	if wantsJSON(r) {
		s.writeProblem(w, r, status, "", "", msg)
		return
	}
	page.Notice, page.NoticeError = msg, true
	s.renderAdmin(w, r, status, page)
}

func (s *Server) handleAdminFetch(w http.ResponseWriter, r *http.Request) {
	if s.admin.Fetcher == nil {
		s.adminNotFound(w, r)
		return
	}
	id := r.PathValue("id")
	p, _ := PrincipalFrom(r.Context())
	s.log.InfoContext(r.Context(), "admin: fetch source now", "source", id, "by", p.Name)
	res, err := s.admin.Fetcher.FetchSource(r.Context(), id)
	if err != nil {
		if r.Context().Err() != nil {
			return
		}
		s.adminFailed(w, r, "fetch", err, adminPage{})
		return
	}
	if wantsJSON(r) {
		s.writeJSON(w, r, http.StatusOK, "application/json", res)
		return
	}
	page := adminPage{Fetch: &res}
	if res.Error != "" {
		page.Notice, page.NoticeError = "Fetching "+id+" failed: "+res.Error, true
	} else {
		page.Notice = "Fetched " + id + "."
	}
	s.renderAdmin(w, r, http.StatusOK, page)
}

func (s *Server) handleAdminRuleTest(w http.ResponseWriter, r *http.Request) {
	if s.admin.Rules == nil {
		s.adminNotFound(w, r)
		return
	}
	var t RuleTest
	if err := readInput(w, r, &t); err != nil {
		s.adminFailed(w, r, "rule test", err, adminPage{})
		return
	}
	if strings.TrimSpace(t.Title) == "" && strings.TrimSpace(t.Text) == "" {
		s.adminFailed(w, r, "rule test", fmt.Errorf("%w: give a title or a text to test against", ErrInvalid), adminPage{Test: t})
		return
	}
	res, err := s.admin.Rules.TestRule(r.Context(), t)
	if err != nil {
		if r.Context().Err() != nil {
			return
		}
		s.adminFailed(w, r, "rule test", err, adminPage{Test: t, TestError: err.Error()})
		return
	}
	if wantsJSON(r) {
		s.writeJSON(w, r, http.StatusOK, "application/json", res)
		return
	}
	s.renderAdmin(w, r, http.StatusOK, adminPage{Test: t, TestResult: &res})
}

// readInput reads a JSON body, or a form, into t.
func readInput(w http.ResponseWriter, r *http.Request, t *RuleTest) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxRuleText+64<<10)
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/json" {
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(t); err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("%w: the body is not a JSON object with query, title, text and language", ErrInvalid)
		}
		return nil
	}
	if err := r.ParseForm(); err != nil {
		return fmt.Errorf("%w: the form could not be read", ErrInvalid)
	}
	t.Query, t.Title, t.Text, t.Language = r.PostForm.Get("query"), r.PostForm.Get("title"), r.PostForm.Get("text"), r.PostForm.Get("language")
	return nil
}

func (s *Server) handleAdminReclassify(w http.ResponseWriter, r *http.Request) {
	if s.admin.Reclassifier == nil {
		s.adminNotFound(w, r)
		return
	}
	ctx := r.Context()
	if r.Method == http.MethodGet {
		st, err := s.admin.Reclassifier.ReclassifyStatus(ctx)
		if err != nil {
			s.adminFailed(w, r, "reclassify status", err, adminPage{})
			return
		}
		s.writeJSON(w, r, http.StatusOK, "application/json", st)
		return
	}
	all := r.URL.Query().Get("all") == "true"
	if !wantsJSON(r) {
		all = r.PostFormValue("all") == "on" || r.PostFormValue("all") == "true"
	}
	p, _ := PrincipalFrom(ctx)
	s.log.InfoContext(ctx, "admin: start reclassify", "all", all, "by", p.Name)
	st, err := s.admin.Reclassifier.StartReclassify(ctx, all)
	if err != nil {
		s.adminFailed(w, r, "reclassify", err, adminPage{})
		return
	}
	if wantsJSON(r) {
		s.writeJSON(w, r, http.StatusAccepted, "application/json", st)
		return
	}
	s.renderAdmin(w, r, http.StatusAccepted, adminPage{Reclassify: &st,
		Notice: "Reclassification started. Reload this page to follow it."})
}

func (s *Server) handleAdminAlertTest(w http.ResponseWriter, r *http.Request) {
	if s.admin.Alerts == nil {
		s.adminNotFound(w, r)
		return
	}
	ctx := r.Context()
	rule := r.PathValue("rule")
	channel := r.URL.Query().Get("channel")
	if !wantsJSON(r) {
		channel = r.PostFormValue("channel")
	}
	p, _ := PrincipalFrom(ctx)
	s.log.InfoContext(ctx, "admin: test alert", "rule", rule, "channel", channel, "by", p.Name)
	res, err := s.admin.Alerts.SendTestAlert(ctx, rule, channel)
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		s.adminFailed(w, r, "test alert", err, adminPage{})
		return
	}
	if wantsJSON(r) {
		s.writeJSON(w, r, http.StatusOK, "application/json", res)
		return
	}
	page := adminPage{AlertSent: res, Notice: "Test alert for " + rule + " sent."}
	for _, c := range res {
		if c.Error != "" {
			page.Notice, page.NoticeError = "Test alert for "+rule+": some channels failed.", true
		}
	}
	s.renderAdmin(w, r, http.StatusOK, page)
}
