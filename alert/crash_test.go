package alert_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/minewatch/minewatch/alert"
	"github.com/minewatch/minewatch/index"
	"github.com/minewatch/minewatch/index/disk"
	"github.com/minewatch/minewatch/news"
)

// The child process of TestKilledDispatcher reads its orders from these
// variables; without crashDirEnv TestAlertCrashHelper does nothing.
const (
	crashDirEnv    = "MINEWATCH_ALERT_CRASH_DIR"
	crashURLEnv    = "MINEWATCH_ALERT_CRASH_URL"
	crashEventsEnv = "MINEWATCH_ALERT_CRASH_EVENTS"  // event keys, comma-separated, recorded in order
	crashStopEnv   = "MINEWATCH_ALERT_CRASH_STOP"    // block after recording this many events (0: never)
	crashKillAtEnv = "MINEWATCH_ALERT_CRASH_KILL_AT" // block after the n-th receiver 200, before Update (0: never)
	crashSendEnv   = "MINEWATCH_ALERT_CRASH_SEND"    // "1": run the dispatcher after recording
	crashLifeEnv   = "MINEWATCH_ALERT_CRASH_LIFE"    // how many processes ran before this one
	crashLease     = 2 * time.Minute
	crashSecret    = "crash-test-secret"
	crashRule      = "crash"
	crashLine      = "crashtest:" // prefix of the lines the child reports on
)

// blockUntilKilled waits for the parent's SIGKILL. The parent never writes to
// the child's stdin, so the read only ends when the process does.
func blockUntilKilled() {
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
	os.Exit(3) // the parent went away without killing us
}

// hookQueue is the child's outbox: the real disk store, except that the
// killAt-th Update recording a delivery announces itself and never returns,
// so the parent kills the process after the receiver answered 200 and before
// the outbox knows.
type hookQueue struct {
	*disk.Store
	mu        sync.Mutex
	delivered int
	killAt    int
}

func (q *hookQueue) Update(ctx context.Context, m news.Message) error {
	if m.State == news.MessageDelivered {
		q.mu.Lock()
		q.delivered++
		n := q.delivered
		q.mu.Unlock()
		if n == q.killAt {
			fmt.Println(crashLine, "answered", m.ID)
			blockUntilKilled()
		}
	}
	return q.Store.Update(ctx, m)
}

// parseKey undoes news.EventKey.
func parseKey(key string) (news.Event, error) {
	parts := strings.Split(key, "/")
	if len(parts) != 3 {
		return news.Event{}, fmt.Errorf("bad event key %q", key)
	}
	return news.Event{Key: key, Country: parts[0], Action: news.Action(parts[1]), Treaty: news.Treaty(parts[2])}, nil
}

// TestAlertCrashHelper is the child of TestKilledDispatcher, a stand-in for
// `minewatch run`: it records events with their alerts as the monitor does,
// then dispatches them as the dispatcher does, and stops where it is told to
// wait for the parent's SIGKILL.
func TestAlertCrashHelper(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("only run as the child of TestKilledDispatcher")
	}
	fail := func(err error) {
		fmt.Println(crashLine, "error", err)
		os.Exit(2)
	}
	atoi := func(name string) int {
		n, err := strconv.Atoi(os.Getenv(name))
		if err != nil {
			fail(fmt.Errorf("%s: %w", name, err))
		}
		return n
	}
	stop, killAt, life := atoi(crashStopEnv), atoi(crashKillAtEnv), atoi(crashLifeEnv)
	ctx := context.Background()
	st, err := disk.Open(ctx, disk.Options{Dir: dir})
	if err != nil {
		fail(err)
	}
	rules := []alert.Rule{{ID: crashRule, Channels: []alert.Channel{{
		ID: "webhook", Kind: alert.KindWebhook, URL: os.Getenv(crashURLEnv), Secret: []byte(crashSecret),
	}}}}
	eng, err := alert.NewEngine(alert.EngineOptions{Rules: rules, Events: st})
	if err != nil {
		fail(err)
	}
	for i, key := range strings.Split(os.Getenv(crashEventsEnv), ",") {
		ev, err := parseKey(key)
		if err != nil {
			fail(err)
		}
		ev.FirstSeen, ev.Articles, ev.Evidence = time.Now().UTC(), 1, "Evidence for "+key+"."
		created, err := st.RecordEventAndEnqueue(ctx, ev, eng.MessagesForContext(ctx, ev, news.Document{}))
		if err != nil {
			fail(err)
		}
		fmt.Println(crashLine, "recorded", key, created)
		if i+1 == stop {
			fmt.Println(crashLine, "blocked")
			blockUntilKilled()
		}
	}
	if os.Getenv(crashSendEnv) != "1" {
		return
	}
	// A killed process's leased messages come back when the lease runs out:
	// each process's clock runs one lease (and a bit) ahead of its
	// predecessor's, which stands in for the restart taking that long.
	skew := time.Duration(life) * (crashLease + time.Minute)
	d, err := alert.NewDispatcher(alert.DispatcherOptions{
		Queue: &hookQueue{Store: st, killAt: killAt}, Rules: rules, Docs: st,
		Lease: crashLease, Parallel: 1, Batch: 4,
		Now: func() time.Time { return time.Now().Add(skew) },
	})
	if err != nil {
		fail(err)
	}
	for {
		n, err := d.RunOnce(ctx)
		if err != nil {
			fail(err)
		}
		if n > 0 {
			continue
		}
		pending, err := st.Messages(ctx, index.MessageFilter{States: []news.MessageState{news.MessagePending}})
		if err != nil {
			fail(err)
		}
		if len(pending) > 0 {
			fail(fmt.Errorf("%d messages still pending and not due, e.g. %s: %s", len(pending), pending[0].ID, pending[0].LastError))
		}
		break
	}
	if err := st.Close(); err != nil {
		fail(err)
	}
	fmt.Println(crashLine, "drained")
}

