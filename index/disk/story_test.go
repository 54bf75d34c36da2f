package disk

import (
	"context"
	"database/sql"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/minewatch/minewatch/news"
)

// TestBandProbesCoverNeighbours checks the pigeonhole argument of story.go:
// for any hash within maxBits of h, one of its bands is among h's probes
// (each band of h XOR a mask of at most maxBits/3 bits).
func TestBandProbesCoverNeighbours(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	x := newStoryIndex()
	for maxBits := range 3 * (maxProbeRadius + 1) {
		t.Run(strconv.Itoa(maxBits), func(t *testing.T) {
			radius := maxBits / storyBands
			sets := make([]map[uint32]bool, storyBands)
			for b := range sets {
				masks := x.masks[bandWidth(b)-21][radius]
				sets[b] = map[uint32]bool{}
				for _, m := range masks {
					if bits.OnesCount32(m) > radius || m >= 1<<bandWidth(b) {
						t.Fatalf("band %d: mask %b has more than %d bits or is too wide", b, m, radius)
					}
					sets[b][m] = true
				}
				if want := probeCount(bandWidth(b), radius); len(sets[b]) != want || len(masks) != want {
					t.Fatalf("band %d: %d masks, %d distinct, want %d", b, len(masks), len(sets[b]), want)
				}
			}
			for range 200 {
				h := r.Uint64()
				// Flip exactly maxBits distinct bits, anywhere.
				other := h
				for _, bit := range r.Perm(64)[:maxBits] {
					other ^= 1 << bit
				}
				if bits.OnesCount64(h^other) != maxBits {
					t.Fatal("bad flip")
				}
				found := false
				for b := range storyBands {
					if sets[b][band(h, b)^band(other, b)] {
						found = true
					}
				}
				if !found {
					t.Fatalf("%016x is %d bits from %016x but no band is probed", other, maxBits, h)
				}
			}
		})
	}
	// The bands tile the 64 bits.
	var all uint64
	for b := range storyBands {
		all |= uint64(1<<bandWidth(b)-1) << bandShift(b)
		if band(^uint64(0), b) != 1<<bandWidth(b)-1 {
			t.Errorf("band %d of all ones = %b", b, band(^uint64(0), b))
		}
	}
	if all != ^uint64(0) || bandShift(storyBands-1)+uint(bandWidth(storyBands-1)) != 64 {
		t.Errorf("bands cover %016x, want every bit once", all)
	}
}

func TestProbeCount(t *testing.T) {
	tests := []struct{ width, r, want int }{
		{16, 0, 1}, {16, 1, 17}, {16, 2, 137}, {16, 3, 697}, {16, 4, 2517},
		{21, 2, 232}, {22, 2, 254}, {22, 3, 1794}, {3, 5, 8},
	}
	for _, tc := range tests {
		if got := probeCount(tc.width, tc.r); got != tc.want {
			t.Errorf("probeCount(%d, %d) = %d, want %d", tc.width, tc.r, got, tc.want)
		}
	}
}

// TestFindStoryScan covers distances beyond the band probes, answered by a
// scan of the window.
func TestFindStoryScan(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	const h uint64 = 0x0123456789ABCDEF
	seen := time.Date(2025, 11, 1, 0, 0, 0, 0, time.UTC)
	d := news.Document{Article: news.Article{ID: "a", FirstSeen: seen}, StoryID: "story", SimHash: h}
	if _, err := s.Put(ctx, d); err != nil {
		t.Fatal(err)
	}
	far := h ^ 0x1FFFF // 17 bits
	tests := []struct {
		maxBits int
		since   time.Time
		want    bool
	}{
		{16, time.Time{}, false},
		{17, time.Time{}, true},
		{64, time.Time{}, true},
		{20, seen.Add(time.Second), false},
		{-1, time.Time{}, false},
	}
	for _, tc := range tests {
		id, ok, err := s.FindStory(ctx, far, tc.maxBits, tc.since)
		if err != nil {
			t.Fatal(err)
		}
		if ok != tc.want || (ok && id != "story") {
			t.Errorf("FindStory(maxBits %d, since %v) = %q, %v; want %v", tc.maxBits, tc.since, id, ok, tc.want)
		}
	}
}

// storyRef is what a brute-force lookup knows of a stored document.
type storyRef struct {
	id, story string
	hash      uint64
	seen      time.Time // zero: unknown
	rid       int64
}

