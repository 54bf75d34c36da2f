// Package mail sends minewatch's digests and e-mail alerts over SMTP (through
// github.com/wneessen/go-mail), with TLS, auth, timeouts and retries.
package mail

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	netmail "net/mail"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// TLS modes, as written in the config's mail.tls.
const (
	TLSStartTLS = "starttls" // plain connection upgraded with STARTTLS, which is required
	TLSImplicit = "tls"      // TLS from the first byte (port 465)
	TLSNone     = "none"     // no encryption: only for a relay on localhost or a test server
)

// ErrNoRecipients is returned by Send for a message without recipients.
var ErrNoRecipients = errors.New("mail: no recipients")

// Options configure a Sender. Host and From are required.
type Options struct {
	Host     string
	Port     int // 0: 587 for starttls, 465 for tls, 25 for none
	Username string
	Password string // with Username, SMTP AUTH (PLAIN/LOGIN/CRAM/SCRAM as the server offers)
	From     string // "minewatch <minewatch@example.org>"
	TLS      string // TLSStartTLS (default), TLSImplicit or TLSNone
	// TLSConfig overrides the TLS client settings (a private CA in tests);
	// nil verifies the server against the system roots for Host.
	TLSConfig *tls.Config
	Timeout   time.Duration // per connection and command; 0 means 30s
	Retries   int           // retries of a transient failure; 0 means 3, negative means none
	// Backoff is the first retry's delay, doubled for each later one, with
	// jitter; 0 means 2s.
	Backoff time.Duration
	// UnsubscribeURL, when set (web.base_url + a path), is offered in
	// List-Unsubscribe beside the mailto: address.
	UnsubscribeURL string
	Logger         *slog.Logger
}

// Message is one e-mail. HTML and Text are the two alternative bodies; at
// least one must be set.
type Message struct {
	// ID is the outbox message id. Message-ID is derived from it, so a
	// message re-sent after a crash carries the same Message-ID and mail
	// clients show it once.
	ID      string
	To      []string
	Subject string
	HTML    string
	Text    string
	// Headers are extra headers (X-Minewatch-Rule, ...). Header names that
	// Send sets itself are ignored.
	Headers map[string]string
}

// Sender sends mail through one SMTP server. It is safe for concurrent use:
// each Send opens its own connection.
type Sender struct {
	opts   Options
	from   *netmail.Address
	domain string
	log    *slog.Logger
}

// New checks the options.
func New(opts Options) (*Sender, error) {
	if opts.Host == "" {
		return nil, errors.New("mail: no SMTP host")
	}
	from, err := netmail.ParseAddress(opts.From)
	if err != nil {
		return nil, fmt.Errorf("mail: from address %q: %w", opts.From, err)
	}
	switch opts.TLS {
	case "":
		opts.TLS = TLSStartTLS
	case TLSStartTLS, TLSImplicit, TLSNone:
	default:
		return nil, fmt.Errorf("mail: unknown TLS mode %q (want starttls, tls or none)", opts.TLS)
	}
	if opts.Port == 0 {
		opts.Port = map[string]int{TLSStartTLS: 587, TLSImplicit: 465, TLSNone: 25}[opts.TLS]
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	if opts.Retries == 0 {
		opts.Retries = 3
	}
	if opts.Retries < 0 {
		opts.Retries = 0
	}
	if opts.Backoff <= 0 {
		opts.Backoff = 2 * time.Second
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	_, domain, _ := strings.Cut(from.Address, "@")
	return &Sender{opts: opts, from: from, domain: domain, log: log}, nil
}

// MessageID is the Message-ID (without angle brackets) Send gives a message
// with outbox id id: stable, so receivers can tell a resend.
func (s *Sender) MessageID(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:16]) + "@" + s.domain
}

// Send delivers m, retrying transient failures (connection problems, 4xx
// replies) with exponential backoff. A permanent rejection (5xx) is returned
// at once; errors.Is(err, ErrPermanent) tells them apart.
func (s *Sender) Send(ctx context.Context, m Message) error {
	if len(m.To) == 0 {
		return ErrNoRecipients
	}
	msg, err := s.build(m)
	if err != nil {
		return err
	}
	var lastErr error
	for attempt := 0; attempt <= s.opts.Retries; attempt++ {
		if attempt > 0 {
			d := backoff(s.opts.Backoff, attempt)
			s.log.Warn("mail send failed, retrying", "message", m.ID, "attempt", attempt, "delay", d, "error", lastErr)
			t := time.NewTimer(d)
			select {
			case <-ctx.Done():
				t.Stop()
				return fmt.Errorf("send mail %s: %w (last error: %v)", m.ID, ctx.Err(), lastErr)
			case <-t.C:
			}
		}
		lastErr = s.sendOnce(ctx, msg)
		if lastErr == nil {
			return nil
		}
		if ctx.Err() != nil || errors.Is(lastErr, ErrPermanent) {
			break
		}
	}
	return fmt.Errorf("send mail %s to %s via %s:%d: %w", m.ID, strings.Join(m.To, ", "), s.opts.Host, s.opts.Port, lastErr)
}

