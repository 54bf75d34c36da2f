package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/minewatch/minewatch/classify"
	"github.com/minewatch/minewatch/classify/query"
	"github.com/minewatch/minewatch/config"
	"github.com/minewatch/minewatch/index"
	"github.com/minewatch/minewatch/news"
)

// pageSize is how many documents one archive scan reads per search.
const pageSize = 500

// eachDoc calls fn for every document in the archive, newest first, paging by
// cursor so memory stays flat however large the archive.
func eachDoc(ctx context.Context, st index.Store, fn func(news.Document) error) error {
	q := index.Query{Sort: index.SortDate, Limit: pageSize}
	for {
		hits, err := st.Search(ctx, q)
		if err != nil {
			return fmt.Errorf("scan archive: %w", err)
		}
		for _, h := range hits.Docs {
			if err := fn(h.Document); err != nil {
				return err
			}
		}
		if hits.NextCursor == "" {
			return nil
		}
		q.Cursor = hits.NextCursor
	}
}

// archiveSize counts the documents for progress bars.
func archiveSize(ctx context.Context, st index.Store) (int, error) {
	hits, err := st.Search(ctx, index.Query{Limit: 1})
	return hits.Total, err
}

func newRulesCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "Try rules against the archive before putting them in the config",
	}
	var limit int
	test := &cobra.Command{
		Use:   "test QUERY|FILE",
		Short: "Show what a query, or a file of topic rules, would match in the archive",
		Long: `test runs a rule over every article already indexed, without changing anything.

With a QUERY (the rule syntax, see "minewatch search --help") it lists the
articles it matches, with the matched terms. With a FILE of topics in the
config's format (a YAML file with a "topics:" list, like the rules section of
"minewatch config print") it classifies the archive with those rules and
reports, per topic, how many articles it would put in, and which articles
would enter or leave the topic compared with the stored classification.`,
		Example: `  minewatch rules test 'title:(withdraw* OR quit*) AND (ottawa OR "mine ban")'
  minewatch rules test my-rules.yaml`,
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
			a, err := build(cmd.Context(), cfg, log, buildOptions{})
			if err != nil {
				return err
			}
			defer a.Close()
			if st, err := os.Stat(args[0]); err == nil && !st.IsDir() {
				return testRuleFile(cmd.Context(), g, a.store, args[0], limit)
			}
			return testQuery(cmd.Context(), g.stdout, a.store, args[0], limit)
		},
	}
	test.Flags().IntVar(&limit, "limit", 20, "articles to list (per topic change with a FILE)")
	cmd.AddCommand(test)
	return cmd
}

func testQuery(ctx context.Context, w io.Writer, st index.Store, q string, limit int) error {
	n, err := query.Parse(q)
	if err != nil {
		return usageError{fmt.Errorf("query: %w", err)}
	}
	m, err := classify.CompileQuery(n)
	if err != nil {
		return usageError{fmt.Errorf("query: %w", err)}
	}
	matched, total := 0, 0
	err = eachDoc(ctx, st, func(d news.Document) error {
		total++
		ok, hits := m.Match(d.Title, bodyOf(d.Article))
		if !ok {
			return nil
		}
		matched++
		if matched <= limit {
			fmt.Fprintf(w, "%s  %s  (%s)\n    terms: %s\n", dateOf(d.Article), d.Title, d.SourceID, hitTerms(d, hits))
		}
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%d of %d articles match %s\n", matched, total, n)
	return nil
}

// testRuleFile classifies the archive with the topics in path and compares
// with what is stored.
func testRuleFile(ctx context.Context, g *globals, st index.Store, path string, limit int) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return usageError{err}
	}
	cfg, err := config.Parse(path, data)
	if err != nil {
		return usageError{err}
	}
	cl, err := newClassifier(cfg)
	if err != nil {
		return err
	}
	type change struct{ gained, lost []string }
	counts := map[string]int{}
	changes := map[string]*change{}
	total := 0
	err = eachDoc(ctx, st, func(d news.Document) error {
		total++
		now := cl.Classify(d.Article)
		before := map[string]bool{}
		for _, t := range d.Classification.Topics {
			before[t.Topic] = true
		}
		for _, t := range now.Topics {
			counts[t.Topic]++
			if !before[t.Topic] {
				c := getChange(changes, t.Topic)
				c.gained = append(c.gained, d.Title)
			}
			delete(before, t.Topic)
		}
		for t := range before {
			c := getChange(changes, t)
			c.lost = append(c.lost, d.Title)
		}
		return nil
	})
	if err != nil {
		return err
	}
	topics := make([]string, 0, len(cfg.Topics))
	for _, t := range cfg.Topics {
		topics = append(topics, t.ID)
	}
	for t := range changes {
		if !containsString(topics, t) {
			topics = append(topics, t)
		}
	}
	sort.Strings(topics)
	fmt.Fprintf(g.stdout, "%d articles classified with %s (rules %s)\n\n", total, path, cl.Version())
	for _, t := range topics {
		c := getChange(changes, t)
		fmt.Fprintf(g.stdout, "%-22s %5d articles  (+%d, -%d against the stored classification)\n", t, counts[t], len(c.gained), len(c.lost))
		for i, title := range c.gained {
			if i == limit {
				break
			}
			fmt.Fprintf(g.stdout, "    + %s\n", title)
		}
		for i, title := range c.lost {
			if i == limit {
				break
			}
			fmt.Fprintf(g.stdout, "    - %s\n", title)
		}
	}
	return nil
}

