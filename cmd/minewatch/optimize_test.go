package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// everyTick is a cron.Schedule firing every d.
type everyTick time.Duration

func (d everyTick) Next(t time.Time) time.Time { return t.Add(time.Duration(d)) }

// TestOptimizeLoop checks that the scheduled optimize runs at each time of
// its schedule, goes on after a failure (logged), and stops with ctx.
func TestOptimizeLoop(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	var (
		mu    sync.Mutex
		calls int
	)
	optimize := func(context.Context) error {
		mu.Lock()
		defer mu.Unlock()
		calls++
		switch calls {
		case 1:
			return errors.New("database is locked")
		case 3:
			cancel()
		}
		return nil
	}
	// Only the loop writes the log, and the test reads it after the loop
	// has returned.
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	done := make(chan error, 1)
	go func() { done <- optimizeLoop(ctx, everyTick(5*time.Millisecond), optimize, log) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("optimizeLoop = %v, want nil when its context ends", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("optimizeLoop did not stop after its context ended")
	}
	mu.Lock()
	defer mu.Unlock()
	if calls != 3 {
		t.Errorf("optimize ran %d times, want 3 (the loop stops when the context ends)", calls)
	}
	out := logs.String()
	if !strings.Contains(out, "index optimize failed") || !strings.Contains(out, "database is locked") {
		t.Errorf("the failure was not logged:\n%s", out)
	}
	if !strings.Contains(out, "index optimized") {
		t.Errorf("the successful runs were not logged:\n%s", out)
	}
}
