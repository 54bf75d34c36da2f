package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/minewatch/minewatch/alert"
	"github.com/minewatch/minewatch/config"
	"github.com/minewatch/minewatch/index"
	"github.com/minewatch/minewatch/index/disk"
	"github.com/minewatch/minewatch/news"
)

// The kill harness (issue #8, deliverable 5). Environment:
const (
	crashRoundsEnv = "MINEWATCH_CRASH_ROUNDS" // rounds of start → SIGKILL; default crashRounds
	crashSeedEnv   = "MINEWATCH_CRASH_SEED"   // RNG seed, to replay a run; default the clock
	crashSecretEnv = "MW_CRASH_WEBHOOK_SECRET"
	crashRounds    = 50
	crashFeeds     = 20
	crashSecret    = "crash-harness-secret"
	crashRule      = "everything"
)

// TestCrashHarness builds the real minewatch binary and runs `minewatch run`
// against a local feed farm whose feeds grow every round, killing it with
// SIGKILL at a random moment each round: during start-up, fetch, classify,
// index, right after an event was recorded, while an alert is being sent,
// or after it was sent but before the outbox recorded it. After the last
// round it lets the process run until everything is fetched and the outbox
// is drained, stops it with SIGTERM, and checks the farm's ground truth:
// every feed item indexed exactly once, every event the items report
// recorded once with every article counted once, and every alert received
// by the webhook under one delivery id — redeliveries after a kill between
// send and record carry the same id, so the receiver's dedup makes it once.
func TestCrashHarness(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the kill harness runs the binary for minutes")
	}
	rounds := crashRounds
	if v := os.Getenv(crashRoundsEnv); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			t.Fatalf("%s=%q: want a number of rounds", crashRoundsEnv, v)
		}
		rounds = n
	}
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv(crashSeedEnv); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: want an unsigned number", crashSeedEnv, v)
		}
		seed = n
	}
	t.Logf("seed %d, %d rounds (replay: %s=%d %s=%d go test -run TestCrashHarness ./cmd/minewatch/)",
		seed, rounds, crashSeedEnv, seed, crashRoundsEnv, rounds)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))

	bin := buildMinewatch(t)
	farm := newFeedFarm(rng, crashFeeds, rounds)
	site := httptest.NewServer(farm)
	defer site.Close()
	farm.setBase(site.URL)
	sink := newCountingSink(t, crashSecret)
	rcv := httptest.NewServer(sink)
	defer rcv.Close()

	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "minewatch.yaml")
	if err := os.WriteFile(cfgPath, []byte(farm.config(filepath.Join(dir, "data"), rcv.URL)), 0o600); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), crashSecretEnv+"="+crashSecret)
	check := exec.Command(bin, "--config", cfgPath, "config", "check")
	check.Env = env
	if out, err := check.CombinedOutput(); err != nil {
		t.Fatalf("config check: %v\n%s", err, out)
	}

	start := time.Now()
	kills := map[string]int{}
	planned := map[string]int{}
	for r := 1; r <= rounds; r++ {
		farm.advance(r)
		target := killTargets[rng.IntN(len(killTargets))]
		planned[target.name]++
		p := startMinewatch(t, bin, cfgPath, env)
		phase := p.killAt(t, target, rng)
		kills[phase]++
	}
	killed := time.Since(start)

	// The farm grows once more, so the last run also fetches new items.
	farm.advance(rounds + 1)
	want := farm.groundTruth(t)
	p := startMinewatch(t, bin, cfgPath, env)
	quiet := time.Now()
	waitQuiescent(t, p, filepath.Join(dir, "data"), want, sink)
	quietFor := time.Since(quiet)
	if err := p.stop(); err != nil {
		t.Errorf("minewatch run did not stop cleanly on SIGTERM: %v\n%s", err, p.tail())
	}

	checkIndex(t, filepath.Join(dir, "data"), want)
	deliveries, distinct := checkAlerts(t, bin, cfgPath, env, filepath.Join(dir, "data"), want, sink)

	names := slices.Sorted(maps.Keys(kills))
	var parts []string
	for _, n := range names {
		parts = append(parts, fmt.Sprintf("%s %d", n, kills[n]))
	}
	var plan []string
	for _, n := range slices.Sorted(maps.Keys(planned)) {
		plan = append(plan, fmt.Sprintf("%s %d", n, planned[n]))
	}
	t.Logf("rounds %d (SIGKILL each), kill rounds took %s, quiescence after the last kill %s (machine shared, wall clock)",
		rounds, killed.Round(time.Millisecond), quietFor.Round(time.Millisecond))
	t.Logf("kills by phase of the last log line before the kill: %s", strings.Join(parts, ", "))
	t.Logf("kills by planned moment: %s", strings.Join(plan, ", "))
	t.Logf("articles: %d planted, %d indexed once each; events: %d (%d articles reporting them)",
		len(want.urls), len(want.urls), len(want.events), want.eventArticles)
	t.Logf("alerts: %d distinct delivered, %d deliveries received, %d redeliveries (same id), 0 lost",
		distinct, deliveries, deliveries-distinct)
	t.Logf("feed farm: %d feed requests (%d answered 304), %d page requests",
		farm.feedHits.Load(), farm.notModified.Load(), farm.pageHits.Load())
}

