// Package index stores classified articles, source state and events, and answers
// searches over them. The disk backend (embedded, default) and the Elasticsearch
// backend both pass the contract suite in index/indextest.
package index

import (
	"context"
	"errors"
	"time"

	"github.com/minewatch/minewatch/news"
)

// ErrNotFound is returned by Get for an unknown id.
var ErrNotFound = errors.New("index: not found")

// ErrBadQuery wraps a query the backend cannot parse; its message says where and why.
var ErrBadQuery = errors.New("index: bad query")

// Store is the contract every backend meets. All methods are safe for concurrent
// use. Close flushes whatever Put accepted; no method may be called after it.
type Store interface {
	// Put inserts or replaces documents by Article.ID. It keeps the FirstSeen of
	// a document already stored. The result says which documents failed.
	Put(ctx context.Context, docs ...news.Document) (PutResult, error)
	// Get returns one document by id, or ErrNotFound.
	Get(ctx context.Context, id string) (news.Document, error)
	// Search answers a query; a query with a syntax error returns an error that
	// wraps ErrBadQuery.
	Search(ctx context.Context, q Query) (Hits, error)
	Close() error
}

// StateStore keeps per-source fetch state across restarts.
type StateStore interface {
	SourceStates(ctx context.Context) (map[string]news.SourceState, error)
	SaveSourceState(ctx context.Context, st news.SourceState) error
}

// EventStore records treaty moves. RecordEvent is atomic create-if-absent on
// ev.Key: exactly one caller, across processes, gets created == true.
type EventStore interface {
	RecordEvent(ctx context.Context, ev news.Event) (created bool, err error)
	Events(ctx context.Context, f EventFilter) ([]news.Event, error)
}

// URLChecker tells which URLs are already stored (as an article's URL or its
// canonical URL), so ingest fetches only new pages.
type URLChecker interface {
	KnownURLs(ctx context.Context, urls []string) (map[string]bool, error)
}

// SearchSaver keeps analysts' saved searches (name, query and filters), which
// alert rules and Atom feeds can refer to by id.
type SearchSaver interface {
	SaveSearch(ctx context.Context, s SavedSearch) error // insert or replace by ID
	SavedSearches(ctx context.Context) ([]SavedSearch, error)
	DeleteSearch(ctx context.Context, id string) error // ErrNotFound when absent
}

// SavedSearch is a named query. Query.Cursor and Query.Limit are not kept.
type SavedSearch struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Query   Query     `json:"query"`
	Created time.Time `json:"created"`
}

// StoryFinder groups near-duplicates: a wire story republished by thirty
// outlets is one story.
type StoryFinder interface {
	// FindStory returns the StoryID of a stored document whose SimHash differs
	// from h in at most maxBits bits and whose FirstSeen is at or after since.
	FindStory(ctx context.Context, h uint64, maxBits int, since time.Time) (storyID string, ok bool, err error)
}

// StoryLister lists the documents of one story (near-duplicates grouped by
// StoryID), oldest first, so a reader sees every outlet that ran it.
type StoryLister interface {
	StoryDocuments(ctx context.Context, storyID string, limit int) ([]news.Document, error)
}

// Outbox is the persistent queue of alerts and digests. Every method is atomic,
// so several workers sharing one store never send a message twice.
type Outbox interface {
	// RecordEventAndEnqueue is EventStore.RecordEvent that, when the event is
	// new, enqueues msgs in the same transaction: an event is never recorded
	// without its alerts, whatever crashes.
	RecordEventAndEnqueue(ctx context.Context, ev news.Event, msgs []news.Message) (created bool, err error)
	// Enqueue adds m unless a message with its ID exists (created == false).
	Enqueue(ctx context.Context, m news.Message) (created bool, err error)
	// Lease returns up to limit pending messages whose NextAttempt has come,
	// moving their NextAttempt to now+lease and counting the attempt, so a
	// crashed sender's messages come back after the lease.
	Lease(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]news.Message, error)
	// Update stores a message's new state after a delivery attempt.
	Update(ctx context.Context, m news.Message) error
	// Messages lists messages, newest first.
	Messages(ctx context.Context, f MessageFilter) ([]news.Message, error)
}

