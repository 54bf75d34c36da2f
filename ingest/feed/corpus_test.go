package feed

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/encoding/unicode/utf32"
)

// sharedDir finds ../shared next to the repository root (the directory holding
// go.mod), skipping the test when it is absent.
func sharedDir(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("go.mod not found above the package; cannot locate ../shared")
		}
		dir = parent
	}
	shared := filepath.Join(dir, "..", "shared")
	if _, err := os.Stat(shared); err != nil {
		t.Skipf("shared data directory %s is absent: %v", shared, err)
	}
	return shared
}

var declEncodingRe = regexp.MustCompile(`^\s*<\?xml[^>]*?\bencoding\s*=\s*["']([^"']+)["']`)

// toUTF8 does what the ingest charset stage does before Parse: honour a byte
// order mark, then the XML declaration, else assume UTF-8.
func toUTF8(b []byte) ([]byte, error) {
	var enc encoding.Encoding
	switch {
	case bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}):
		return b[3:], nil
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE, 0, 0}):
		enc = utf32.UTF32(utf32.LittleEndian, utf32.ExpectBOM)
	case bytes.HasPrefix(b, []byte{0, 0, 0xFE, 0xFF}):
		enc = utf32.UTF32(utf32.BigEndian, utf32.ExpectBOM)
	case bytes.HasPrefix(b, []byte{0xFE, 0xFF}):
		enc = unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM)
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}):
		enc = unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM)
	case bytes.HasPrefix(b, []byte{0, 0, 0, '<'}):
		enc = utf32.UTF32(utf32.BigEndian, utf32.IgnoreBOM)
	case bytes.HasPrefix(b, []byte{'<', 0, 0, 0}):
		enc = utf32.UTF32(utf32.LittleEndian, utf32.IgnoreBOM)
	case bytes.HasPrefix(b, []byte{0, '<'}):
		enc = unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM)
	case bytes.HasPrefix(b, []byte{'<', 0}):
		enc = unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM)
	default:
		if m := declEncodingRe.FindSubmatch(b[:min(len(b), 512)]); m != nil {
			if e, name := charset.Lookup(string(m[1])); e != nil && name != "utf-8" {
				enc = e
			}
		}
	}
	if enc == nil {
		return b, nil
	}
	return io.ReadAll(enc.NewDecoder().Reader(bytes.NewReader(b)))
}

// parseGuarded runs Parse on its own goroutine so that a hang is reported as a
// failure of that file instead of stalling the whole run, and a panic that
// escaped Parse's own recovery is counted.
func parseGuarded(body []byte, feedURL string, limit time.Duration) (res guardResult, hung bool) {
	done := make(chan guardResult, 1)
	go func() {
		var r guardResult
		defer func() {
			r.panicked = recover()
			done <- r
		}()
		r.f, r.err = Parse(body, feedURL)
	}()
	timer := time.NewTimer(limit)
	defer timer.Stop()
	select {
	case r := <-done:
		return r, false
	case <-timer.C:
		return guardResult{}, true
	}
}

type guardResult struct {
	f        *Feed
	err      error
	panicked any
}