// buildMinewatch builds the command under test once, without the race
// detector: the harness measures the real binary.
func buildMinewatch(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("the go command is not in PATH, cannot build the binary under test: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "minewatch")
	cmd := exec.Command(goTool, "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// killTarget is a moment to kill at: after the first log line with message
// after (or after start-up when empty), plus a random delay below jitter.
type killTarget struct {
	name   string
	after  string
	jitter time.Duration
}

// killTargets spread the kills over a cycle. The log lines are the debug
// lines the monitor and the dispatcher write at each step.
var killTargets = []killTarget{
	{name: "start-up", jitter: 600 * time.Millisecond},
	{name: "fetch", after: "collecting source", jitter: 40 * time.Millisecond},
	{name: "classify", after: "source fetched", jitter: 3 * time.Millisecond},
	{name: "index", after: "indexing articles", jitter: 10 * time.Millisecond},
	{name: "event recorded", after: "new event", jitter: 5 * time.Millisecond},
	{name: "alert sending", after: "delivering message", jitter: 5 * time.Millisecond},
	{name: "alert sent, not recorded", after: "message delivered"},
	{name: "anywhere", jitter: 3 * time.Second},
}

// phaseOf names the step a log line says the process is in.
var phaseOf = map[string]string{
	"collecting source":  "fetch",
	"source fetched":     "classify",
	"indexing articles":  "index",
	"new event":          "event recorded",
	"source collected":   "source state saved",
	"source failed":      "source state saved",
	"delivering message": "alert sending",
	"message delivered":  "alert sent, not recorded",
	"scheduler started":  "idle",
}

// waitForTarget bounds the wait for a target's log line; a round whose
// farm had nothing for that step kills at the timeout instead.
const waitForTarget = 3 * time.Second

// mwProc is one `minewatch run` child with its structured log.
type mwProc struct {
	cmd   *exec.Cmd
	lines chan logLine
	exit  chan error

	mu   sync.Mutex
	last []string // the last lines, for failure messages
}

type logLine struct {
	Msg   string `json:"msg"`
	Level string `json:"level"`
	URL   string `json:"url"`
	raw   string
}

func startMinewatch(t *testing.T, bin, cfgPath string, env []string) *mwProc {
	t.Helper()
	cmd := exec.Command(bin, "--config", cfgPath, "--log-format", "json", "--log-level", "debug", "run", "--listen", "127.0.0.1:0")
	cmd.Env = env
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &mwProc{cmd: cmd, lines: make(chan logLine, 1<<16), exit: make(chan error, 1)}
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			var l logLine
			raw := sc.Text()
			if json.Unmarshal([]byte(raw), &l) != nil {
				l.Msg = raw // not JSON: a panic or the exit message
			}
			l.raw = raw
			p.mu.Lock()
			p.last = append(p.last, raw)
			if len(p.last) > 40 {
				p.last = p.last[1:]
			}
			p.mu.Unlock()
			p.lines <- l
		}
		close(p.lines)
		p.exit <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
	})
	return p
}

