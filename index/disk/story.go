package disk

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"
	"time"
)

// Story lookup is multi-index hashing. The 64-bit SimHash is stored as four
// 16-bit bands, each indexed (columns band0..band3). If two hashes differ in
// at most k bits, those k bits fall into four bands, so by pigeonhole at
// least one band differs in at most r = k/4 bits (rounded down): for k ≤ 3
// some band is equal, and the lookup is four index probes. For larger k the
// lookup probes, in every band, each 16-bit value within r bits of the
// query's band (1 + 16 + 120 values per band for k = 8..11, the story
// package's setting), still exact: every document within k bits is among the
// candidates, and the candidates are then checked by the popcount of the XOR.

// maxProbesPerBand bounds the values probed per band; beyond it (r ≥ 4, that
// is maxBits ≥ 16, far past near-duplicates) a scan of the window is cheaper.
const maxProbesPerBand = 1 + 16 + 120 + 560

// FindStory returns the StoryID of the oldest stored document (by FirstSeen)
// whose SimHash differs from h in at most maxBits bits and whose FirstSeen is
// at or after since (any, when since is zero). A zero h, the mark of a text
// too short to fingerprint, never matches; neither do documents with a zero
// SimHash.
func (s *Store) FindStory(ctx context.Context, h uint64, maxBits int, since time.Time) (string, bool, error) {
	if h == 0 || maxBits < 0 {
		return "", false, nil
	}
	const cols = `SELECT rid, id, story_id, simhash, first_seen FROM articles WHERE simhash != 0`
	var (
		window string
		args   []any
	)
	if !since.IsZero() {
		window = " AND first_seen >= ?"
		args = append(args, since.UnixNano())
	}
	q := cols + window
	if probes := bandProbes(h, maxBits); probes != nil {
		// One SELECT per band, so each is a run of seeks in its band's
		// index; with the bands ORed, SQLite scans a whole index instead.
		parts := make([]string, len(probes))
		var bandArgs []any
		for i, vals := range probes {
			parts[i] = cols + " AND band" + strconv.Itoa(i) + " IN (" + vals + ")" + window
			bandArgs = append(bandArgs, args...)
		}
		q, args = strings.Join(parts, " UNION "), bandArgs
	}
	rows, err := s.reader.QueryContext(ctx, q, args...)
	if err != nil {
		return "", false, fmt.Errorf("disk: find story: %w", err)
	}
	defer rows.Close()
	var (
		found             bool
		bestSeen, bestRID int64
		bestID, bestStory string
	)
	for rows.Next() {
		var (
			rid, hash int64
			id, story string
			seen      sql.NullInt64
		)
		if err := rows.Scan(&rid, &id, &story, &hash, &seen); err != nil {
			return "", false, fmt.Errorf("disk: find story: %w", err)
		}
		if bits.OnesCount64(uint64(hash)^h) > maxBits {
			continue
		}
		// An unknown first sighting counts as the oldest: it predates
		// every recorded one.
		at := int64(math.MinInt64)
		if seen.Valid {
			at = seen.Int64
		}
		if !found || at < bestSeen || (at == bestSeen && rid < bestRID) {
			found, bestSeen, bestRID, bestID, bestStory = true, at, rid, id, story
		}
	}
	if err := rows.Err(); err != nil {
		return "", false, fmt.Errorf("disk: find story: %w", err)
	}
	if !found {
		return "", false, nil
	}
	if bestStory == "" {
		return bestID, true, nil // a document of no story yet starts its own
	}
	return bestStory, true, nil
}

// bandProbes returns, for each of the four bands of h, the comma-separated
// 16-bit values within maxBits/4 bits of that band; nil when that is too many
// to probe and the caller should scan instead.
func bandProbes(h uint64, maxBits int) []string {
	r := maxBits / 4
	if maxBits >= 64 || probeCount(r) > maxProbesPerBand {
		return nil
	}
	// Every 16-bit value within r bits of v is v XOR a mask of at most r bits.
	masks := []uint16{0}
	var grow func(from, left int, m uint16)
	grow = func(from, left int, m uint16) {
		for i := from; i < 16; i++ {
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
	out := make([]string, 4)
	for band := range 4 {
		v := uint16(h >> (16 * band))
		var b strings.Builder
		for i, mask := range masks {
			if i > 0 {
				b.WriteByte(',')
			}
			// Our own integers, written into the SQL: no parameter limit.
			b.WriteString(strconv.Itoa(int(v ^ mask)))
		}
		out[band] = b.String()
	}
	return out
}

// probeCount is the number of 16-bit values within r bits of a value.
func probeCount(r int) int {
	n, c := 0, 1 // c is 16 choose i
	for i := 0; i <= r && i <= 16; i++ {
		n += c
		c = c * (16 - i) / (i + 1)
	}
	return n
}
