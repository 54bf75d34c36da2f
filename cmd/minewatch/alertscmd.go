package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/minewatch/minewatch/alert"
	"github.com/minewatch/minewatch/config"
	"github.com/minewatch/minewatch/digest"
	"github.com/minewatch/minewatch/index"
	"github.com/minewatch/minewatch/mail"
	"github.com/minewatch/minewatch/news"
)

// alerting is the notification side built from one config: the engine the
// monitor asks, the dispatcher that sends, the digest scheduler.
type alerting struct {
	engine     *alert.Engine
	dispatcher *alert.Dispatcher
	scheduler  *digest.Scheduler
	outbox     index.Outbox
}

// errNoOutbox says the index backend cannot keep alerts yet.
var errNoOutbox = errors.New("the index backend has no outbox (index.Outbox); alerts and digests need it")

// newAlerting builds engine, dispatcher and scheduler over a's store.
func newAlerting(ctx context.Context, a *app, getenv func(string) string) (*alerting, error) {
	ob, ok := any(a.store).(index.Outbox)
	if !ok {
		return nil, errNoOutbox
	}
	saved, err := savedQueries(ctx, a.store)
	if err != nil {
		return nil, err
	}
	rules, err := alertRules(a.cfg, getenv, saved)
	if err != nil {
		return nil, usageError{err}
	}
	subs, err := digestSubscribers(a.cfg, saved)
	if err != nil {
		return nil, usageError{err}
	}
	var sender *mail.Sender
	if a.cfg.Mail.Host != "" {
		if sender, err = newMailSender(a.cfg, getenv, a.log); err != nil {
			return nil, usageError{err}
		}
	}
	eng, err := alert.NewEngine(alert.EngineOptions{Rules: rules, Events: a.store, Logger: a.log})
	if err != nil {
		return nil, usageError{err}
	}
	dopts := alert.DispatcherOptions{
		Queue: ob, Docs: a.store, Rules: rules, BaseURL: a.cfg.Web.BaseURL, Logger: a.log, Registerer: a.reg,
		Digests: &digest.Renderer{Searcher: a.store, Events: a.store, Subscribers: subs, BaseURL: a.cfg.Web.BaseURL},
	}
	if sender != nil {
		dopts.Mail = sender
	}
	disp, err := alert.NewDispatcher(dopts)
	if err != nil {
		return nil, err
	}
	sched, err := digest.NewScheduler(digest.SchedulerOptions{Subscribers: subs, Outbox: ob, Kick: disp.Kick, Logger: a.log})
	if err != nil {
		return nil, usageError{err}
	}
	return &alerting{engine: eng, dispatcher: disp, scheduler: sched, outbox: ob}, nil
}

// savedQueries maps saved-search ids to their query text.
func savedQueries(ctx context.Context, st any) (map[string]string, error) {
	saver, ok := st.(index.SearchSaver)
	if !ok {
		return nil, nil
	}
	ss, err := saver.SavedSearches(ctx)
	if err != nil {
		return nil, fmt.Errorf("load saved searches: %w", err)
	}
	out := make(map[string]string, len(ss))
	for _, s := range ss {
		out[s.ID] = s.Query.Text
	}
	return out, nil
}

// alertRules maps the config's alert rules; webhook secrets come from the
// environment variables the config names.
func alertRules(cfg *config.Config, getenv func(string) string, saved map[string]string) ([]alert.Rule, error) {
	var out []alert.Rule
	var errs []error
	for _, a := range cfg.Alerts {
		r := alert.Rule{ID: a.ID, Countries: a.Countries, Query: a.Query, On: a.On, Cooldown: a.Cooldown.Duration}
		for _, x := range a.Actions {
			r.Actions = append(r.Actions, news.Action(x))
		}
		for _, t := range a.Treaties {
			r.Treaties = append(r.Treaties, news.Treaty(t))
		}
		if a.SavedSearch != "" {
			q, ok := saved[a.SavedSearch]
			if !ok {
				errs = append(errs, fmt.Errorf("%s: alert %s: no saved search %q", a.Pos, a.ID, a.SavedSearch))
			}
			if q != "" {
				r.Query = joinQueries(r.Query, q)
			}
		}
		kinds := make([]string, len(a.Channels))
		for i, ch := range a.Channels {
			kinds[i] = ch.Kind
		}
		ids := alert.ChannelIDs(kinds)
		for i, ch := range a.Channels {
			c := alert.Channel{ID: ids[i], Kind: ch.Kind, To: ch.To, URL: ch.URL}
			if ch.SecretEnv != "" {
				secret := getenv(ch.SecretEnv)
				if secret == "" {
					errs = append(errs, fmt.Errorf("alert %s: channel %s: environment variable %s (secret_env) is empty", a.ID, ids[i], ch.SecretEnv))
				}
				c.Secret = []byte(secret)
			}
			r.Channels = append(r.Channels, c)
		}
		out = append(out, r)
	}
	return out, errors.Join(errs...)
}

