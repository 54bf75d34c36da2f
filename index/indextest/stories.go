package indextest

import (
	"context"
	"testing"
	"time"

	"github.com/minewatch/minewatch/index"
	"github.com/minewatch/minewatch/news"
)

func testFindStory(t *testing.T, s index.Store) {
	sf, ok := s.(index.StoryFinder)
	if !ok {
		t.Skip("store does not implement index.StoryFinder")
	}
	const h0 uint64 = 0xDEADBEEFCAFEF00D
	mk := func(key string, h uint64, daysAgo int, story string) news.Document {
		d := doc(key, "wire", "en", base.AddDate(0, 0, -daysAgo), "Wire story "+key, "Same wire text.", nil)
		d.FirstSeen = d.Published
		d.SimHash = h
		d.StoryID = story
		return d
	}
	oldest := mk("story-oldest", h0, 3, "story-a")
	near := mk("story-near", h0^(1<<3|1<<40), 1, "story-b") // 2 bits from h0
	far := mk("story-far", ^h0, 1, "story-far")
	zero := mk("story-zero", 0, 1, "story-zero")
	put(t, s, oldest, near, far, zero)

	// spread flips two bits in each 16-bit band: 8 bits that no band holds
	// alone, as the story package's MaxBits allows.
	const spread uint64 = 0x0003_0003_0003_0003
	tests := []struct {
		name    string
		h       uint64
		maxBits int
		since   time.Time
		want    string // "" for not found
	}{
		{"same hash", h0, 3, time.Time{}, "story-a"},
		{"one bit off, oldest wins", h0 ^ 1<<63, 3, time.Time{}, "story-a"},
		{"three bits off", h0 ^ 0x7, 3, time.Time{}, "story-a"},
		{"four bits off", h0 ^ 0xF, 3, time.Time{}, ""},
		{"since skips the old one", h0, 3, base.AddDate(0, 0, -2), "story-b"},
		{"since is inclusive", h0, 3, oldest.FirstSeen, "story-a"},
		{"since after all", h0, 3, base, ""},
		{"eight bits spread over bands", h0 ^ spread, 8, time.Time{}, "story-a"},
		{"eight bits, seven allowed", h0 ^ spread, 7, time.Time{}, ""},
		{"far hash", h0 ^ 0xFFFF_0000_FFFF, 8, time.Time{}, ""},
		{"inverse", ^h0, 0, time.Time{}, "story-far"},
		{"zero never matches", 0, 3, time.Time{}, ""},
		{"zero maxBits", h0, 0, time.Time{}, "story-a"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok, err := sf.FindStory(context.Background(), tc.h, tc.maxBits, tc.since)
			if err != nil {
				t.Fatalf("FindStory: %v", err)
			}
			if ok != (tc.want != "") || got != tc.want {
				t.Errorf("FindStory(%016x, %d, %v) = %q, %v; want %q", tc.h, tc.maxBits, tc.since, got, ok, tc.want)
			}
		})
	}
	// A re-Put with a new hash moves the document.
	moved := oldest
	moved.SimHash = ^h0 ^ 1
	put(t, s, moved)
	if got, ok, err := sf.FindStory(context.Background(), h0, 3, time.Time{}); err != nil || !ok || got != "story-b" {
		t.Errorf("after re-Put: FindStory = %q, %v, %v; want story-b", got, ok, err)
	}
}

func testStoryDocuments(t *testing.T, s index.Store) {
	sl, ok := s.(index.StoryLister)
	if !ok {
		t.Skip("store does not implement index.StoryLister")
	}
	mk := func(key string, daysAgo int, story string) news.Document {
		d := doc(key, "wire", "en", base.AddDate(0, 0, -daysAgo), "Wire story "+key, "Same wire text.", nil)
		d.FirstSeen = d.Published
		d.StoryID = story
		return d
	}
	o1, o2, o3 := mk("outlet-1", 2, "story-x"), mk("outlet-2", 1, "story-x"), mk("outlet-3", 0, "story-x")
	put(t, s, o2, o1, o3, mk("other", 1, "story-y"))
	got, err := sl.StoryDocuments(context.Background(), "story-x", 10)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, d := range got {
		ids = append(ids, d.ID)
	}
	want := []string{o1.ID, o2.ID, o3.ID}
	if len(ids) != 3 || ids[0] != want[0] || ids[1] != want[1] || ids[2] != want[2] {
		t.Errorf("story documents = %v, want %v (oldest first)", ids, want)
	}
	if got, err := sl.StoryDocuments(context.Background(), "story-x", 2); err != nil || len(got) != 2 {
		t.Errorf("limit 2: %d documents, %v", len(got), err)
	}
	if got, err := sl.StoryDocuments(context.Background(), "no-such-story", 10); err != nil || len(got) != 0 {
		t.Errorf("unknown story: %d documents, %v", len(got), err)
	}
}
