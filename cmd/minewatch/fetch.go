package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/minewatch/minewatch/index"
	"github.com/minewatch/minewatch/monitor"
	"github.com/minewatch/minewatch/news"
	"github.com/minewatch/minewatch/redact"
)

func newFetchCmd(g *globals) *cobra.Command {
	var (
		sources   []string
		noDeliver bool
	)
	cmd := &cobra.Command{
		Use:   "fetch",
		Short: "Run one fetch cycle now and print a summary",
		Long: `fetch collects every source (or those named with --source) once, now,
whatever their schedules: conditional GET with the stored validators, new items'
pages fetched and extracted, articles classified and indexed. A progress bar
shows on a terminal; the summary lists each source's outcome (with the reason
for failures), items new and seen, articles indexed, and counts by topic.
Failing sources never stop the others; the exit status is 0 unless nothing could
be fetched at all.

New treaty events are alerted exactly as "minewatch run" alerts them: the
config's alert rules queue their messages in the outbox in the same step that
records the event, so an event first seen by fetch is never left unalerted.
Then fetch delivers what the outbox holds due (these alerts, and any left by
an earlier run) once, and exits; a delivery that fails stays queued for
"minewatch run" to retry. With --no-deliver the alerts are only queued, for a
running "minewatch run" (which looks every 15 seconds) to send. Each alert
reaches its receiver once, whichever process sends it.`,
		Example: `  minewatch fetch
  minewatch fetch --source err-news --source lrt-en
  minewatch fetch --no-deliver     # queue alerts for the running "minewatch run"
  minewatch fetch --log-level warn`,
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
			a, err := build(cmd.Context(), cfg, log, buildOptions{withMonitor: true, getenv: g.getenv})
			if err != nil {
				return err
			}
			defer a.Close()
			total := len(sources)
			if total == 0 {
				total = len(cfg.Sources)
			}
			progress := newProgress(g.stderr, total, "fetching")
			outs, err := a.monitor.RunOnce(cmd.Context(), sources, progress)
			if err != nil {
				return err
			}
			printSummary(g.stdout, outs)
			if a.alerting != nil {
				if err := deliverOutbox(cmd.Context(), g.stdout, a.alerting, !noDeliver); err != nil {
					return err
				}
			}
			if len(outs) > 0 && countFailed(outs) == len(outs) {
				return fmt.Errorf("all %d sources failed", len(outs))
			}
			return nil
		},
	}
	cmd.Flags().StringSliceVar(&sources, "source", nil, "source id to fetch (repeatable; default all)")
	cmd.Flags().BoolVar(&noDeliver, "no-deliver", false, "queue the alerts of new events but leave their delivery to \"minewatch run\"")
	return cmd
}

// deliverOutbox sends, when deliver is set, every outbox message that is
// due, until none is, and reports what is still pending. Messages another
// process holds, and failed ones waiting for their retry, are left to it
// and to "minewatch run".
func deliverOutbox(ctx context.Context, w io.Writer, al *alerting, deliver bool) error {
	attempts := 0
	for deliver {
		n, err := al.dispatcher.RunOnce(ctx)
		if err != nil {
			return fmt.Errorf("deliver alerts: %w", err)
		}
		if n == 0 {
			break
		}
		attempts += n
	}
	pending, err := al.outbox.Messages(ctx, index.MessageFilter{States: []news.MessageState{news.MessagePending}, Limit: pendingShown})
	if err != nil {
		return fmt.Errorf("count pending alerts: %w", err)
	}
	if deliver {
		fmt.Fprintf(w, "Alerts: %d delivery attempts; %d messages pending (minewatch alerts list).\n", attempts, len(pending))
	} else {
		fmt.Fprintf(w, "Alerts: %d messages pending, left for minewatch run to deliver.\n", len(pending))
	}
	return nil
}

// pendingShown bounds the pending count fetch reports.
const pendingShown = 10000

// newProgress returns a progress callback: a bar on a terminal, nothing otherwise
// (logs already say what happened).
func newProgress(w io.Writer, total int, what string) func(monitor.Outcome) {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) || total == 0 {
		return nil
	}
	bar := progressbar.NewOptions(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(),
		progressbar.OptionClearOnFinish(),
	)
	var mu sync.Mutex
	return func(o monitor.Outcome) {
		mu.Lock()
		defer mu.Unlock()
		bar.Describe(what + " " + o.SourceID)
		_ = bar.Add(1)
	}
}

// newCounter is newProgress for work counted in items rather than sources.
func newCounter(w io.Writer, total int, what string) func() {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) || total == 0 {
		return nil
	}
	bar := progressbar.NewOptions(total, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionClearOnFinish())
	return func() { _ = bar.Add(1) }
}

func countFailed(outs []monitor.Outcome) int {
	n := 0
	for _, o := range outs {
		if o.Err != nil {
			n++
		}
	}
	return n
}

func printSummary(w io.Writer, outs []monitor.Outcome) {
	tw := newTable(w)
	fmt.Fprintln(tw, "SOURCE\tRESULT\tITEMS\tNEW\tINDEXED\tRELEVANT\tDETAIL")
	topics := map[string]int{}
	var items, fresh, indexed, relevant, events int
	for _, o := range outs {
		result, detail := "ok", ""
		switch {
		case o.Abandoned:
			result, detail = "abandoned", "interrupted"
		case o.Err != nil:
			result, detail = "failed", o.ErrClass+": "+oneLine(redact.Text(o.Err.Error()))
		case o.NotModified:
			result = "not modified"
		case len(o.ItemErrors) > 0:
			detail = fmt.Sprintf("%d pages fell back to feed text", len(o.ItemErrors))
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%s\n", o.SourceID, result, o.Items, o.New, o.Indexed, o.Relevant, detail)
		items += o.Items
		fresh += o.New
		indexed += o.Indexed
		relevant += o.Relevant
		events += len(o.NewEvents)
		for t, n := range o.Topics {
			topics[t] += n
		}
	}
	tw.Flush()
	failed := countFailed(outs)
	fmt.Fprintf(w, "\n%d sources: %d ok, %d failed. Items %d, new %d, indexed %d, relevant %d, new events %d.\n",
		len(outs), len(outs)-failed, failed, items, fresh, indexed, relevant, events)
	if len(topics) > 0 {
		keys := make([]string, 0, len(topics))
		for t := range topics {
			keys = append(keys, t)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, t := range keys {
			parts[i] = fmt.Sprintf("%s %d", t, topics[t])
		}
		fmt.Fprintln(w, "By topic: "+strings.Join(parts, ", "))
	}
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 160 {
		s = s[:157] + "..."
	}
	return s
}