func joinQueries(a, b string) string {
	if a == "" {
		return b
	}
	return "(" + a + ") AND (" + b + ")"
}

// digestSubscribers maps the config's subscribers; saved searches become
// queries.
func digestSubscribers(cfg *config.Config, saved map[string]string) ([]digest.Subscriber, error) {
	var out []digest.Subscriber
	var errs []error
	for _, s := range cfg.Subscribers {
		d := digest.Subscriber{ID: s.ID, Name: s.Name, Email: s.Email, Location: s.Location(), SendAt: s.SendAt,
			Topics: s.Topics, Countries: s.Countries, Queries: s.Queries, SendEmpty: s.SendEmpty}
		for _, a := range s.Actions {
			d.Actions = append(d.Actions, news.Action(a))
		}
		for _, id := range s.SavedSearches {
			q, ok := saved[id]
			if !ok {
				errs = append(errs, fmt.Errorf("%s: subscriber %s: no saved search %q", s.Pos, s.ID, id))
				continue
			}
			d.Queries = append(d.Queries, q)
		}
		out = append(out, d)
	}
	return out, errors.Join(errs...)
}

func newMailSender(cfg *config.Config, getenv func(string) string, log *slog.Logger) (*mail.Sender, error) {
	m := cfg.Mail
	var password string
	if m.PasswordEnv != "" {
		password = getenv(m.PasswordEnv)
	}
	var unsub string
	if cfg.Web.BaseURL != "" {
		unsub = strings.TrimRight(cfg.Web.BaseURL, "/") + "/unsubscribe"
	}
	return mail.New(mail.Options{
		Host: m.Host, Port: m.Port, Username: m.Username, Password: password, From: m.From, TLS: m.TLS,
		UnsubscribeURL: unsub, Logger: log,
	})
}

func newAlertsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "alerts",
		Short: "List the alert and digest outbox, or send a test alert",
	}
	cmd.AddCommand(newAlertsListCmd(g), newAlertsTestCmd(g))
	return cmd
}

func newAlertsListCmd(g *globals) *cobra.Command {
	var states []string
	var kind string
	var limit int
	cmd := &cobra.Command{
		Use:   "list",
		Short: "Show pending, delivered and expired alerts and digests, newest first",
		Example: `  minewatch alerts list
  minewatch alerts list --state pending --state expired --kind alert`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := index.MessageFilter{Kind: news.MessageKind(kind), Limit: limit}
			for _, s := range states {
				switch st := news.MessageState(s); st {
				case news.MessagePending, news.MessageDelivered, news.MessageExpired:
					f.States = append(f.States, st)
				default:
					return usageError{fmt.Errorf("--state %q: want pending, delivered or expired", s)}
				}
			}
			if kind != "" && kind != string(news.MessageAlert) && kind != string(news.MessageDigest) {
				return usageError{fmt.Errorf("--kind %q: want alert or digest", kind)}
			}
			log, err := g.logger()
			if err != nil {
				return err
			}
			cfg, err := g.loadConfig()
			if err != nil {
				return err
			}
			a, err := build(cmd.Context(), cfg, log, buildOptions{})
			if err != nil {
				return err
			}
			defer a.Close()
			ob, ok := any(a.store).(index.Outbox)
			if !ok {
				return errNoOutbox
			}
			msgs, err := ob.Messages(cmd.Context(), f)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "STATE\tATTEMPTS\tCREATED\tDELIVERED / NEXT\tID\tLAST ERROR")
			for _, m := range msgs {
				when := fmtTime(m.Delivered)
				if m.State == news.MessagePending {
					when = "next " + fmtTime(m.NextAttempt)
				}
				fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\n", m.State, m.Attempts, fmtTime(m.Created), when, m.ID, clip(m.LastError, 80))
			}
			return tw.Flush()
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&states, "state", nil, "only these states: pending, delivered, expired (repeatable)")
	f.StringVar(&kind, "kind", "", "only alert or digest messages")
	f.IntVar(&limit, "limit", 100, "messages to show")
	return cmd
}

