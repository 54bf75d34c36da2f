package disk

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"sync"
	"time"
)

// Story lookup is multi-index hashing over an in-memory copy of every
// article's SimHash. The 64-bit hash is cut into three bands of 21, 21 and
// 22 bits. If two hashes differ in at most k bits, those k bits fall into
// three bands, so by pigeonhole at least one band differs in at most
// r = k/3 bits (rounded down): for k ≤ 2 some band is equal, and the lookup
// is three chain walks. For larger k the lookup walks, in every band, the
// chain of each value within r bits of the query's band (1 + 21 + 210
// values per band for k = 6..8, the story package's setting), still exact:
// every document within k bits is among the candidates, and the candidates
// are then checked by the popcount of the XOR. Three wide bands rather than
// four of 16 bits: at k = 8 four bands need r = 2 too, and each of their
// probes covers 32 times more of the hash space, so a lookup at 200,000
// documents checked ~1,700 candidates instead of ~70 (650 µs instead of
// tens in the feed farm's profile).
//
// Schema version 2 answered this in SQL, one IN list of 137 values per band
// index, reading each candidate's wide articles row: ~23 ms per lookup at
// 200,000 documents, two thirds of a feed cycle's CPU. In memory the lookup
// costs ~60 bytes per document and 1 MB.
//
// The copy follows the table story_keys (schema version 3), which triggers
// on articles keep current and stamp with a sequence number that grows with
// every change, whichever process or connection made it. Each FindStory
// first reads the rows stamped after the last one it applied, so it sees
// every write committed before it was called, by this Store, by another
// Store on the same file, or by another minewatch process.

// storyBands is the number of bands; band b holds bandWidth(b) bits of the
// hash from bit bandShift(b).
const storyBands = 3

func bandShift(b int) uint { return 21 * uint(b) }
func bandWidth(b int) int  { return 21 + b/2 } // 21, 21, 22

// band returns band b of h.
func band(h uint64, b int) uint32 { return uint32(h>>bandShift(b)) & (1<<bandWidth(b) - 1) }

// maxProbeRadius bounds r, the bits probed per band; beyond it (r ≥ 4, that
// is maxBits ≥ 12, far past near-duplicates: 7,547 values per band) a scan
// of every hash is as cheap.
const maxProbeRadius = 3

// defaultProbeCost is how many hashes a scan checks in the time of one probe
// (a map lookup and its chain): the lookup scans when probing costs more.
const defaultProbeCost = 16

// noSeen is the first_seen of a document whose first sighting is unknown
// (NULL): it sorts before every recorded one, as the oldest.
const noSeen = math.MinInt64

// storyIndex is the in-memory copy of story_keys. Slots are kept in rid
// order, so an update finds its slot by binary search without a map.
type storyIndex struct {
	// masks[w-21][r] holds every w-bit mask of at most r set bits, for the
	// band widths 21 and 22 and r ≤ maxProbeRadius. Immutable after
	// newStoryIndex.
	masks [2][maxProbeRadius + 1][]uint32

	mu     sync.RWMutex
	seq    int64    // the highest story_keys.seq applied
	rids   []int64  // ascending
	hashes []uint64 // 0: no fingerprint, never matches (also a deleted article)
	seen   []int64  // first_seen in Unix nanoseconds, noSeen when unknown
	// head[b][v] is 1 + the first slot whose band b equals v (absent: none);
	// next[b][slot] is 1 + the next slot of the same chain, 0 at the end.
	// Slot numbers are offset by one so that zeroed memory means "empty".
	head [storyBands]map[uint32]int32
	next [storyBands][]int32
	// used[b] has bit v set when head[b] holds v. Most probed values have
	// no documents, and a bit in 256 KB answers that several times faster
	// than a lookup in a map of hundreds of thousands of keys (the map was
	// four fifths of a lookup's time in the feed farm's profile).
	used [storyBands][]uint64
	live int // slots with a non-zero hash
	// probeCost is defaultProbeCost; tests set 0 to probe even tiny indexes.
	probeCost int
}

func newStoryIndex() *storyIndex {
	x := &storyIndex{probeCost: defaultProbeCost}
	for w := range x.masks {
		for r := range x.masks[w] {
			x.masks[w][r] = masksWithin(21+w, r)
		}
	}
	for b := range x.head {
		x.head[b] = map[uint32]int32{}
		x.used[b] = make([]uint64, 1<<bandWidth(b)/64)
	}
	return x
}

