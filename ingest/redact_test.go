package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/minewatch/minewatch/ingest/fetch"
	"github.com/minewatch/minewatch/news"
)

// syncBuffer is a log sink shared by the fetcher's and the ingester's
// loggers, written from the page workers at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A source whose URL carries an API key, and items whose links carry a
// token, never show them: not in the log lines of the fetcher or the
// ingester, not in the source's error, not in the items' errors. The
// errors still classify as before.
func TestSecretsInURLsAreRedacted(t *testing.T) {
	const apiKey, pageToken = "feedKEY-7f3a9c21", "pageTOKEN-55e1b0"
	mux := http.NewServeMux()
	var base string
	mux.HandleFunc("/ok.xml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<item><title>Lithuania leaves the convention</title><link>%s/gone?token=%s</link><description>Vilnius deposited its notice.</description></item>
</channel></rss>`, base, pageToken)
	})
	mux.HandleFunc("/broken.xml", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "upstream down", http.StatusBadGateway)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	base = srv.URL
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()

	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f, err := fetch.New(fetch.Options{AllowPrivate: []string{"127.0.0.1"}, PerHostDelay: -1, Retries: 1, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	in := New(Options{Fetcher: f, Logger: log})

	tests := []struct {
		name      string
		url       string
		wantErr   string // error class of the source's error; "" for none
		itemError bool
	}{
		{"feed ok, item page fails", srv.URL + "/ok.xml?apiKey=" + apiKey, "", true},
		{"feed answers 502", srv.URL + "/broken.xml?lang=en&apiKey=" + apiKey, "http", false},
		{"connection refused", closedURL + "/feed.xml?api_key=" + apiKey, "network", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := news.Source{ID: "keyed", Kind: news.KindFeed, URL: tc.url, FetchPages: true}
			res, err := in.Collect(t.Context(), src, news.SourceState{}, nil)
			var texts []string
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Collect: %v", err)
				}
			} else {
				if err == nil {
					t.Fatal("Collect succeeded, want an error")
				}
				if got := fetch.Class(err); got != tc.wantErr {
					t.Errorf("error class %q, want %q (redacting must keep the error's chain): %v", got, tc.wantErr, err)
				}
				texts = append(texts, err.Error())
			}
			if tc.itemError && len(res.ItemErrors) == 0 {
				t.Fatal("no item error for the failing page")
			}
			for _, ie := range res.ItemErrors {
				texts = append(texts, ie.Error())
				if _, ok := errors.AsType[*fetch.StatusError](ie); !ok {
					t.Errorf("item error lost its *fetch.StatusError: %v", ie)
				}
			}
			texts = append(texts, logs.String())
			for _, s := range texts {
				for _, secret := range []string{apiKey, pageToken} {
					if strings.Contains(s, secret) {
						t.Errorf("%q leaked in:\n%s", secret, s)
					}
				}
			}
			if !strings.Contains(logs.String(), "REDACTED") {
				t.Errorf("the logs do not show the redacted URL:\n%s", logs.String())
			}
		})
	}
}
