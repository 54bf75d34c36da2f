// Package disk is the embedded index backend: articles, source state, events,
// saved searches and the outbox in one SQLite file, searched with FTS5.
package disk

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"

	// The pure-Go driver keeps minewatch a single static binary (no cgo); it
	// registers itself as "sqlite" and is built with FTS5.
	_ "modernc.org/sqlite"

	"github.com/minewatch/minewatch/index"
	"github.com/minewatch/minewatch/news"
)

// FileName is the database file inside Options.Dir.
const FileName = "minewatch.db"

// Options configure Open.
type Options struct {
	// Dir is the data directory; it is created if missing and holds FileName
	// and its WAL files.
	Dir string
	// Logger receives slow-path and maintenance messages; nil discards them.
	Logger *slog.Logger
	// Readers caps the read connection pool; 0 means max(4, GOMAXPROCS).
	Readers int
}

// Store is the disk backend. It is safe for concurrent use by many goroutines;
// several processes may also open the same file, SQLite serialises their writes.
type Store struct {
	path string
	log  *slog.Logger
	// writer has exactly one connection, so writes never fight for SQLite's
	// write lock inside this process and busy waits only come from other
	// processes.
	writer *sql.DB
	// reader is a pool of query_only connections; WAL lets them read while
	// the writer writes.
	reader *sql.DB
	// stories is FindStory's in-memory index, filled at the first lookup so
	// that commands which never group stories (search, digest) never pay.
	stories *storyIndex
	// search is the in-memory copy searches filter and count with
	// (memory.go), filled at the first search.
	search *searchIndex
	// known is KnownURLs's statement, prepared once on the reader pool
	// (database/sql keeps it prepared on each connection it runs on).
	known *sql.Stmt
	// saveState is SaveSourceState's statement on the writer.
	saveState *sql.Stmt
	// put are Put's statements on the writer.
	put *putStmts
	// group batches concurrent writers' transactions (group.go).
	group groupCommit
}

var (
	_ index.Store       = (*Store)(nil)
	_ index.StateStore  = (*Store)(nil)
	_ index.EventStore  = (*Store)(nil)
	_ index.URLChecker  = (*Store)(nil)
	_ index.SearchSaver = (*Store)(nil)
	_ index.StoryLister = (*Store)(nil)
	_ index.StoryFinder = (*Store)(nil)
	_ index.Outbox      = (*Store)(nil)
)

// ErrSchemaTooNew is returned by Open for a database written by a newer
// minewatch, whose schema this version does not know.
var ErrSchemaTooNew = errors.New("disk: database schema is newer than this program")

// busyTimeoutMS is how long a statement waits for another process's lock. It is
// long because the only contenders are a few minewatch commands (run, search,
// digest) sharing a file, and a failed write is worse than a slow one.
const busyTimeoutMS = 10000

// readerMmapBytes is how much of the file each read connection maps.
const readerMmapBytes = 256 << 20