func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func newAlertsTestCmd(g *globals) *cobra.Command {
	var channel string
	cmd := &cobra.Command{
		Use:   "test RULE",
		Short: "Send a sample alert through every channel of RULE (or one, with --channel)",
		Long: `test sends a sample event ("XK – announced withdrawal – Ottawa Convention", marked
as a test) through the rule's channels now, without the outbox, so you can check
addresses, webhook URLs and signatures. Webhooks get X-Minewatch-Event: test.`,
		Example: `  minewatch alerts test baltic-withdrawals
  minewatch alerts test baltic-withdrawals --channel webhook`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			log, err := g.logger()
			if err != nil {
				return err
			}
			cfg, err := g.loadConfig()
			if err != nil {
				return err
			}
			results, err := sendTestAlert(cmd.Context(), cfg, g.getenv, log, args[0], channel)
			if err != nil {
				return err
			}
			var failed []error
			for _, r := range results {
				if r.err != nil {
					failed = append(failed, fmt.Errorf("channel %s: %w", r.channel, r.err))
					fmt.Fprintf(g.stdout, "%s: FAILED: %v\n", r.channel, r.err)
					continue
				}
				fmt.Fprintf(g.stdout, "%s: sent\n", r.channel)
			}
			return errors.Join(failed...)
		},
	}
	cmd.Flags().StringVar(&channel, "channel", "", "only this channel id (email, webhook, webhook-2, slack, teams ...)")
	return cmd
}

// testDelivery is one channel's outcome of a test alert.
type testDelivery struct {
	channel string
	err     error
}

// sendTestAlert sends a sample event through rule ruleID's channels (only
// channel, when set) directly, without the outbox: `alerts test` and the web
// admin page's "Send test". An unknown rule or channel is a usageError.
func sendTestAlert(ctx context.Context, cfg *config.Config, getenv func(string) string, log *slog.Logger, ruleID, channel string) ([]testDelivery, error) {
	rules, err := alertRules(cfg, getenv, nil)
	if err != nil {
		return nil, usageError{err}
	}
	var rule *alert.Rule
	for i := range rules {
		if rules[i].ID == ruleID {
			rule = &rules[i]
		}
	}
	if rule == nil {
		return nil, usageError{fmt.Errorf("no alert rule %q in %s: %w", ruleID, cfg.File, errNoSuchRule)}
	}
	var sender *mail.Sender
	if cfg.Mail.Host != "" {
		if sender, err = newMailSender(cfg, getenv, log); err != nil {
			return nil, usageError{err}
		}
	}
	opts := alert.DispatcherOptions{Queue: noQueue{}, Rules: rules, BaseURL: cfg.Web.BaseURL, Logger: log}
	if sender != nil {
		opts.Mail = sender
	}
	d, err := alert.NewDispatcher(opts)
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	ev := news.Event{Key: news.EventKey("XK", news.ActionWithdrawAnnounce, news.TreatyOttawa), Country: "XK",
		Action: news.ActionWithdrawAnnounce, Treaty: news.TreatyOttawa, FirstSeen: now, Articles: 1,
		Evidence: "This is a test alert from minewatch; no such event happened."}
	var out []testDelivery
	for _, ch := range rule.Channels {
		if channel != "" && ch.ID != channel {
			continue
		}
		m := news.Message{ID: "test/" + alert.MessageID(rule.ID, ch.ID, ev.Key) + "/" + now.Format("20060102T150405"),
			Kind: news.MessageAlert, RuleID: rule.ID, Channel: ch.ID, Event: ev, Created: now}
		out = append(out, testDelivery{channel: ch.ID, err: d.Deliver(ctx, m)})
	}
	if len(out) == 0 {
		return nil, usageError{fmt.Errorf("rule %s has no channel %q: %w", rule.ID, channel, errNoSuchRule)}
	}
	return out, nil
}

// errNoSuchRule marks an unknown alert rule or channel.
var errNoSuchRule = errors.New("no such alert rule or channel")

// noQueue is the outbox of `alerts test`, which delivers directly.
type noQueue struct{}

func (noQueue) RecordEventAndEnqueue(context.Context, news.Event, []news.Message) (bool, error) {
	return false, errors.New("alerts test: no outbox")
}
func (noQueue) Enqueue(context.Context, news.Message) (bool, error) {
	return false, errors.New("alerts test: no outbox")
}
func (noQueue) Lease(context.Context, time.Time, time.Duration, int) ([]news.Message, error) {
	return nil, nil
}
func (noQueue) Update(context.Context, news.Message) error { return nil }
func (noQueue) Messages(context.Context, index.MessageFilter) ([]news.Message, error) {
	return nil, nil
}
