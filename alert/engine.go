package alert

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/minewatch/minewatch/classify"
	"github.com/minewatch/minewatch/classify/query"
	"github.com/minewatch/minewatch/index"
	"github.com/minewatch/minewatch/news"
)

// Triggers: which new events fire a rule (see the package doc).
const (
	OnAny      = "any"
	OnNewEvent = "new_event"
	OnNewStage = "new_stage"
)

// Channel kinds.
const (
	KindEmail   = "email"
	KindWebhook = "webhook"
	KindSlack   = "slack"
	KindTeams   = "teams"
)

// Rule is one alert rule. Empty filters match everything.
type Rule struct {
	ID        string
	Actions   []news.Action
	Countries []string
	Treaties  []news.Treaty
	// Query, in the classify/query syntax, must match the event's article
	// (title and text). A saved search is resolved to its query text by the
	// caller and joined here with AND.
	Query    string
	On       string        // OnAny (default), OnNewEvent or OnNewStage
	Cooldown time.Duration // least time between two firings; 0 means none
	Channels []Channel
}

// Channel is one destination of a rule.
type Channel struct {
	ID     string // unique within the rule; see ChannelIDs
	Kind   string // KindEmail, KindWebhook, KindSlack or KindTeams
	To     []string
	URL    string
	Secret []byte // webhook: HMAC-SHA256 key; nil sends no signature
}

// ChannelIDs names a rule's channels by kind: the first of each kind gets
// the bare kind, later ones "-2", "-3" ..., so ids are stable while the
// channel list only grows at the end.
func ChannelIDs(kinds []string) []string {
	seen := map[string]int{}
	out := make([]string, len(kinds))
	for i, k := range kinds {
		seen[k]++
		out[i] = k
		if n := seen[k]; n > 1 {
			out[i] = k + "-" + strconv.Itoa(n)
		}
	}
	return out
}

// EventLister is the part of index.EventStore the new_event and new_stage
// triggers need.
type EventLister interface {
	Events(ctx context.Context, f index.EventFilter) ([]news.Event, error)
}

// EngineOptions configure an Engine.
type EngineOptions struct {
	Rules []Rule
	// Events answers the new_event and new_stage triggers; required when a
	// rule uses them.
	Events EventLister
	// LookupTimeout bounds that lookup; 0 means 5s.
	LookupTimeout time.Duration
	Logger        *slog.Logger
}

// Engine decides which rules a new event fires. It is safe for concurrent use.
type Engine struct {
	rules   []compiledRule
	events  EventLister
	timeout time.Duration
	log     *slog.Logger
}

type compiledRule struct {
	Rule
	match *classify.Matcher
}

// NewEngine compiles the rules' queries; every bad query is reported.
func NewEngine(opts EngineOptions) (*Engine, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	e := &Engine{events: opts.Events, timeout: opts.LookupTimeout, log: log}
	if e.timeout <= 0 {
		e.timeout = 5 * time.Second
	}
	var errs []error
	for _, r := range opts.Rules {
		cr := compiledRule{Rule: r}
		switch r.On {
		case "":
			cr.On = OnAny
		case OnAny:
		case OnNewEvent, OnNewStage:
			if opts.Events == nil {
				errs = append(errs, fmt.Errorf("alert rule %s: trigger %q needs an event store", r.ID, r.On))
			}
		default:
			errs = append(errs, fmt.Errorf("alert rule %s: unknown trigger %q", r.ID, r.On))
		}
		if len(r.Channels) == 0 {
			errs = append(errs, fmt.Errorf("alert rule %s: no channels", r.ID))
		}
		if r.Query != "" {
			n, err := query.Parse(r.Query)
			if err == nil {
				cr.match, err = classify.CompileQuery(n)
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("alert rule %s: query: %w", r.ID, err))
			}
		}
		e.rules = append(e.rules, cr)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return e, nil
}

