package main

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sharedBenchDir finds the extraction dataset in ../shared next to the module
// root, skipping the test when it is absent.
func sharedBenchDir(t *testing.T) string {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Skipf("cannot locate ../shared: %v", err)
	}
	dir := filepath.Join(root, "..", "shared", benchDataset)
	if _, err := os.Stat(filepath.Join(dir, "ground-truth.json")); err != nil {
		t.Skipf("extraction dataset %s is absent: %v", dir, err)
	}
	return dir
}

func TestBenchExtractSmall(t *testing.T) {
	dir := sharedBenchDir(t)
	var out bytes.Buffer
	if err := benchExtract(t.Context(), []string{"-dir", dir, "-limit", "3"}, &out); err != nil {
		t.Fatal(err)
	}
	report := out.String()
	for _, want := range []string{"3 pages", "minewatch ingest/extract", "go-trafilatura (fallback)",
		"go-trafilatura (no fallback)", "readeck go-readability v2", "date agrees with URL"} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
}

func TestShingleScoring(t *testing.T) {
	tests := []struct {
		name, gold, pred string
		wantP, wantR     float64
		wantPages        int // pages counted for precision
	}{
		{"exact", "one two three four five", "one two three four five", 1, 1, 1},
		{"empty prediction counts only against recall", "one two three four five", "", 0, 0, 0},
		{"extra text lowers precision", "a b c d", "a b c d e f g", 0.25, 1, 1},
		{"texts shorter than a shingle", "a b", "a b", 1, 1, 1},
		{"punctuation is not a token", "Hello, world! It's here.", "Hello world It s here", 1, 1, 1},
		{"case matters", "One two three four", "one two three four", 0, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := shingleMatch(tt.gold, tt.pred)
			p, r, _ := prfScores([]shingleCounts{c})
			if got := boolInt(c.tp+c.fp > 0); got != tt.wantPages {
				t.Errorf("precision pages = %d, want %d", got, tt.wantPages)
			}
			if math.Abs(p-tt.wantP) > 1e-9 || math.Abs(r-tt.wantR) > 1e-9 {
				t.Errorf("P/R = %v/%v, want %v/%v", p, r, tt.wantP, tt.wantR)
			}
		})
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestWordTokens(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"Łódź, 2026 — snake_case!", []string{"Łódź", "2026", "snake_case"}},
		{"Київ: міни", []string{"Київ", "міни"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := wordTokens(tt.in); !slicesEqual(got, tt.want) {
				t.Errorf("wordTokens(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestTitleSuffix(t *testing.T) {
	tests := []struct {
		name, titleTag, extracted string
		checkable, keeps          bool
	}{
		{"suffix kept", "Poland quits mine ban | Daily News", "Poland quits mine ban | Daily News", true, true},
		{"suffix removed", "Poland quits mine ban | Daily News", "Poland quits mine ban", true, false},
		{"other separator kept", "Poland quits mine ban – Daily News", "Poland quits mine ban - Daily News", true, true},
		{"no separator", "Poland quits mine ban", "Poland quits mine ban", false, false},
		{"tail longer than head", "News | Poland quits the mine ban treaty today", "News", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sep, suffix, ok := titleSuffix(tt.titleTag)
			if ok != tt.checkable {
				t.Fatalf("titleSuffix(%q) ok = %v, want %v", tt.titleTag, ok, tt.checkable)
			}
			if ok && keepsSuffix(tt.extracted, sep, suffix) != tt.keeps {
				t.Errorf("keepsSuffix(%q, %q, %q) = %v, want %v", tt.extracted, sep, suffix, !tt.keeps, tt.keeps)
			}
		})
	}
}

func TestTitleTag(t *testing.T) {
	tests := []struct{ name, page, want string }{
		{"plain", "<html><head><title> A &amp; B \n | Site</title></head></html>", "A & B | Site"},
		{"svg title skipped", "<body><svg><title>icon</title></svg><title>Real</title>", "Real"},
		{"none", "<p>no title</p>", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := titleTag([]byte(tt.page)); got != tt.want {
				t.Errorf("titleTag = %q, want %q", got, tt.want)
			}
		})
	}
}

func FuzzTitleTag(f *testing.F) {
	f.Add("<title>A | B</title>")
	f.Add("<svg><title>x</title></svg><title>y – z</title>")
	f.Add("<title>")
	f.Fuzz(func(t *testing.T, page string) {
		tt := titleTag([]byte(page))
		if sep, suffix, ok := titleSuffix(tt); ok {
			if !strings.Contains(tt, sep) || suffix == "" {
				t.Errorf("titleSuffix(%q) = %q, %q", tt, sep, suffix)
			}
			if !keepsSuffix(tt, sep, suffix) {
				t.Errorf("the <title> %q itself should keep its suffix %q", tt, suffix)
			}
		}
	})
}