func (p *mwProc) tail() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.last, "\n")
}

// killAt kills p at target and reports the phase the process was in, going
// by the last step line it logged.
func (p *mwProc) killAt(t *testing.T, target killTarget, rng *rand.Rand) string {
	t.Helper()
	phase := "start-up"
	note := func(l logLine) {
		if ph, ok := phaseOf[l.Msg]; ok {
			phase = ph
		}
		if l.Level == "ERROR" || strings.HasPrefix(l.Msg, "panic") {
			t.Errorf("minewatch logged: %s", l.raw)
		}
	}
	timeout := time.NewTimer(waitForTarget)
	defer timeout.Stop()
	if target.after != "" {
	wait:
		for {
			select {
			case l, ok := <-p.lines:
				if !ok {
					t.Fatalf("minewatch exited before the kill: %v\n%s", <-p.exit, p.tail())
				}
				note(l)
				if l.Msg == target.after {
					break wait
				}
			case <-timeout.C:
				break wait
			}
		}
	}
	if target.jitter > 0 {
		deadline := time.After(time.Duration(rng.Int64N(int64(target.jitter))))
	delay:
		for {
			select {
			case l, ok := <-p.lines:
				if !ok {
					t.Fatalf("minewatch exited before the kill: %v\n%s", <-p.exit, p.tail())
				}
				note(l)
			case <-deadline:
				break delay
			}
		}
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("SIGKILL: %v", err)
	}
	// What the process logged before it died counts for the phase too.
	for l := range p.lines {
		note(l)
	}
	if err := <-p.exit; err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("minewatch ended with %v before the kill\n%s", err, p.tail())
	}
	return phase
}

// stop sends SIGTERM and waits for a clean exit.
func (p *mwProc) stop() error {
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	for range p.lines {
	}
	return <-p.exit
}

// truth is what the farm published, and what the pipeline must make of it.
type truth struct {
	urls          []string        // every item's article URL
	events        map[string]bool // event keys the items report
	eventArticles int             // (article, event) pairs: the sum of the events' article counts
}

// waitQuiescent lets the last run work until every item is indexed, every
// event alerted and the outbox empty of pending messages. A message leased
// by a killed process waits for its lease to run out (alert.DefaultLease,
// renewed while a delivery runs, so short), and the dispatcher wakes when
// it does; quiescentWithin bounds the wait with room for a loaded machine.
func waitQuiescent(t *testing.T, p *mwProc, dataDir string, want truth, sink *countingSink) {
	t.Helper()
	deadline := time.Now().Add(quiescentWithin)
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	lastReport := time.Now()
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				t.Fatalf("minewatch exited during the final run: %v\n%s", <-p.exit, p.tail())
			}
			if l.Level == "ERROR" {
				t.Errorf("minewatch logged: %s", l.raw)
			}
			continue
		case <-tick.C:
		}
		docs, pending, err := progress(t.Context(), dataDir, want)
		if err != nil {
			t.Fatalf("reading the index during the final run: %v", err)
		}
		got, _ := sink.counts()
		distinct := len(got)
		if docs == len(want.urls) && pending == 0 && distinct >= len(want.events) {
			return
		}
		if time.Since(lastReport) > 20*time.Second {
			t.Logf("final run: %d of %d articles, %d pending messages, %d of %d alerts received",
				docs, len(want.urls), pending, distinct, len(want.events))
			lastReport = time.Now()
		}
		if time.Now().After(deadline) {
			t.Fatalf("not quiescent after %s: %d of %d articles, %d pending messages, %d of %d alerts\n%s",
				quiescentWithin, docs, len(want.urls), pending, distinct, len(want.events), p.tail())
		}
	}
}

// quiescentWithin is how long the final run may take to fetch everything
// and drain the outbox: a few fetch cycles and one lease, many times over.
const quiescentWithin = 3*alert.DefaultLease + time.Minute