// webhookLog records every delivery a webhook receiver accepted, in order.
type webhookLog struct {
	mu  sync.Mutex
	ids []string // X-Minewatch-Delivery of each accepted request
	bad []string // requests rejected, with why
}

func (l *webhookLog) handler(secret []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		id := r.Header.Get("X-Minewatch-Delivery")
		l.mu.Lock()
		defer l.mu.Unlock()
		switch {
		case err != nil:
			l.bad = append(l.bad, fmt.Sprintf("%s: read body: %v", id, err))
		case !alert.VerifySignature(secret, body, r.Header.Get("X-Minewatch-Signature")):
			l.bad = append(l.bad, id+": bad signature")
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		case !bytes.Contains(body, []byte(`"id":"`+id+`"`)):
			l.bad = append(l.bad, id+": body does not carry the delivery id")
		}
		l.ids = append(l.ids, id)
		w.WriteHeader(http.StatusOK)
	})
}

// counts returns the accepted deliveries per id and the raw total.
func (l *webhookLog) counts() (map[string]int, int, []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := map[string]int{}
	for _, id := range l.ids {
		c[id]++
	}
	return c, len(l.ids), slices.Clone(l.bad)
}

// child is one run of TestAlertCrashHelper.
type child struct {
	cmd    *exec.Cmd
	stdin  io.Closer
	lines  *bufio.Scanner
	stderr *lockedBuffer
}

// lockedBuffer is the child's stderr: exec copies into it while the test
// may read it for a failure message.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func startChild(t *testing.T, env ...string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestAlertCrashHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), env...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, stdin: stdin, lines: bufio.NewScanner(out), stderr: &lockedBuffer{}}
	cmd.Stderr = c.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
		stdin.Close()
	})
	return c
}

// next returns the child's next report, without the prefix; ok is false at
// the end of its output.
func (c *child) next(t *testing.T) ([]string, bool) {
	t.Helper()
	for c.lines.Scan() {
		if rest, ok := strings.CutPrefix(c.lines.Text(), crashLine); ok {
			f := strings.Fields(rest)
			if len(f) > 0 && f[0] == "error" {
				t.Fatalf("child failed: %s\nstderr:\n%s", rest, c.stderr)
			}
			return f, true
		}
	}
	return nil, false
}

// expect reads reports until one starting with word, and returns the
// "recorded" reports seen on the way (key → created).
func (c *child) expect(t *testing.T, word string) (map[string]bool, []string) {
	t.Helper()
	recorded := map[string]bool{}
	for {
		f, ok := c.next(t)
		if !ok {
			err := c.cmd.Wait()
			t.Fatalf("child ended (%v) before reporting %q\nstderr:\n%s", err, word, c.stderr)
		}
		if f[0] == "recorded" && len(f) == 3 {
			recorded[f[1]] = f[2] == "true"
		}
		if f[0] == word {
			return recorded, f[1:]
		}
	}
}

// kill sends SIGKILL and checks it is what ended the child.
func (c *child) kill(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	err := c.cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("killed child: %v, want an exit error", err)
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && (!ws.Signaled() || ws.Signal() != syscall.SIGKILL) {
		t.Fatalf("child ended with %v, not by SIGKILL\nstderr:\n%s", err, c.stderr)
	}
}

// crashKeys are the events of the rounds: distinct (country, action, treaty).
func crashKeys(rounds, perRound int) [][]string {
	countries := []string{"PL", "FI", "EE", "LV", "LT", "UA", "US", "NO", "DE", "FR", "SE", "DK"}
	actions := []news.Action{news.ActionWithdrawAnnounce, news.ActionWithdrawVote, news.ActionWithdrawNotify, news.ActionWithdrawEffective}
	treaties := []news.Treaty{news.TreatyOttawa, news.TreatyCCM}
	out := make([][]string, rounds)
	for g := range rounds * perRound {
		c := countries[g%len(countries)]
		a := actions[g/len(countries)%len(actions)]
		tr := treaties[g/(len(countries)*len(actions))%len(treaties)]
		out[g/perRound] = append(out[g/perRound], news.EventKey(c, a, tr))
	}
	return out
}

