package config

import (
	"time"

	"github.com/minewatch/minewatch/news"
)

// The defaults, all in one place. An option left out of the file, or set to
// its zero value, takes the value here.
const (
	DefaultUserAgent          = "minewatch/1.0"
	DefaultContact            = "https://github.com/minewatch/minewatch"
	DefaultTimeout            = 30 * time.Second
	DefaultPerHostDelay       = 2 * time.Second
	DefaultMaxBodyBytes       = 10 << 20
	DefaultWorkers            = 4
	DefaultPerHostConcurrency = 1
	DefaultRetries            = 2
	DefaultIndexDir           = "./data"
	DefaultOptimize           = "30 3 * * *" // 03:30 every night, server time
	DefaultIndexPrefix        = "minewatch"
	DefaultListen             = "127.0.0.1:8080"
	DefaultSessionTTL         = 12 * time.Hour
	DefaultFeedSchedule       = "@every 15m"
	DefaultQuerySchedule      = "@every 30m"
	DefaultThreshold          = 1.0
	DefaultWeight             = 1.0
	DefaultSendAt             = "0 7 * * *"
	DefaultTimeZone           = "UTC"
)

// defaultMailPort is the usual submission port for each TLS mode.
func defaultMailPort(tls string) int {
	switch tls {
	case TLSImplicit:
		return 465
	case TLSNone:
		return 25
	}
	return 587
}

func applyDefaults(c *Config) {
	f := &c.Fetch
	setStr(&f.UserAgent, DefaultUserAgent)
	setStr(&f.Contact, DefaultContact)
	setDur(&f.Timeout, DefaultTimeout)
	setDur(&f.PerHostDelay, DefaultPerHostDelay)
	if f.MaxBodyBytes == 0 {
		f.MaxBodyBytes = DefaultMaxBodyBytes
	}
	setInt(&f.Workers, DefaultWorkers)
	setInt(&f.PerHostConcurrency, DefaultPerHostConcurrency)
	setInt(&f.Retries, DefaultRetries)

	setStr(&c.Index.Backend, BackendEmbedded)
	setStr(&c.Index.Dir, DefaultIndexDir)
	setStr(&c.Index.Optimize, DefaultOptimize)
	setStr(&c.Index.Elasticsearch.IndexPrefix, DefaultIndexPrefix)

	setStr(&c.Web.Listen, DefaultListen)
	setStr(&c.Web.Auth, AuthAuto)
	setDur(&c.Web.SessionTTL, DefaultSessionTTL)

	setStr(&c.Mail.TLS, TLSStartTLS)
	setInt(&c.Mail.Port, defaultMailPort(c.Mail.TLS))

	for i := range c.Alerts {
		setStr(&c.Alerts[i].On, OnAny)
	}
	for i := range c.Subscribers {
		s := &c.Subscribers[i]
		setStr(&s.Name, s.ID)
		setStr(&s.TimeZone, DefaultTimeZone)
		setStr(&s.SendAt, DefaultSendAt)
	}

	for i := range c.Sources {
		s := &c.Sources[i]
		setStr(&s.Kind, string(news.KindFeed))
		setStr(&s.Name, s.ID)
		if s.Kind == string(news.KindQuery) {
			setStr(&s.Schedule, DefaultQuerySchedule)
		} else {
			setStr(&s.Schedule, DefaultFeedSchedule)
		}
	}
	for i := range c.Topics {
		t := &c.Topics[i]
		setStr(&t.Name, t.ID)
		if t.Threshold == 0 {
			t.Threshold = DefaultThreshold
		}
		for j := range t.Rules {
			if t.Rules[j].Weight == 0 {
				t.Rules[j].Weight = DefaultWeight
			}
		}
	}
}

func setStr(p *string, v string) {
	if *p == "" {
		*p = v
	}
}

func setInt(p *int, v int) {
	if *p == 0 {
		*p = v
	}
}

func setDur(p *Duration, v time.Duration) {
	if p.Duration == 0 {
		p.Duration = v
	}
}