// progress counts the planted articles the index knows and the pending
// outbox messages, through a second Store on the file as another
// minewatch command would open it.
func progress(ctx context.Context, dataDir string, want truth) (int, int, error) {
	st, err := disk.Open(ctx, disk.Options{Dir: dataDir, Readers: 1})
	if err != nil {
		return 0, 0, err
	}
	defer st.Close()
	known, err := st.KnownURLs(ctx, want.urls)
	if err != nil {
		return 0, 0, err
	}
	n := 0
	for _, ok := range known {
		if ok {
			n++
		}
	}
	s, err := st.Stats(ctx)
	if err != nil {
		return 0, 0, err
	}
	return n, s.OutboxPending, nil
}

// checkIndex compares the index with the farm: each item once, no other
// document, each event once with every reporting article counted once, and
// an intact database file.
func checkIndex(t *testing.T, dataDir string, want truth) {
	t.Helper()
	ctx := t.Context()
	db, err := sql.Open("sqlite", filepath.Join(dataDir, disk.FileName)+"?_query_only=1")
	if err != nil {
		t.Fatal(err)
	}
	var integrity string
	if err := db.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&integrity); err != nil || integrity != "ok" {
		t.Errorf("integrity_check: %q, %v", integrity, err)
	}
	db.Close()

	st, err := disk.Open(ctx, disk.Options{Dir: dataDir})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	stats, err := st.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Documents != len(want.urls) {
		t.Errorf("index holds %d documents, the farm published %d items: lost or doubled articles", stats.Documents, len(want.urls))
	}
	known, err := st.KnownURLs(ctx, want.urls)
	if err != nil {
		t.Fatal(err)
	}
	mentions := 0
	for _, u := range want.urls {
		if !known[u] {
			t.Errorf("item %s is not in the index", u)
			continue
		}
		d, err := st.Get(ctx, news.ArticleID(u))
		if err != nil {
			t.Errorf("item %s: %v", u, err)
			continue
		}
		mentions += len(d.Classification.Entities)
	}
	events, err := st.Events(ctx, index.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	counted := 0
	for _, ev := range events {
		if got[ev.Key] {
			t.Errorf("event %s recorded twice", ev.Key)
		}
		got[ev.Key] = true
		counted += ev.Articles
	}
	for k := range want.events {
		if !got[k] {
			t.Errorf("event %s reported by the farm's items is not recorded", k)
		}
	}
	for k := range got {
		if !want.events[k] {
			t.Errorf("event %s recorded, but no item reports it", k)
		}
	}
	if counted != mentions || counted != want.eventArticles {
		t.Errorf("the events count %d reporting articles; the indexed articles mention %d, the farm planted %d: an article counted twice or never",
			counted, mentions, want.eventArticles)
	}
}

// checkAlerts compares the receiver and the outbox with the events: each
// alert received under one id, with its own event; each delivered in the
// outbox and so listed by `minewatch alerts list`.
func checkAlerts(t *testing.T, bin, cfgPath string, env []string, dataDir string, want truth, sink *countingSink) (int, int) {
	t.Helper()
	ctx := t.Context()
	byID, deliveries := sink.counts()
	wantIDs := map[string]string{}
	for k := range want.events {
		wantIDs[alert.MessageID(crashRule, config.ChannelWebhook, k)] = k
	}
	for id, key := range wantIDs {
		if byID[id] == 0 {
			t.Errorf("alert %s (event %s) never reached the webhook", id, key)
		}
		if keys := sink.eventKeys(id); len(keys) != 1 || keys[0] != key {
			t.Errorf("deliveries of %s carry events %v, want only %s", id, keys, key)
		}
	}
	for id := range byID {
		if _, ok := wantIDs[id]; !ok {
			t.Errorf("the webhook received %s, which is no event's alert", id)
		}
	}

	st, err := disk.Open(ctx, disk.Options{Dir: dataDir})
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := st.Messages(ctx, index.MessageFilter{Limit: 10 * (len(wantIDs) + 1)})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if m.State != news.MessageDelivered {
			t.Errorf("outbox: %s is %s after %d attempts (%s)", m.ID, m.State, m.Attempts, m.LastError)
		}
	}
	if len(msgs) != len(wantIDs) {
		t.Errorf("outbox holds %d messages for %d events", len(msgs), len(wantIDs))
	}

	cmd := exec.Command(bin, "--config", cfgPath, "alerts", "list", "--state", "delivered", "--kind", "alert", "--limit", strconv.Itoa(10*(len(wantIDs)+1)))
	cmd.Env = env
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("minewatch alerts list: %v", err)
	}
	listed := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		for _, f := range strings.Fields(line) {
			if strings.HasPrefix(f, "alert/") {
				listed[f] = true
			}
		}
	}
	for id := range wantIDs {
		if !listed[id] {
			t.Errorf("`minewatch alerts list --state delivered` does not show %s", id)
		}
	}
	return deliveries, len(byID)
}

