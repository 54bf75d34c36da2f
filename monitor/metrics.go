package monitor

import "github.com/prometheus/client_golang/prometheus"

// metrics are the monitor's Prometheus series, registered on an injected
// registerer so tests and several monitors never share global state.
type metrics struct {
	fetches       *prometheus.CounterVec
	fetchDuration *prometheus.HistogramVec
	indexed       prometheus.Counter
	byTopic       *prometheus.CounterVec
	failing       *prometheus.GaugeVec
	events        *prometheus.CounterVec
	indexLatency  prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		fetches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "minewatch_fetches_total",
			Help: "Source fetches by outcome (ok, not_modified, error class).",
		}, []string{"outcome"}),
		fetchDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "minewatch_fetch_duration_seconds",
			Help:    "Time to collect one source, pages included.",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 12),
		}, []string{"outcome"}),
		indexed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "minewatch_articles_indexed_total",
			Help: "Articles written to the index.",
		}),
		byTopic: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "minewatch_articles_by_topic_total",
			Help: "Indexed articles by assigned topic.",
		}, []string{"topic"}),
		failing: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "minewatch_source_consecutive_failures",
			Help: "Consecutive failed fetches per source (0 when healthy).",
		}, []string{"source"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "minewatch_events_total",
			Help: "Entities recorded as events, by whether the event was new.",
		}, []string{"new"}),
		indexLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "minewatch_index_put_duration_seconds",
			Help:    "Time to write one source's new articles to the index.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}),
	}
	if reg != nil {
		reg.MustRegister(m.fetches, m.fetchDuration, m.indexed, m.byTopic, m.failing, m.events, m.indexLatency)
	}
	return m
}