// masksWithin returns every width-bit value of at most r set bits, 0 first.
func masksWithin(width, r int) []uint32 {
	masks := []uint32{0}
	var grow func(from, left int, m uint32)
	grow = func(from, left int, m uint32) {
		for i := from; i < width; i++ {
			mm := m | 1<<i
			masks = append(masks, mm)
			if left > 1 {
				grow(i+1, left-1, mm)
			}
		}
	}
	if r > 0 {
		grow(0, r, 0)
	}
	return masks
}

// probeCount is the number of width-bit values within r bits of a value.
func probeCount(width, r int) int {
	n, c := 0, 1 // c is width choose i
	for i := 0; i <= r && i <= width; i++ {
		n += c
		c = c * (width - i) / (i + 1)
	}
	return n
}

// storyKey is one row of story_keys.
type storyKey struct {
	seq, rid int64
	hash     uint64
	seen     int64
}

// apply brings the slot of k.rid to k's values. Callers hold mu.
func (x *storyIndex) apply(k storyKey) {
	if k.seq <= x.seq {
		return // applied already, by a concurrent catch-up
	}
	x.seq = k.seq
	i, found := slices.BinarySearch(x.rids, k.rid)
	switch {
	case found:
		if x.hashes[i] != 0 {
			x.unlink(i)
			x.live--
		}
		x.hashes[i], x.seen[i] = k.hash, k.seen
		if k.hash != 0 {
			x.link(i)
			x.live++
		}
	case i == len(x.rids):
		// The usual case: SQLite gives a new row the highest rid yet.
		x.rids = append(x.rids, k.rid)
		x.hashes = append(x.hashes, k.hash)
		x.seen = append(x.seen, k.seen)
		for b := range x.next {
			x.next[b] = append(x.next[b], 0)
		}
		if k.hash != 0 {
			x.link(i)
			x.live++
		}
	default:
		// A rid below the highest is new only after the highest rows were
		// deleted and SQLite reused their numbers: rare enough to rebuild
		// the chains rather than keep a rid → slot map for it.
		x.rids = slices.Insert(x.rids, i, k.rid)
		x.hashes = slices.Insert(x.hashes, i, k.hash)
		x.seen = slices.Insert(x.seen, i, k.seen)
		x.relink()
	}
}

// link puts slot i at the head of its band chains.
func (x *storyIndex) link(i int) {
	h := x.hashes[i]
	for b := range x.head {
		v := band(h, b)
		x.next[b][i] = x.head[b][v]
		x.head[b][v] = int32(i + 1)
		x.used[b][v/64] |= 1 << (v % 64)
	}
}

// unlink takes slot i out of the chains of its current hash. Chains are
// short (a few documents share 21 bits), so walking one is cheap.
func (x *storyIndex) unlink(i int) {
	h := x.hashes[i]
	for b := range x.head {
		v := band(h, b)
		first := x.head[b][v]
		if int(first-1) == i {
			if n := x.next[b][i]; n != 0 {
				x.head[b][v] = n
			} else {
				delete(x.head[b], v) // no empty chains left behind
				x.used[b][v/64] &^= 1 << (v % 64)
			}
			x.next[b][i] = 0
			continue
		}
		for p := first; p != 0; p = x.next[b][p-1] {
			if n := x.next[b][p-1]; int(n-1) == i {
				x.next[b][p-1] = x.next[b][i]
				x.next[b][i] = 0
				break
			}
		}
	}
}

// relink rebuilds every chain from the slots.
func (x *storyIndex) relink() {
	x.live = 0
	for b := range x.head {
		clear(x.head[b])
		clear(x.used[b])
		x.next[b] = make([]int32, len(x.rids))
	}
	for i, h := range x.hashes {
		if h != 0 {
			x.link(i)
			x.live++
		}
	}
}