// countingSink is the analysts' webhook receiver: it checks the HMAC
// signature over the raw body and counts every accepted delivery by its id,
// duplicates included.
type countingSink struct {
	t      *testing.T
	secret []byte
	mu     sync.Mutex
	byID   map[string]int
	keys   map[string][]string // event keys each id's deliveries carried
	total  int
}

func newCountingSink(t *testing.T, secret string) *countingSink {
	return &countingSink{t: t, secret: []byte(secret), byID: map[string]int{}, keys: map[string][]string{}}
}

func (s *countingSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		// The sender died mid-request: nothing was delivered.
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	id := r.Header.Get("X-Minewatch-Delivery")
	if !alert.VerifySignature(s.secret, body, r.Header.Get("X-Minewatch-Signature")) {
		s.t.Errorf("webhook %s: bad signature", id)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var p alert.Payload
	if err := json.Unmarshal(body, &p); err != nil || p.ID != id {
		s.t.Errorf("webhook %s: body id %q, %v", id, p.ID, err)
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.byID[id]++
	s.total++
	if !slices.Contains(s.keys[id], p.Event.Key) {
		s.keys[id] = append(s.keys[id], p.Event.Key)
	}
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// counts returns deliveries per id and in all.
func (s *countingSink) counts() (map[string]int, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.byID), s.total
}

func (s *countingSink) eventKeys(id string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.keys[id])
}

// farmItem is one article of the feed farm.
type farmItem struct {
	feed, n   int
	round     int // the round it is published in
	title     string
	text      []string // paragraphs
	published time.Time
}

func (it farmItem) path() string { return fmt.Sprintf("/a/%02d/%03d", it.feed, it.n) }

// feedFarm serves crashFeeds RSS feeds whose items grow every round, with a
// page per item; about a third of the items report a treaty move, some of
// them a move another outlet reported before.
type feedFarm struct {
	feeds  [][]farmItem
	rounds int

	mu    sync.Mutex
	base  string
	round int

	feedHits, notModified, pageHits atomic.Int64
}

// eventStories are the treaty moves the farm's items report, by template;
// each (template, country) is one event.
var eventStories = []struct {
	title string
	text  []string
}{
	{"%[1]s announces it will leave the Ottawa Convention",
		[]string{"The government of %[1]s announced on Monday that it will withdraw from the Ottawa Convention, the 1997 treaty banning anti-personnel landmines.",
			"The prime minister said the decision reflected the security situation in the region and that the country would keep its mine clearance programme.",
			"Human rights groups criticised the move and urged the government to reconsider."}},
	{"%[1]s parliament votes to withdraw from the Mine Ban Treaty",
		[]string{"The parliament of %[1]s voted on Thursday to withdraw from the Ottawa Convention banning anti-personnel mines.",
			"Lawmakers approved the withdrawal by a large majority after a long debate about national defence.",
			"The law now goes to the president for signature."}},
	{"%[1]s notifies the UN of its withdrawal from the Ottawa Convention",
		[]string{"%[1]s deposited its instrument of withdrawal from the Ottawa Convention with the United Nations Secretary-General on Friday.",
			"The withdrawal takes effect six months after the notification, the foreign ministry said.",
			"Campaigners called it a dark day for the mine ban."}},
	{"%[1]s votes to withdraw from the Convention on Cluster Munitions",
		[]string{"The parliament of %[1]s voted on Wednesday to withdraw from the Convention on Cluster Munitions, the 2008 treaty banning cluster munitions.",
			"Lawmakers approved the withdrawal by a wide margin, citing the threat from the east.",
			"The defence minister said the country would keep its obligations on victim assistance."}},
}

var eventCountries = []string{"Poland", "Finland", "Estonia", "Latvia", "Lithuania", "Ukraine", "Norway", "Sweden", "Romania", "Hungary"}

var localTopics = []string{"bus lanes", "a new library", "the harbour bridge", "school meals", "the marathon", "a jazz festival",
	"tram repairs", "the city budget", "a flower show", "bicycle paths", "the zoo", "river cleaning"}

func newFeedFarm(rng *rand.Rand, feeds, rounds int) *feedFarm {
	f := &feedFarm{feeds: make([][]farmItem, feeds), rounds: rounds}
	type story struct{ tmpl, country int }
	var fresh, told []story
	for tmpl := range eventStories {
		for c := range eventCountries {
			fresh = append(fresh, story{tmpl, c})
		}
	}
	rng.Shuffle(len(fresh), func(i, j int) { fresh[i], fresh[j] = fresh[j], fresh[i] })
	base := time.Date(2026, 11, 1, 6, 0, 0, 0, time.UTC)
	add := func(feed, round int) {
		n := len(f.feeds[feed])
		it := farmItem{feed: feed, n: n, round: round, published: base.Add(time.Duration(round)*time.Hour + time.Duration(feed)*time.Minute + time.Duration(n)*time.Second)}
		switch r := rng.Float64(); {
		case r < 0.25 && len(fresh) > 0, r < 0.35 && len(told) == 0 && len(fresh) > 0:
			s := fresh[0]
			fresh, told = fresh[1:], append(told, s)
			es := eventStories[s.tmpl]
			it.title = fmt.Sprintf(es.title, eventCountries[s.country])
			for _, p := range es.text {
				it.text = append(it.text, fmt.Sprintf(p, eventCountries[s.country]))
			}
		case r < 0.35:
			// Another outlet reports a move already told: one event, one alert.
			s := told[rng.IntN(len(told))]
			es := eventStories[s.tmpl]
			it.title = fmt.Sprintf(es.title, eventCountries[s.country]) + fmt.Sprintf(" (outlet %d)", feed)
			for _, p := range es.text {
				it.text = append(it.text, fmt.Sprintf(p, eventCountries[s.country]))
			}
			it.text = append(it.text, fmt.Sprintf("This report was filed by outlet number %d of the farm.", feed))
		default:
			topic := localTopics[rng.IntN(len(localTopics))]
			it.title = fmt.Sprintf("City council debates %s, item %d of feed %d", topic, n, feed)
			it.text = []string{
				fmt.Sprintf("The city council met on Tuesday to discuss %s, item %d of feed %d.", topic, n, feed),
				fmt.Sprintf("Councillors asked for a report on costs before a vote next month, and %d residents attended.", 10+rng.IntN(200)),
				"The mayor said the plans would be published on the city website for comments.",
			}
		}
		f.feeds[feed] = append(f.feeds[feed], it)
	}
	for feed := range feeds {
		add(feed, 0)
		add(feed, 0)
	}
	for round := 1; round <= rounds+1; round++ {
		for range 3 {
			add(rng.IntN(feeds), round)
		}
	}
	return f
}

func (f *feedFarm) setBase(u string) {
	f.mu.Lock()
	f.base = u
	f.mu.Unlock()
}

// advance publishes the items of round r.
func (f *feedFarm) advance(r int) {
	f.mu.Lock()
	f.round = r
	f.mu.Unlock()
}

// visible returns a feed's items published by now, newest first, and the
// base URL.
func (f *feedFarm) visible(feed int) ([]farmItem, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []farmItem
	for _, it := range f.feeds[feed] {
		if it.round <= f.round {
			out = append(out, it)
		}
	}
	slices.Reverse(out)
	return out, f.base
}

// config is the minewatch.yaml of the harness: the farm's feeds polled every
// second, one webhook alert rule for every event.
func (f *feedFarm) config(dataDir, webhook string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `fetch:
  allow_private: ["127.0.0.0/8"]
  per_host_delay: 1ms
  per_host_concurrency: 8
  workers: 4
  timeout: 10s
index:
  dir: %q
alerts:
  - id: %s
    channels:
      - kind: webhook
        url: %q
        secret_env: %s
sources:
`, dataDir, crashRule, webhook, crashSecretEnv)
	for feed := range f.feeds {
		fmt.Fprintf(&b, "  - {id: farm-%02d, name: Farm %02d, url: %q, language: en, schedule: \"@every 1s\"}\n",
			feed, feed, f.base+fmt.Sprintf("/feeds/%02d.xml", feed))
	}
	return b.String()
}