// Rules returns the rules, for the dispatcher and `alerts test`.
func (e *Engine) Rules() []Rule {
	out := make([]Rule, len(e.rules))
	for i, r := range e.rules {
		out[i] = r.Rule
	}
	return out
}

// MessagesFor returns one message per (rule, channel) whose rule ev fires,
// given d, the article that reported it. The monitor calls it for every
// entity; the outbox keeps the messages only if ev is new. Its signature has
// no context (monitor.Alerter), so trigger lookups run under LookupTimeout.
func (e *Engine) MessagesFor(ev news.Event, d news.Document) []news.Message {
	ctx, cancel := context.WithTimeout(context.Background(), e.timeout)
	defer cancel()
	return e.MessagesForContext(ctx, ev, d)
}

// MessagesForContext is MessagesFor with a caller's context.
func (e *Engine) MessagesForContext(ctx context.Context, ev news.Event, d news.Document) []news.Message {
	if ev.Key == "" {
		ev.Key = news.EventKey(ev.Country, ev.Action, ev.Treaty)
	}
	var out []news.Message
	var stages *[]news.Event // other stages of this withdrawal, looked up once
	for _, r := range e.rules {
		if !r.filters(ev) {
			continue
		}
		if r.match != nil {
			if ok, _ := r.match.Match(d.Title, d.Text); !ok {
				continue
			}
		}
		if r.On != OnAny {
			if stages == nil {
				s, err := e.otherStages(ctx, ev)
				if err != nil {
					// Failing open would alert on the wrong trigger; failing
					// closed loses the alert. Missing one is worse for an
					// analyst, so the rule fires and the error is logged.
					e.log.Error("alert trigger lookup failed; firing", "rule", r.ID, "event", ev.Key, "error", err)
					s = nil
				}
				stages = &s
			}
			known := len(*stages) > 0
			if r.On == OnNewStage && (!isStage(ev.Action) || !known) {
				continue
			}
			if r.On == OnNewEvent && isStage(ev.Action) && known {
				continue
			}
		}
		for _, ch := range r.Channels {
			out = append(out, news.Message{
				ID:      MessageID(r.ID, ch.ID, ev.Key),
				Kind:    news.MessageAlert,
				RuleID:  r.ID,
				Channel: ch.ID,
				Event:   ev,
				State:   news.MessagePending,
				Created: ev.FirstSeen,
			})
		}
	}
	return out
}

// MessageID is the outbox id of an alert.
func MessageID(rule, channel, eventKey string) string {
	return "alert/" + rule + "/" + channel + "/" + eventKey
}

func (r compiledRule) filters(ev news.Event) bool {
	if len(r.Actions) > 0 && !slices.Contains(r.Actions, ev.Action) {
		return false
	}
	if len(r.Countries) > 0 && !slices.Contains(r.Countries, ev.Country) {
		return false
	}
	if len(r.Treaties) > 0 && !slices.Contains(r.Treaties, ev.Treaty) {
		return false
	}
	return true
}

// withdrawalStages are the stages of leaving a treaty, in order.
var withdrawalStages = []news.Action{
	news.ActionWithdrawAnnounce, news.ActionWithdrawVote, news.ActionWithdrawNotify, news.ActionWithdrawEffective,
}

func isStage(a news.Action) bool { return slices.Contains(withdrawalStages, a) }

// otherStages lists recorded withdrawal stages of ev's country and treaty,
// other than ev itself.
func (e *Engine) otherStages(ctx context.Context, ev news.Event) ([]news.Event, error) {
	if !isStage(ev.Action) || e.events == nil {
		return nil, nil
	}
	evs, err := e.events.Events(ctx, index.EventFilter{Countries: []string{ev.Country}, Actions: withdrawalStages})
	if err != nil {
		return nil, fmt.Errorf("events of %s: %w", ev.Country, err)
	}
	var out []news.Event
	for _, o := range evs {
		if o.Treaty == ev.Treaty && o.Action != ev.Action && o.Country == ev.Country {
			out = append(out, o)
		}
	}
	return out, nil
}
