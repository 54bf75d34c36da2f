// Command bench measures minewatch end to end on this machine: the figures in
// BENCHMARKS.md come from it. Each benchmark is a subcommand.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
)

// benchmark runs one measurement and writes its report to out.
type benchmark struct {
	summary string
	run     func(ctx context.Context, args []string, out io.Writer) error
}

func benchmarks() map[string]benchmark {
	return map[string]benchmark{
		// Each benchmark adds one line here.
		"search":   {"search latency through the HTTP API", benchSearch},
		"extract":  {"issue #3 a: extraction F1 and pages/s vs go-trafilatura and go-readability", benchExtract},
		"feedfarm": {"issue #3 b: 10,000 feeds, first and steady cycle vs a bare loop", benchFeedFarm},
		"alerts":   {"issue #7: fetch → webhook and WebSub push → webhook latency, digest render", benchAlerts},
		"load":     {"issue #8: search API under 50 clients for 60 s while a fetch cycle ingests", benchLoad},
		"hostile":  {"issue #8.2: hostile servers through fetch + parse: outcome, time, peak memory", benchHostile},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	all := benchmarks()
	if len(os.Args) < 2 || os.Args[1] == "-h" || os.Args[1] == "--help" || os.Args[1] == "help" {
		usage(os.Stdout, all)
		return
	}
	b, ok := all[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "bench: unknown benchmark %q\n\n", os.Args[1])
		usage(os.Stderr, all)
		os.Exit(2)
	}
	if err := b.run(ctx, os.Args[2:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func usage(w io.Writer, all map[string]benchmark) {
	fmt.Fprintln(w, "usage: go run ./cmd/bench NAME [flags]   (NAME -h for its flags)")
	fmt.Fprintln(w, "\nbenchmarks:")
	names := make([]string, 0, len(all))
	for n := range all {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-12s %s\n", n, all[n].summary)
	}
	fmt.Fprintln(w, "\nResults and the commands that produced them are in BENCHMARKS.md.")
}
