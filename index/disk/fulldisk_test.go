package disk

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/minewatch/minewatch/index"
	"github.com/minewatch/minewatch/ingest"
	"github.com/minewatch/minewatch/monitor"
	"github.com/minewatch/minewatch/news"
)

// mountTmpfs mounts a tmpfs of the given size (mount's syntax: "2m") on a
// new directory and unmounts it when the test ends. A real file system that
// fills up is what SQLite meets in production; a fake VFS would not show how
// the WAL and its index (-shm) behave. It skips unless root on Linux.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skipf("full-disk tests mount a tmpfs, which needs Linux (this is %s)", runtime.GOOS)
	}
	if os.Geteuid() != 0 {
		t.Skip("full-disk tests mount a small tmpfs, which needs root; run as root (CI does) to include them")
	}
	dir := filepath.Join(t.TempDir(), "fs")
	if err := os.Mkdir(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0750", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (a container without CAP_SYS_ADMIN?): %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// growTmpfs gives a mounted tmpfs a new size in place, as an operator
// freeing space would: the open Store sees it without reopening.
func growTmpfs(t *testing.T, dir, size string) {
	t.Helper()
	if out, err := exec.Command("mount", "-o", "remount,size="+size, dir).CombinedOutput(); err != nil {
		t.Fatalf("remount %s with size %s: %v: %s", dir, size, err, out)
	}
}

// fullDoc is an article of about 3 KB of text that no other shares.
func fullDoc(i int) news.Document {
	u := fmt.Sprintf("https://full.example/a/%05d", i)
	words := make([]string, 0, 400)
	for w := range 400 {
		words = append(words, fmt.Sprintf("w%dx%d", i, w))
	}
	d := news.Document{Article: news.Article{
		ID: news.ArticleID(u), URL: u, CanonicalURL: u, SourceID: "full", Language: "en",
		Title:     fmt.Sprintf("Article %d about the Ottawa Convention", i),
		Text:      strings.Join(words, " "),
		Published: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute),
	}}
	if i%10 == 0 { // one in ten reports an event, with an alert
		d.Classification.Entities = []news.Entity{{Country: fmt.Sprintf("X%d", i/10%10), Action: news.ActionWithdrawAnnounce,
			Treaty: news.TreatyOttawa, Evidence: fmt.Sprintf("Country %d announced its withdrawal.", i)}}
	}
	return d
}

// fullEvents are the events of d and their alert messages.
func fullEvents(d news.Document) ([]news.Event, [][]news.Message) {
	var evs []news.Event
	var msgs [][]news.Message
	for _, e := range d.Classification.Entities {
		ev := news.Event{Key: e.Key() + "/" + d.ID, Country: e.Country, Action: e.Action, Treaty: e.Treaty,
			FirstArticleID: d.ID, FirstSourceID: d.SourceID, FirstSeen: d.Published, Articles: 1}
		evs = append(evs, ev)
		msgs = append(msgs, []news.Message{{ID: "alert/full/webhook/" + ev.Key, Kind: news.MessageAlert,
			RuleID: "full", Channel: "webhook", Event: ev}})
	}
	return evs, msgs
}

// integrityOK runs PRAGMA integrity_check on the file through a connection
// of its own.
func integrityOK(t *testing.T, dir string) {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(dir, FileName)+"?_query_only=1")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var res string
	if err := db.QueryRowContext(t.Context(), "PRAGMA integrity_check").Scan(&res); err != nil || res != "ok" {
		t.Errorf("integrity_check: %q, %v", res, err)
	}
}