// bruteStory is FindStory's contract, written as plainly as possible.
func bruteStory(docs []storyRef, h uint64, maxBits int, since time.Time) (string, bool) {
	var best *storyRef
	key := func(d *storyRef) int64 {
		if d.seen.IsZero() {
			return noSeen
		}
		return d.seen.UnixNano()
	}
	if h == 0 || maxBits < 0 {
		return "", false
	}
	for i := range docs {
		d := &docs[i]
		if d.hash == 0 || bits.OnesCount64(d.hash^h) > maxBits {
			continue
		}
		if !since.IsZero() && (d.seen.IsZero() || d.seen.Before(since)) {
			continue
		}
		if best == nil || key(d) < key(best) || (key(d) == key(best) && d.rid < best.rid) {
			best = d
		}
	}
	if best == nil {
		return "", false
	}
	if best.story == "" {
		return best.id, true
	}
	return best.story, true
}

// TestFindStoryMatchesBruteForce cross-checks FindStory against a scan of
// every document, on clustered hashes (so that answers are near the maxBits
// boundary), ties of first sighting, unknown first sightings and re-Puts
// that move documents, through one Store and through a second Store on the
// same file whose in-memory index must follow the first one's writes.
func TestFindStoryMatchesBruteForce(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	open := func() *Store { return openDir(t, dir) }
	writer, other := open(), open()
	// The writer's lookups walk the band chains however few the documents;
	// the other's scan while that is cheaper. Both must agree with a scan.
	writer.stories.probeCost = 0
	r := rand.New(rand.NewPCG(7, 8))
	centres := make([]uint64, 12)
	for i := range centres {
		centres[i] = r.Uint64()
	}
	// near flips up to n random bits of a centre.
	near := func(n int) uint64 {
		h := centres[r.IntN(len(centres))]
		for range r.IntN(n + 1) {
			h ^= 1 << r.IntN(64)
		}
		return h
	}
	base := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	var docs []storyRef
	put := func(d storyRef) {
		t.Helper()
		doc := news.Document{Article: news.Article{ID: d.id, FirstSeen: d.seen}, StoryID: d.story, SimHash: d.hash}
		if _, err := writer.Put(ctx, doc); err != nil {
			t.Fatal(err)
		}
		// The stored first sighting is kept across re-Puts (see upsertArticle).
		if err := writer.reader.QueryRowContext(ctx, `SELECT rid, first_seen FROM articles WHERE id = ?`, d.id).
			Scan(&d.rid, new(any)); err != nil {
			t.Fatal(err)
		}
		for i := range docs {
			if docs[i].id == d.id {
				if !docs[i].seen.IsZero() {
					d.seen = docs[i].seen
				}
				docs[i] = d
				return
			}
		}
		docs = append(docs, d)
	}
	check := func(round int) {
		t.Helper()
		for q := range 60 {
			h := near(10)
			if q%15 == 0 {
				h = 0
			}
			maxBits := []int{0, 3, 7, 8, 11, 12, 17, 64}[r.IntN(8)]
			var since time.Time
			if r.IntN(2) == 0 {
				since = base.Add(time.Duration(r.IntN(40)) * time.Hour)
			}
			want, wantOK := bruteStory(docs, h, maxBits, since)
			for name, s := range map[string]*Store{"writer": writer, "other": other} {
				got, ok, err := s.FindStory(ctx, h, maxBits, since)
				if err != nil {
					t.Fatal(err)
				}
				if got != want || ok != wantOK {
					t.Fatalf("round %d, %s: FindStory(%016x, %d, %v) = %q, %v; brute force %q, %v",
						round, name, h, maxBits, since, got, ok, want, wantOK)
				}
			}
		}
	}
	for round := range 6 {
		for range 80 {
			d := storyRef{id: fmt.Sprintf("doc-%d", r.IntN(300)), hash: near(6)}
			switch r.IntN(6) {
			case 0:
				d.hash = 0
			case 1:
				d.story = fmt.Sprintf("story-%d", r.IntN(20))
			}
			if r.IntN(8) != 0 {
				// Whole hours, so that many documents tie on first sighting.
				d.seen = base.Add(time.Duration(r.IntN(48)) * time.Hour)
			}
			put(d)
		}
		check(round)
	}
	if len(docs) < 150 {
		t.Fatalf("only %d documents: the test should cover more", len(docs))
	}
}

