package disk

import (
	"context"
	"math/bits"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minewatch/minewatch/news"
)

// TestBandProbesCoverNeighbours checks the pigeonhole argument of story.go:
// for any hash within maxBits of h, one of its bands is among h's probes.
func TestBandProbesCoverNeighbours(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for maxBits := range 16 {
		t.Run(strconv.Itoa(maxBits), func(t *testing.T) {
			for range 200 {
				h := r.Uint64()
				probes := bandProbes(h, maxBits)
				if probes == nil {
					t.Fatalf("no probes for maxBits %d", maxBits)
				}
				sets := make([]map[string]bool, 4)
				for i, p := range probes {
					sets[i] = map[string]bool{}
					for _, v := range strings.Split(p, ",") {
						sets[i][v] = true
					}
					if len(sets[i]) != probeCount(maxBits/4) {
						t.Fatalf("band %d: %d distinct probes, want %d", i, len(sets[i]), probeCount(maxBits/4))
					}
				}
				// Flip exactly maxBits distinct bits, anywhere.
				other := h
				for _, bit := range r.Perm(64)[:maxBits] {
					other ^= 1 << bit
				}
				if bits.OnesCount64(h^other) != maxBits {
					t.Fatal("bad flip")
				}
				found := false
				for i := range 4 {
					if sets[i][strconv.Itoa(int(uint16(other>>(16*i))))] {
						found = true
					}
				}
				if !found {
					t.Fatalf("%016x is %d bits from %016x but no band is probed", other, maxBits, h)
				}
			}
		})
	}
	if bandProbes(1, 16) != nil || bandProbes(1, 64) != nil {
		t.Error("maxBits 16 and up should scan, not probe")
	}
}

func TestProbeCount(t *testing.T) {
	for r, want := range []int{1, 17, 137, 697, 2517} {
		if got := probeCount(r); got != want {
			t.Errorf("probeCount(%d) = %d, want %d", r, got, want)
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
