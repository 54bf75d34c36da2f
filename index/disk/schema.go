package disk

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// migration is one schema step: SQL, then Go for what SQL cannot compute
// (the FTS columns hold tokens that only textnorm makes).
type migration struct {
	sql string
	fn  func(ctx context.Context, tx *sql.Tx) error
}

// migrations are applied in order; migration i brings the schema from version i
// to i+1 (PRAGMA user_version). Never edit a released migration: append one.
var migrations = []migration{
	// 1: articles with their filters, the FTS index, source state and events.
	{sql: `
-- articles holds what filters and sorts read, narrow so that the rows a
-- search visits share pages; the long columns live in article_bodies, read
-- only for the page of results (joining 4,500 FTS matches to it: 3.7 ms
-- with one wide table, 1.6 ms split).
CREATE TABLE articles (
	rid            INTEGER PRIMARY KEY, -- FTS rowid; stable across re-Puts of the same id
	id             TEXT NOT NULL UNIQUE,
	source_id      TEXT NOT NULL,
	language       TEXT NOT NULL,
	published      INTEGER,       -- Unix nanoseconds, NULL when unknown
	first_seen     INTEGER,       -- Unix nanoseconds; kept across re-Puts
	-- what date filters and the date sort use, as Query documents it
	sort_date      INTEGER GENERATED ALWAYS AS (COALESCE(published, first_seen, 0)) VIRTUAL,
	relevant       INTEGER NOT NULL,
	score          REAL NOT NULL,
	story_id       TEXT NOT NULL,
	rules_version  TEXT NOT NULL,
	published_from TEXT NOT NULL
);
CREATE INDEX articles_date ON articles(sort_date, rid);
CREATE INDEX articles_source_date ON articles(source_id, sort_date);
CREATE INDEX articles_language_date ON articles(language, sort_date);
CREATE INDEX articles_relevant_date ON articles(relevant, sort_date);
CREATE INDEX articles_story ON articles(story_id);

CREATE TABLE article_bodies (
	rid            INTEGER PRIMARY KEY REFERENCES articles(rid) ON DELETE CASCADE,
	url            TEXT NOT NULL,
	canonical_url  TEXT NOT NULL,
	site_name      TEXT NOT NULL,
	authors        TEXT NOT NULL, -- JSON array
	title          TEXT NOT NULL,
	summary        TEXT NOT NULL,
	text           TEXT NOT NULL,
	classification TEXT NOT NULL  -- news.Classification as JSON, the source of truth
);
CREATE INDEX article_bodies_url ON article_bodies(url);
CREATE INDEX article_bodies_canonical_url ON article_bodies(canonical_url);

-- article_topics and article_entities are derived from classification, for
-- filters and facets.
CREATE TABLE article_topics (
	article_rid INTEGER NOT NULL REFERENCES articles(rid) ON DELETE CASCADE,
	topic       TEXT NOT NULL,
	score       REAL NOT NULL,
	PRIMARY KEY (topic, article_rid)
) WITHOUT ROWID;
CREATE INDEX article_topics_rid ON article_topics(article_rid);

CREATE TABLE article_entities (
	article_rid INTEGER NOT NULL REFERENCES articles(rid) ON DELETE CASCADE,
	country     TEXT NOT NULL,
	action      TEXT NOT NULL,
	treaty      TEXT NOT NULL,
	evidence    TEXT NOT NULL
);
CREATE INDEX article_entities_rid ON article_entities(article_rid);
CREATE INDEX article_entities_country ON article_entities(country, article_rid);
CREATE INDEX article_entities_action ON article_entities(action, article_rid);
CREATE INDEX article_entities_treaty ON article_entities(treaty, article_rid);

-- Contentless: the columns hold folded tokens joined by spaces, which nobody
-- reads back (snippets come from articles.text). The ascii tokenizer splits
-- only on ASCII punctuation and space, so each of our tokens stays one FTS
-- token whatever Unicode version SQLite knows, and FTS positions equal
-- textnorm token indexes. Prefix indexes of 3 and 4 bytes serve the short
-- stems analysts write (min*, mine*); longer prefixes scan the main index.
CREATE VIRTUAL TABLE articles_fts USING fts5(
	title, text,
	content = '', contentless_delete = 1,
	tokenize = 'ascii',
	prefix = '3 4'
);

CREATE TABLE source_state (
	source_id TEXT PRIMARY KEY,
	state     TEXT NOT NULL, -- news.SourceState as JSON
	updated   INTEGER NOT NULL
);

CREATE TABLE events (
	key              TEXT PRIMARY KEY,
	country          TEXT NOT NULL,
	action           TEXT NOT NULL,
	treaty           TEXT NOT NULL,
	first_seen       INTEGER NOT NULL,
	first_article_id TEXT NOT NULL,
	first_source_id  TEXT NOT NULL,
	evidence         TEXT NOT NULL,
	articles         INTEGER NOT NULL,
	effective_date   INTEGER
);
CREATE INDEX events_first_seen ON events(first_seen);
`},
	// 2: filters as FTS terms, facet columns, SimHash bands, saved searches
	// and the outbox.
	{sql: schemaV2, fn: rebuildDerived},
	// 3: story_keys, the narrow change-stamped copy of the SimHashes that
	// FindStory's in-memory index follows.
	{sql: schemaV3},
	// 4: fts_terms, the vocabulary that prefix queries expand against.
	{sql: schemaV4, fn: fillTerms},
	// 5: search_seq, the change stamps that searchIndex follows.
	{sql: schemaV5},
}

