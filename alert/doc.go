// Package alert sends a notification once per treaty event: Engine decides which
// rules a new event fires, Dispatcher delivers the persisted messages with retries.
//
// # Once per event
//
// An event's identity is its key, (country, action, treaty); a withdrawal's
// stage is part of the action, so "announced", "voted", "notified" and "took
// effect" are four events. The monitor calls Engine.MessagesFor for each
// entity of a new article and hands the messages to index.Outbox's
// RecordEventAndEnqueue, which stores them in the transaction that records
// the event, and only if the event is new: the decision is made once, in the
// index, however many workers see the story. Later articles about the event
// are counted on it and appear in the next digest; they never alert again.
//
// Message ids are "alert/<rule>/<channel>/<event key>". Channel ids are the
// kind ("email", "webhook", "slack", "teams"), with "-2", "-3" ... appended
// when a rule has several channels of one kind.
//
// # Rule triggers (config alert "on")
//
//   - any (default): every event recorded for the first time.
//   - new_event: a move not known before. For a withdrawal stage, it fires
//     only when no other withdrawal stage of the same country and treaty is
//     recorded; for other actions it is the same as any.
//   - new_stage: only a withdrawal stage of a country and treaty for which
//     another stage is already recorded (Lithuania notifies the UN after its
//     Seimas voted).
//
// # Delivery
//
// Dispatcher.Run leases due messages from the outbox, delivers each through
// its channel and records the outcome: delivered; pending again with the next
// attempt after an exponential backoff with jitter; or expired after
// MaxAttempts attempts or MaxAge. It wakes on Kick (the monitor kicks after
// enqueueing), so an alert leaves within milliseconds, and on a ticker, so
// retries and messages enqueued by other processes go out too.
//
// A rule's cooldown delays, and never drops, messages: when a rule fired less
// than its cooldown ago for another event, the message's next attempt is moved
// to the end of the cooldown.
//
// # Crashes: exactly once per id, at least once on the wire
//
// What a crash (even SIGKILL) can and cannot do, as TestKilledDispatcher
// shows with a real index/disk store and a child process killed at each
// point, round after round:
//
//   - Between recording an event and delivering its alerts: nothing is
//     lost. The alerts were committed with the event; the restarted
//     dispatcher leases and sends them. The restarted monitor seeing the
//     same story again enqueues nothing, because the event is known.
//   - After the receiver answered 2xx but before the outbox recorded the
//     delivery (Update): the message is still pending with a lease, and is
//     sent again when the lease runs out, with the SAME delivery id. This
//     is the one case in which a receiver gets a message twice.
//
// So each alert is enqueued exactly once and delivered at least once;
// counted by distinct delivery id it arrives exactly once, counted by raw
// requests it may arrive twice after a badly timed crash. Receivers that
// must not act twice dedupe on X-Minewatch-Delivery (below); e-mails carry
// a Message-ID derived from it, which mail clients and list servers use to
// drop the copy. No outbox can close this window: the receiver's answer
// and the outbox write cannot share one transaction.
//
// # Generic webhook
//
// A webhook channel POSTs this JSON (Content-Type: application/json):
//
//	{
//	  "id": "alert/baltic/webhook/LT/withdraw_notify/ccm",  // the delivery id
//	  "rule": "baltic",
//	  "event": {
//	    "key": "LT/withdraw_notify/ccm",
//	    "country": "LT", "country_name": "Lithuania",
//	    "action": "withdraw_notify", "action_label": "notified withdrawal to the UN",
//	    "treaty": "ccm", "treaty_label": "Convention on Cluster Munitions",
//	    "first_seen": "2026-03-06T09:12:00Z",
//	    "evidence": "Lithuania deposited its notification ...",
//	    "articles": 1,
//	    "effective_date": "2026-09-06T00:00:00Z"        // only when known
//	  },
//	  "article": {                                       // the first article
//	    "id": "...", "title": "...", "url": "https://...", "source": "lrt-en",
//	    "published": "2026-03-06T08:55:00Z", "language": "en",
//	    "link": "https://minewatch.example.org/articles/..." // when base_url is set
//	  },
//	  "sent": "2026-03-06T09:12:01Z"
//	}
//
// Headers:
//
//	X-Minewatch-Delivery:  the message id; the same on every retry, dedupe on it
//	X-Minewatch-Event:     "alert" (or "test" for `minewatch alerts test`)
//	X-Minewatch-Signature: sha256=<hex HMAC-SHA256 of the raw body>
//
// The signature is sent when the channel names a secret (secret_env). To
// check it, compute HMAC-SHA256 over the body bytes exactly as received, with
// the secret as key, hex-encode it and compare it with the header value after
// "sha256=" in constant time (hmac.Equal); see VerifySignature. Any 2xx reply
// counts as delivered; other replies and network errors are retried.
//
// # Slack and Teams
//
// A slack channel posts {"text", "blocks"} to a Slack incoming webhook. Its
// text is verbatim (no auto-linking of bare URLs or names), with &, < and >
// escaped and emphasis marks and @ neutralised by invisible word joiners, so
// a headline can never become a link, a mention or markup. A teams channel
// posts an Adaptive Card in the envelope Microsoft Teams Workflows ("Post to
// a channel when a webhook request is received") expects, with text from the
// web only in RichTextBlock TextRuns, which Teams never reads as Markdown.
// Both link only to http(s) URLs.
package alert
