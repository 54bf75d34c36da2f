package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/minewatch/minewatch/classify"
	"github.com/minewatch/minewatch/ingest/extract"
	"github.com/minewatch/minewatch/news"
)

// maxLine bounds one JSON Lines record: a long article is ~100 KB, a page ~10 MB.
const maxLine = 32 << 20

func newClassifyCmd(g *globals) *cobra.Command {
	var explain bool
	cmd := &cobra.Command{
		Use:   "classify",
		Short: "Classify articles read as JSON Lines on stdin",
		Long: `classify reads one article per line on stdin:
  {"id": "...", "title": "...", "text": "...", "url": "...", "language": "pl"}
(url and language optional; language is detected when absent) and writes one
line per input, in the same order:
  {"id", "relevant", "score", "language", "topics": [...],
   "entities": [{"country": "PL", "country_name": "Poland", "action": "withdraw_vote",
                 "treaty": "ottawa", "evidence": "the sentence"}]}
With --explain each line also carries "explain": for each topic, the rules that
matched and the terms with their offsets. A bad line yields {"id", "error"} and
the rest go on. Rules come from the config (see "minewatch config print").`,
		Example: `  echo '{"id":"1","title":"Seimas votes to leave Ottawa Convention","text":"..."}' | minewatch classify
  minewatch classify --explain < articles.jsonl > classified.jsonl`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.loadConfig()
			if err != nil {
				return err
			}
			cl, err := newClassifier(cfg)
			if err != nil {
				return err
			}
			return classifyLines(g.stdin, g.stdout, cl, explain)
		},
	}
	cmd.Flags().BoolVar(&explain, "explain", false, "add which rules and terms matched, with offsets")
	return cmd
}

type classifyIn struct {
	ID       json.RawMessage `json:"id"`
	Title    string          `json:"title"`
	Text     string          `json:"text"`
	URL      string          `json:"url"`
	Language string          `json:"language"`
}

type entityOut struct {
	Country     string      `json:"country"`
	CountryName string      `json:"country_name"`
	Action      news.Action `json:"action"`
	Treaty      news.Treaty `json:"treaty"`
	Evidence    string      `json:"evidence"`
}

type classifyOut struct {
	ID       json.RawMessage   `json:"id"`
	Relevant bool              `json:"relevant"`
	Score    float64           `json:"score"`
	Language string            `json:"language"`
	Topics   []string          `json:"topics"`
	Entities []entityOut       `json:"entities"`
	Explain  []news.TopicScore `json:"explain,omitempty"`
}

type lineError struct {
	ID    json.RawMessage `json:"id"`
	Error string          `json:"error"`
}

// classifyLines is the classify contract: one output line per input line.
func classifyLines(r io.Reader, w io.Writer, cl *classify.Classifier, explain bool) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var in classifyIn
		if err := json.Unmarshal([]byte(line), &in); err != nil {
			if err := enc.Encode(lineError{ID: idOrNull(in.ID), Error: fmt.Sprintf("line %d: %v", n, err)}); err != nil {
				return err
			}
			continue
		}
		if err := enc.Encode(classifyOne(cl, in, explain)); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read stdin: %w", err)
	}
	return bw.Flush()
}

func classifyOne(cl *classify.Classifier, in classifyIn, explain bool) classifyOut {
	lang := in.Language
	if lang == "" {
		lang = extract.DetectLanguage(in.Title + "\n" + in.Text)
	}
	c := cl.Classify(news.Article{Title: in.Title, Text: in.Text, URL: in.URL, Language: lang})
	out := classifyOut{
		ID: idOrNull(in.ID), Relevant: c.Relevant, Score: c.Score, Language: lang,
		Topics: c.TopicIDs(), Entities: []entityOut{},
	}
	for _, e := range c.Entities {
		out.Entities = append(out.Entities, entityOut{e.Country, e.CountryName, e.Action, e.Treaty, e.Evidence})
	}
	if explain {
		out.Explain = c.Topics
	}
	return out
}

func idOrNull(id json.RawMessage) json.RawMessage {
	if len(id) == 0 {
		return json.RawMessage("null")
	}
	return id
}