// TestFindStoryFollowsOtherWriters covers what only another process can do
// to the file under a Store's in-memory index: delete articles, and make
// SQLite reuse the highest rids for new ones.
func TestFindStoryFollowsOtherWriters(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	seen := time.Date(2025, 11, 1, 0, 0, 0, 0, time.UTC)
	mk := func(id string, h uint64, hoursLater int) news.Document {
		return news.Document{Article: news.Article{ID: id, FirstSeen: seen.Add(time.Duration(hoursLater) * time.Hour)},
			StoryID: "story-" + id, SimHash: h}
	}
	const h uint64 = 0x25A5_5A5A_0F0F_F0F0
	if _, err := s.Put(ctx, mk("a", h, 0), mk("b", h^1, 1), mk("c", h^3, 2)); err != nil {
		t.Fatal(err)
	}
	find := func(want string) {
		t.Helper()
		got, ok, err := s.FindStory(ctx, h, 8, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if (want == "") == ok || got != want {
			t.Fatalf("FindStory = %q, %v; want %q", got, ok, want)
		}
	}
	find("story-a")

	// Another process, as plain SQL on the file: delete the oldest and the
	// newest; a new article then gets the newest one's rid again.
	db, err := sql.Open("sqlite", filepath.Join(dir, FileName)+"?_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `DELETE FROM articles WHERE id IN ('a', 'c')`); err != nil {
		t.Fatal(err)
	}
	find("story-b")
	if _, err := db.ExecContext(ctx, `DELETE FROM articles WHERE id = 'b'`); err != nil {
		t.Fatal(err)
	}
	find("")

	s2, err := Open(ctx, Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	// Rows with rids below one already indexed: SQLite reuses rids after
	// the highest rows are deleted, so the index must insert, not append.
	if _, err := db.ExecContext(ctx, `INSERT INTO articles (rid, id, source_id, language, first_seen, relevant,
		score, story_id, rules_version, published_from, simhash) VALUES (100, 'high', '', '', ?, 0, 0, 'story-high', '', '', ?)`,
		seen.Add(5*time.Hour).UnixNano(), int64(h^7)); err != nil {
		t.Fatal(err)
	}
	find("story-high")
	if _, err := db.ExecContext(ctx, `INSERT INTO articles (rid, id, source_id, language, first_seen, relevant,
		score, story_id, rules_version, published_from, simhash) VALUES (2, 'low', '', '', ?, 0, 0, 'story-low', '', '', ?)`,
		seen.Add(4*time.Hour).UnixNano(), int64(h^0xF0)); err != nil {
		t.Fatal(err)
	}
	find("story-low")
	if got, ok, err := s2.FindStory(ctx, h, 8, time.Time{}); err != nil || !ok || got != "story-low" {
		t.Fatalf("second store: FindStory = %q, %v, %v; want story-low", got, ok, err)
	}
	// A write of the first sighting alone moves the oldest.
	if _, err := db.ExecContext(ctx, `UPDATE articles SET first_seen = ? WHERE id = 'high'`, seen.UnixNano()); err != nil {
		t.Fatal(err)
	}
	find("story-high")
}

// TestStoryIndexApplyOrders drives the in-memory index directly with rows in
// every order SQLite can produce (appends, updates, reused lower rids,
// deletions) and compares each answer with a scan.
func TestStoryIndexApplyOrders(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	x := newStoryIndex()
	x.probeCost = 0 // walk the chains: they are what apply keeps
	state := map[int64]storyKey{}
	centre := r.Uint64()
	var seq int64
	for step := range 3000 {
		seq++
		k := storyKey{seq: seq, rid: int64(r.IntN(400)), hash: centre, seen: int64(r.IntN(50))}
		for range r.IntN(12) {
			k.hash ^= 1 << r.IntN(64)
		}
		if r.IntN(7) == 0 {
			k.hash = 0
		}
		if r.IntN(9) == 0 {
			k.seen = noSeen
		}
		x.apply(k)
		x.apply(storyKey{seq: seq - 1, rid: k.rid}) // stale: must be ignored
		state[k.rid] = k
		if step%50 != 0 {
			continue
		}
		for range 20 {
			h := centre ^ 1<<r.IntN(64) ^ 1<<r.IntN(64)
			maxBits := r.IntN(16)
			since, sinceOK := int64(r.IntN(50)), r.IntN(2) == 0
			var want int64 = -1
			var wantSeen int64
			for rid, k := range state {
				if k.hash == 0 || bits.OnesCount64(k.hash^h) > maxBits || (sinceOK && (k.seen == noSeen || k.seen < since)) {
					continue
				}
				if want < 0 || k.seen < wantSeen || (k.seen == wantSeen && rid < want) {
					want, wantSeen = rid, k.seen
				}
			}
			got, ok := x.best(h, maxBits, since, sinceOK)
			if ok != (want >= 0) || (ok && got != want) {
				t.Fatalf("step %d: best(%016x, %d) = %d, %v; want %d", step, h, maxBits, got, ok, want)
			}
		}
	}
	live := 0
	for _, k := range state {
		if k.hash != 0 {
			live++
		}
	}
	if x.live != live {
		t.Errorf("live = %d, want %d", x.live, live)
	}
	// The bitmaps mark exactly the values that have chains.
	for b := range storyBands {
		marked := 0
		for _, w := range x.used[b] {
			marked += bits.OnesCount64(w)
		}
		if marked != len(x.head[b]) {
			t.Errorf("band %d: %d values marked, %d chains", b, marked, len(x.head[b]))
		}
		for v := range x.head[b] {
			if x.used[b][v/64]&(1<<(v%64)) == 0 {
				t.Errorf("band %d: value %d has a chain but no mark", b, v)
			}
		}
	}
}

// TestMigrateV2FillsStoryKeys takes a file back to schema version 2 (no
// story_keys, band indexes) and checks that opening it copies every stored
// SimHash, so stories found before the upgrade are found after it.
func TestMigrateV2FillsStoryKeys(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	seen := time.Date(2025, 11, 1, 0, 0, 0, 0, time.UTC)
	const h uint64 = 0x0F0F_1234_5678_9ABC
	if _, err := s.Put(ctx,
		news.Document{Article: news.Article{ID: "old", FirstSeen: seen}, StoryID: "story-old", SimHash: h},
		news.Document{Article: news.Article{ID: "new", FirstSeen: seen.Add(time.Hour)}, StoryID: "story-new", SimHash: h ^ 0xFF},
		news.Document{Article: news.Article{ID: "short", FirstSeen: seen}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`DROP TRIGGER articles_story_insert`, `DROP TRIGGER articles_story_update`, `DROP TRIGGER articles_story_delete`,
		`DROP TABLE story_keys`,
		`DROP TABLE fts_terms`, `DROP TRIGGER articles_day_insert`, `DROP TRIGGER articles_day_update`, `DROP TABLE day_rids`,
		`DROP TRIGGER articles_search_insert`, `DROP TRIGGER articles_search_update`, `DROP TRIGGER articles_search_delete`,
		`DROP TABLE search_seq`,
		`CREATE INDEX articles_band0 ON articles(band0) WHERE simhash != 0`,
		`CREATE INDEX articles_band1 ON articles(band1) WHERE simhash != 0`,
		`CREATE INDEX articles_band2 ON articles(band2) WHERE simhash != 0`,
		`CREATE INDEX articles_band3 ON articles(band3) WHERE simhash != 0`,
		`PRAGMA user_version = 2`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()

	s, err = Open(ctx, Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var keys int
	if err := s.reader.QueryRowContext(ctx, `SELECT count(*) FROM story_keys`).Scan(&keys); err != nil {
		t.Fatal(err)
	}
	if keys != 3 {
		t.Errorf("story_keys has %d rows after migration, want 3", keys)
	}
	for _, tc := range []struct {
		h     uint64
		since time.Time
		want  string
	}{
		{h ^ 1, time.Time{}, "story-old"},
		{h, seen.Add(time.Minute), "story-new"},
		{^h, time.Time{}, ""},
	} {
		got, ok, err := s.FindStory(ctx, tc.h, 8, tc.since)
		if err != nil || ok != (tc.want != "") || got != tc.want {
			t.Errorf("FindStory(%016x, since %v) = %q, %v, %v; want %q", tc.h, tc.since, got, ok, err, tc.want)
		}
	}
	// New writes after the migration reach the index through the triggers.
	if _, err := s.Put(ctx, news.Document{Article: news.Article{ID: "older", FirstSeen: seen.Add(-time.Hour)},
		StoryID: "story-older", SimHash: h ^ 0x3}); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := s.FindStory(ctx, h, 8, time.Time{}); err != nil || !ok || got != "story-older" {
		t.Errorf("after a Put: FindStory = %q, %v, %v; want story-older", got, ok, err)
	}
}