// TestFullDisk fills a 2 MiB file system with articles, each written with
// its events and alerts in one transaction as the monitor writes them,
// until the disk is full; checks that the error says so (ErrDiskFull),
// that the database is intact and that everything reported stored reads
// back; then the file system grows and the same Store, not reopened,
// stores the rest and the articles that had failed.
func TestFullDisk(t *testing.T) {
	dir := mountTmpfs(t, "2m")
	ctx := t.Context()
	s := openDir(t, dir) // closed before the unmount: cleanups run last first

	var stored []news.Document
	var fullErr error
	next := 0
	for ; next < 5000 && fullErr == nil; next++ {
		d := fullDoc(next)
		evs, msgs := fullEvents(d)
		if _, _, err := s.PutAndRecord(ctx, []news.Document{d}, evs, msgs); err != nil {
			fullErr = err
			break
		}
		stored = append(stored, d)
	}
	if fullErr == nil {
		t.Fatalf("wrote %d articles to a 2 MiB file system without an error", next)
	}
	if !errors.Is(fullErr, ErrDiskFull) {
		t.Fatalf("the write that filled the disk failed with %v; want an error wrapping ErrDiskFull", fullErr)
	}
	t.Logf("disk full after %d articles: %v", len(stored), fullErr)
	// The write that failed was a large one, and a rolled-back transaction
	// leaves its frames in the WAL file for the next one to reuse: smaller
	// writes may still fit. Fill what is left with short articles, then
	// with alerts as large as the enqueue below, so that every write below
	// meets a full disk.
	topOff := func(what string, write func(k int) error) {
		for k := 0; k <= 10_000; k++ {
			if err := write(k); err != nil {
				if !errors.Is(err, ErrDiskFull) {
					t.Fatalf("topping off the disk with %s: %v; want an error wrapping ErrDiskFull", what, err)
				}
				t.Logf("and after %d %s", k, what)
				return
			}
		}
		t.Fatalf("10,000 %s still fit after the disk was full", what)
	}
	topOff("short articles", func(k int) error {
		d := fullDoc(next + 10_000 + k)
		d.Text = "A short report."
		_, _, err := s.PutAndRecord(ctx, []news.Document{d}, nil, nil)
		if err == nil {
			stored = append(stored, d)
		}
		return err
	})
	var topped []string
	topOff("alerts", func(k int) error {
		id := fmt.Sprintf("alert/full/top/%d", k)
		_, err := s.Enqueue(ctx, news.Message{ID: id, Kind: news.MessageAlert, RuleID: "full", Channel: "webhook",
			Event: news.Event{Key: strings.Repeat("k", 4000)}})
		if err == nil {
			topped = append(topped, id)
		}
		return err
	})

	// The other writes say the same, and the outbox and event paths too.
	writes := []struct {
		name string
		do   func() error
	}{
		{"enqueue", func() error {
			_, err := s.Enqueue(ctx, news.Message{ID: "alert/full/x", Kind: news.MessageAlert, RuleID: "full", Channel: "webhook",
				Event: news.Event{Key: strings.Repeat("k", 4000)}})
			return err
		}},
		{"record event and enqueue", func() error {
			ev := news.Event{Key: "full/" + strings.Repeat("e", 4000), Country: "XX", Action: news.ActionUse}
			_, err := s.RecordEventAndEnqueue(ctx, ev, []news.Message{{ID: "alert/full/y/" + strings.Repeat("m", 4000), Event: ev}})
			return err
		}},
		{"put and record, a batch", func() error {
			docs := []news.Document{fullDoc(next), fullDoc(next + 1), fullDoc(next + 2)}
			_, _, err := s.PutAndRecord(ctx, docs, nil, nil)
			return err
		}},
	}
	for _, w := range writes {
		t.Run(w.name, func(t *testing.T) {
			err := w.do()
			if !errors.Is(err, ErrDiskFull) {
				t.Errorf("on a full disk: %v; want an error wrapping ErrDiskFull", err)
			}
		})
	}

	integrityOK(t, dir)
	checkStored(t, s, stored, len(topped))

	growTmpfs(t, dir, "8m")
	for i := next; i < next+len(stored)/2; i++ {
		d := fullDoc(i)
		evs, msgs := fullEvents(d)
		created, err := func() ([]bool, error) {
			_, c, err := s.PutAndRecord(ctx, []news.Document{d}, evs, msgs)
			return c, err
		}()
		if err != nil {
			t.Fatalf("after the file system grew, article %d: %v", i, err)
		}
		for j, c := range created {
			if !c {
				t.Errorf("article %d: event %s not new, though the failed write of it was rolled back", i, evs[j].Key)
			}
		}
		stored = append(stored, d)
	}
	integrityOK(t, dir)
	checkStored(t, s, stored, len(topped))
}

// checkStored reads every document back and checks the events and alerts
// written with them, and the alerts enqueued alone: all there, nothing
// more.
func checkStored(t *testing.T, s *Store, docs []news.Document, alone int) {
	t.Helper()
	ctx := t.Context()
	wantEvents := 0
	for _, d := range docs {
		got, err := s.Get(ctx, d.ID)
		if err != nil {
			t.Errorf("article %s reported stored: %v", d.URL, err)
			continue
		}
		if got.Text != d.Text || got.Title != d.Title {
			t.Errorf("article %s reads back different", d.URL)
		}
		wantEvents += len(d.Classification.Entities)
	}
	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Documents != len(docs) {
		t.Errorf("%d documents in the index, %d reported stored", st.Documents, len(docs))
	}
	if st.Events != wantEvents || st.OutboxPending != wantEvents+alone {
		t.Errorf("%d events and %d pending alerts, want %d and %d", st.Events, st.OutboxPending, wantEvents, wantEvents+alone)
	}
}

