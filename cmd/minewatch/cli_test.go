package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/encoding/charmap"
)

// runCLI runs minewatch with args, stdin and an empty environment.
func runCLI(t *testing.T, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := newRoot(strings.NewReader(stdin), &out, &errOut, func(string) string { return "" })
	root.SetArgs(args)
	err = root.ExecuteContext(t.Context())
	return out.String(), errOut.String(), err
}

func TestClassifyContract(t *testing.T) {
	in := strings.Join([]string{
		`{"id":"a","title":"Lithuania's Seimas votes to withdraw from the Ottawa Convention","text":"Lithuania's parliament, the Seimas, voted on Thursday to withdraw from the Ottawa Convention banning anti-personnel mines. The bill passed with 107 votes in favour."}`,
		`{"id":"b","title":"Coal mine reopens in Silesia","text":"The coal mine near Katowice reopened after repairs, the mining company said."}`,
		`{"id":"c", not json`,
		``,
		`{"id":7,"title":"Norway will not withdraw from the mine ban treaty","text":"Norway will not withdraw from the Ottawa Convention on anti-personnel mines, the foreign minister said on Wednesday.","language":"en"}`,
	}, "\n")
	stdout, _, err := runCLI(t, in, "classify")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 4 {
		t.Fatalf("got %d output lines, want 4 (one per non-empty input):\n%s", len(lines), stdout)
	}
	var out []map[string]any
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("output line %q is not JSON: %v", l, err)
		}
		out = append(out, m)
	}
	if out[0]["id"] != "a" || out[0]["relevant"] != true || out[0]["language"] != "en" {
		t.Errorf("line 1 = %v; want id a, relevant, language en", out[0])
	}
	if !hasEntity(out[0], "LT", "withdraw_vote", "ottawa") {
		t.Errorf("line 1 entities = %v; want LT withdraw_vote ottawa", out[0]["entities"])
	}
	if out[1]["relevant"] != false || len(out[1]["topics"].([]any)) != 0 {
		t.Errorf("line 2 (coal mine) = %v; want not relevant, no topics", out[1])
	}
	if _, ok := out[2]["error"]; !ok {
		t.Errorf("line 3 = %v; want an error object", out[2])
	}
	if out[3]["id"] != float64(7) || !hasEntity(out[3], "NO", "remain", "ottawa") {
		t.Errorf("line 4 = %v; want id 7 with NO remain ottawa", out[3])
	}
	for _, k := range []string{"id", "relevant", "score", "language", "topics", "entities"} {
		if _, ok := out[0][k]; !ok {
			t.Errorf("output lacks %q: %v", k, out[0])
		}
	}

	stdout, _, err = runCLI(t, lines0(in), "classify", "--explain")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout, `"explain"`) || !strings.Contains(stdout, `"hits"`) {
		t.Errorf("--explain output lacks rule explanations: %s", stdout)
	}
}

func lines0(s string) string { return strings.SplitN(s, "\n", 2)[0] }

func hasEntity(m map[string]any, country, action, treaty string) bool {
	ents, _ := m["entities"].([]any)
	for _, e := range ents {
		em := e.(map[string]any)
		if em["country"] == country && em["action"] == action && em["treaty"] == treaty && em["evidence"] != "" {
			return true
		}
	}
	return false
}

