package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minewatch/minewatch/index/disk"
	"github.com/minewatch/minewatch/news"
)

// archiveConfig writes a config whose embedded index holds docs, classified
// with stale rules, and returns its path.
func archiveConfig(t *testing.T, docs ...news.Document) string {
	t.Helper()
	dir := t.TempDir()
	st, err := disk.Open(t.Context(), disk.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Put(t.Context(), docs...); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "minewatch.yaml")
	if err := os.WriteFile(path, fmt.Appendf(nil, "index:\n  dir: %q\n", dir), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func staleDoc(id, title, text string) news.Document {
	pub := time.Date(2025, 6, 19, 12, 0, 0, 0, time.UTC)
	u := "https://news.example.org/" + id
	return news.Document{
		Article:        news.Article{ID: id, SourceID: "test", URL: u, CanonicalURL: u, Title: title, Text: text, Language: "en", Published: pub, FirstSeen: pub},
		Classification: news.Classification{RulesVersion: "old", Topics: []news.TopicScore{}, Entities: []news.Entity{}},
	}
}

var archive = []news.Document{
	staleDoc("fi", "Finland's parliament votes to leave the Ottawa Convention",
		"Finland's parliament, the Eduskunta, voted on Thursday to withdraw from the Ottawa Convention banning anti-personnel mines, by 157 votes to 18."),
	staleDoc("coal", "Coal mine reopens", "The coal mine near Katowice reopened after repairs to its ventilation shaft, the mining company said."),
	staleDoc("us", "US cuts funding for demining programmes", "The United States cut its funding for humanitarian demining and mine clearance programmes, the State Department said."),
}

func TestReclassifyIsResumable(t *testing.T) {
	cfg := archiveConfig(t, archive...)
	stdout, _, err := runCLI(t, "", "--config", cfg, "reclassify")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(stdout, "3 articles read, 0 skipped") || !strings.Contains(stdout, "new events") {
		t.Errorf("first run: %q", stdout)
	}
	// The Finnish vote is now in the archive with its topic and entity.
	out, _, err := runCLI(t, "", "--config", cfg, "search", "eduskunta", "--json")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `"treaty_withdrawal"`) || !strings.Contains(out, `"FI"`) {
		t.Errorf("after reclassify, search finds %s", out)
	}
	stdout, _, err = runCLI(t, "", "--config", cfg, "reclassify")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(stdout, "3 articles read, 3 skipped") {
		t.Errorf("second run redid work: %q", stdout)
	}
}

func TestRulesTest(t *testing.T) {
	cfg := archiveConfig(t, archive...)
	stdout, _, err := runCLI(t, "", "--config", cfg, "rules", "test", `"coal mine" OR demining`)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout, "2 of 3 articles match") || !strings.Contains(stdout, "Coal mine reopens") ||
		!strings.Contains(stdout, "terms: demining") {
		t.Errorf("rules test QUERY output:\n%s", stdout)
	}
	if _, _, err := runCLI(t, "", "--config", cfg, "rules", "test", `"unclosed`); err == nil {
		t.Error("a bad query gave no error")
	}

	rules := filepath.Join(t.TempDir(), "rules.yaml")
	const pack = `topics:
  - id: coal
    rules:
      - id: coal-en
        query: '"coal mine"'
`
	if err := os.WriteFile(rules, []byte(pack), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, _, err = runCLI(t, "", "--config", cfg, "rules", "test", rules)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout, "coal") || !strings.Contains(stdout, "+ Coal mine reopens") {
		t.Errorf("rules test FILE output:\n%s", stdout)
	}
}