// ErrLeaseLost says an outbox message is no longer leased by the caller: its
// lease ran out and another worker leased it, or its state was updated.
var ErrLeaseLost = errors.New("index: lease lost")

// LeaseRenewer is an Outbox that extends a lease while a delivery runs. It
// lets a sender keep leases short, so a crashed sender's messages come back
// within seconds, without a slow delivery (an SMTP server retried for
// minutes) outliving its lease and being sent by a second worker at once.
// It is a separate interface so that outboxes without it still work, with
// a lease that must outlast the longest attempt.
type LeaseRenewer interface {
	// Renew moves the NextAttempt of m, a message as Lease or Renew returned
	// it, to now+lease, counting no attempt, and returns m with it. It
	// fails with an error wrapping ErrLeaseLost when m is no longer pending
	// under that very lease (same Attempts and NextAttempt): updated since,
	// or leased again by another worker after the lease ran out.
	Renew(ctx context.Context, m news.Message, now time.Time, lease time.Duration) (news.Message, error)
}

// MessageFilter selects outbox messages; zero fields match everything.
type MessageFilter struct {
	Kind   news.MessageKind
	States []news.MessageState
	Limit  int // 0 means 100
}

// EventFilter selects events; zero fields match everything.
type EventFilter struct {
	Countries []string
	Actions   []news.Action
	Since     time.Time
}

// PutResult says what happened to each document of a Put.
type PutResult struct {
	Indexed int
	// Failed maps article id to the reason, for documents rejected for good.
	Failed map[string]error
}

// Sort orders search results.
type Sort string

const (
	SortRelevance Sort = "relevance" // default when the query has text
	SortDate      Sort = "date"      // newest first; default without text
)

// Query is one search. Zero fields mean "no filter".
type Query struct {
	// Text is in the analysts' rule syntax (see classify/query): terms, "phrases",
	// prefix wildcards, AND/OR/NOT, NEAR/n, title: scope. Empty matches all.
	Text      string
	Topics    []string
	Countries []string // ISO 3166-1 alpha-2 of entities
	Actions   []news.Action
	Treaties  []news.Treaty
	Sources   []string
	Languages []string
	Since     time.Time // Published (or FirstSeen when unknown) >= Since
	Until     time.Time // ... < Until
	// RelevantOnly hides articles no topic claimed.
	RelevantOnly bool
	Sort         Sort
	Limit        int    // 0 means 20; at most 1000
	Cursor       string // from Hits.NextCursor, to get the next page
	Facets       bool   // compute facet counts
	// Histogram fills Hits.Histogram with the matches per day (by Published,
	// else FirstSeen, in UTC), for volume charts.
	Histogram bool
	// NoSnippets leaves Hit.Snippet empty, for readers that never show one
	// (digests, exports): building snippets is a fifth of a large page's cost.
	NoSnippets bool
}

// Facet names used in Hits.Facets.
const (
	FacetTopic    = "topic"
	FacetCountry  = "country"
	FacetAction   = "action"
	FacetTreaty   = "treaty"
	FacetSource   = "source"
	FacetLanguage = "language"
)

// Hits is a page of results.
type Hits struct {
	Total      int // all matches, not just this page
	Docs       []Hit
	Facets     map[string][]FacetCount // by facet name, largest count first
	NextCursor string                  // "" on the last page
	Histogram  []DayCount              // oldest first; days without matches are left out
}

// DayCount is the number of matches on one day, split by topic and by entity country.
type DayCount struct {
	Day       time.Time      `json:"day"` // midnight UTC
	Count     int            `json:"count"`
	Topics    map[string]int `json:"topics,omitempty"`
	Countries map[string]int `json:"countries,omitempty"`
}

// Hit is one result.
type Hit struct {
	news.Document
	// Score is the relevance under SortRelevance; 0 under SortDate, where
	// computing it would only cost time (both backends).
	Score float64
	// Snippet is a short excerpt around the matched terms. It is plain text in
	// pieces, never markup: renderers escape Text and mark pieces with Match.
	Snippet []Fragment
}

// Fragment is a piece of a snippet.
type Fragment struct {
	Text  string `json:"text"`
	Match bool   `json:"match,omitempty"`
}

// FacetCount is one value of a facet and how many matches have it.
type FacetCount struct {
	Value string `json:"value"`
	Count int    `json:"count"`
}
