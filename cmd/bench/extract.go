package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	readability "codeberg.org/readeck/go-readability/v2"
	trafilatura "github.com/markusmobius/go-trafilatura"
	"golang.org/x/net/html"

	"github.com/minewatch/minewatch/ingest/extract"
)

// benchDataset is the extraction benchmark's directory under ../shared.
const benchDataset = "bench/scrapinghub-article-extraction-benchmark"

// errNoModuleRoot is returned when no go.mod is found above the working directory.
var errNoModuleRoot = errors.New("no go.mod above the working directory")

// benchPage is one page of the dataset with its gold article body.
type benchPage struct {
	id, url  string
	html     []byte
	gold     string
	titleTag string // the page's <title>, to tell site-name suffixes
}

// extracted is what one extractor made of one page.
type extracted struct {
	title     string
	text      string
	published time.Time
	// fromURL says the date was read off the URL, so agreeing with the URL's
	// date proves nothing; only minewatch's extractor says where dates come from.
	fromURL bool
}

// pageExtractor is one contestant; run must parse the page itself, so that
// parsing is part of every contestant's cost.
type pageExtractor struct {
	name string
	run  func(page []byte, pageURL string) (extracted, error)
}

func contestants() []pageExtractor {
	return []pageExtractor{
		{"minewatch ingest/extract", func(page []byte, pageURL string) (extracted, error) {
			p, err := extract.Extract(page, pageURL, extract.Options{})
			if err != nil {
				return extracted{}, err
			}
			return extracted{title: p.Title, text: p.Text, published: p.Published, fromURL: p.PublishedFrom == "url"}, nil
		}},
		{"go-trafilatura (fallback)", trafilaturaRun(true)},
		{"go-trafilatura (no fallback)", trafilaturaRun(false)},
		{"readeck go-readability v2", func(page []byte, pageURL string) (extracted, error) {
			u, _ := url.Parse(pageURL)
			parser := readability.NewParser()
			a, err := parser.Parse(bytes.NewReader(page), u)
			if err != nil {
				return extracted{}, err
			}
			var b strings.Builder
			if a.Node != nil {
				if err := a.RenderText(&b); err != nil {
					return extracted{}, err
				}
			}
			out := extracted{title: a.Title(), text: b.String()}
			if t, err := a.PublishedTime(); err == nil {
				out.published = t
			}
			return out, nil
		}},
	}
}

func trafilaturaRun(fallback bool) func([]byte, string) (extracted, error) {
	return func(page []byte, pageURL string) (extracted, error) {
		u, _ := url.Parse(pageURL)
		res, err := trafilatura.Extract(bytes.NewReader(page), trafilatura.Options{
			OriginalURL:     u,
			EnableFallback:  fallback,
			ExcludeComments: true,
		})
		if err != nil {
			return extracted{}, err
		}
		return extracted{title: res.Metadata.Title, text: res.ContentText, published: res.Metadata.Date}, nil
	}
}

// extractScore is one contestant's result over the dataset.
type extractScore struct {
	name                  string
	precision, recall, f1 float64
	accuracy              float64
	pagesPerSec           float64
	errors                int
	titled, suffixed      int // pages whose <title> has a suffix; of those, titles that kept it
	dated                 int // pages with a date found
	urlDated, urlAgree    int // pages with a date in the URL (and a date not read from it); of those, agreeing
}

func benchExtract(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("extract", flag.ContinueOnError)
	fs.SetOutput(out)
	dir := fs.String("dir", "", "dataset directory (default ../shared/"+benchDataset+" next to the module root)")
	cores := fs.Int("cores", 1, "GOMAXPROCS while extracting")
	limit := fs.Int("limit", 0, "use only the first N pages (0: all)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the measured part to this file")
	verbose := fs.Bool("v", false, "list, for minewatch's extractor, the pages whose title keeps a suffix or that have no date")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		root, err := moduleRoot()
		if err != nil {
			return err
		}
		*dir = filepath.Join(root, "..", "shared", benchDataset)
	}
	pages, err := loadBenchPages(*dir)
	if err != nil {
		return err
	}
	if *limit > 0 && *limit < len(pages) {
		pages = pages[:*limit]
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}

	prev := runtime.GOMAXPROCS(*cores)
	defer runtime.GOMAXPROCS(prev)
	var results []extractScore
	for _, c := range contestants() {
		if err := ctx.Err(); err != nil {
			return err
		}
		var notes io.Writer
		if *verbose && len(results) == 0 {
			notes = out
		}
		results = append(results, scoreExtractor(c, pages, notes))
	}
	writeExtractReport(out, *dir, len(pages), *cores, results)
	return nil
}