// schemaV2 makes searches fast at 100,000 articles. Version 1 joined every
// FTS match to the filter tables: 45,000 matches of a common word cost a
// row lookup each before the filters threw most away. Now every filter value
// is also a token of the FTS column meta, so FTS5 intersects the posting
// lists and only the survivors are read; facets and the histogram group the
// survivors by the value lists kept on the narrow row (topics, countries,
// actions, treaties) instead of joining the derived tables.
const schemaV2 = `
ALTER TABLE articles ADD COLUMN simhash INTEGER NOT NULL DEFAULT 0; -- news.Document.SimHash, bits as int64
-- Distinct values joined by listSep, sorted: GROUP BY over them yields a
-- few hundred combinations whose counts Go spreads over the values.
ALTER TABLE articles ADD COLUMN topics    TEXT NOT NULL DEFAULT '';
ALTER TABLE articles ADD COLUMN countries TEXT NOT NULL DEFAULT '';
ALTER TABLE articles ADD COLUMN actions   TEXT NOT NULL DEFAULT '';
ALTER TABLE articles ADD COLUMN treaties  TEXT NOT NULL DEFAULT '';
-- Hashes of (source, language, the four lists) and of (topics, countries):
-- facets and the histogram group by them, and sorting integers is several
-- times cheaper than sorting six strings.
ALTER TABLE articles ADD COLUMN facet_key INTEGER NOT NULL DEFAULT 0;
ALTER TABLE articles ADD COLUMN hist_key  INTEGER NOT NULL DEFAULT 0;
-- The four 16-bit bands of the SimHash, for FindStory (see story.go).
ALTER TABLE articles ADD COLUMN band0 INTEGER GENERATED ALWAYS AS (simhash & 65535) VIRTUAL;
ALTER TABLE articles ADD COLUMN band1 INTEGER GENERATED ALWAYS AS ((simhash >> 16) & 65535) VIRTUAL;
ALTER TABLE articles ADD COLUMN band2 INTEGER GENERATED ALWAYS AS ((simhash >> 32) & 65535) VIRTUAL;
ALTER TABLE articles ADD COLUMN band3 INTEGER GENERATED ALWAYS AS ((simhash >> 48) & 65535) VIRTUAL;
CREATE INDEX articles_band0 ON articles(band0) WHERE simhash != 0;
CREATE INDEX articles_band1 ON articles(band1) WHERE simhash != 0;
CREATE INDEX articles_band2 ON articles(band2) WHERE simhash != 0;
CREATE INDEX articles_band3 ON articles(band3) WHERE simhash != 0;

-- FTS5 tables cannot gain a column: rebuilt, and refilled by rebuildDerived.
DROP TABLE articles_fts;
CREATE VIRTUAL TABLE articles_fts USING fts5(
	title, text,
	meta, -- filter tokens (metaTokens), never matched by query words
	content = '', contentless_delete = 1,
	tokenize = 'ascii',
	prefix = '3 4'
);

CREATE TABLE saved_searches (
	id      TEXT PRIMARY KEY,
	name    TEXT NOT NULL,
	query   TEXT NOT NULL, -- index.Query as JSON, without Cursor and Limit
	created INTEGER NOT NULL
);

CREATE TABLE outbox (
	id           TEXT PRIMARY KEY, -- the idempotency key
	kind         TEXT NOT NULL,
	rule_id      TEXT NOT NULL,
	channel      TEXT NOT NULL,
	subscriber   TEXT NOT NULL,
	period       TEXT NOT NULL,
	event        TEXT NOT NULL, -- news.Event as JSON
	state        TEXT NOT NULL,
	attempts     INTEGER NOT NULL,
	next_attempt INTEGER NOT NULL, -- Unix nanoseconds; 0 for the zero time (due now)
	created      INTEGER NOT NULL,
	delivered    INTEGER,
	last_error   TEXT NOT NULL
);
CREATE INDEX outbox_due ON outbox(state, next_attempt);
CREATE INDEX outbox_created ON outbox(created);
`