func TestExtractContract(t *testing.T) {
	page := `<!doctype html><html lang="lt"><head><meta charset="windows-1257">
<title>Seimas pritarė pasitraukimui iš Otavos konvencijos | Žinios</title>
<link rel="canonical" href="https://news.example.lt/seimas-otava?utm_source=x">
<meta property="article:published_time" content="2025-05-08T12:30:00+03:00">
<meta property="og:site_name" content="Žinios"></head><body><nav>Pradžia | Pasaulis</nav>
<article><h1>Seimas pritarė pasitraukimui iš Otavos konvencijos</h1>
<p>Seimas ketvirtadienį pritarė Lietuvos pasitraukimui iš Otavos konvencijos, draudžiančios priešpėstines minas. Už balsavo 107 Seimo nariai, prieš nebuvo, susilaikė trys.</p>
<p>Sprendimas įsigalios praėjus šešiems mėnesiams po to, kai Jungtinių Tautų generalinis sekretorius bus informuotas apie pasitraukimą.</p>
<p>Krašto apsaugos ministerija teigia, kad sprendimas leis geriau pasirengti gynybai.</p></article>
<footer>© Žinios</footer></body></html>`
	// The page says it is windows-1257, so it is sent in windows-1257.
	encoded, err := charmap.Windows1257.NewEncoder().String(page)
	if err != nil {
		t.Fatal(err)
	}
	stdout, _, err := runCLI(t, encoded, "extract", "--url", "https://news.example.lt/seimas-otava?utm_source=rss")
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, stdout)
	}
	if out["canonical_url"] != "https://news.example.lt/seimas-otava" {
		t.Errorf("canonical_url = %v, want tracking parameters removed", out["canonical_url"])
	}
	if out["title"] != "Seimas pritarė pasitraukimui iš Otavos konvencijos" {
		t.Errorf("title = %q, want it without the site suffix", out["title"])
	}
	if out["published"] != "2025-05-08T09:30:00Z" {
		t.Errorf("published = %v, want 2025-05-08T09:30:00Z (UTC)", out["published"])
	}
	if out["language"] != "lt" {
		t.Errorf("language = %v, want lt", out["language"])
	}
	if text, _ := out["text"].(string); !strings.Contains(text, "priešpėstines minas") || strings.Contains(text, "Pradžia") {
		t.Errorf("text = %q; want the article body without navigation", text)
	}
	for _, k := range []string{"url", "canonical_url", "title", "text", "published", "language", "authors", "site_name"} {
		if _, ok := out[k]; !ok {
			t.Errorf("output lacks %q", k)
		}
	}

	jl := `{"id":"p1","url":"https://news.example.lt/a","html":` + jsonString(strings.Replace(page, "windows-1257", "utf-8", 1)) + "}\n" + `{"id":"p2",` + "\n"
	stdout, _, err = runCLI(t, jl, "extract", "--jsonl")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"id":"p1"`) || !strings.Contains(lines[1], `"error"`) {
		t.Errorf("--jsonl output = %q; want a result for p1 and an error line", stdout)
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestConfigCheckReportsEveryErrorWithPosition(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "minewatch.yaml")
	const text = `sources:
  - id: a
    name: A
    kind: feed
    url: "not a url"
    schedule: "every day"
topics:
  - id: t
    threshold: 1
    rules:
      - id: r
        query: '"unclosed AND'
`
	if err := os.WriteFile(bad, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, err := runCLI(t, "", "config", "check", bad)
	var ue usageError
	if !errors.As(err, &ue) {
		t.Fatalf("err = %v, want a usage error (exit 2)", err)
	}
	for _, want := range []string{bad + ":5:", bad + ":6:", bad + ":12:"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks an error at %s:\n%s", want, stderr)
		}
	}

	stdout, _, err := runCLI(t, "", "config", "check")
	if err != nil || !strings.Contains(stdout, "ok") {
		t.Errorf("checking the built-in default: %v %s", err, stdout)
	}
}

func TestHelpTeaches(t *testing.T) {
	for _, cmd := range [][]string{{"--help"}, {"run", "--help"}, {"fetch", "--help"}, {"search", "--help"},
		{"classify", "--help"}, {"extract", "--help"}, {"demo", "--help"}, {"config", "check", "--help"}, {"sources", "--help"}} {
		stdout, _, err := runCLI(t, "", cmd...)
		if err != nil {
			t.Errorf("%v: %v", cmd, err)
			continue
		}
		if !strings.Contains(stdout, "minewatch") || !strings.Contains(stdout, "Example") {
			t.Errorf("%v help has no example:\n%s", cmd, stdout)
		}
	}
}

func TestParseWhen(t *testing.T) {
	now := mustTime(t, "2026-11-26T12:00:00Z")
	tests := map[string]string{
		"2025-01-01":           "2025-01-01T00:00:00Z",
		"2025-06-27T10:00:00Z": "2025-06-27T10:00:00Z",
		"7d":                   "2026-11-19T12:00:00Z",
		"36h":                  "2026-11-25T00:00:00Z",
	}
	for in, want := range tests {
		got, err := parseWhen(in, now)
		if err != nil || !got.Equal(mustTime(t, want)) {
			t.Errorf("parseWhen(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
	for _, in := range []string{"yesterday", "-3d", "2025-13-01"} {
		if _, err := parseWhen(in, now); err == nil {
			t.Errorf("parseWhen(%q) succeeded, want an error", in)
		}
	}
}

// The Elasticsearch-only index commands say so on the embedded index.
func TestIndexCommandsOnEmbedded(t *testing.T) {
	cfg := archiveConfig(t)
	for _, sub := range []string{"init", "reindex"} {
		stdout, _, err := runCLI(t, "", "--config", cfg, "index", sub)
		if err != nil || !strings.Contains(stdout, "needs no init or reindex") {
			t.Errorf("index %s: %q, %v", sub, stdout, err)
		}
	}
	stdout, _, err := runCLI(t, "", "--config", cfg, "index", "optimize")
	if err != nil || !strings.Contains(stdout, "merged") {
		t.Errorf("index optimize: %q, %v", stdout, err)
	}
	stdout, _, err = runCLI(t, "", "--config", cfg, "index", "stats")
	if err != nil || !strings.Contains(stdout, "articles") {
		t.Errorf("index stats: %q, %v", stdout, err)
	}
}
