package websub

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// sign is what a hub does: HMAC keyed with the hub.secret string it got.
func sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

func TestSubscribeVerifyPush(t *testing.T) {
	var mu sync.Mutex
	var got []string
	pushed := make(chan string, 4)
	var sub *Subscriber
	app := httptest.NewServer(http.StripPrefix("", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { sub.ServeHTTP(w, r) })))
	t.Cleanup(app.Close)
	verified := make(chan string, 1)
	var hubWG sync.WaitGroup
	hub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		cb, topic, secret := r.Form.Get("hub.callback"), r.Form.Get("hub.topic"), r.Form.Get("hub.secret")
		w.WriteHeader(http.StatusAccepted)
		hubWG.Go(func() {
			// Intent verification, then a signed push and a forged one.
			resp, err := http.Get(cb + "?hub.mode=subscribe&hub.lease_seconds=3600&hub.challenge=c123&hub.topic=" + url.QueryEscape(topic))
			if err != nil {
				verified <- err.Error()
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			verified <- string(b)
			body := []byte("<feed>new item</feed>")
			for _, sig := range []string{sign(secret, []byte("other")), sign(secret, body)} {
				req, _ := http.NewRequest(http.MethodPost, cb, strings.NewReader(string(body)))
				req.Header.Set("X-Hub-Signature", sig)
				if resp, err := http.DefaultClient.Do(req); err == nil {
					resp.Body.Close()
				}
			}
		})
	}))
	t.Cleanup(func() { hubWG.Wait(); hub.Close() })
	file := filepath.Join(t.TempDir(), "websub.json")
	var err error
	sub, err = New(Options{CallbackBase: app.URL, File: file, Deliver: func(_ context.Context, id string, body []byte) error {
		mu.Lock()
		got = append(got, id+":"+string(body))
		mu.Unlock()
		pushed <- id
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := sub.Subscribe(t.Context(), "err-news", hub.URL, "https://news.err.ee/rss"); err != nil {
		t.Fatal(err)
	}
	if c := <-verified; c != "c123" {
		t.Fatalf("challenge echo = %q", c)
	}
	<-pushed
	hubWG.Wait()
	mu.Lock()
	if len(got) != 1 || got[0] != "err-news:<feed>new item</feed>" {
		t.Errorf("delivered %q, want only the correctly signed push", got)
	}
	mu.Unlock()
	// A restart keeps the verified subscription and its secret.
	again, err := New(Options{CallbackBase: app.URL, File: file, Deliver: func(context.Context, string, []byte) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	subs := again.Subscriptions()
	if len(subs) != 1 || !subs[0].Verified || subs[0].Expires.IsZero() || subs[0].Secret == "" {
		t.Errorf("persisted subscriptions = %+v", subs)
	}
}

func TestVerifyOnlyOurTopics(t *testing.T) {
	sub, err := New(Options{CallbackBase: "http://x", File: filepath.Join(t.TempDir(), "w.json"),
		Deliver: func(context.Context, string, []byte) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	sub.subs["src"] = Subscription{SourceID: "src", Topic: "https://a.example/feed", Secret: "00"}
	tests := map[string]struct {
		target string
		want   int
	}{
		"our topic":      {"/websub/src?hub.mode=subscribe&hub.challenge=x&hub.topic=https://a.example/feed", 200},
		"other topic":    {"/websub/src?hub.mode=subscribe&hub.challenge=x&hub.topic=https://evil.example/feed", 404},
		"unknown source": {"/websub/nope?hub.mode=subscribe&hub.challenge=x&hub.topic=https://a.example/feed", 404},
		"unsubscribe":    {"/websub/src?hub.mode=unsubscribe&hub.challenge=x&hub.topic=https://a.example/feed", 404},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			w := httptest.NewRecorder()
			sub.ServeHTTP(w, httptest.NewRequest(http.MethodGet, tc.target, nil))
			if w.Code != tc.want {
				t.Errorf("status %d, want %d", w.Code, tc.want)
			}
		})
	}
}

func FuzzValidSignature(f *testing.F) {
	f.Add([]byte("k"), []byte("body"), "sha1=00")
	f.Add([]byte("k"), []byte("body"), "sha256=zz")
	f.Add([]byte(""), []byte(""), "=")
	f.Fuzz(func(t *testing.T, secret, body []byte, header string) {
		ValidSignature(secret, body, header)
		mac := hmac.New(sha256.New, secret)
		mac.Write(body)
		if !ValidSignature(secret, body, "sha256="+hex.EncodeToString(mac.Sum(nil))) {
			t.Error("correct signature rejected")
		}
	})
}