// schemaV3 moves near-duplicate lookup into memory (see story.go). The
// copy must follow writes by every process on the file, so triggers keep a
// narrow table of (rid, simhash, first_seen) stamped with seq, which grows
// with each change: a reader asks only for the rows stamped after the last
// one it applied. A deleted article leaves its row with simhash 0, so the
// deletion reaches the copies too. Triggers fire only when the hash or the
// first sighting really changes, so re-Puts by reclassification write
// nothing here. The band indexes of version 2 served the SQL lookup and only
// cost writes now.
const schemaV3 = `
CREATE TABLE story_keys (
	rid        INTEGER PRIMARY KEY, -- articles.rid
	simhash    INTEGER NOT NULL,
	first_seen INTEGER,
	seq        INTEGER NOT NULL     -- order of the row's last change
);
CREATE INDEX story_keys_seq ON story_keys(seq);
INSERT INTO story_keys (rid, simhash, first_seen, seq) SELECT rid, simhash, first_seen, rid FROM articles;

CREATE TRIGGER articles_story_insert AFTER INSERT ON articles BEGIN
	INSERT INTO story_keys (rid, simhash, first_seen, seq)
	VALUES (new.rid, new.simhash, new.first_seen, (SELECT coalesce(max(seq), 0) + 1 FROM story_keys))
	ON CONFLICT (rid) DO UPDATE SET simhash = excluded.simhash, first_seen = excluded.first_seen, seq = excluded.seq;
END;
CREATE TRIGGER articles_story_update AFTER UPDATE OF rid, simhash, first_seen ON articles
WHEN old.rid IS NOT new.rid OR old.simhash IS NOT new.simhash OR old.first_seen IS NOT new.first_seen BEGIN
	UPDATE story_keys SET simhash = 0, seq = (SELECT max(seq) + 1 FROM story_keys)
	WHERE rid = old.rid AND old.rid IS NOT new.rid;
	INSERT INTO story_keys (rid, simhash, first_seen, seq)
	VALUES (new.rid, new.simhash, new.first_seen, (SELECT coalesce(max(seq), 0) + 1 FROM story_keys))
	ON CONFLICT (rid) DO UPDATE SET simhash = excluded.simhash, first_seen = excluded.first_seen, seq = excluded.seq;
END;
CREATE TRIGGER articles_story_delete AFTER DELETE ON articles BEGIN
	UPDATE story_keys SET simhash = 0, seq = (SELECT max(seq) + 1 FROM story_keys) WHERE rid = old.rid;
END;

DROP INDEX articles_band0;
DROP INDEX articles_band1;
DROP INDEX articles_band2;
DROP INDEX articles_band3;
`

