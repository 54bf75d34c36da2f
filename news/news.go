// Package news holds the nouns every minewatch stage shares: sources, their fetch
// state, articles, classifications, events and the indexed document. It does no I/O.
package news

import (
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// SourceKind says how a source is read.
type SourceKind string

const (
	// KindFeed is an RSS 0.9x/1.0/2.0, Atom or JSON Feed document.
	KindFeed SourceKind = "feed"
	// KindQuery is a feed whose URL is a search (Google News RSS, GDELT DOC API in
	// RSS mode); it is fetched like a feed, but its items are often on other hosts.
	KindQuery SourceKind = "query"
	// KindListing is an HTML page of a site without feeds; article links are found
	// with CSS selectors.
	KindListing SourceKind = "listing"
	// KindSitemap is a news sitemap or a sitemap index.
	KindSitemap SourceKind = "sitemap"
)

// Source is one place minewatch reads news from, as configured.
type Source struct {
	ID       string // stable slug, unique in the config
	Name     string
	Kind     SourceKind
	URL      string
	Language string // ISO 639-1 of its items; "" means detect per article
	Country  string // ISO 3166-1 alpha-2 of the publisher; "" for international
	Schedule string // cron spec (robfig/cron syntax, e.g. "*/15 * * * *" or "@every 30m")
	// FetchPages says whether to fetch each new item's page for its full text.
	// Query feeds link to many outlets, most of them only worth a summary.
	FetchPages bool
	// Selectors are used by listing sources and override page extraction.
	Selectors Selectors
}

// Selectors are CSS selectors (goquery syntax) for sites whose pages the
// generic extractor gets wrong. Empty fields mean "use the default".
type Selectors struct {
	Links string // listing: anchors that lead to articles
	Title string
	Body  string
	Date  string
}

// Validators are the HTTP cache validators of the last successful fetch.
type Validators struct {
	ETag         string
	LastModified string
}

// SourceState is what minewatch remembers about a source between fetches. It
// survives restarts through the index backend.
type SourceState struct {
	SourceID            string
	URL                 string // current URL: a permanent redirect replaces the configured one
	Validators          Validators
	NextCheck           time.Time
	LastAttempt         time.Time
	LastSuccess         time.Time
	LastError           string
	LastErrorClass      string // dns, tls, timeout, http, parse, robots, private, too_large, index, panic, network, other
	ConsecutiveFailures int
	ItemsSeen           int // items in the last successful fetch
	ArticlesTotal       int // articles indexed from this source, all time
}

// Healthy reports whether the last attempt succeeded (or none was made).
func (s SourceState) Healthy() bool { return s.ConsecutiveFailures == 0 }

// Article is one published piece as minewatch read it. It is not modified after
// ingest, except that re-fetching the same canonical URL replaces it.
type Article struct {
	ID           string // ArticleID(CanonicalURL)
	SourceID     string
	URL          string // as linked from the source
	CanonicalURL string
	Title        string
	Summary      string // from the feed, plain text
	Text         string // main text, plain, paragraphs separated by "\n\n"
	Language     string // ISO 639-1
	Authors      []string
	SiteName     string
	// Published is in UTC; zero when no date was found. PublishedFrom says
	// where it came from: feed, jsonld, meta, time, url, htmldate, sitemap or selector.
	Published     time.Time
	PublishedFrom string
	FirstSeen     time.Time // when minewatch first saw the item; kept across re-fetches
}

// Reported is when the article's news came out: its publish time when known
// (and not later than when minewatch saw it), else when minewatch first saw it.
// Events take their date from it, so a move reported last year and fetched
// today is dated last year.
func (a Article) Reported() time.Time {
	if !a.Published.IsZero() && (a.FirstSeen.IsZero() || !a.Published.After(a.FirstSeen)) {
		return a.Published
	}
	return a.FirstSeen
}

// ArticleID derives an article's stable id from its canonical URL, so fetching
// the same story twice never makes two documents.
func ArticleID(canonicalURL string) string {
	sum := sha256.Sum256([]byte(canonicalURL))
	return hex.EncodeToString(sum[:12])
}

// Topic ids of the default taxonomy (see ../shared/eval/README.md). Rules in the
// config may define others.
const (
	TopicTreatyWithdrawal  = "treaty_withdrawal"
	TopicTreatyMembership  = "treaty_membership"
	TopicProduction        = "production"
	TopicStockpile         = "stockpile"
	TopicTransferUse       = "transfer_use"
	TopicDeminingFunding   = "demining_funding"
	TopicCasualtiesVictims = "casualties_victims"
	TopicTreatyMeetings    = "treaty_meetings"
	TopicClusterMunitions  = "cluster_munitions"
)

// Action is what a country did, in the taxonomy's ids.
type Action string

const (
	ActionWithdrawAnnounce  Action = "withdraw_announce"
	ActionWithdrawVote      Action = "withdraw_vote"
	ActionWithdrawNotify    Action = "withdraw_notify"
	ActionWithdrawEffective Action = "withdraw_effective"
	ActionRemain            Action = "remain"
	ActionJoinRatify        Action = "join_ratify"
	ActionResumeProduction  Action = "resume_production"
	ActionProduce           Action = "produce"
	ActionDestroyStockpile  Action = "destroy_stockpile"
	ActionTransfer          Action = "transfer"
	ActionUse               Action = "use"
	ActionFundingCut        Action = "funding_cut"
	ActionFundingIncrease   Action = "funding_increase"
	ActionCasualties        Action = "casualties"
	ActionClearance         Action = "clearance"
)

// Actions lists every action id in taxonomy order.
var Actions = []Action{
	ActionWithdrawAnnounce, ActionWithdrawVote, ActionWithdrawNotify, ActionWithdrawEffective,
	ActionRemain, ActionJoinRatify, ActionResumeProduction, ActionProduce, ActionDestroyStockpile,
	ActionTransfer, ActionUse, ActionFundingCut, ActionFundingIncrease, ActionCasualties, ActionClearance,
}

// Treaty names the convention an action concerns.
type Treaty string

const (
	TreatyOttawa Treaty = "ottawa" // 1997 Anti-Personnel Mine Ban Convention
	TreatyCCM    Treaty = "ccm"    // 2008 Convention on Cluster Munitions
	TreatyNone   Treaty = "none"   // funding, clearance, unspecified mines
)

// Field names a part of an article that rules and highlights refer to.
type Field string

const (
	FieldTitle Field = "title"
	FieldText  Field = "text"
)

// Span is a byte range [Start, End) in one field of an article.
type Span struct {
	Field Field `json:"field"`
	Start int   `json:"start"`
	End   int   `json:"end"`
}

// TermHit is one place a rule's term matched.
type TermHit struct {
	Term string `json:"term"` // the term as written in the rule
	Span
}

// RuleMatch explains why a topic scored: the rule that matched and where.
type RuleMatch struct {
	RuleID string    `json:"rule"`
	Weight float64   `json:"weight"`
	Hits   []TermHit `json:"hits"`
}

// TopicScore is one topic an article was put in.
type TopicScore struct {
	Topic   string      `json:"topic"`
	Score   float64     `json:"score"`
	Matches []RuleMatch `json:"matches,omitempty"`
}

// Entity is one (country, action, treaty) the text asserts, with the sentence
// that proves it.
type Entity struct {
	Country     string `json:"country"` // ISO 3166-1 alpha-2
	CountryName string `json:"country_name"`
	Action      Action `json:"action"`
	Treaty      Treaty `json:"treaty"`
	Evidence    string `json:"evidence"`
	EvidenceAt  Span   `json:"evidence_at"`
}

// Key is the entity's event identity (see EventKey).
func (e Entity) Key() string { return EventKey(e.Country, e.Action, e.Treaty) }

// Classification is what the classifier decided about an article.
type Classification struct {
	Relevant     bool         `json:"relevant"`
	Score        float64      `json:"score"`
	Topics       []TopicScore `json:"topics"`
	Entities     []Entity     `json:"entities"`
	RulesVersion string       `json:"rules_version,omitempty"`
}

// TopicIDs returns the ids of the topics, in order.
func (c Classification) TopicIDs() []string {
	ids := make([]string, len(c.Topics))
	for i, t := range c.Topics {
		ids[i] = t.Topic
	}
	return ids
}

// Document is the unit that is indexed, searched, digested and alerted on.
type Document struct {
	Article
	Classification Classification
	// StoryID groups near-duplicates (the same wire story on many outlets); it is
	// the id of the first article of the story, or the article's own id.
	StoryID string
	// SimHash is a 64-bit fingerprint of the text's word shingles: near-duplicates
	// differ in few bits. Zero when the text was too short to fingerprint.
	SimHash uint64
}

// EventKey is the identity of a treaty move: one alert per key, however many
// articles report it. A withdrawal's stage is part of its action id.
func EventKey(country string, action Action, treaty Treaty) string {
	return country + "/" + string(action) + "/" + string(treaty)
}

// Event is a treaty move by a country, built from the entities of many articles.
type Event struct {
	Key            string
	Country        string
	Action         Action
	Treaty         Treaty
	FirstSeen      time.Time
	FirstArticleID string
	FirstSourceID  string
	Evidence       string
	Articles       int // articles that reported it
	// EffectiveDate is derived for withdraw_notify on the Ottawa Convention:
	// six months after the notification (article 20). Zero when unknown.
	EffectiveDate time.Time
}

// MessageKind says what an outbox message carries.
type MessageKind string

const (
	MessageAlert  MessageKind = "alert"  // one new event, for one alert rule and channel
	MessageDigest MessageKind = "digest" // one subscriber's digest for one period
)

// MessageState is where a message is in its delivery.
type MessageState string

const (
	MessagePending   MessageState = "pending"
	MessageDelivered MessageState = "delivered"
	MessageExpired   MessageState = "expired" // gave up after retries; kept for the record
)

// Message is an outgoing notification in the persistent outbox. Its ID is the
// idempotency key: the same alert or digest is enqueued, and so sent, once.
type Message struct {
	ID         string // "alert/<rule>/<channel>/<event key>" or "digest/<subscriber>/<period>"
	Kind       MessageKind
	RuleID     string // alerts: the alert rule
	Channel    string // channel id within the rule or subscriber, e.g. "email", "webhook-1"
	Subscriber string // digests: the subscriber
	Period     string // digests: the period covered, e.g. "2026-11-26"
	Event      Event  // alerts: the event
	State      MessageState
	Attempts   int
	// NextAttempt is when delivery may next be tried; a worker that leases the
	// message pushes it forward so no other worker sends it meanwhile.
	NextAttempt time.Time
	Created     time.Time
	Delivered   time.Time
	LastError   string
}