// scoreExtractor runs one extractor over every page, one page at a time, and
// times only the extraction. notes, when not nil, gets a line for each page
// whose title keeps its suffix or that has no date.
func scoreExtractor(c pageExtractor, pages []benchPage, notes io.Writer) extractScore {
	s := extractScore{name: c.name}
	ms := make([]shingleCounts, 0, len(pages))
	exact := 0
	var spent time.Duration
	for _, pg := range pages {
		t0 := time.Now()
		res, err := safeRun(c, pg)
		spent += time.Since(t0)
		if err != nil {
			s.errors++
			ms = append(ms, shingleCounts{fn: 1})
			continue
		}
		ms = append(ms, shingleMatch(pg.gold, res.text))
		if slicesEqual(wordTokens(pg.gold), wordTokens(res.text)) {
			exact++
		}
		if sep, suffix, ok := titleSuffix(pg.titleTag); ok {
			s.titled++
			if keepsSuffix(res.title, sep, suffix) {
				s.suffixed++
				if notes != nil {
					fmt.Fprintf(notes, "%s: title keeps %q: %q (%s)\n", c.name, suffix, res.title, pg.url)
				}
			}
		}
		if !res.published.IsZero() {
			s.dated++
		} else if notes != nil {
			fmt.Fprintf(notes, "%s: no date: %s\n", c.name, pg.url)
		}
		// A date in the URL is a weak ground truth: the day should match,
		// give or take a time zone (the same window as the extract tests).
		if ud, ok := dateInURL(pg.url); ok && !res.published.IsZero() && !res.fromURL {
			s.urlDated++
			if d := res.published.Sub(ud); d > -36*time.Hour && d < 48*time.Hour {
				s.urlAgree++
			}
		}
	}
	s.precision, s.recall, s.f1 = prfScores(ms)
	if len(pages) > 0 {
		s.accuracy = float64(exact) / float64(len(pages))
	}
	if spent > 0 {
		s.pagesPerSec = float64(len(pages)) / spent.Seconds()
	}
	return s
}

// safeRun keeps one extractor's panic on one odd page from ending the benchmark;
// the page counts as an error for that extractor.
func safeRun(c pageExtractor, pg benchPage) (res extracted, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s on %s: panic: %v", c.name, pg.id, r)
		}
	}()
	return c.run(pg.html, pg.url)
}

func writeExtractReport(out io.Writer, dir string, n, cores int, results []extractScore) {
	fmt.Fprintf(out, "extraction benchmark: %d pages from %s\n", n, dir)
	fmt.Fprintf(out, "GOMAXPROCS=%d, %s %s/%s; scored like the dataset's evaluate.py (4-token shingles of \\w+ tokens)\n\n",
		cores, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "extractor\tprecision\trecall\tF1\taccuracy\tpages/s\terrors\t")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%.3f\t%.3f\t%.3f\t%.3f\t%.1f\t%d\t\n",
			r.name, r.precision, r.recall, r.f1, r.accuracy, r.pagesPerSec, r.errors)
	}
	tw.Flush()

	fmt.Fprintln(out, "\nTitles: pages whose <title> ends in a \" | – — - · :: \" part, and how many extracted titles still end in it.")
	fmt.Fprintln(out, "Dates: the dataset has no date ground truth, so only the rate of pages with a date, and agreement")
	fmt.Fprintln(out, "(-36 h … +48 h) with a /yyyy/mm/dd/ date in the URL where there is one, are reported; minewatch's")
	fmt.Fprintln(out, "dates read off the URL itself are left out of the agreement count.")
	fmt.Fprintln(out)
	tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "extractor\ttitle keeps suffix\tdate found\tdate agrees with URL\t")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%d of %d\t%d of %d (%.0f%%)\t%s\t\n", r.name, r.suffixed, r.titled,
			r.dated, n, pct(r.dated, n), ratio(r.urlAgree, r.urlDated))
	}
	tw.Flush()
}

func pct(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return 100 * float64(a) / float64(b)
}

func ratio(a, b int) string {
	if b == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%d of %d (%.0f%%)", a, b, pct(a, b))
}

// moduleRoot walks up from the working directory to the directory holding go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("module root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errNoModuleRoot
		}
		dir = parent
	}
}

// loadBenchPages reads ground-truth.json and the gzipped pages, sorted by id
// so that -limit picks the same pages every time.
func loadBenchPages(dir string) ([]benchPage, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "ground-truth.json"))
	if err != nil {
		return nil, fmt.Errorf("extraction dataset: %w", err)
	}
	var truth map[string]struct {
		ArticleBody string `json:"articleBody"`
		URL         string `json:"url"`
	}
	if err := json.Unmarshal(raw, &truth); err != nil {
		return nil, fmt.Errorf("extraction dataset: ground-truth.json: %w", err)
	}
	ids := make([]string, 0, len(truth))
	for id := range truth {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	pages := make([]benchPage, 0, len(ids))
	for _, id := range ids {
		b, err := readGzip(filepath.Join(dir, "html", id+".html.gz"))
		if err != nil {
			return nil, fmt.Errorf("extraction dataset: page %s: %w", id, err)
		}
		g := truth[id]
		pages = append(pages, benchPage{id: id, url: g.URL, html: b, gold: g.ArticleBody, titleTag: titleTag(b)})
	}
	return pages, nil
}

func readGzip(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}