func getChange[T any](m map[string]*T, k string) *T {
	if c, ok := m[k]; ok {
		return c
	}
	c := new(T)
	m[k] = c
	return c
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func hitTerms(d news.Document, hits []news.TermHit) string {
	seen := map[string]bool{}
	var out []string
	for _, h := range hits {
		text := d.Title
		if h.Field == news.FieldText {
			text = bodyOf(d.Article)
		}
		if h.Start < 0 || h.End > len(text) || h.Start >= h.End {
			continue
		}
		w := text[h.Start:h.End]
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return strings.Join(out, ", ")
}

func bodyOf(a news.Article) string {
	if a.Text != "" {
		return a.Text
	}
	return a.Summary
}

func dateOf(a news.Article) string {
	if !a.Published.IsZero() {
		return a.Published.Format(time.DateOnly)
	}
	return a.FirstSeen.Format(time.DateOnly)
}

func newReclassifyCmd(g *globals) *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "reclassify",
		Short: "Re-run the current rules over the whole archive without re-fetching",
		Long: `reclassify classifies every indexed article again with the rules in the
config and writes back those whose topics or entities changed; new entities are
recorded as events (without alerting: they are not news). It streams the
archive page by page, shows a progress bar on a terminal, and is resumable:
articles already classified with the current rules version are skipped, so an
interrupted run continues where it stopped (--all redoes them).`,
		Example: `  minewatch reclassify
  minewatch reclassify --all --log-level warn`,
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
			total, err := archiveSize(cmd.Context(), a.store)
			if err != nil {
				return err
			}
			res, err := reclassify(cmd.Context(), a.store, a.classifier, all, newCounter(g.stderr, total, "reclassifying"))
			fmt.Fprintf(g.stdout, "%d articles read, %d skipped (already at rules %s), %d changed, %d rewritten unchanged, %d new events\n",
				res.read, res.skipped, a.classifier.Version(), res.changed, res.unchanged, res.events)
			return err
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "reclassify articles already classified with the current rules too")
	return cmd
}

type reclassifyResult struct{ read, skipped, changed, unchanged, events int }

// reclassify is the reclassify command's work, separate for tests. Writes are
// batched; a batch is written before the next page is read, so an interrupted
// run loses at most one batch of work and never leaves a document half-written.
func reclassify(ctx context.Context, st index.Store, cl *classify.Classifier, all bool, progress func()) (reclassifyResult, error) {
	var res reclassifyResult
	version := cl.Version()
	var batch []news.Document
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		wctx := context.WithoutCancel(ctx)
		if _, err := st.Put(wctx, batch...); err != nil {
			return fmt.Errorf("write %d reclassified articles: %w", len(batch), err)
		}
		if es, ok := st.(index.EventStore); ok {
			for _, d := range batch {
				for _, e := range d.Classification.Entities {
					created, err := es.RecordEvent(wctx, news.Event{Key: e.Key(), Country: e.Country, Action: e.Action,
						Treaty: e.Treaty, FirstSeen: d.Reported(), FirstArticleID: d.ID, FirstSourceID: d.SourceID,
						Evidence: e.Evidence, Articles: 1})
					if err != nil {
						return err
					}
					if created {
						res.events++
					}
				}
			}
		}
		batch = batch[:0]
		return nil
	}
	err := eachDoc(ctx, st, func(d news.Document) error {
		res.read++
		if progress != nil {
			progress()
		}
		if !all && d.Classification.RulesVersion == version {
			res.skipped++
			return nil
		}
		c := cl.Classify(d.Article)
		// Unchanged documents are still written, to record the rules version
		// that checked them: that is what makes an interrupted run resumable.
		if sameClassification(d.Classification, c) {
			res.unchanged++
		} else {
			res.changed++
		}
		d.Classification = c
		batch = append(batch, d)
		if len(batch) >= pageSize {
			return flush()
		}
		return ctx.Err()
	})
	if ferr := flush(); err == nil {
		err = ferr
	}
	if errors.Is(err, context.Canceled) {
		return res, fmt.Errorf("interrupted after %d articles; run again to continue", res.read)
	}
	return res, err
}

func sameClassification(a, b news.Classification) bool {
	if a.Relevant != b.Relevant || len(a.Topics) != len(b.Topics) || len(a.Entities) != len(b.Entities) {
		return false
	}
	for i := range a.Topics {
		if a.Topics[i].Topic != b.Topics[i].Topic {
			return false
		}
	}
	for i := range a.Entities {
		if a.Entities[i].Key() != b.Entities[i].Key() {
			return false
		}
	}
	return true
}
