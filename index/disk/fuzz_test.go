package disk

import (
	"context"
	"errors"
	"testing"

	"github.com/minewatch/minewatch/index"
	"github.com/minewatch/minewatch/index/indextest"
	"github.com/minewatch/minewatch/news"
)

// FuzzSearch feeds arbitrary query text through parse, translation and
// SQLite: the only acceptable failure is ErrBadQuery; an FTS5 or SQL error
// would mean the translator produced something invalid.
func FuzzSearch(f *testing.F) {
	for _, seed := range []string{
		"ottawa", `"anti-personnel mines"`, "konwenc*", `"humanitarian demin*"`, "ottawa NOT finland",
		"NOT ottawa", "finland OR NOT ottawa", "NOT (ottawa OR mine) AND NOT x", "cut NEAR/4 demining",
		"(cut OR raised) NEAR/s title:demining", "title:(a OR b) text:c", "title:a NEAR/2 text:b",
		"оттавськ*", `"NEAR" AND OR`, `a"b`, "((((a))))", "-", "*", "a AND (", "\x00", "Liepāja",
		"NOT NOT NOT a", "a OR (b AND NOT (c OR NOT d))",
	} {
		f.Add(seed)
	}
	s, err := Open(context.Background(), Options{Dir: f.TempDir()})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	var docs []news.Document
	for _, d := range indextest.Fixtures() {
		docs = append(docs, d)
	}
	if _, err := s.Put(context.Background(), docs...); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text string) {
		h, err := s.Search(context.Background(), index.Query{Text: text, Facets: true, Limit: 3})
		if err != nil {
			if !errors.Is(err, index.ErrBadQuery) {
				t.Fatalf("Search(%q): %v (want nil or ErrBadQuery)", text, err)
			}
			return
		}
		if h.Total < len(h.Docs) || h.Total > len(docs) {
			t.Fatalf("Search(%q): Total %d with %d docs", text, h.Total, len(h.Docs))
		}
	})
}

// FuzzCursor checks that any cursor string is either refused with
// ErrBadQuery or decodes to one that re-encodes to itself.
func FuzzCursor(f *testing.F) {
	f.Add(cursor{Sort: "date", FP: 42, Date: 1700000000000000000, RID: 7}.encode())
	f.Add(cursor{Sort: "relevance", FP: 1, Offset: 20}.encode())
	f.Add("")
	f.Add("not a cursor!")
	f.Add("eyJzIjoiZGF0ZSIsIm8iOi0xfQ") // {"s":"date","o":-1}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := decodeCursor(s)
		if err != nil {
			if !errors.Is(err, index.ErrBadQuery) {
				t.Fatalf("decodeCursor(%q): %v", s, err)
			}
			return
		}
		again, err := decodeCursor(c.encode())
		if err != nil || again != c {
			t.Fatalf("cursor %+v does not round-trip: %+v, %v", c, again, err)
		}
	})
}