// Open opens (creating if needed) the database in opts.Dir and migrates its
// schema to the current version.
func Open(ctx context.Context, opts Options) (*Store, error) {
	if opts.Dir == "" {
		return nil, errors.New("disk: open: Options.Dir is empty")
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(opts.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("disk: open: %w", err)
	}
	path := filepath.Join(opts.Dir, FileName)

	// synchronous=NORMAL in WAL mode never corrupts the file; a power cut may
	// lose the last transactions, a killed process loses nothing committed.
	// temp_store keeps the sorts and groupings of facets in memory.
	common := fmt.Sprintf("_busy_timeout=%d&_foreign_keys=1&_synchronous=NORMAL", busyTimeoutMS) +
		"&_pragma=cache_size(-16000)&_pragma=temp_store(MEMORY)"
	// BEGIN IMMEDIATE takes the write lock up front, so a transaction never
	// fails half-way with SQLITE_BUSY when it upgrades from read to write.
	// The writer maps nothing: what it reads (index pages to insert into,
	// FTS segments to merge) is spread over the whole file, and a mapping
	// kept every page it ever touched resident, hundreds of MB in a feed
	// cycle (BENCHMARKS.md), where its 16 MB page cache bounds it.
	writer, err := sql.Open("sqlite", path+"?"+common+"&_pragma=mmap_size(0)&_journal_mode=WAL&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("disk: open %s: %w", path, err)
	}
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	writer.SetConnMaxIdleTime(0)
	if err := migrate(ctx, writer, log); err != nil {
		writer.Close()
		return nil, fmt.Errorf("disk: open %s: %w", path, err)
	}

	// Searches read many small pages: memory-mapped reads avoid a read
	// syscall per page, which profiles showed as a third of search time.
	// Each connection maps the file apart, so a page read by all readers
	// counts that many times in RSS.
	reader, err := sql.Open("sqlite", path+"?"+common+fmt.Sprintf("&_pragma=mmap_size(%d)", readerMmapBytes)+"&_query_only=1")
	if err != nil {
		writer.Close()
		return nil, fmt.Errorf("disk: open %s: %w", path, err)
	}
	n := opts.Readers
	if n <= 0 {
		n = max(4, runtime.GOMAXPROCS(0))
	}
	reader.SetMaxOpenConns(n)
	reader.SetMaxIdleConns(n)
	if err := reader.PingContext(ctx); err != nil {
		writer.Close()
		reader.Close()
		return nil, fmt.Errorf("disk: open %s: %w", path, err)
	}
	known, err := reader.PrepareContext(ctx, knownURLsSQL)
	if err != nil {
		writer.Close()
		reader.Close()
		return nil, fmt.Errorf("disk: open %s: %w", path, err)
	}
	saveState, err := writer.PrepareContext(ctx, saveStateSQL)
	if err != nil {
		known.Close()
		writer.Close()
		reader.Close()
		return nil, fmt.Errorf("disk: open %s: %w", path, err)
	}
	put, err := preparePut(ctx, writer)
	if err != nil {
		saveState.Close()
		known.Close()
		writer.Close()
		reader.Close()
		return nil, fmt.Errorf("disk: open %s: %w", path, err)
	}
	log.Debug("index opened", "path", path)
	return &Store{path: path, log: log, writer: writer, reader: reader, stories: newStoryIndex(), search: &searchIndex{},
		known: known, saveState: saveState, put: put}, nil
}

// Close closes the database. Committed writes are already durable; closing the
// last connection also checkpoints the WAL into the main file.
func (s *Store) Close() error {
	// PRAGMA optimize keeps query plans good as tables grow; cheap when
	// nothing changed.
	if _, err := s.writer.Exec("PRAGMA optimize"); err != nil {
		s.log.Warn("index optimize failed", "err", err)
	}
	return errors.Join(s.known.Close(), s.saveState.Close(), s.put.Close(), s.reader.Close(), s.writer.Close())
}

// Stats describes what the index holds.
type Stats struct {
	Documents int
	Relevant  int
	ByTopic   map[string]int // documents per topic
	Events    int
	Sources   int   // sources with saved state
	SizeBytes int64 // database plus WAL on disk
	// Outbox messages by state.
	OutboxPending, OutboxDelivered, OutboxExpired int
	SavedSearches                                 int
}

// Stats counts documents, relevant documents, documents per topic, events,
// sources, outbox messages by state and saved searches, and measures the
// files on disk.
func (s *Store) Stats(ctx context.Context) (Stats, error) {
	st := Stats{ByTopic: map[string]int{}}
	row := s.reader.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM articles),
		(SELECT count(*) FROM articles WHERE relevant = 1),
		(SELECT count(*) FROM events),
		(SELECT count(*) FROM source_state),
		(SELECT count(*) FROM outbox WHERE state = ?),
		(SELECT count(*) FROM outbox WHERE state = ?),
		(SELECT count(*) FROM outbox WHERE state = ?),
		(SELECT count(*) FROM saved_searches)`,
		string(news.MessagePending), string(news.MessageDelivered), string(news.MessageExpired))
	if err := row.Scan(&st.Documents, &st.Relevant, &st.Events, &st.Sources,
		&st.OutboxPending, &st.OutboxDelivered, &st.OutboxExpired, &st.SavedSearches); err != nil {
		return Stats{}, fmt.Errorf("disk: stats: %w", err)
	}
	rows, err := s.reader.QueryContext(ctx, `SELECT topic, count(*) FROM article_topics GROUP BY topic`)
	if err != nil {
		return Stats{}, fmt.Errorf("disk: stats: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var topic string
		var n int
		if err := rows.Scan(&topic, &n); err != nil {
			return Stats{}, fmt.Errorf("disk: stats: %w", err)
		}
		st.ByTopic[topic] = n
	}
	if err := rows.Err(); err != nil {
		return Stats{}, fmt.Errorf("disk: stats: %w", err)
	}
	for _, suffix := range []string{"", "-wal"} {
		fi, err := os.Stat(s.path + suffix)
		if err == nil {
			st.SizeBytes += fi.Size()
		} else if !errors.Is(err, os.ErrNotExist) {
			return Stats{}, fmt.Errorf("disk: stats: %w", err)
		}
	}
	return st, nil
}