// schemaV4 keeps the distinct words of the title and text columns, so a
// prefix query can become an OR of the words it stands for (see expand in
// match.go). FTS5 answers a prefix it has no prefix index of that length for
// by merging the whole posting lists of all its words before it applies any
// rowid bound: withdraw* cost 21 ms on 100,000 articles, and bm25 paid it a
// second time for its document frequency. Words of deleted articles stay:
// they only add an OR branch that matches nothing.
//
// It also keeps, per UTC day of sort_date, the smallest and largest rid of
// that day's articles, so that a date window bounds the FTS scan by rowid
// for the price of reading a few hundred short rows: rids are handed out as
// articles arrive, so in an index filled by the monitor they follow dates
// and a month of a year's archive is a twelfth of the scan. A backfilled
// article widens its day's range, and a deleted one leaves it as it was:
// the bound only ever holds more rows than needed, never fewer, and the
// date conditions stay in the query.
const schemaV4 = `
CREATE TABLE fts_terms (term TEXT PRIMARY KEY) WITHOUT ROWID;

CREATE TABLE day_rids (
	day INTEGER PRIMARY KEY, -- UTC day number of sort_date, floored
	lo  INTEGER NOT NULL,
	hi  INTEGER NOT NULL
);
INSERT INTO day_rids (day, lo, hi)
SELECT ` + sqlDay + `, min(rid), max(rid) FROM articles GROUP BY 1;
CREATE TRIGGER articles_day_insert AFTER INSERT ON articles BEGIN
	INSERT INTO day_rids (day, lo, hi) VALUES (` + sqlNewDay + `, new.rid, new.rid)
	ON CONFLICT (day) DO UPDATE SET lo = min(lo, excluded.lo), hi = max(hi, excluded.hi);
END;
CREATE TRIGGER articles_day_update AFTER UPDATE OF rid, published, first_seen ON articles
WHEN old.rid IS NOT new.rid OR old.sort_date IS NOT new.sort_date BEGIN
	INSERT INTO day_rids (day, lo, hi) VALUES (` + sqlNewDay + `, new.rid, new.rid)
	ON CONFLICT (day) DO UPDATE SET lo = min(lo, excluded.lo), hi = max(hi, excluded.hi);
END;
`

// schemaV5 moves what searches filter, count and sort by into memory (see
// searchIndex in memory.go): each article's date, relevance and filter
// values. Joining every FTS match to its articles row cost about 2 µs a row
// in SQLite, a third of a search over 3,000 matches, and returning the
// value strings another sixth. As with story_keys, triggers stamp every
// change of those columns, by any process, with a growing seq; a search
// first applies the stamps it has not seen. Deletions keep their stamp, so
// they reach the copies too.
const schemaV5 = `
CREATE TABLE search_seq (
	rid INTEGER PRIMARY KEY, -- articles.rid, which may be gone
	seq INTEGER NOT NULL     -- order of the row's last change
);
CREATE INDEX search_seq_seq ON search_seq(seq);
INSERT INTO search_seq (rid, seq) SELECT rid, rid FROM articles;

CREATE TRIGGER articles_search_insert AFTER INSERT ON articles BEGIN
	INSERT INTO search_seq (rid, seq) VALUES (new.rid, (SELECT coalesce(max(seq), 0) + 1 FROM search_seq))
	ON CONFLICT (rid) DO UPDATE SET seq = excluded.seq;
END;
CREATE TRIGGER articles_search_update AFTER UPDATE ON articles
WHEN old.rid IS NOT new.rid OR old.sort_date IS NOT new.sort_date OR old.relevant IS NOT new.relevant
	OR old.source_id IS NOT new.source_id OR old.language IS NOT new.language OR old.topics IS NOT new.topics
	OR old.countries IS NOT new.countries OR old.actions IS NOT new.actions OR old.treaties IS NOT new.treaties BEGIN
	INSERT INTO search_seq (rid, seq) SELECT old.rid, (SELECT coalesce(max(seq), 0) + 1 FROM search_seq)
	WHERE old.rid IS NOT new.rid
	ON CONFLICT (rid) DO UPDATE SET seq = excluded.seq;
	INSERT INTO search_seq (rid, seq) VALUES (new.rid, (SELECT coalesce(max(seq), 0) + 1 FROM search_seq))
	ON CONFLICT (rid) DO UPDATE SET seq = excluded.seq;
END;
CREATE TRIGGER articles_search_delete AFTER DELETE ON articles BEGIN
	INSERT INTO search_seq (rid, seq) VALUES (old.rid, (SELECT coalesce(max(seq), 0) + 1 FROM search_seq))
	ON CONFLICT (rid) DO UPDATE SET seq = excluded.seq;
END;
`