// ErrPermanent marks an error the server gave as final (a 5xx reply):
// retrying the same message will not help.
var ErrPermanent = errors.New("mail: permanent failure")

func (s *Sender) sendOnce(ctx context.Context, msg *gomail.Msg) error {
	c, err := s.client()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 2*s.opts.Timeout)
	defer cancel()
	err = c.DialAndSendWithContext(ctx, msg)
	if err == nil {
		return nil
	}
	if se, ok := errors.AsType[*gomail.SendError](err); ok && !se.IsTemp() && se.ErrorCode() >= 500 {
		return fmt.Errorf("%w: %v", ErrPermanent, err)
	}
	return err
}

func (s *Sender) client() (*gomail.Client, error) {
	opts := []gomail.Option{
		gomail.WithPort(s.opts.Port),
		gomail.WithTimeout(s.opts.Timeout),
	}
	tlsConf := s.opts.TLSConfig
	if tlsConf == nil {
		tlsConf = &tls.Config{ServerName: s.opts.Host, MinVersion: tls.VersionTLS12}
	}
	switch s.opts.TLS {
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL(), gomail.WithTLSConfig(tlsConf))
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		// Mandatory: a server that does not offer STARTTLS (or a man in the
		// middle that strips it) must not get the password in clear.
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory), gomail.WithTLSConfig(tlsConf))
	}
	if s.opts.Username != "" {
		auth := gomail.SMTPAuthAutoDiscover
		if s.opts.TLS == TLSNone {
			// The operator chose a clear connection (a relay on localhost);
			// go-mail refuses PLAIN there unless told so explicitly.
			auth = gomail.SMTPAuthPlainNoEnc
		}
		opts = append(opts, gomail.WithSMTPAuth(auth),
			gomail.WithUsername(s.opts.Username), gomail.WithPassword(s.opts.Password))
	}
	c, err := gomail.NewClient(s.opts.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("mail: client for %s: %w", s.opts.Host, err)
	}
	return c, nil
}

func (s *Sender) build(m Message) (*gomail.Msg, error) {
	if m.HTML == "" && m.Text == "" {
		return nil, fmt.Errorf("mail %s: no body", m.ID)
	}
	msg := gomail.NewMsg()
	msg.FromMailAddress(s.from)
	if err := msg.To(m.To...); err != nil {
		return nil, fmt.Errorf("mail %s: recipients: %w", m.ID, err)
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	if m.ID != "" {
		msg.SetMessageIDWithValue(s.MessageID(m.ID))
	} else {
		msg.SetMessageID()
	}
	unsub := []string{"mailto:" + s.from.Address + "?subject=unsubscribe"}
	if s.opts.UnsubscribeURL != "" {
		unsub = append(unsub, s.opts.UnsubscribeURL)
	}
	msg.SetListUnsubscribe(unsub...)
	msg.SetUserAgent("minewatch")
	for k, v := range m.Headers {
		switch strings.ToLower(k) {
		case "from", "to", "cc", "bcc", "subject", "date", "message-id", "list-unsubscribe",
			"mime-version", "content-type", "content-transfer-encoding":
			continue
		}
		msg.SetGenHeader(gomail.Header(k), v)
	}
	switch {
	case m.Text != "" && m.HTML != "":
		msg.SetBodyString(gomail.TypeTextPlain, m.Text)
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	case m.HTML != "":
		msg.SetBodyString(gomail.TypeTextHTML, m.HTML)
	default:
		msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	}
	return msg, nil
}

// backoff is base·2^(attempt-1), ±25 % jitter so retries of many senders
// spread out, capped at 5 minutes.
func backoff(base time.Duration, attempt int) time.Duration {
	d := base << min(attempt-1, 20)
	if d <= 0 || d > 5*time.Minute {
		d = 5 * time.Minute
	}
	j := time.Duration(rand.Int64N(int64(d)/2+1)) - d/4
	return d + j
}
