package web

import (
	"context"
	"strings"
	"time"

	"github.com/minewatch/minewatch/news"
)

func firstTime(ts ...time.Time) time.Time {
	for _, t := range ts {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}

// maxOutlets bounds the near-duplicates listed under an article; the count
// shown ("+N other outlets") is still the full one when the lister returns it.
const maxOutlets = 50

// otherOutlets lists the other documents of doc's story. It needs a searcher
// that implements StoryLister; without one, or on error, it is empty: the
// article is still worth showing.
func (s *Server) otherOutlets(ctx context.Context, doc news.Document, names map[string]string) []apiOutlet {
	out := []apiOutlet{}
	if s.stories == nil || doc.StoryID == "" {
		return out
	}
	docs, err := s.stories.StoryDocuments(ctx, doc.StoryID, maxOutlets+1)
	if err != nil {
		if ctx.Err() == nil {
			s.log.WarnContext(ctx, "story documents", "story_id", doc.StoryID, "err", err)
		}
		return out
	}
	for _, d := range docs {
		if d.ID == doc.ID || len(out) >= maxOutlets {
			continue
		}
		out = append(out, apiOutlet{
			ID: d.ID, Title: firstNonEmpty(strings.TrimSpace(d.Title), "(untitled)"), Source: displaySource(d, names),
			URL: articleLink(d), Published: optTime(firstTime(d.Published, d.FirstSeen)),
		})
	}
	return out
}
