package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/minewatch/minewatch/config"
)

func newConfigCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Show the default configuration or check a configuration file",
	}
	var effective bool
	print := &cobra.Command{
		Use:   "print",
		Short: "Print the built-in default configuration (commented YAML), or the effective one",
		Long: `print writes the built-in configuration: the default sources (with where each
URL comes from), the topic rules, and every option with its default. Save it,
edit it, and point minewatch at it with --config or $MINEWATCH_CONFIG.
Secrets never appear in the file: it names the environment variables that hold them.

With --effective it prints the configuration minewatch would run with (the
file in use, every default filled in) with each secret shown as REDACTED:
password and token hashes, webhook, Slack and Teams URLs, and keys or
tokens in source URLs. That output is safe to paste into a bug report.`,
		Example: `  minewatch config print > minewatch.yaml
  minewatch config print --effective --config /etc/minewatch.yaml`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if !effective {
				_, err := g.stdout.Write(config.DefaultYAML())
				return err
			}
			cfg, err := g.loadConfig()
			if err != nil {
				return err
			}
			out, err := cfg.RedactedYAML()
			if err != nil {
				return err
			}
			_, err = g.stdout.Write(out)
			return err
		},
	}
	print.Flags().BoolVar(&effective, "effective", false, "print the configuration in use, defaults filled in, secrets redacted")
	cmd.AddCommand(print)
	cmd.AddCommand(&cobra.Command{
		Use:   "check [PATH]",
		Short: "Check a configuration file and report every error at once",
		Long: `check loads PATH (or the file minewatch would use) and reports every problem
it finds, each as file:line:column and what is wrong: unknown keys, bad cron
specs, bad URLs, bad language or country codes, duplicate ids, and rule queries
with syntax errors. It exits 0 when the file is good and 2 otherwise.`,
		Example: `  minewatch config check minewatch.yaml
  minewatch config check            # the file run would use`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			path := config.Resolve(g.configPath, g.getenv, config.FileExists)
			if len(args) == 1 {
				path = args[0]
			}
			if path != "" {
				if _, err := os.Stat(path); err != nil {
					return usageError{err}
				}
			}
			cfg, err := config.CheckFile(path)
			var errs []error
			if err != nil {
				errs = append(errs, err)
			}
			if cfg != nil {
				if _, err := newClassifier(cfg); err != nil {
					errs = append(errs, err)
				}
			}
			if len(errs) > 0 {
				for _, e := range errs {
					fmt.Fprintln(g.stderr, e)
				}
				return usageError{errors.New("configuration has errors")}
			}
			rules := 0
			for _, t := range cfg.Topics {
				rules += len(t.Rules)
			}
			fmt.Fprintf(g.stdout, "%s: ok (%d sources, %d topics, %d rules)\n", cfg.File, len(cfg.Sources), len(cfg.Topics), rules)
			return nil
		},
	})
	return cmd
}

func newSourcesCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "sources",
		Short: "List sources with their health and next run",
		Long: `sources lists every configured source with its kind, state (ok, failing with the
error class and count, or never fetched), last success, items seen and the time
of its next scheduled fetch, read from the index's stored state.`,
		Example: `  minewatch sources`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := g.logger()
			if err != nil {
				return err
			}
			cfg, err := g.loadConfig()
			if err != nil {
				return err
			}
			a, err := build(cmd.Context(), cfg, log, buildOptions{withMonitor: true})
			if err != nil {
				return err
			}
			defer a.Close()
			sts, err := a.monitor.Statuses(cmd.Context())
			if err != nil {
				return err
			}
			tw := newTable(g.stdout)
			fmt.Fprintln(tw, "ID\tKIND\tLANG\tSTATE\tLAST SUCCESS\tITEMS\tNEXT RUN\tURL")
			for _, s := range sts {
				redactSource(&s.Source, &s.State)
				state := "ok"
				switch {
				case s.State.LastAttempt.IsZero():
					state = "never fetched"
				case s.State.ConsecutiveFailures > 0:
					state = fmt.Sprintf("failing ×%d (%s)", s.State.ConsecutiveFailures, s.State.LastErrorClass)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", s.Source.ID, s.Source.Kind, s.Source.Language,
					state, fmtTime(s.State.LastSuccess), s.State.ItemsSeen, fmtTime(s.NextRun), s.Source.URL)
			}
			return tw.Flush()
		},
	}
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04")
}
