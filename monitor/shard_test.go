package monitor

import (
	"fmt"
	"testing"

	"github.com/minewatch/minewatch/news"
)

func TestParseShard(t *testing.T) {
	good := map[string]Shard{"": {}, "1/1": {1, 1}, "2/3": {2, 3}, "3/3": {3, 3}}
	for in, want := range good {
		if got, err := ParseShard(in); err != nil || got != want {
			t.Errorf("ParseShard(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"0/3", "4/3", "2", "a/b", "1/0", "-1/2"} {
		if _, err := ParseShard(in); err == nil {
			t.Errorf("ParseShard(%q) succeeded, want an error", in)
		}
	}
}

// Every source belongs to exactly one of n workers, and the split is even enough.
func TestShardsPartitionSources(t *testing.T) {
	var srcs []news.Source
	for i := range 300 {
		srcs = append(srcs, news.Source{ID: fmt.Sprintf("src-%d", i)})
	}
	owners := map[string]int{}
	for i := 1; i <= 3; i++ {
		part := Shard{Index: i, Count: 3}.Select(srcs)
		if len(part) < 70 || len(part) > 130 {
			t.Errorf("worker %d/3 owns %d of 300 sources; want a roughly even split", i, len(part))
		}
		for _, s := range part {
			owners[s.ID]++
		}
	}
	for _, s := range srcs {
		if owners[s.ID] != 1 {
			t.Errorf("source %s owned by %d workers, want 1", s.ID, owners[s.ID])
		}
	}
	if got := (Shard{}).Select(srcs); len(got) != len(srcs) {
		t.Errorf("zero shard selects %d sources, want all", len(got))
	}
}
