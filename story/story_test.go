package story

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/minewatch/minewatch/news"
)

const wire = `VILNIUS, June 27 (Reuters) - Lithuania on Friday deposited its instrument of withdrawal from the Ottawa Convention banning anti-personnel landmines with the United Nations Secretary-General, Foreign Minister Kęstutis Budrys said, completing a process that began in March.

The withdrawal takes effect six months after the notification, on December 27. Latvia and Estonia deposited their instruments on the same day, the three Baltic states said in a joint statement.

The countries, which border Russia or its ally Belarus, say the security situation in the region has fundamentally changed since they joined the treaty. Human rights groups have criticised the decision, warning that landmines kill and maim civilians long after conflicts end.

Poland and Finland have also begun the process of leaving the convention, which has been ratified by more than 160 countries.`

func TestNearDuplicatesAreOneStory(t *testing.T) {
	base := Fingerprint(wire)
	if base == 0 {
		t.Fatal("no fingerprint for a full article")
	}
	tests := map[string]struct {
		text string
		same bool
	}{
		"republished as is":                 {wire, true},
		"typography and case changed":       {strings.NewReplacer("Kęstutis", "Kestutis", "-", "–", "Reuters", "REUTERS").Replace(wire), true},
		"dateline dropped":                  {strings.Replace(wire, "VILNIUS, June 27 (Reuters) - ", "", 1), true},
		"last paragraph cut":                {wire[:strings.LastIndex(wire, "\n\n")], true},
		"another story on the same subject": {`HELSINKI - Finland has notified the United Nations Secretary-General of its withdrawal from the Ottawa Convention, the foreign ministry said on Thursday. The withdrawal takes effect in January. Parliament approved the decision in June with 157 votes in favour and 18 against. The government says the decision allows the defence forces to prepare for a changed security environment, and that Finland remains committed to protecting civilians. Anti-personnel mines would only be used in a war, ministers said.`, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			fp := Fingerprint(tc.text)
			d := Distance(base, fp)
			if (d <= MaxBits) != tc.same {
				t.Errorf("distance %d bits; same story = %v, want %v", d, d <= MaxBits, tc.same)
			}
		})
	}
}

func TestShortTextsAreNotFingerprinted(t *testing.T) {
	if fp := Fingerprint("Lithuania leaves the treaty."); fp != 0 {
		t.Errorf("fingerprint of a headline = %x, want 0", fp)
	}
}

// finder is a StoryFinder over a fixed list of stored documents.
type finder struct {
	docs  []news.Document
	calls int
}

func (f *finder) FindStory(_ context.Context, h uint64, maxBits int, since time.Time) (string, bool, error) {
	f.calls++
	for _, d := range f.docs {
		if d.SimHash != 0 && Distance(d.SimHash, h) <= maxBits && !d.FirstSeen.Before(since) {
			return d.StoryID, true, nil
		}
	}
	return "", false, nil
}

func doc(id, title, text string, seen time.Time) news.Document {
	return news.Document{Article: news.Article{ID: id, Title: title, Text: text, FirstSeen: seen}}
}

func TestGrouperAssign(t *testing.T) {
	now := time.Date(2025, 6, 27, 12, 0, 0, 0, time.UTC)
	stored := doc("old", "Lithuania deposits withdrawal", wire, now.Add(-time.Hour))
	stored.SimHash = Fingerprint(stored.Text)
	stored.StoryID = "story-1"
	f := &finder{docs: []news.Document{stored}}
	docs := []news.Document{
		doc("a", "Lithuania quits mine ban treaty", wire, now),
		doc("b", "Short", "Too short to tell.", now),
		doc("c", "Coal", strings.Repeat("The coal mine in Silesia reopened after repairs to its ventilation shaft. ", 5), now),
		doc("d", "Coal mine reopens", strings.Repeat("The coal mine in Silesia reopened after repairs to its ventilation shaft. ", 5), now),
	}
	if err := NewGrouper(f).Assign(t.Context(), docs); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a": "story-1", "b": "b", "c": "c", "d": "c"}
	for _, d := range docs {
		if d.StoryID != want[d.ID] {
			t.Errorf("%s: story %q, want %q", d.ID, d.StoryID, want[d.ID])
		}
	}

	// Outside the window the old article is another story.
	late := []news.Document{doc("e", "Lithuania quits mine ban treaty", wire, now.Add(Window+2*time.Hour))}
	if err := NewGrouper(f).Assign(t.Context(), late); err != nil {
		t.Fatal(err)
	}
	if late[0].StoryID != "e" {
		t.Errorf("story outside the window = %q, want its own id", late[0].StoryID)
	}
}

func BenchmarkFingerprint(b *testing.B) {
	b.SetBytes(int64(len(wire)))
	for b.Loop() {
		Fingerprint(wire)
	}
}
