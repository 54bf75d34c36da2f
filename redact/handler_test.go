package redact

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestHandler(t *testing.T) {
	keyed := "https://newsapi.example/v2?q=mines&apiKey=" + secret
	tests := []struct {
		name string
		log  func(l *slog.Logger)
	}{
		{"string attribute", func(l *slog.Logger) { l.Info("source collected", "source", "s", "url", keyed) }},
		{"error attribute", func(l *slog.Logger) {
			l.Warn("source failed", "error", fmt.Errorf("collect s: Get %q: %w", keyed, errors.New("EOF")))
		}},
		{"message", func(l *slog.Logger) { l.Info("fetching " + keyed) }},
		{"group", func(l *slog.Logger) { l.Info("x", slog.Group("req", slog.String("url", keyed), slog.Int("n", 1))) }},
		{"with attrs", func(l *slog.Logger) { l.With("feed", keyed).Info("x") }},
		{"log valuer", func(l *slog.Logger) { l.Info("x", "src", valuer(keyed)) }},
	}
	for _, tc := range tests {
		for _, format := range []string{"text", "json"} {
			t.Run(tc.name+"/"+format, func(t *testing.T) {
				var buf bytes.Buffer
				var next slog.Handler = slog.NewTextHandler(&buf, nil)
				if format == "json" {
					next = slog.NewJSONHandler(&buf, nil)
				}
				tc.log(slog.New(NewHandler(next)))
				out := buf.String()
				if strings.Contains(out, secret) {
					t.Errorf("the key leaked: %s", out)
				}
				if !strings.Contains(out, "apiKey=REDACTED") {
					t.Errorf("the URL is not shown redacted: %s", out)
				}
			})
		}
	}
}

func TestHandlerKeepsOtherValues(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(NewHandler(slog.NewJSONHandler(&buf, nil)))
	l.WithGroup("g").Info("plain", "n", 3, "ok", true, "s", "https://x.example/feed.xml")
	want := `"msg":"plain","g":{"n":3,"ok":true,"s":"https://x.example/feed.xml"}`
	if !strings.Contains(buf.String(), want) {
		t.Errorf("got %s, want it to contain %s", buf.String(), want)
	}
}

type valuer string

func (v valuer) LogValue() slog.Value { return slog.StringValue(string(v)) }
