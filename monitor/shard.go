package monitor

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"

	"github.com/minewatch/minewatch/news"
)

// Shard says which part of the sources this worker fetches when several
// workers share one Elasticsearch store: source ids are split by a stable hash,
// so every worker agrees without talking to the others. The zero value means
// one worker with every source.
type Shard struct {
	Index int // 1-based
	Count int
}

// ParseShard reads "i/n" as in `minewatch run --worker 2/3`.
func ParseShard(s string) (Shard, error) {
	if s == "" {
		return Shard{}, nil
	}
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 1 || i > n {
		return Shard{}, fmt.Errorf("worker %q: want i/n with 1 ≤ i ≤ n, e.g. 2/3", s)
	}
	return Shard{Index: i, Count: n}, nil
}

// Owns reports whether the source with this id belongs to the shard.
func (s Shard) Owns(id string) bool {
	if s.Count <= 1 {
		return true
	}
	h := fnv.New32a()
	h.Write([]byte(id))
	return int(h.Sum32()%uint32(s.Count)) == s.Index-1
}

// Select returns the sources the shard owns, in order.
func (s Shard) Select(srcs []news.Source) []news.Source {
	if s.Count <= 1 {
		return srcs
	}
	var out []news.Source
	for _, src := range srcs {
		if s.Owns(src.ID) {
			out = append(out, src)
		}
	}
	return out
}

func (s Shard) String() string {
	if s.Count <= 1 {
		return "1/1"
	}
	return fmt.Sprintf("%d/%d", s.Index, s.Count)
}
