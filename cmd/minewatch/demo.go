package main

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/minewatch/minewatch/config"
	"github.com/minewatch/minewatch/demo"
)

func newDemoCmd(g *globals) *cobra.Command {
	var listen, keep string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Try minewatch offline on a bundled demo news site",
		Long: `demo serves a small news site bundled in the binary on 127.0.0.1 (feeds and
article pages in English, Polish, Lithuanian, Latvian, Estonian, Finnish and
Ukrainian: withdrawals at every stage, votes, production, demining funding,
casualties, and off-topic stories that share words), runs the whole pipeline
against it into a temporary index, prints the fetch summary, and serves the
search page on --listen until interrupted. Nothing leaves this machine.`,
		Example: `  minewatch demo
  minewatch demo --listen 127.0.0.1:9000
  curl 'http://127.0.0.1:8080/api/search?q=withdraw*&country=LT'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			log, err := g.logger()
			if err != nil {
				return err
			}
			site, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				return fmt.Errorf("demo site: %w", err)
			}
			siteSrv := &http.Server{Handler: demo.Handler(), ReadHeaderTimeout: 5 * time.Second}
			go func() {
				if err := siteSrv.Serve(site); !errors.Is(err, http.ErrServerClosed) {
					log.Error("demo site stopped", "error", err)
				}
			}()
			defer siteSrv.Close()
			base := "http://" + site.Addr().String()

			dir := keep
			if dir == "" {
				if dir, err = os.MkdirTemp("", "minewatch-demo-"); err != nil {
					return err
				}
				defer os.RemoveAll(dir)
			}
			cfg := config.Default()
			cfg.Index.Backend = "embedded"
			cfg.Index.Dir = dir
			cfg.Fetch.AllowPrivate = []string{"127.0.0.0/8"}
			cfg.Fetch.PerHostDelay = config.Duration{Duration: -1} // one local host serves every demo source
			a, err := build(ctx, cfg, log, buildOptions{sources: demo.Sources(base), tick: 5 * time.Second, withMonitor: true})
			if err != nil {
				return err
			}
			defer a.Close()
			fmt.Fprintf(g.stdout, "Demo news site at %s; index in %s.\n\n", base, dir)
			outs, err := a.monitor.RunOnce(ctx, nil, newProgress(g.stderr, len(demo.Sources(base)), "fetching"))
			if err != nil {
				return err
			}
			printSummary(g.stdout, outs)
			fmt.Fprintf(g.stdout, "\nSearch page: http://%s/  (Ctrl-C to stop)\n", listen)
			return serve(ctx, a, listen, nil)
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:8080", "address for the search page")
	cmd.Flags().StringVar(&keep, "data", "", "keep the demo index in this directory instead of a temporary one")
	return cmd
}
