package main

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/spf13/cobra"

	"github.com/minewatch/minewatch/config"
	"github.com/minewatch/minewatch/index/disk"
	"github.com/minewatch/minewatch/index/elastic"
)

// errEmbeddedNoop says an Elasticsearch-only command has nothing to do.
var errEmbeddedNoop = errors.New("the embedded index needs no init or reindex: it creates and migrates itself on open")

func newIndexCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "index",
		Short: "Set up, rebuild and inspect the index",
		Long: `index manages the backend named in the config's index section.

For Elasticsearch, "init" creates the index template, the first monthly index and
the read and write aliases (safe to run again), "reindex" rebuilds everything into
a new index and swaps the read alias with no downtime, and "stats" counts
documents per index. The embedded index creates and migrates itself; "stats"
reports its documents, events, outbox and size on disk, and "optimize" merges
its full-text segments after a bulk load.`,
		Example: `  minewatch index init --config prod.yaml
  minewatch index stats
  minewatch index optimize`,
	}
	cmd.AddCommand(
		elasticOnly(g, "init", "Create the Elasticsearch template, first index and aliases (idempotent)",
			"index template, first index and aliases are in place", (*elastic.Store).Init),
		elasticOnly(g, "reindex", "Rebuild the Elasticsearch index and swap the read alias with no downtime",
			"reindexed; the read alias points at the new index", (*elastic.Store).Reindex),
	)
	cmd.AddCommand(&cobra.Command{
		Use:   "optimize",
		Short: "Merge the embedded index's full-text segments (after bulk loads)",
		Long: `optimize merges the embedded index's full-text segments into one. A search reads
every segment, so after a bulk load or a reclassify it can be markedly faster.
It rewrites the full-text index and holds the write lock meanwhile: a running
"minewatch run" waits for it. Elasticsearch merges segments itself.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			log, cfg, err := g.loggerAndConfig()
			if err != nil {
				return err
			}
			if cfg.Index.Backend == config.BackendElasticsearch {
				fmt.Fprintln(g.stdout, "Elasticsearch merges its segments itself; nothing to do")
				return nil
			}
			st, err := disk.Open(c.Context(), disk.Options{Dir: cfg.Index.Dir, Logger: log})
			if err != nil {
				return err
			}
			defer st.Close()
			if err := st.Optimize(c.Context()); err != nil {
				return fmt.Errorf("index optimize: %w", err)
			}
			fmt.Fprintln(g.stdout, "full-text index merged")
			return nil
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "stats",
		Short: "Count documents, events and outbox messages",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			log, cfg, err := g.loggerAndConfig()
			if err != nil {
				return err
			}
			if cfg.Index.Backend == config.BackendElasticsearch {
				st, err := openElastic(c.Context(), cfg, log, g.getenv, false)
				if err != nil {
					return err
				}
				defer st.Close()
				s, err := st.Stats(c.Context())
				if err != nil {
					return fmt.Errorf("index stats: %w", err)
				}
				tw := newTable(g.stdout)
				fmt.Fprintf(tw, "articles\t%d\nevents\t%d\nsources\t%d\nsaved searches\t%d\noutbox messages\t%d\n",
					s.Articles, s.Events, s.Sources, s.Searches, s.Messages)
				for _, ix := range s.Indices {
					role := ""
					if ix.Read {
						role += " read"
					}
					if ix.Write {
						role += " write"
					}
					fmt.Fprintf(tw, "  %s\t%d docs, %.1f MB%s\n", ix.Name, ix.Docs, float64(ix.SizeBytes)/1e6, role)
				}
				return tw.Flush()
			}
			st, err := disk.Open(c.Context(), disk.Options{Dir: cfg.Index.Dir, Logger: log})
			if err != nil {
				return err
			}
			defer st.Close()
			s, err := st.Stats(c.Context())
			if err != nil {
				return fmt.Errorf("index stats: %w", err)
			}
			tw := newTable(g.stdout)
			fmt.Fprintf(tw, "index\t%s (%.1f MB)\narticles\t%d (%d relevant)\nevents\t%d\nsources with state\t%d\nsaved searches\t%d\noutbox\t%d pending, %d delivered, %d expired\n",
				cfg.Index.Dir, float64(s.SizeBytes)/1e6, s.Documents, s.Relevant, s.Events, s.Sources, s.SavedSearches,
				s.OutboxPending, s.OutboxDelivered, s.OutboxExpired)
			topics := make([]string, 0, len(s.ByTopic))
			for t := range s.ByTopic {
				topics = append(topics, t)
			}
			sort.Strings(topics)
			for _, t := range topics {
				fmt.Fprintf(tw, "  %s\t%d\n", t, s.ByTopic[t])
			}
			return tw.Flush()
		},
	})
	return cmd
}

// elasticOnly is an index subcommand that only Elasticsearch needs: the
// embedded index creates and migrates itself.
func elasticOnly(g *globals, use, short, done string, op func(*elastic.Store, context.Context) error) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			log, cfg, err := g.loggerAndConfig()
			if err != nil {
				return err
			}
			if cfg.Index.Backend != config.BackendElasticsearch {
				fmt.Fprintln(g.stdout, errEmbeddedNoop)
				return nil
			}
			st, err := openElastic(c.Context(), cfg, log, g.getenv, false)
			if err != nil {
				return err
			}
			defer st.Close()
			if err := op(st, c.Context()); err != nil {
				return fmt.Errorf("index %s: %w", use, err)
			}
			fmt.Fprintln(g.stdout, done)
			return nil
		},
	}
}