func TestCorpus(t *testing.T) {
	root := filepath.Join(sharedDir(t), "corpus", "feeds")
	if _, err := os.Stat(root); err != nil {
		t.Skipf("feed corpus %s is absent: %v", root, err)
	}
	var files []string
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		base := d.Name()
		if base == "SOURCE.md" || base == "MANIFEST.tsv" || strings.HasPrefix(base, "LICENSE") {
			return nil
		}
		files = append(files, path)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)

	var parsed, notFeed, otherErr, items, panics, hangs, decodeErr int
	errKinds := map[string]int{}
	for _, path := range files {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		body, err := toUTF8(raw)
		if err != nil {
			decodeErr++
			body = raw // Parse must cope with undecodable bytes too
		}
		rel, _ := filepath.Rel(root, path)
		feedURL := "https://corpus.example/" + filepath.ToSlash(rel)
		res, hung := parseGuarded(body, feedURL, time.Minute)
		f, err, p := res.f, res.err, res.panicked
		switch {
		case hung:
			hangs++
			t.Errorf("%s: Parse did not return within a minute", rel)
		case p != nil:
			panics++
			t.Errorf("%s: panic escaped Parse: %v", rel, p)
		case errors.Is(err, ErrParserPanic):
			panics++
			t.Logf("%s: gofeed panicked (recovered): %v", rel, err)
		case errors.Is(err, ErrNotFeed):
			notFeed++
			_, why, _ := strings.Cut(err.Error(), ErrNotFeed.Error()+": ")
			errKinds["not a feed: "+why]++
			t.Logf("%s: %v", rel, err)
		case err != nil:
			otherErr++
			msg := err.Error()
			if !strings.Contains(msg, feedURL) || !strings.HasPrefix(msg, "parse ") {
				t.Errorf("%s: unclear error %q", rel, msg)
			}
			kind := strings.TrimPrefix(msg, "parse ")
			kind, _, _ = strings.Cut(kind, " ")
			errKinds["parse error ("+kind+")"]++
			t.Logf("%s: %v", rel, err)
		default:
			parsed++
			items += len(f.Items)
			for _, it := range f.Items {
				if !utf8.ValidString(it.Title) || !utf8.ValidString(it.Summary) {
					t.Errorf("%s: invalid UTF-8 in item %q", rel, it.Title)
				}
				if !it.Published.IsZero() && it.Published.Location() != time.UTC {
					t.Errorf("%s: Published not UTC", rel)
				}
			}
		}
	}
	t.Logf("corpus: %d files: %d parsed (%d items), %d not a feed, %d other errors, %d panics, %d hangs, %d undecodable",
		len(files), parsed, items, notFeed, otherErr, panics, hangs, decodeErr)
	kinds := make([]string, 0, len(errKinds))
	for k := range errKinds {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		t.Logf("  %4d  %s", errKinds[k], k)
	}
	if panics != 0 {
		t.Errorf("%d files made the parser panic", panics)
	}
	if len(files) > 2000 && parsed < len(files)*8/10 {
		t.Errorf("only %d of %d corpus files parsed", parsed, len(files))
	}
}

// TestCorpusBrokenFiles checks the verdict on the corpus files that are broken on
// purpose: they must fail with a clear error, or parse, never panic.
func TestCorpusBrokenFiles(t *testing.T) {
	root := filepath.Join(sharedDir(t), "corpus", "feeds")
	tests := []struct {
		path    string
		notFeed bool   // want ErrNotFeed
		substr  string // in the error; "" means the file may parse
	}{
		{"rome/rome-modules/src/test/resources/2.rss", true, "HTML page"},
		{"gofeed/testdata/parser/universal/empty_feed.xml", true, ""},
		{"gofeed/testdata/parser/universal/unknown_feed.xml", true, "is not rss"},
		{"RSParser/Tests/RSParserTests/Resources/allthis-partial.json", false, "parse JSON feed"},
		{"rss-parser/test/input/unrecognized.rss", true, "HTML page"},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.path), func(t *testing.T) {
			matches, _ := filepath.Glob(filepath.Join(root, tt.path))
			if len(matches) == 0 {
				t.Skipf("%s not in this corpus snapshot", tt.path)
			}
			raw, err := os.ReadFile(matches[0])
			if err != nil {
				t.Fatal(err)
			}
			body, _ := toUTF8(raw)
			_, err = Parse(body, "https://corpus.example/"+tt.path)
			if err == nil {
				t.Fatalf("parsed a broken file")
			}
			if errors.Is(err, ErrNotFeed) != tt.notFeed {
				t.Errorf("errors.Is(ErrNotFeed) = %v, want %v: %v", !tt.notFeed, tt.notFeed, err)
			}
			if !strings.Contains(err.Error(), tt.substr) {
				t.Errorf("error %q should mention %q", err, tt.substr)
			}
			t.Logf("%v", err)
		})
	}
}
