package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/minewatch/minewatch/index"
	"github.com/minewatch/minewatch/news"
)

func newSearchCmd(g *globals) *cobra.Command {
	var (
		q            index.Query
		actions      []string
		treaties     []string
		since, until string
		sortBy       string
		asJSON, all  bool
	)
	cmd := &cobra.Command{
		Use:   "search QUERY",
		Short: "Search the archive with the analysts' query syntax",
		Long: `search looks up the index (the embedded one in the config's data dir, or
Elasticsearch) with the same syntax as the classification rules:

  word            matches the word in any case, with or without diacritics
  konwencj*       prefix wildcard: konwencja, konwencji, konwencję ...
  "mine ban"      exact phrase
  a AND b, a OR b, NOT a, a b (AND), (parentheses)
  a NEAR/5 b      within 5 words, either order;  a NEAR/s b  same sentence
  title:word      only in titles

Only relevant articles are listed unless --all is given. QUERY may be "" to list
the newest articles matching the filters.`,
		Example: `  minewatch search 'withdraw* NEAR/8 ottawa' --country LT
  minewatch search '"cluster munitions"' --since 2025-01-01 --json
  minewatch search '' --topic treaty_withdrawal --action withdraw_notify --since 30d`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			log, err := g.logger()
			if err != nil {
				return err
			}
			q.Text = args[0]
			q.RelevantOnly = !all
			now := time.Now()
			if q.Since, err = parseWhen(since, now); err != nil {
				return usageError{fmt.Errorf("--since: %w", err)}
			}
			if q.Until, err = parseWhen(until, now); err != nil {
				return usageError{fmt.Errorf("--until: %w", err)}
			}
			for _, a := range actions {
				q.Actions = append(q.Actions, news.Action(a))
			}
			for _, t := range treaties {
				q.Treaties = append(q.Treaties, news.Treaty(t))
			}
			for i, c := range q.Countries {
				q.Countries[i] = strings.ToUpper(c)
			}
			switch sortBy {
			case "", "relevance", "date":
				q.Sort = index.Sort(sortBy)
			default:
				return usageError{fmt.Errorf("--sort %q: want relevance or date", sortBy)}
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
			hits, err := a.store.Search(cmd.Context(), q)
			if errors.Is(err, index.ErrBadQuery) {
				return usageError{err}
			}
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSONHits(g.stdout, hits)
			}
			writeTextHits(g.stdout, hits)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&q.Topics, "topic", nil, "only these topics (repeatable), e.g. treaty_withdrawal")
	f.StringSliceVar(&q.Countries, "country", nil, "only articles with an entity of this ISO 3166 country, e.g. PL")
	f.StringSliceVar(&actions, "action", nil, "only these actions, e.g. withdraw_vote, remain, funding_cut")
	f.StringSliceVar(&treaties, "treaty", nil, "only these treaties: ottawa, ccm, none")
	f.StringSliceVar(&q.Sources, "source", nil, "only these source ids")
	f.StringSliceVar(&q.Languages, "lang", nil, "only these languages (ISO 639-1)")
	f.StringVar(&since, "since", "", "from this date (2006-01-02, RFC 3339) or this long ago (24h, 7d)")
	f.StringVar(&until, "until", "", "before this date or this long ago")
	f.StringVar(&sortBy, "sort", "", "relevance or date (default: relevance with a query, date without)")
	f.IntVar(&q.Limit, "limit", 20, "results to show (max 1000)")
	f.BoolVar(&asJSON, "json", false, "print JSON instead of text")
	f.BoolVar(&all, "all", false, "include articles no topic claimed")
	return cmd
}

// parseWhen reads a date, a timestamp, or an age such as 36h or 7d.
func parseWhen(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n >= 0 {
			return now.AddDate(0, 0, -n), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%q is not a date (2006-01-02), a timestamp (RFC 3339) or an age (36h, 7d)", s)
}

type jsonHit struct {
	ID        string        `json:"id"`
	URL       string        `json:"url"`
	Title     string        `json:"title"`
	Source    string        `json:"source"`
	Published *time.Time    `json:"published"`
	Language  string        `json:"language"`
	Topics    []string      `json:"topics"`
	Entities  []news.Entity `json:"entities"`
	Score     float64       `json:"score"`
	Snippet   string        `json:"snippet"`
}

func writeJSONHits(w io.Writer, hits index.Hits) error {
	out := struct {
		Total   int                           `json:"total"`
		Results []jsonHit                     `json:"results"`
		Facets  map[string][]index.FacetCount `json:"facets,omitempty"`
	}{Total: hits.Total, Results: []jsonHit{}, Facets: hits.Facets}
	for _, h := range hits.Docs {
		jh := jsonHit{
			ID: h.ID, URL: h.CanonicalURL, Title: h.Title, Source: h.SourceID, Language: h.Language,
			Topics: h.Classification.TopicIDs(), Entities: h.Classification.Entities, Score: h.Score,
			Snippet: plainSnippet(h.Snippet, "", ""),
		}
		if !h.Published.IsZero() {
			p := h.Published
			jh.Published = &p
		}
		if jh.Entities == nil {
			jh.Entities = []news.Entity{}
		}
		out.Results = append(out.Results, jh)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func writeTextHits(w io.Writer, hits index.Hits) {
	if hits.Total == 0 {
		fmt.Fprintln(w, "No articles match. Try fewer filters, a wider --since, or --all.")
		return
	}
	fmt.Fprintf(w, "%d articles match; showing %d.\n\n", hits.Total, len(hits.Docs))
	for _, h := range hits.Docs {
		date := "date unknown"
		if !h.Published.IsZero() {
			date = h.Published.Format(time.DateOnly)
		}
		fmt.Fprintf(w, "%s  [%s] %s  (%s, %s)\n", date, h.Language, h.Title, h.SourceID, strings.Join(h.Classification.TopicIDs(), ", "))
		for _, e := range h.Classification.Entities {
			fmt.Fprintf(w, "    %s %s (%s): %s\n", e.Country, e.Action, e.Treaty, e.Evidence)
		}
		if s := plainSnippet(h.Snippet, "«", "»"); s != "" {
			fmt.Fprintf(w, "    %s\n", s)
		}
		fmt.Fprintf(w, "    %s\n\n", h.CanonicalURL)
	}
}

// plainSnippet joins snippet fragments, marking matches with open/close.
func plainSnippet(frags []index.Fragment, open, close string) string {
	var b strings.Builder
	for _, f := range frags {
		if f.Match {
			b.WriteString(open + f.Text + close)
		} else {
			b.WriteString(f.Text)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}