// best finds the slot of the oldest document (by first_seen, then rid) whose
// hash is within maxBits of h and whose first_seen is at or after since
// (sinceOK false: any). Callers hold mu for reading.
func (x *storyIndex) best(h uint64, maxBits int, since int64, sinceOK bool) (rid int64, ok bool) {
	bestSlot := -1
	consider := func(i int) {
		hi := x.hashes[i]
		if hi == 0 || bits.OnesCount64(hi^h) > maxBits {
			return
		}
		at := x.seen[i]
		if sinceOK && (at == noSeen || at < since) {
			return
		}
		if bestSlot < 0 || at < x.seen[bestSlot] || (at == x.seen[bestSlot] && x.rids[i] < x.rids[bestSlot]) {
			bestSlot = i
		}
	}
	r := maxBits / storyBands
	if maxBits >= 64 || r > maxProbeRadius || storyBands*len(x.masks[1][r])*x.probeCost >= len(x.hashes) {
		// Far beyond near-duplicates, or so few documents that looking at
		// each costs less than the probes.
		for i := range x.hashes {
			consider(i)
		}
	} else {
		for b := range x.head {
			chains, next, used := x.head[b], x.next[b], x.used[b]
			v := band(h, b)
			for _, m := range x.masks[bandWidth(b)-21][r] {
				p := v ^ m
				if used[p/64]&(1<<(p%64)) == 0 {
					continue
				}
				// A document within r bits in several bands is considered
				// more than once, which changes nothing.
				for s := chains[p]; s != 0; s = next[s-1] {
					consider(int(s - 1))
				}
			}
		}
	}
	if bestSlot < 0 {
		return 0, false
	}
	return x.rids[bestSlot], true
}

// catchUp applies the story_keys rows changed since the last call. The query
// runs without the lock, so concurrent lookups do not queue behind it; apply
// skips what another catch-up applied meanwhile.
func (s *Store) catchUp(ctx context.Context) error {
	x := s.stories
	x.mu.RLock()
	from := x.seq
	x.mu.RUnlock()
	rows, err := s.reader.QueryContext(ctx,
		`SELECT seq, rid, simhash, first_seen FROM story_keys WHERE seq > ? ORDER BY seq`, from)
	if err != nil {
		return err
	}
	defer rows.Close()
	// Applied in batches so that the first load of a large index does not
	// hold the lock, or a copy of every row, for long.
	const batch = 4096
	keys := make([]storyKey, 0, 16)
	flush := func() {
		x.mu.Lock()
		for _, k := range keys {
			x.apply(k)
		}
		x.mu.Unlock()
		keys = keys[:0]
	}
	for rows.Next() {
		var (
			k    storyKey
			hash int64
			seen sql.NullInt64
		)
		if err := rows.Scan(&k.seq, &k.rid, &hash, &seen); err != nil {
			return err
		}
		k.hash, k.seen = uint64(hash), noSeen
		if seen.Valid {
			k.seen = seen.Int64
		}
		keys = append(keys, k)
		if len(keys) == batch {
			flush()
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(keys) > 0 {
		flush()
	}
	return nil
}

// findStoryAttempts bounds the retries when the document found is deleted
// between the lookup and the read of its story (by another process).
const findStoryAttempts = 3

// FindStory returns the StoryID of the oldest stored document (by FirstSeen)
// whose SimHash differs from h in at most maxBits bits and whose FirstSeen is
// at or after since (any, when since is zero). A zero h, the mark of a text
// too short to fingerprint, never matches; neither do documents with a zero
// SimHash.
func (s *Store) FindStory(ctx context.Context, h uint64, maxBits int, since time.Time) (string, bool, error) {
	if h == 0 || maxBits < 0 {
		return "", false, nil
	}
	var sinceN int64
	if !since.IsZero() {
		sinceN = since.UnixNano()
	}
	for range findStoryAttempts {
		if err := s.catchUp(ctx); err != nil {
			return "", false, fmt.Errorf("disk: find story: %w", err)
		}
		s.stories.mu.RLock()
		rid, ok := s.stories.best(h, maxBits, sinceN, !since.IsZero())
		s.stories.mu.RUnlock()
		if !ok {
			return "", false, nil
		}
		var id, story string
		err := s.reader.QueryRowContext(ctx, `SELECT id, story_id FROM articles WHERE rid = ?`, rid).Scan(&id, &story)
		if errors.Is(err, sql.ErrNoRows) {
			continue // deleted since: the next catch-up learns it
		}
		if err != nil {
			return "", false, fmt.Errorf("disk: find story: %w", err)
		}
		if story == "" {
			return id, true, nil // a document of no story yet starts its own
		}
		return story, true, nil
	}
	return "", false, fmt.Errorf("disk: find story: documents keep disappearing during the lookup")
}
