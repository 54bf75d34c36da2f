package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/minewatch/minewatch/digest"
)

func newDigestCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "digest",
		Short: "Preview or send the subscribers' digests",
	}
	cmd.AddCommand(newDigestPreviewCmd(g), newDigestSendCmd(g))
	return cmd
}

func newDigestPreviewCmd(g *globals) *cobra.Command {
	var date, subID, out string
	var text bool
	cmd := &cobra.Command{
		Use:   "preview",
		Short: "Render a subscriber's digest without sending it",
		Long: `preview renders the digest a subscriber gets for the period ending on their
send time on --date (default today), in their time zone, and writes the HTML
part (or the plain-text part with --text) to stdout or --out.`,
		Example: `  minewatch digest preview --subscriber ana > digest.html
  minewatch digest preview --subscriber ana --date 2026-11-26 --text`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
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
			saved, err := savedQueries(cmd.Context(), a.store)
			if err != nil {
				return err
			}
			subs, err := digestSubscribers(cfg, saved)
			if err != nil {
				return usageError{err}
			}
			if len(subs) == 0 {
				return usageError{fmt.Errorf("no subscribers in %s", cfg.File)}
			}
			sub := subs[0]
			if subID != "" {
				found := false
				for _, s := range subs {
					if s.ID == subID {
						sub, found = s, true
					}
				}
				if !found {
					return usageError{fmt.Errorf("--subscriber %q: not in %s", subID, cfg.File)}
				}
			}
			sc, err := digest.ParseSchedule(sub.SendAt, sub.Location)
			if err != nil {
				return usageError{err}
			}
			// The period that ends at the subscriber's last send time on
			// that day: the digest they got (or will get) that day.
			now := time.Now()
			dayEnd := now
			if date != "" {
				d, err := time.ParseInLocation(time.DateOnly, date, sub.Location)
				if err != nil {
					return usageError{fmt.Errorf("--date %q: want YYYY-MM-DD", date)}
				}
				dayEnd = d.AddDate(0, 0, 1)
			}
			end := digest.Previous(sc, dayEnd)
			if date == "" {
				end = sc.Next(now) // today's upcoming digest, as it stands now
			}
			p := digest.PeriodEnding(sc, sub.Location, end)
			d, err := digest.Build(cmd.Context(), a.store, a.store, sub, p, cfg.Web.BaseURL)
			if err != nil {
				return err
			}
			html, txt, err := digest.Render(d)
			if err != nil {
				return err
			}
			body := html
			if text {
				body = txt
			}
			var w io.Writer = g.stdout
			if out != "" {
				f, err := os.Create(out)
				if err != nil {
					return err
				}
				defer f.Close()
				w = f
			}
			if _, err := io.WriteString(w, body); err != nil {
				return err
			}
			if out != "" {
				fmt.Fprintf(g.stderr, "digest %s for %s (%d events, %d articles) written to %s\n", p.ID, sub.ID, len(d.Events), d.Articles, out)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&date, "date", "", "the day whose digest to render, YYYY-MM-DD in the subscriber's zone (default: the next one, as it stands now)")
	f.StringVar(&subID, "subscriber", "", "subscriber id (default: the first in the config)")
	f.StringVar(&out, "out", "", "write to this file instead of stdout")
	f.BoolVar(&text, "text", false, "write the plain-text part instead of the HTML")
	return cmd
}

func newDigestSendCmd(g *globals) *cobra.Command {
	var catchUp time.Duration
	cmd := &cobra.Command{
		Use:   "send",
		Short: "Send every digest that is due and not yet sent, then exit",
		Long: `send enqueues each subscriber's latest digest whose send time passed within
--catch-up, and delivers the outbox once. A digest is sent once per subscriber
and period: running send again, or alongside "minewatch run", sends nothing
twice. Failed deliveries stay in the outbox for "run" to retry.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := g.logger()
			if err != nil {
				return err
			}
			cfg, err := g.loadConfig()
			if err != nil {
				return err
			}
			if len(cfg.Subscribers) == 0 {
				return usageError{fmt.Errorf("no subscribers in %s", cfg.File)}
			}
			a, err := build(cmd.Context(), cfg, log, buildOptions{})
			if err != nil {
				return err
			}
			defer a.Close()
			al, err := newAlerting(cmd.Context(), a, g.getenv)
			if err != nil {
				return err
			}
			saved, err := savedQueries(cmd.Context(), a.store)
			if err != nil {
				return err
			}
			subs, err := digestSubscribers(cfg, saved)
			if err != nil {
				return usageError{err}
			}
			sched, err := digest.NewScheduler(digest.SchedulerOptions{Subscribers: subs, Outbox: al.outbox, CatchUp: catchUp, Logger: log})
			if err != nil {
				return usageError{err}
			}
			n, err := sched.EnqueueDue(cmd.Context())
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "%d digests enqueued\n", n)
			for {
				leased, err := al.dispatcher.RunOnce(cmd.Context())
				if err != nil {
					return err
				}
				if leased == 0 {
					break
				}
			}
			return nil
		},
	}
	cmd.Flags().DurationVar(&catchUp, "catch-up", 24*time.Hour, "send a digest whose send time passed at most this long ago")
	return cmd
}