// sqlDay and sqlNewDay are the day number of sort_date, as dayOf computes
// it, of a row of articles and of the new row in a trigger.
const (
	sqlDay    = `CASE WHEN sort_date >= 0 THEN sort_date / 86400000000000 ELSE (sort_date + 1) / 86400000000000 - 1 END`
	sqlNewDay = `CASE WHEN new.sort_date >= 0 THEN new.sort_date / 86400000000000 ELSE (new.sort_date + 1) / 86400000000000 - 1 END`
)

// fillTerms copies the vocabulary of an existing FTS index into fts_terms,
// without the private-use tokens (emptyToken, neverToken, filter tokens)
// that no query word produces.
func fillTerms(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, `CREATE VIRTUAL TABLE temp.fts_vocab USING fts5vocab(main, articles_fts, 'col')`); err != nil {
		return fmt.Errorf("fill fts_terms: %w", err)
	}
	_, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO fts_terms (term)
		SELECT term FROM temp.fts_vocab WHERE col IN ('title', 'text')
			AND substr(term, 1, 1) NOT IN (?, ?, ?)`, emptyToken, neverToken, metaPrefix)
	if err != nil {
		return fmt.Errorf("fill fts_terms: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DROP TABLE temp.fts_vocab`); err != nil {
		return fmt.Errorf("fill fts_terms: %w", err)
	}
	return nil
}

// SchemaVersion is the schema version this package writes.
var SchemaVersion = len(migrations)

// migrate brings db to SchemaVersion, one transaction per migration, so a
// crash leaves the file at a whole version. The version is read inside each
// write transaction: when two processes open a new file at once, the second
// waits for the first and then finds nothing left to do.
func migrate(ctx context.Context, db *sql.DB, log *slog.Logger) error {
	deadline := time.Now().Add(busyTimeoutMS * time.Millisecond)
	wait := 5 * time.Millisecond
	for {
		done, err := migrateOne(ctx, db, log)
		if isBusy(err) && time.Now().Before(deadline) {
			// SQLite answers BUSY without its busy handler while another
			// process converts a new file to WAL or migrates it; the
			// answer is to wait and read the version again.
			log.Debug("index busy while migrating, retrying", "err", err)
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
			}
			wait = min(2*wait, 200*time.Millisecond)
			continue
		}
		if err != nil || done {
			return err
		}
	}
}

// isBusy reports whether err is SQLite's SQLITE_BUSY (any extended code).
func isBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}

// migrateOne applies the next migration, or reports that none is left.
func migrateOne(ctx context.Context, db *sql.DB, log *slog.Logger) (done bool, err error) {
	tx, err := db.BeginTx(ctx, nil) // BEGIN IMMEDIATE: see Open
	if err != nil {
		return false, fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback()
	var v int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return false, fmt.Errorf("read schema version: %w", err)
	}
	if v > len(migrations) {
		return false, fmt.Errorf("%w: file has version %d, this program knows %d", ErrSchemaTooNew, v, len(migrations))
	}
	if v == len(migrations) {
		return true, nil
	}
	m := migrations[v]
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return false, fmt.Errorf("migrate to version %d: %w", v+1, err)
	}
	if m.fn != nil {
		if err := m.fn(ctx, tx); err != nil {
			return false, fmt.Errorf("migrate to version %d: %w", v+1, err)
		}
	}
	// PRAGMA takes no bound parameters; v is our own integer.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v+1)); err != nil {
		return false, fmt.Errorf("migrate to version %d: %w", v+1, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("migrate to version %d: %w", v+1, err)
	}
	log.Info("index schema migrated", "version", v+1)
	return false, nil
}