// titleTag returns the text of the first <title> outside <svg>.
func titleTag(page []byte) string {
	z := html.NewTokenizer(bytes.NewReader(page))
	svg := 0
	for {
		switch z.Next() {
		case html.ErrorToken:
			return ""
		case html.StartTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "svg":
				svg++
			case "title":
				if svg > 0 {
					continue
				}
				if z.Next() == html.TextToken {
					return strings.Join(strings.Fields(html.UnescapeString(string(z.Text()))), " ")
				}
				return ""
			}
		case html.EndTagToken:
			if name, _ := z.TagName(); string(name) == "svg" && svg > 0 {
				svg--
			}
		}
	}
}

// suffixSeps are the separators a <title> puts before the site name.
var suffixSeps = []string{" | ", " – ", " — ", " - ", " · ", " :: "}

// titleSuffix splits a <title> at its last separator; the tail is the site
// (or section) name when it is short next to the head.
func titleSuffix(t string) (sep, suffix string, ok bool) {
	best := -1
	for _, s := range suffixSeps {
		if i := strings.LastIndex(t, s); i > best {
			best, sep = i, s
		}
	}
	if best <= 0 {
		return "", "", false
	}
	head, tail := t[:best], strings.TrimSpace(t[best+len(sep):])
	words := len(strings.Fields(tail))
	if words == 0 || words > 6 || len(tail) >= len(head) {
		return "", "", false
	}
	return sep, tail, true
}

// keepsSuffix reports whether an extracted title still ends in the site name
// after some separator.
func keepsSuffix(title, sep, suffix string) bool {
	t := strings.ToLower(strings.Join(strings.Fields(title), " "))
	suffix = strings.ToLower(suffix)
	if !strings.HasSuffix(t, suffix) || len(t) == len(suffix) {
		return false
	}
	head := strings.TrimSpace(t[:len(t)-len(suffix)])
	for _, s := range append([]string{sep}, suffixSeps...) {
		if strings.HasSuffix(head+" ", s) {
			return true
		}
	}
	return false
}

// urlDate matches /yyyy/mm/dd/ (or with dashes) in a URL path, as the
// extractor's own URL-date rule does.
var urlDate = regexp.MustCompile(`/((?:19|20)\d{2})[/-](0[1-9]|1[0-2])[/-](0[1-9]|[12]\d|3[01])(?:/|-|_|\.|$)`)

func dateInURL(u string) (time.Time, bool) {
	m := urlDate.FindStringSubmatch(u)
	if m == nil {
		return time.Time{}, false
	}
	t, err := time.Parse("2006-01-02", m[1]+"-"+m[2]+"-"+m[3])
	return t, err == nil
}

// The scoring re-implements the dataset's evaluate.py (see its SOURCE.md):
// \w+ tokens, multisets of 4-token shingles, per-page tp/fp/fn scaled to sum
// to 1, precision and recall averaged over pages, F1 of the two averages.

// wordTokens splits text into Python's Unicode \w+ runs: letters, digits and "_".
func wordTokens(text string) []string {
	var toks []string
	start := -1
	for i, r := range text {
		word := r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r)
		switch {
		case word && start < 0:
			start = i
		case !word && start >= 0:
			toks = append(toks, text[start:i])
			start = -1
		}
	}
	if start >= 0 {
		toks = append(toks, text[start:])
	}
	return toks
}

func slicesEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// shingles counts the n-token shingles of text; a text shorter than n is one shingle.
func shingles(text string, n int) map[string]int {
	toks := wordTokens(text)
	out := map[string]int{}
	for i := 0; i < max(1, len(toks)-n+1); i++ {
		end := min(i+n, len(toks))
		if end <= i {
			break
		}
		out[strings.Join(toks[i:end], "\x00")]++
	}
	return out
}

// shingleCounts is one page's true positives, false positives and false
// negatives, scaled to sum to 1.
type shingleCounts struct{ tp, fp, fn float64 }

func shingleMatch(gold, pred string) shingleCounts {
	g, p := shingles(gold, 4), shingles(pred, 4)
	var c shingleCounts
	for k, gc := range g {
		pc := p[k]
		c.tp += float64(min(gc, pc))
		c.fn += float64(max(0, gc-pc))
	}
	for k, pc := range p {
		c.fp += float64(max(0, pc-g[k]))
	}
	if s := c.tp + c.fp + c.fn; s > 0 {
		c.tp, c.fp, c.fn = c.tp/s, c.fp/s, c.fn/s
	}
	return c
}

// prfScores averages precision over pages with output and recall over pages
// with gold text, as evaluate.py does.
func prfScores(ms []shingleCounts) (precision, recall, f1 float64) {
	var ps, rs []float64
	for _, m := range ms {
		perfect := m.fp == 0 && m.fn == 0
		if m.tp+m.fp > 0 {
			if perfect {
				ps = append(ps, 1)
			} else {
				ps = append(ps, m.tp/(m.tp+m.fp))
			}
		}
		if m.tp+m.fn > 0 {
			if perfect {
				rs = append(rs, 1)
			} else {
				rs = append(rs, m.tp/(m.tp+m.fn))
			}
		}
	}
	precision, recall = mean(ps), mean(rs)
	if precision+recall == 0 {
		return precision, recall, 0
	}
	return precision, recall, 2 * precision * recall / (precision + recall)
}

func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}
