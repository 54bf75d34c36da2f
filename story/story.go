// Package story groups near-duplicate articles — one wire story republished by
// many outlets — by a SimHash fingerprint of the text's word shingles.
package story

import (
	"context"
	"fmt"
	"math/bits"
	"time"

	"github.com/minewatch/minewatch/classify/textnorm"
	"github.com/minewatch/minewatch/index"
	"github.com/minewatch/minewatch/news"
)

// MaxBits is how many of 64 fingerprint bits two texts may differ in and still
// be one story. Manku, Jain and Das Sarma used 3 for whole web pages (WWW 2007);
// news leads are shorter, so each edit flips more bits: a republished wire story
// with its dateline dropped differs in ~7 bits, while distinct stories on the
// same subject (the 175 items of the dev set, 15,225 pairs) differ in at least
// 16 and 99% of pairs in more than 23. Backends find candidates by bands of
// the hash (pigeonhole: some band is within MaxBits/bands bits), so this also
// sets how many values each band lookup probes.
const MaxBits = 8

// Window is how far back a story is looked for: a wire story is republished
// within days, and an old text reused months later is news again.
const Window = 7 * 24 * time.Hour

// shingle is the number of consecutive words hashed together: long enough that
// shared boilerplate words do not make texts alike, short enough that an
// edited sentence changes few shingles.
const shingle = 3

// leadTokens is how much of the text is fingerprinted: outlets that republish
// wire copy keep its lead and often cut the end, so the lead is what near-
// duplicates share.
const leadTokens = 100

// minTokens is the least text worth fingerprinting; shorter texts (a bare
// headline) would collide with unrelated ones.
const minTokens = 24

// Fingerprint returns the SimHash of an article's text, or 0 when it is too
// short to fingerprint. Titles are left out: outlets rewrite headlines of the
// same wire copy. Words are folded (case, diacritics), so the same story with
// other typography still matches.
func Fingerprint(text string) uint64 {
	toks := textnorm.Tokenize(text)
	if len(toks) < minTokens {
		return 0
	}
	if len(toks) > leadTokens {
		toks = toks[:leadTokens]
	}
	var weights [64]int
	var buf []byte
	for i := 0; i+shingle <= len(toks); i++ {
		buf = buf[:0]
		for _, t := range toks[i : i+shingle] {
			buf = append(buf, t.Text...)
			buf = append(buf, ' ')
		}
		h := fnv64a(buf)
		for b := range 64 {
			if h&(1<<b) != 0 {
				weights[b]++
			} else {
				weights[b]--
			}
		}
	}
	var fp uint64
	for b, w := range weights {
		if w > 0 {
			fp |= 1 << b
		}
	}
	return fp
}

// fnv64a is FNV-1a, fixed by its specification, so stored fingerprints stay
// comparable across builds (maphash's seed would not).
func fnv64a(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}

// Distance is the number of bits two fingerprints differ in.
func Distance(a, b uint64) int { return bits.OnesCount64(a ^ b) }

// Grouper assigns StoryIDs to documents before they are indexed.
type Grouper struct {
	finder index.StoryFinder // nil: only documents of the same batch are grouped
}

// NewGrouper returns a Grouper that looks stories up in finder (may be nil).
func NewGrouper(finder index.StoryFinder) *Grouper { return &Grouper{finder: finder} }

// Assign fingerprints each document and sets its StoryID: the story of a
// near-duplicate already stored (or earlier in docs), else its own id.
func (g *Grouper) Assign(ctx context.Context, docs []news.Document) error {
	for i := range docs {
		d := &docs[i]
		d.SimHash = Fingerprint(bodyOf(d.Article))
		d.StoryID = d.ID
		if d.SimHash == 0 {
			continue
		}
		if id, ok := sameBatch(docs[:i], d.SimHash); ok {
			d.StoryID = id
			continue
		}
		if g.finder == nil {
			continue
		}
		since := d.FirstSeen.Add(-Window)
		id, ok, err := g.finder.FindStory(ctx, d.SimHash, MaxBits, since)
		if err != nil {
			return fmt.Errorf("find story of %s: %w", d.ID, err)
		}
		if ok {
			d.StoryID = id
		}
	}
	return nil
}

func sameBatch(earlier []news.Document, h uint64) (string, bool) {
	for _, e := range earlier {
		if e.SimHash != 0 && Distance(e.SimHash, h) <= MaxBits {
			return e.StoryID, true
		}
	}
	return "", false
}

// bodyOf is the text classification and search read: the page text, else the
// feed summary.
func bodyOf(a news.Article) string {
	if a.Text != "" {
		return a.Text
	}
	return a.Summary
}
