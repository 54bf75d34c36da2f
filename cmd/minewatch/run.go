package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/minewatch/minewatch/config"
	"github.com/minewatch/minewatch/monitor"
)

func newRunCmd(g *globals) *cobra.Command {
	var listen, worker string
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Fetch sources on their schedules and serve the search page until interrupted",
		Long: `run starts the scheduler and the web server in one process. Each source is
fetched on its cron schedule (spread by a per-source offset, backed off while it
fails); new articles are classified and indexed; new treaty events are logged.
The search page and JSON API are served on --listen (default from the config,
127.0.0.1:8080). SIGINT or SIGTERM stops taking work, lets in-flight index writes
finish, and exits.

With Elasticsearch as the index, several workers can share the sources:
--worker i/n makes this process fetch only its part (a stable hash of the
source id), while state, events and alert claims live in the shared index.`,
		Example: `  minewatch run
  minewatch run --listen 127.0.0.1:9090 --config ./minewatch.yaml
  MINEWATCH_CONFIG=/etc/minewatch.yaml minewatch run --log-format json
  minewatch run --worker 2/3      # the second of three workers`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := g.logger()
			if err != nil {
				return err
			}
			cfg, err := g.loadConfig()
			if err != nil {
				return err
			}
			if listen == "" {
				listen = cfg.Web.Listen
			}
			shard, err := monitor.ParseShard(worker)
			if err != nil {
				return usageError{err}
			}
			a, err := build(cmd.Context(), cfg, log, buildOptions{withMonitor: true, shard: shard, getenv: g.getenv})
			if err != nil {
				return err
			}
			defer a.Close()
			return serve(cmd.Context(), a, listen, nil)
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "", "address for the web server (default from config: 127.0.0.1:8080)")
	cmd.Flags().StringVar(&worker, "worker", "", "fetch only part i of n of the sources (i/n), for several workers on one store")
	return cmd
}

// serve runs the monitor and the web server until ctx ends or either fails.
// extra, when set, runs beside them (the demo's bootstrap fetch). Logins are
// required when the bound address is beyond loopback (see webAuth); serve
// refuses to start if nobody could then sign in.
func serve(ctx context.Context, a *app, listen string, extra func(ctx context.Context) error) error {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return usageError{fmt.Errorf("listen on %s: %w", listen, err)}
	}
	auth, err := a.webAuth(ln.Addr())
	if err != nil {
		ln.Close()
		return err
	}
	eg, gctx := errgroup.WithContext(ctx)
	admin, recl := a.adminActions(gctx)
	webHandler, err := a.newWebServer(auth, admin)
	if err != nil {
		ln.Close()
		return err
	}
	var handler http.Handler = webHandler
	if a.websub != nil {
		// The WebSub callback sits beside the web server, outside its login:
		// hubs cannot sign in, and it checks each push's HMAC signature.
		mux := http.NewServeMux()
		mux.Handle("/websub/", a.websub)
		mux.Handle("/", webHandler)
		handler = mux
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	eg.Go(func() error { return a.monitor.Run(gctx) })
	if w, ok := a.store.(interface{ WarmSearch(context.Context) error }); ok {
		// Searches work before it is done, only slower; a failure is
		// logged, and the first search retries.
		eg.Go(func() error {
			start := time.Now()
			if err := w.WarmSearch(gctx); err != nil {
				if gctx.Err() == nil {
					a.log.Warn("loading the search index into memory failed", "err", err)
				}
				return nil
			}
			a.log.Debug("search index loaded into memory", "took", time.Since(start))
			return nil
		})
	}
	if o, ok := a.store.(interface{ Optimize(context.Context) error }); ok && a.cfg.Index.Optimize != config.OptimizeOff {
		sched, err := cron.ParseStandard(a.cfg.Index.Optimize)
		if err != nil { // config validated it; a spec from code may not be
			ln.Close()
			return usageError{fmt.Errorf("index optimize schedule %q: %w", a.cfg.Index.Optimize, err)}
		}
		eg.Go(func() error { return optimizeLoop(gctx, sched, o.Optimize, a.log) })
	}
	eg.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("web server: %w", err)
		}
		return nil
	})
	eg.Go(func() error {
		<-gctx.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(gctx), 10*time.Second)
		defer cancel()
		err := srv.Shutdown(sctx)
		// The store closes when serve returns: let a reclassification
		// started from the admin page write its last batch first.
		recl.wait()
		return err
	})
	if extra != nil {
		eg.Go(func() error { return extra(gctx) })
	}
	if sub := a.websub; sub != nil {
		eg.Go(func() error { return renewLoop(gctx, sub.Renew, time.Hour, a.log) })
	}
	if al := a.alerting; al != nil {
		eg.Go(func() error { return al.dispatcher.Run(gctx) })
		eg.Go(func() error { return al.scheduler.Run(gctx) })
	}
	a.log.Info("minewatch is running", "url", "http://"+ln.Addr().String()+"/", "index", a.cfg.Index.Dir,
		"logins", auth != nil)
	return eg.Wait()
}

// optimizeLoop merges the embedded index's full-text segments at each time
// of sched until ctx ends. Searches read every segment, and weeks of small
// writes leave many: on 100,000 articles a relevance search took 58 ms of
// CPU unmerged against 32 merged. A failure is logged and the next time
// tries again; searches work throughout, only slower.
func optimizeLoop(ctx context.Context, sched cron.Schedule, optimize func(context.Context) error, log *slog.Logger) error {
	for {
		t := time.NewTimer(time.Until(sched.Next(time.Now())))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		start := time.Now()
		if err := optimize(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			log.Warn("index optimize failed; trying again at the next scheduled time", "err", err)
			continue
		}
		log.Info("index optimized", "took", time.Since(start).Round(time.Millisecond))
	}
}

// renewLoop renews WebSub leases every interval until ctx ends; a failed
// renewal is logged and retried next time (polling covers the gap).
func renewLoop(ctx context.Context, renew func(context.Context) error, every time.Duration, log *slog.Logger) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := renew(ctx); err != nil {
				log.Warn("websub renewal failed", "error", err)
			}
		}
	}
}