// fullCollector hands the monitor batches of new articles, as ingest would:
// the ones the index does not know yet, up to a total that grows each call.
type fullCollector struct {
	total, step int
}

func (c *fullCollector) Collect(ctx context.Context, src news.Source, _ news.SourceState, known index.URLChecker) (ingest.Result, error) {
	c.total += c.step
	urls := make([]string, c.total)
	for i := range urls {
		urls[i] = fullDoc(i).URL
	}
	have, err := known.KnownURLs(ctx, urls)
	if err != nil {
		return ingest.Result{}, err
	}
	res := ingest.Result{Items: c.total, Validators: news.Validators{ETag: fmt.Sprintf(`"%d"`, c.total)}}
	for i, u := range urls {
		if !have[u] {
			a := fullDoc(i).Article
			a.SourceID = src.ID
			res.Articles = append(res.Articles, a)
		}
	}
	return res, nil
}

// fullClassifier gives each article the entities fullDoc gives it.
type fullClassifier struct{}

func (fullClassifier) Classify(a news.Article) news.Classification {
	var i int
	fmt.Sscanf(a.URL, "https://full.example/a/%d", &i)
	return fullDoc(i).Classification
}

// fullAlerter wants one webhook alert per event.
type fullAlerter struct{}

func (fullAlerter) MessagesFor(ev news.Event, _ news.Document) []news.Message {
	return []news.Message{{ID: "alert/full/webhook/" + ev.Key, Kind: news.MessageAlert, RuleID: "full", Channel: "webhook", Event: ev}}
}

// TestFullDiskMonitor runs the monitor over a Store on a file system that
// fills up: the source fails with an index error that names the full disk,
// the monitor goes on, and once space returns the next run stores every
// article it could not, with its events and alerts — the validators did not
// advance past what was stored.
func TestFullDiskMonitor(t *testing.T) {
	dir := mountTmpfs(t, "2m")
	ctx := t.Context()
	s := openDir(t, dir) // closed before the unmount: cleanups run last first
	col := &fullCollector{step: 60}
	mon, err := monitor.New(monitor.Options{
		Sources:    []news.Source{{ID: "full", Name: "Full", Kind: news.KindFeed, URL: "https://full.example/feed", Schedule: "@every 1h"}},
		Collector:  col,
		Classifier: fullClassifier{},
		Store:      s,
		Alerts:     fullAlerter{},
	})
	if err != nil {
		t.Fatal(err)
	}
	var failed monitor.Outcome
	for run := 0; run < 100 && failed.Err == nil; run++ {
		outs, err := mon.RunOnce(ctx, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		failed = outs[0]
	}
	if failed.Err == nil {
		t.Fatalf("%d articles fit on a 2 MiB file system", col.total)
	}
	if !errors.Is(failed.Err, ErrDiskFull) || failed.ErrClass != "index" {
		t.Fatalf("source failed with class %q: %v; want class index and an error wrapping ErrDiskFull", failed.ErrClass, failed.Err)
	}
	t.Logf("disk full at %d items: %v", col.total, failed.Err)
	integrityOK(t, dir)

	growTmpfs(t, dir, "16m")
	col.step = 0 // nothing new: only what failed must now be stored
	outs, err := mon.RunOnce(ctx, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if outs[0].Err != nil {
		t.Fatalf("after the file system grew: %v", outs[0].Err)
	}
	docs := make([]news.Document, col.total)
	for i := range docs {
		docs[i] = fullDoc(i)
	}
	integrityOK(t, dir)
	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantEvents := 0
	for _, d := range docs {
		if _, err := s.Get(ctx, d.ID); err != nil {
			t.Errorf("article %s: %v", d.URL, err)
		}
		wantEvents += len(d.Classification.Entities)
	}
	// fullDoc's entities repeat their (country, action, treaty) every 100
	// articles: one event each, every article counted.
	keys := map[string]bool{}
	for _, d := range docs {
		for _, e := range d.Classification.Entities {
			keys[e.Key()] = true
		}
	}
	if st.Documents != len(docs) || st.Events != len(keys) || st.OutboxPending != len(keys) {
		t.Errorf("after recovery: %d documents, %d events, %d pending alerts; want %d, %d, %d",
			st.Documents, st.Events, st.OutboxPending, len(docs), len(keys), len(keys))
	}
	evs, err := s.Events(ctx, index.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	counted := 0
	for _, ev := range evs {
		counted += ev.Articles
	}
	if counted != wantEvents {
		t.Errorf("events count %d reporting articles, want %d: counted twice or lost in the failed writes", counted, wantEvents)
	}
}
