package news

import (
	"testing"
	"time"
)

func TestReported(t *testing.T) {
	pub := time.Date(2025, 6, 27, 10, 0, 0, 0, time.UTC)
	seen := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	tests := map[string]struct {
		a    Article
		want time.Time
	}{
		"published before seen": {Article{Published: pub, FirstSeen: seen}, pub},
		"no publish date":       {Article{FirstSeen: seen}, seen},
		"publish date in the future of seen is not trusted": {Article{Published: seen.Add(48 * time.Hour), FirstSeen: seen}, seen},
		"never seen": {Article{Published: pub}, pub},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := tc.a.Reported(); !got.Equal(tc.want) {
				t.Errorf("Reported() = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestKeysAndIDs(t *testing.T) {
	if got := EventKey("LT", ActionWithdrawNotify, TreatyOttawa); got != "LT/withdraw_notify/ottawa" {
		t.Errorf("EventKey = %q", got)
	}
	e := Entity{Country: "PL", Action: ActionResumeProduction, Treaty: TreatyOttawa}
	if e.Key() != "PL/resume_production/ottawa" {
		t.Errorf("Entity.Key = %q", e.Key())
	}
	a, b := ArticleID("https://a.example/x"), ArticleID("https://a.example/y")
	if a == b || len(a) != 24 || ArticleID("https://a.example/x") != a {
		t.Errorf("ArticleID not stable and distinct: %q %q", a, b)
	}
}
