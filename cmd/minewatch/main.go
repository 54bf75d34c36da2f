// Command minewatch monitors the news for moves on the landmine and
// cluster-munition treaties: it fetches, classifies, indexes, searches and alerts.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/minewatch/minewatch/config"
	"github.com/minewatch/minewatch/redact"
)

// exitUsage is returned for bad flags or input; 1 is for runtime failures.
const exitUsage = 2

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := newRoot(os.Stdin, os.Stdout, os.Stderr, os.Getenv).ExecuteContext(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "minewatch:", err)
		var ue usageError
		if errors.As(err, &ue) {
			os.Exit(exitUsage)
		}
		os.Exit(1)
	}
}

// usageError marks errors caused by the user's input rather than the world.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

// globals are the flags every command shares, and the process environment.
type globals struct {
	configPath string
	logLevel   string
	logFormat  string
	stdin      io.Reader
	stdout     io.Writer
	stderr     io.Writer
	getenv     func(string) string
}

func newRoot(stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) *cobra.Command {
	g := &globals{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv}
	root := &cobra.Command{
		Use:   "minewatch",
		Short: "Watch the news for moves on the mine-ban and cluster-munition treaties",
		Long: `minewatch fetches news feeds and pages, decides which articles are about the
Ottawa (Mine Ban) Convention and the Convention on Cluster Munitions, finds which
country did what (withdraw, remain, resume production, cut funding ...) with the
sentence that proves it, indexes everything and lets analysts search it.

Configuration comes from one YAML file: --config PATH, else $MINEWATCH_CONFIG,
else ./minewatch.yaml, else the built-in default (see "minewatch config print").`,
		Example: `  minewatch run                          # fetch on schedule and serve http://127.0.0.1:8080
  minewatch demo                         # try it offline on a bundled demo news site
  minewatch fetch --source err-news      # one cycle now, for one source
  minewatch search 'lithuan* NEAR/5 withdraw*' --since 2025-01-01
  minewatch config print > minewatch.yaml`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	pf := root.PersistentFlags()
	pf.StringVar(&g.configPath, "config", "", "config file (default $MINEWATCH_CONFIG, ./minewatch.yaml, or built-in)")
	pf.StringVar(&g.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	pf.StringVar(&g.logFormat, "log-format", "text", "log format: text or json")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })

	root.AddCommand(
		newRunCmd(g), newFetchCmd(g), newSearchCmd(g), newClassifyCmd(g), newExtractCmd(g),
		newDemoCmd(g), newConfigCmd(g), newSourcesCmd(g), newRulesCmd(g), newReclassifyCmd(g),
		newDigestCmd(g), newAlertsCmd(g), newIndexCmd(g), newUsersCmd(g),
	)
	return root
}

// logger builds the process logger; logs go to stderr so stdout stays data.
func (g *globals) logger() (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(g.logLevel)); err != nil {
		return nil, usageError{fmt.Errorf("--log-level %q: want debug, info, warn or error", g.logLevel)}
	}
	opts := &slog.HandlerOptions{Level: level}
	// Every line goes through redact: a source URL with its API key, or an
	// error quoting one, never reaches the log whichever package logs it.
	switch strings.ToLower(g.logFormat) {
	case "text":
		return slog.New(redact.NewHandler(slog.NewTextHandler(g.stderr, opts))), nil
	case "json":
		return slog.New(redact.NewHandler(slog.NewJSONHandler(g.stderr, opts))), nil
	}
	return nil, usageError{fmt.Errorf("--log-format %q: want text or json", g.logFormat)}
}

// loggerAndConfig is what most commands start with.
func (g *globals) loggerAndConfig() (*slog.Logger, *config.Config, error) {
	log, err := g.logger()
	if err != nil {
		return nil, nil, err
	}
	cfg, err := g.loadConfig()
	return log, cfg, err
}

// loadConfig resolves and loads the config file.
func (g *globals) loadConfig() (*config.Config, error) {
	path := config.Resolve(g.configPath, g.getenv, config.FileExists)
	cfg, err := config.Load(path)
	if err != nil {
		return nil, usageError{err}
	}
	return cfg, nil
}