// TestKilledDispatcher is issue #7's crash test. Each round a child process
// records new events with their alerts in a real index/disk store and is
// SIGKILLed before any alert leaves; a restarted child, seeing the same
// events again as a restarted monitor would, dispatches and is SIGKILLed
// after the receiver answered 200 for one alert but before the outbox
// recorded it; a third child finishes. Across all rounds every alert reaches
// the receiver, exactly once per delivery id: nothing is lost, nothing is
// enqueued twice, and the only repeat on the wire is the one alert whose
// delivery the kill left unrecorded, sent again with the same id.
func TestKilledDispatcher(t *testing.T) {
	if os.Getenv(crashDirEnv) != "" {
		t.Skip("in the child")
	}
	log := &webhookLog{}
	rcv := httptest.NewServer(log.handler([]byte(crashSecret)))
	defer rcv.Close()
	dir := t.TempDir()
	const rounds, perRound = 4, 5
	var want []string          // every alert id so far
	life := 0                  // processes started so far
	resent := map[string]int{} // id → sends its kill left unrecorded
	for r, keys := range crashKeys(rounds, perRound) {
		env := func(stop, killAt int, send bool) []string {
			s := "0"
			if send {
				s = "1"
			}
			life++
			return []string{crashDirEnv + "=" + dir, crashURLEnv + "=" + rcv.URL, crashEventsEnv + "=" + strings.Join(keys, ","),
				crashStopEnv + "=" + strconv.Itoa(stop), crashKillAtEnv + "=" + strconv.Itoa(killAt), crashSendEnv + "=" + s, crashLifeEnv + "=" + strconv.Itoa(life)}
		}
		stop := 1 + r%perRound   // how many events the first child records
		killAt := 1 + r%perRound // which delivery the second child dies after
		_, before, _ := log.counts()

		// 1. Killed between recording and delivery.
		c := startChild(t, env(stop, 0, false)...)
		rec, _ := c.expect(t, "blocked")
		c.kill(t)
		if len(rec) != stop {
			t.Fatalf("round %d: first child recorded %d events, want %d", r, len(rec), stop)
		}
		if _, n, _ := log.counts(); n != before {
			t.Fatalf("round %d: %d deliveries before any dispatcher ran", r, n-before)
		}

		// 2. Restarted: records everything again (the first stop events are
		// known and enqueue nothing), dispatches, is killed after a 200.
		c = startChild(t, env(0, killAt, true)...)
		rec, answered := c.expect(t, "answered")
		c.kill(t)
		for i, k := range keys {
			if created, ok := rec[k]; !ok || created != (i >= stop) {
				t.Errorf("round %d, second child: event %s recorded=%v created=%v, want created=%v", r, k, ok, created, i >= stop)
			}
		}
		if len(answered) != 1 {
			t.Fatalf("round %d: bad answered report %q", r, answered)
		}
		resent[answered[0]]++

		// 3. Restarted again: delivers the rest, including the unrecorded one.
		c = startChild(t, env(0, 0, true)...)
		rec, _ = c.expect(t, "drained")
		if err := c.cmd.Wait(); err != nil {
			t.Fatalf("round %d: last child: %v\nstderr:\n%s", r, err, c.stderr)
		}
		for k, created := range rec {
			if created {
				t.Errorf("round %d, third child: event %s created again", r, k)
			}
		}

		for _, k := range keys {
			want = append(want, alert.MessageID(crashRule, "webhook", k))
		}
		got, raw, bad := log.counts()
		for _, b := range bad {
			t.Errorf("receiver: %s", b)
		}
		if len(got) != len(want) {
			t.Errorf("round %d: %d distinct delivery ids, want %d (one per event)", r, len(got), len(want))
		}
		wantRaw := 0
		for _, id := range want {
			n := 1 + resent[id]
			wantRaw += n
			if got[id] != n {
				t.Errorf("round %d: %s delivered %d times, want %d", r, id, got[id], n)
			}
		}
		if raw != wantRaw {
			t.Errorf("round %d: %d raw deliveries, want %d (%d events + %d resent after a kill)", r, raw, wantRaw, len(want), len(resent))
		}
		t.Logf("round %d: %d events, %d distinct ids, %d raw deliveries", r, len(want), len(got), raw)
	}

	// The outbox agrees: all delivered, the resent ones on their second attempt.
	st, err := disk.Open(t.Context(), disk.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	msgs, err := st.Messages(t.Context(), index.MessageFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != len(want) {
		t.Errorf("outbox holds %d messages, want %d", len(msgs), len(want))
	}
	for _, m := range msgs {
		if m.State != news.MessageDelivered {
			t.Errorf("%s is %s, want delivered", m.ID, m.State)
		}
		// A kill also strands the rest of its leased batch, which the next
		// process leases again: those count two attempts and were sent once.
		if resent[m.ID] > 0 && m.Attempts != 2 || m.Attempts < 1 || m.Attempts > 2 {
			t.Errorf("%s took %d attempts, want %d", m.ID, m.Attempts, 1+resent[m.ID])
		}
	}
}
