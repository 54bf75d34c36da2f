// Package websub subscribes to feeds that advertise a WebSub hub, so their new
// items are pushed within seconds; polling stays the fallback.
package websub

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// MaxBody caps a pushed feed; a larger body is refused.
const MaxBody = 5 << 20

// ErrUnknownSource is returned for a callback of a source never subscribed.
var ErrUnknownSource = errors.New("websub: unknown source")

// Subscription is what we asked a hub for. It is persisted so a restart
// keeps verifying pushes and renews before the lease ends.
type Subscription struct {
	SourceID string    `json:"source_id"`
	Hub      string    `json:"hub"`
	Topic    string    `json:"topic"`
	Secret   string    `json:"secret"` // hex; the HMAC key the hub signs with
	Expires  time.Time `json:"expires"`
	Verified bool      `json:"verified"`
}

// Options configure a Subscriber.
type Options struct {
	// CallbackBase is web.base_url; callbacks are CallbackBase/websub/<source id>.
	CallbackBase string
	// File persists subscriptions (JSON), e.g. <index dir>/websub.json.
	File string
	// Deliver receives each verified push (the lead wires it to ingest).
	Deliver func(ctx context.Context, sourceID string, body []byte) error
	Lease   time.Duration // asked of the hub; 0 means 10 days
	// RenewBefore renews this long before expiry; 0 means 1 day.
	RenewBefore time.Duration
	HTTP        *http.Client
	Now         func() time.Time
	Logger      *slog.Logger
}

// Subscriber manages subscriptions and serves the callback endpoint. It is
// safe for concurrent use.
type Subscriber struct {
	opts Options
	log  *slog.Logger
	mu   sync.Mutex
	subs map[string]Subscription
}

// New loads persisted subscriptions.
func New(opts Options) (*Subscriber, error) {
	if opts.CallbackBase == "" || opts.Deliver == nil || opts.File == "" {
		return nil, errors.New("websub: CallbackBase, File and Deliver are required")
	}
	if opts.Lease <= 0 {
		opts.Lease = 10 * 24 * time.Hour
	}
	if opts.RenewBefore <= 0 {
		opts.RenewBefore = 24 * time.Hour
	}
	if opts.HTTP == nil {
		opts.HTTP = &http.Client{Timeout: 20 * time.Second}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Subscriber{opts: opts, log: log, subs: map[string]Subscription{}}
	data, err := os.ReadFile(opts.File)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("websub: read %s: %w", opts.File, err)
	default:
		var list []Subscription
		if err := json.Unmarshal(data, &list); err != nil {
			return nil, fmt.Errorf("websub: parse %s: %w", opts.File, err)
		}
		for _, sub := range list {
			s.subs[sub.SourceID] = sub
		}
	}
	return s, nil
}