func (f *feedFarm) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/robots.txt":
		fmt.Fprint(w, "User-agent: *\nAllow: /\n")
	case strings.HasPrefix(r.URL.Path, "/feeds/"):
		f.serveFeed(w, r)
	case strings.HasPrefix(r.URL.Path, "/a/"):
		f.servePage(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (f *feedFarm) serveFeed(w http.ResponseWriter, r *http.Request) {
	f.feedHits.Add(1)
	feed, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/feeds/"), ".xml"))
	if err != nil || feed < 0 || feed >= len(f.feeds) {
		http.NotFound(w, r)
		return
	}
	items, base := f.visible(feed)
	etag := fmt.Sprintf(`"farm-%02d-%d"`, feed, len(items))
	w.Header().Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		f.notModified.Add(1)
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Farm %02d</title><link>%s/</link><description>Feed %02d of the crash farm</description>
`, feed, base, feed)
	for _, it := range items {
		u := base + it.path()
		fmt.Fprintf(w, "<item><title>%s</title><link>%s</link><guid>%s</guid><pubDate>%s</pubDate><description>%s</description></item>\n",
			html.EscapeString(it.title), u, u, it.published.Format(time.RFC1123Z), html.EscapeString(it.text[0]))
	}
	fmt.Fprint(w, "</channel></rss>\n")
}

func (f *feedFarm) servePage(w http.ResponseWriter, r *http.Request) {
	f.pageHits.Add(1)
	var feed, n int
	if _, err := fmt.Sscanf(r.URL.Path, "/a/%d/%d", &feed, &n); err != nil || feed < 0 || feed >= len(f.feeds) {
		http.NotFound(w, r)
		return
	}
	items, base := f.visible(feed)
	i := slices.IndexFunc(items, func(it farmItem) bool { return it.n == n })
	if i < 0 {
		http.NotFound(w, r)
		return
	}
	it := items[i]
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>%[1]s</title>
<link rel="canonical" href="%[2]s"><meta property="article:published_time" content="%[3]s"></head>
<body><header><nav><a href="/">Farm %02[4]d</a></nav></header><main><article><h1>%[1]s</h1>
`, html.EscapeString(it.title), base+it.path(), it.published.Format(time.RFC3339), feed)
	for _, p := range it.text {
		fmt.Fprintf(w, "<p>%s</p>\n", html.EscapeString(p))
	}
	fmt.Fprint(w, "</article></main><footer>Crash farm</footer></body></html>\n")
}

// groundTruth is what the farm has published by now, and the events and
// entity mentions the classifier (the one the binary builds from the same
// default rules) finds in it.
func (f *feedFarm) groundTruth(t *testing.T) truth {
	t.Helper()
	cl, err := newClassifier(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	w := truth{events: map[string]bool{}}
	for feed := range f.feeds {
		items, base := f.visible(feed)
		for _, it := range items {
			w.urls = append(w.urls, base+it.path())
			c := cl.Classify(news.Article{Title: it.title, Text: strings.Join(it.text, "\n\n"), Language: "en"})
			for _, e := range c.Entities {
				w.events[e.Key()] = true
				w.eventArticles++
			}
		}
	}
	if len(w.events) == 0 {
		t.Fatal("the farm's items report no event the classifier finds; the harness would prove nothing")
	}
	return w
}
