package mail

import (
	"bufio"
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minewatch/minewatch/mail/mailtest"
)

func TestNewOptions(t *testing.T) {
	tests := map[string]struct {
		opts     Options
		wantErr  string
		wantPort int
	}{
		"defaults to starttls on 587": {opts: Options{Host: "smtp.example.org", From: "a@example.org"}, wantPort: 587},
		"implicit tls on 465":         {opts: Options{Host: "smtp.example.org", From: "a@example.org", TLS: TLSImplicit}, wantPort: 465},
		"none on 25":                  {opts: Options{Host: "smtp.example.org", From: "a@example.org", TLS: TLSNone}, wantPort: 25},
		"explicit port kept":          {opts: Options{Host: "smtp.example.org", From: "a@example.org", Port: 2525}, wantPort: 2525},
		"no host":                     {opts: Options{From: "a@example.org"}, wantErr: "no SMTP host"},
		"bad from":                    {opts: Options{Host: "h", From: "not an address"}, wantErr: "from address"},
		"bad tls":                     {opts: Options{Host: "h", From: "a@example.org", TLS: "ssl"}, wantErr: "unknown TLS mode"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s, err := New(tc.opts)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("New error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.opts.Port != tc.wantPort {
				t.Errorf("port = %d, want %d", s.opts.Port, tc.wantPort)
			}
		})
	}
}

func TestMessageIDStable(t *testing.T) {
	s, err := New(Options{Host: "h", From: "minewatch <mw@example.org>"})
	if err != nil {
		t.Fatal(err)
	}
	a, b := s.MessageID("digest/ana/2026-11-26"), s.MessageID("digest/ana/2026-11-26")
	if a != b || !strings.HasSuffix(a, "@example.org") {
		t.Errorf("MessageID = %q, %q; want equal and in the sender's domain", a, b)
	}
	if s.MessageID("digest/ana/2026-11-27") == a {
		t.Error("different ids give the same Message-ID")
	}
}

func TestSendThroughMailpit(t *testing.T) {
	mp := mailtest.Start(t)
	ctx := t.Context()
	s, err := New(Options{Host: mp.Host, Port: mp.Port, From: "minewatch <minewatch@example.org>", TLS: TLSNone,
		Username: "user", Password: "pass", UnsubscribeURL: "https://mw.example.org/unsubscribe?s=ana"})
	if err != nil {
		t.Fatal(err)
	}
	to := []string{mailtest.Unique(t, "ana"), mailtest.Unique(t, "ben")}
	m := Message{
		ID: "alert/test/email/LT/withdraw_notify/ccm", To: to,
		Subject: "Lithuania – withdrawal notified – CCM",
		HTML:    `<p>Lithuania <a href="https://example.org/a">notified</a></p>`,
		Text:    "Lithuania notified https://example.org/a",
		Headers: map[string]string{"X-Minewatch-Rule": "test", "Subject": "ignored"},
	}
	if err := s.Send(ctx, m); err != nil {
		t.Fatal(err)
	}
	got, err := mp.Search(ctx, "to:"+to[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("Mailpit has %d messages to %s, want 1", len(got), to[0])
	}
	full, err := mp.Get(ctx, got[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct{ name, got, want string }{
		{"subject", full.Subject, m.Subject},
		{"message-id", full.MessageID, s.MessageID(m.ID)},
		{"from", full.From.Address, "minewatch@example.org"},
		{"to count", string(rune('0' + len(full.To))), "2"},
		{"text", strings.TrimSpace(full.Text), m.Text},
		{"html", strings.TrimSpace(full.HTML), m.HTML},
		{"rule header", strings.Join(full.Headers["X-Minewatch-Rule"], ","), "test"},
		{"unsubscribe", strings.Join(full.Headers["List-Unsubscribe"], ","),
			"<mailto:minewatch@example.org?subject=unsubscribe>, <https://mw.example.org/unsubscribe?s=ana>"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
}

func TestStartTLSIsRequired(t *testing.T) {
	mp := mailtest.Start(t)
	// Mailpit here offers no STARTTLS: a starttls sender must refuse to send
	// in clear rather than fall back.
	s, err := New(Options{Host: mp.Host, Port: mp.Port, From: "mw@example.org", Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	to := mailtest.Unique(t, "clear")
	err = s.Send(t.Context(), Message{ID: "x", To: []string{to}, Subject: "s", Text: "t"})
	if err == nil {
		t.Fatal("sent without STARTTLS")
	}
	if got, _ := mp.Search(t.Context(), "to:"+to); len(got) != 0 {
		t.Errorf("a message reached the server in clear")
	}
}

// fakeSMTP serves a scripted SMTP dialogue; rcpt is the reply to RCPT TO.
func fakeSMTP(t *testing.T, rcpt string) (host string, port int, conns *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	conns = new(atomic.Int32)
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			wg.Go(func() {
				defer c.Close()
				r := bufio.NewReader(c)
				reply := func(s string) { c.Write([]byte(s + "\r\n")) }
				reply("220 fake ESMTP")
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					switch cmd := strings.ToUpper(strings.Fields(line + " x")[0]); cmd {
					case "EHLO", "HELO":
						reply("250 fake")
					case "RCPT":
						reply(rcpt)
					case "QUIT":
						reply("221 bye")
						return
					default:
						reply("250 ok")
					}
				}
			})
		}
	})
	addr := ln.Addr().(*net.TCPAddr)
	return "127.0.0.1", addr.Port, conns
}

func TestRetries(t *testing.T) {
	tests := map[string]struct {
		rcpt      string
		retries   int
		wantConns int32
		permanent bool
	}{
		"4xx is retried":           {rcpt: "451 4.3.0 try later", retries: 2, wantConns: 3},
		"5xx is final":             {rcpt: "550 5.1.1 no such user", retries: 2, wantConns: 1, permanent: true},
		"negative retries is once": {rcpt: "451 4.3.0 try later", retries: -1, wantConns: 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			host, port, conns := fakeSMTP(t, tc.rcpt)
			s, err := New(Options{Host: host, Port: port, From: "mw@example.org", TLS: TLSNone,
				Retries: tc.retries, Backoff: time.Millisecond, Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			err = s.Send(t.Context(), Message{ID: "m1", To: []string{"a@example.org"}, Subject: "s", Text: "t"})
			if err == nil {
				t.Fatal("Send succeeded against a refusing server")
			}
			if got := errors.Is(err, ErrPermanent); got != tc.permanent {
				t.Errorf("errors.Is(err, ErrPermanent) = %v, want %v (err %v)", got, tc.permanent, err)
			}
			if got := conns.Load(); got != tc.wantConns {
				t.Errorf("connections = %d, want %d", got, tc.wantConns)
			}
		})
	}
}

func TestSendRejectsEmpty(t *testing.T) {
	s, err := New(Options{Host: "127.0.0.1", From: "mw@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), Message{Subject: "s", Text: "t"}); !errors.Is(err, ErrNoRecipients) {
		t.Errorf("no recipients: %v", err)
	}
	if err := s.Send(context.Background(), Message{To: []string{"a@example.org"}}); err == nil {
		t.Error("no body: no error")
	}
}

func TestBackoffGrowsAndIsCapped(t *testing.T) {
	for attempt := 1; attempt <= 30; attempt++ {
		d := backoff(time.Second, attempt)
		want := min(time.Second<<min(attempt-1, 20), 5*time.Minute)
		if d < want*3/4 || d > want*5/4 {
			t.Errorf("attempt %d: %v outside %v ±25%%", attempt, d, want)
		}
	}
}
