package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/skybutler/skybutler/lib/butler"
)

// app carries what every command needs: output streams and global options.
type app struct {
	out, errOut io.Writer
	logLevel    string
	logFormat   string
	logger      *slog.Logger
}

// run executes one command line and returns the exit status. Every error is
// reported as a single "error: ..." line on stderr; a panic is reported the
// same way instead of a stack trace.
func run(args []string, stdout, stderr io.Writer) (status int) {
	a := &app{out: stdout, errOut: stderr}
	defer func() {
		if p := recover(); p != nil {
			fmt.Fprintf(stderr, "error: internal failure: %v\n", p)
			if os.Getenv("SKYBUTLER_DEBUG") != "" {
				fmt.Fprintln(stderr, string(debug.Stack()))
			}
			status = 2
		}
	}()
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintf(stderr, "error: %s\n", oneLine(err.Error()))
		return 1
	}
	return 0
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", "; ")), " ")
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "skybutler",
		Short:         "A data butler for survey astronomy that lives in an object store",
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return a.setupLogging()
		},
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.PersistentFlags().StringVar(&a.logLevel, "log-level", "warn", "log level: debug, info, warn, error")
	root.PersistentFlags().StringVar(&a.logFormat, "log-format", "", "log format: text or json (default text on a terminal, json otherwise)")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return err })
	for _, add := range []func(*cobra.Command){
		a.addCreate, a.addCollections, a.addDatasetTypes, a.addDimensions, a.addDatasets, a.addIngest, a.addExecute, a.addRun, a.addCompact, a.addQgraph, a.addSQL,
	} {
		add(root)
	}
	return root
}

func (a *app) setupLogging() error {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(a.logLevel)); err != nil {
		return fmt.Errorf("--log-level %q: want debug, info, warn or error", a.logLevel)
	}
	format := a.logFormat
	if format == "" {
		format = "text"
		if os.Getenv("AWS_LAMBDA_FUNCTION_NAME") != "" {
			format = "json"
		}
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch format {
	case "text":
		a.logger = slog.New(slog.NewTextHandler(a.errOut, opts))
	case "json":
		a.logger = slog.New(slog.NewJSONHandler(a.errOut, opts))
	default:
		return fmt.Errorf("--log-format %q: want text or json", a.logFormat)
	}
	slog.SetDefault(a.logger)
	return nil
}

// open opens the repository named by a command's first argument.
func (a *app) open(cmd *cobra.Command, uri string) (*butler.Butler, error) {
	return butler.Open(cmd.Context(), uri, a.logger)
}

// exactArgs is cobra.ExactArgs with a message naming what is expected.
func argsUsage(min int, usage string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < min {
			return fmt.Errorf("%s: missing arguments; usage: %s", cmd.Name(), usage)
		}
		return nil
	}
}

func exactArgsUsage(n int, usage string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return fmt.Errorf("%s: want %d arguments, got %d; usage: %s", cmd.Name(), n, len(args), usage)
		}
		return nil
	}
}
