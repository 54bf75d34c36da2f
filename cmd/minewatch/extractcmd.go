package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/minewatch/minewatch/ingest/charset"
	"github.com/minewatch/minewatch/ingest/extract"
)

func newExtractCmd(g *globals) *cobra.Command {
	var (
		pageURL string
		jsonl   bool
	)
	cmd := &cobra.Command{
		Use:   "extract [FILE]",
		Short: "Extract title, main text, date and language from an HTML page",
		Long: `extract reads one HTML page (FILE, or stdin) and writes one JSON object:
  {"url", "canonical_url", "title", "text", "published" (RFC 3339 or null),
   "language", "authors", "site_name"}
--url gives the page's address (to resolve relative links and canonical URLs).
The page may be in any charset its <meta> or XML declaration names.
With --jsonl it reads lines {"id", "url", "html"} and writes one result per line
with its "id"; a bad line yields {"id", "error"} and the rest go on.`,
		Example: `  minewatch extract --url https://news.err.ee/1609713534/x page.html
  curl -s https://www.lrt.lt/en/news-in-english/19/x | minewatch extract --url https://www.lrt.lt/en/news-in-english/19/x
  minewatch extract --jsonl < pages.jsonl`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in := g.stdin
			if len(args) == 1 {
				f, err := os.Open(args[0])
				if err != nil {
					return usageError{err}
				}
				defer f.Close()
				in = f
			}
			if jsonl {
				return extractLines(in, g.stdout)
			}
			body, err := io.ReadAll(io.LimitReader(in, maxLine))
			if err != nil {
				return fmt.Errorf("read page: %w", err)
			}
			out, err := extractOne(body, pageURL)
			if err != nil {
				return err
			}
			enc := json.NewEncoder(g.stdout)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			return enc.Encode(out)
		},
	}
	cmd.Flags().StringVar(&pageURL, "url", "", "the page's URL")
	cmd.Flags().BoolVar(&jsonl, "jsonl", false, `read {"id","url","html"} lines, write one result per line`)
	return cmd
}

type extractOut struct {
	ID           json.RawMessage `json:"id,omitempty"`
	URL          string          `json:"url"`
	CanonicalURL string          `json:"canonical_url"`
	Title        string          `json:"title"`
	Text         string          `json:"text"`
	Published    *string         `json:"published"`
	Language     string          `json:"language"`
	Authors      []string        `json:"authors"`
	SiteName     string          `json:"site_name"`
}

func extractOne(body []byte, pageURL string) (extractOut, error) {
	utf8, _, err := charset.ToUTF8(body, "")
	if err != nil {
		return extractOut{}, fmt.Errorf("decode page: %w", err)
	}
	p, err := extract.Extract(utf8, pageURL, extract.Options{})
	if err != nil {
		return extractOut{}, fmt.Errorf("extract %s: %w", pageURL, err)
	}
	out := extractOut{
		URL: pageURL, CanonicalURL: p.CanonicalURL, Title: p.Title, Text: p.Text,
		Language: p.Language, Authors: p.Authors, SiteName: p.SiteName,
	}
	if out.CanonicalURL == "" {
		out.CanonicalURL = pageURL
	}
	if out.Authors == nil {
		out.Authors = []string{}
	}
	if !p.Published.IsZero() {
		s := p.Published.UTC().Format(time.RFC3339)
		out.Published = &s
	}
	return out, nil
}

func extractLines(r io.Reader, w io.Writer) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<20), maxLine)
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var in struct {
			ID   json.RawMessage `json:"id"`
			URL  string          `json:"url"`
			HTML string          `json:"html"`
		}
		var res any
		if err := json.Unmarshal([]byte(line), &in); err != nil {
			res = lineError{ID: idOrNull(in.ID), Error: fmt.Sprintf("line %d: %v", n, err)}
		} else if out, err := extractOne([]byte(in.HTML), in.URL); err != nil {
			res = lineError{ID: idOrNull(in.ID), Error: err.Error()}
		} else {
			out.ID = idOrNull(in.ID)
			res = out
		}
		if err := enc.Encode(res); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read stdin: %w", err)
	}
	return bw.Flush()
}