// save writes the subscriptions atomically (temp file + rename). Callers hold mu.
func (s *Subscriber) save() error {
	list := make([]Subscription, 0, len(s.subs))
	for _, sub := range s.subs {
		list = append(list, sub)
	}
	data, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(s.opts.File), ".websub-*.json")
	if err != nil {
		return fmt.Errorf("websub: save: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("websub: save: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("websub: save: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.opts.File); err != nil {
		return fmt.Errorf("websub: save: %w", err)
	}
	return nil
}

func (s *Subscriber) callback(sourceID string) string {
	return strings.TrimRight(s.opts.CallbackBase, "/") + "/websub/" + url.PathEscape(sourceID)
}

// Subscribe asks hub to push topic for sourceID, with a new secret. The hub
// confirms asynchronously through the callback's GET.
func (s *Subscriber) Subscribe(ctx context.Context, sourceID, hub, topic string) error {
	secret := make([]byte, 32)
	rand.Read(secret)
	sub := Subscription{SourceID: sourceID, Hub: hub, Topic: topic, Secret: hex.EncodeToString(secret)}
	s.mu.Lock()
	if old, ok := s.subs[sourceID]; ok && old.Hub == hub && old.Topic == topic {
		sub.Expires, sub.Verified = old.Expires, old.Verified // keep serving until the new lease is verified
		sub.Secret = old.Secret
	}
	s.subs[sourceID] = sub
	err := s.save()
	s.mu.Unlock()
	if err != nil {
		return err
	}
	form := url.Values{
		"hub.mode": {"subscribe"}, "hub.topic": {topic}, "hub.callback": {s.callback(sourceID)},
		"hub.secret": {sub.Secret}, "hub.lease_seconds": {strconv.Itoa(int(s.opts.Lease.Seconds()))},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hub, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("websub subscribe %s at %s: %w", topic, hub, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := s.opts.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("websub subscribe %s at %s: %w", topic, hub, err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("websub subscribe %s at %s: %s", topic, hub, resp.Status)
	}
	return nil
}

// Renew re-subscribes every subscription that expires within RenewBefore
// (or was never verified). Run it periodically (hourly).
func (s *Subscriber) Renew(ctx context.Context) error {
	now := s.opts.Now()
	s.mu.Lock()
	var due []Subscription
	for _, sub := range s.subs {
		if !sub.Verified || sub.Expires.Sub(now) < s.opts.RenewBefore {
			due = append(due, sub)
		}
	}
	s.mu.Unlock()
	var errs []error
	for _, sub := range due {
		if err := s.Subscribe(ctx, sub.SourceID, sub.Hub, sub.Topic); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Subscriptions returns a copy of the current subscriptions.
func (s *Subscriber) Subscriptions() []Subscription {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Subscription, 0, len(s.subs))
	for _, sub := range s.subs {
		out = append(out, sub)
	}
	return out
}

// ServeHTTP is the callback endpoint; mount it at /websub/ so the path's
// last element is the source id.
func (s *Subscriber) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id, err := url.PathUnescape(strings.TrimPrefix(r.URL.EscapedPath()[strings.LastIndex(r.URL.EscapedPath(), "/"):], "/"))
	if err != nil || id == "" {
		http.NotFound(w, r)
		return
	}
	s.mu.Lock()
	sub, ok := s.subs[id]
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	switch r.Method {
	case http.MethodGet:
		s.verify(w, r, sub)
	case http.MethodPost:
		s.push(w, r, sub)
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// verify answers the hub's intent verification: only for the topic we asked
// for, so nobody can subscribe us to something else.
func (s *Subscriber) verify(w http.ResponseWriter, r *http.Request, sub Subscription) {
	q := r.URL.Query()
	mode, topic, challenge := q.Get("hub.mode"), q.Get("hub.topic"), q.Get("hub.challenge")
	if topic != sub.Topic || challenge == "" {
		http.NotFound(w, r)
		return
	}
	switch mode {
	case "subscribe":
		lease, err := strconv.Atoi(q.Get("hub.lease_seconds"))
		if err != nil || lease <= 0 {
			lease = int(s.opts.Lease.Seconds())
		}
		s.mu.Lock()
		cur := s.subs[sub.SourceID]
		cur.Verified, cur.Expires = true, s.opts.Now().Add(time.Duration(lease)*time.Second)
		s.subs[sub.SourceID] = cur
		err = s.save()
		s.mu.Unlock()
		if err != nil {
			s.log.Error("websub: cannot persist subscription", "source", sub.SourceID, "error", err)
			http.Error(w, "cannot persist", http.StatusInternalServerError)
			return
		}
		s.log.Info("websub subscription verified", "source", sub.SourceID, "hub", sub.Hub, "lease", lease)
	case "denied":
		s.log.Warn("websub subscription denied by hub", "source", sub.SourceID, "hub", sub.Hub, "reason", q.Get("hub.reason"))
	default:
		// We never ask to unsubscribe; a hub asking us to confirm one is
		// answered with 404, which keeps the subscription.
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	io.WriteString(w, challenge)
}

// push checks the signature and hands the content on. Per the WebSub spec a
// bad signature still gets 2xx (so the hub does not retry forged content),
// but the content is dropped.
func (s *Subscriber) push(w http.ResponseWriter, r *http.Request, sub Subscription) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
		return
	}
	// The hub keys the HMAC with hub.secret exactly as we sent it (the
	// spec's "secret string"): the hex text, not the bytes it encodes.
	if sub.Secret == "" || !ValidSignature([]byte(sub.Secret), body, r.Header.Get("X-Hub-Signature")) {
		s.log.Warn("websub push with a bad signature dropped", "source", sub.SourceID)
		w.WriteHeader(http.StatusAccepted)
		return
	}
	if err := s.opts.Deliver(r.Context(), sub.SourceID, body); err != nil {
		s.log.Error("websub push not ingested", "source", sub.SourceID, "error", err)
		http.Error(w, "ingest failed", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// ValidSignature checks an X-Hub-Signature header ("sha1=…", "sha256=…",
// "sha384=…" or "sha512=…") against body in constant time.
func ValidSignature(secret, body []byte, header string) bool {
	algo, sig, ok := strings.Cut(header, "=")
	if !ok {
		return false
	}
	var h func() hash.Hash
	switch strings.ToLower(algo) {
	case "sha1":
		h = sha1.New
	case "sha256":
		h = sha256.New
	case "sha384":
		h = sha512.New384
	case "sha512":
		h = sha512.New
	default:
		return false
	}
	got, err := hex.DecodeString(sig)
	if err != nil {
		return false
	}
	mac := hmac.New(h, secret)
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}
