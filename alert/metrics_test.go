package alert

import (
	"net/http"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/minewatch/minewatch/news"
)

// TestDeliveryMetrics checks the outcome counters and the pending gauge: a
// webhook answering 500 then 200 counts a retry and a delivery; one
// answering 400 counts an expiry.
func TestDeliveryMetrics(t *testing.T) {
	flaky := newReceiver(t, "", http.StatusInternalServerError)
	broken := newReceiver(t, "", http.StatusBadRequest)
	rules := []Rule{
		{ID: "flaky", Countries: []string{"LT"}, Channels: []Channel{{ID: "webhook", Kind: KindWebhook, URL: flaky.srv.URL}}},
		{ID: "broken", Countries: []string{"LV"}, Channels: []Channel{{ID: "webhook", Kind: KindWebhook, URL: broken.srv.URL}}},
	}
	reg := prometheus.NewRegistry()
	e, d, store, clk := setup(t, rules, DispatcherOptions{Registerer: reg})
	record(t, e, store, event("LT", news.ActionWithdrawVote, news.TreatyCCM))
	record(t, e, store, event("LV", news.ActionWithdrawVote, news.TreatyOttawa))

	d.nextWake(t.Context())
	if got := testutil.ToFloat64(d.m.pending); got != 2 {
		t.Errorf("pending = %v before any round, want 2", got)
	}
	if _, err := d.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	clk.Add(d.opts.MaxBackoff) // past the retry's backoff
	if _, err := d.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	d.nextWake(t.Context())

	tests := []struct {
		outcome string
		want    float64
	}{
		{OutcomeDelivered, 1},
		{OutcomeRetry, 1},
		{OutcomeExpired, 1},
		{OutcomeDeferred, 0},
	}
	for _, tc := range tests {
		t.Run(tc.outcome, func(t *testing.T) {
			if got := testutil.ToFloat64(d.m.deliveries.WithLabelValues(KindWebhook, tc.outcome)); got != tc.want {
				t.Errorf("deliveries{channel=webhook,outcome=%s} = %v, want %v", tc.outcome, got, tc.want)
			}
		})
	}
	if got := testutil.ToFloat64(d.m.pending); got != 0 {
		t.Errorf("pending = %v after delivery and expiry, want 0", got)
	}
	// A second dispatcher on the same registry shares the series.
	if _, err := NewDispatcher(DispatcherOptions{Queue: store, Registerer: reg}); err != nil {
		t.Fatalf("second dispatcher on one registry: %v", err)
	}
	if n, err := testutil.GatherAndCount(reg, "minewatch_alert_deliveries_total", "minewatch_outbox_pending"); err != nil || n != 5 {
		t.Errorf("gathered %d series (%v), want the four outcomes read above and the gauge", n, err)
	}
}
