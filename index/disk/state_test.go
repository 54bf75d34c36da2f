package disk

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/minewatch/minewatch/news"
)

// TestSaveSourceStateConcurrent saves from many goroutines at once, so that
// calls are batched into shared transactions, and checks that every call
// returned only after its state was stored, and that each source keeps its
// last save.
func TestSaveSourceStateConcurrent(t *testing.T) {
	tests := []struct {
		name              string
		goroutines, saves int
	}{
		{"one caller", 1, 20},
		{"few callers", 4, 50},
		{"many callers", 32, 20},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := openTemp(t)
			ctx := context.Background()
			var wg sync.WaitGroup
			errs := make(chan error, tc.goroutines*tc.saves)
			for g := range tc.goroutines {
				wg.Go(func() {
					id := fmt.Sprintf("source-%d", g)
					for i := range tc.saves {
						st := news.SourceState{SourceID: id, ItemsSeen: i, LastError: fmt.Sprintf("save %d", i)}
						if err := s.SaveSourceState(ctx, st); err != nil {
							errs <- err
							return
						}
						// Committed before the call returned: readable now.
						got, err := s.SourceStates(ctx)
						if err != nil {
							errs <- err
							return
						}
						if got[id].ItemsSeen != i {
							errs <- fmt.Errorf("%s after save %d: ItemsSeen %d", id, i, got[id].ItemsSeen)
							return
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			got, err := s.SourceStates(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tc.goroutines {
				t.Errorf("%d sources stored, want %d", len(got), tc.goroutines)
			}
			for id, st := range got {
				if st.ItemsSeen != tc.saves-1 || st.SourceID != id {
					t.Errorf("%s: %+v, want the last save", id, st)
				}
			}
		})
	}
}

// TestSaveSourceStateCancelled checks that a call with a context already
// done stores nothing; once in a batch, a state is written whatever happens
// to the contexts of the calls batched with it.
func TestSaveSourceStateCancelled(t *testing.T) {
	s := openTemp(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.SaveSourceState(ctx, news.SourceState{SourceID: "a", ItemsSeen: 3}); !errors.Is(err, context.Canceled) {
		t.Fatalf("save with a cancelled context: %v, want context.Canceled", err)
	}
	got, err := s.SourceStates(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got["a"]; ok {
		t.Errorf("state stored despite the cancelled context: %+v", got["a"])
	}
	if err := s.SaveSourceState(context.Background(), news.SourceState{}); err == nil {
		t.Error("empty SourceID accepted")
	}
}
