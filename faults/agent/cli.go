package agent

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
)

// usage is printed for -h and flag errors.
const usage = `usage: hadrill agent [flags] [--] COMMAND [ARG...]

Runs COMMAND as a supervised child and serves the fault API on --port.
The token comes from --token or $HADRILL_AGENT_TOKEN.

`

// ParseArgs turns `hadrill agent` arguments into a Config. Everything after
// "--" (or after the first non-flag argument) is the command to supervise.
func ParseArgs(args []string, stderr io.Writer) (Config, error) {
	fs := flag.NewFlagSet("agent", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	var cfg Config
	var level string
	fs.StringVar(&cfg.Bind, "bind", "0.0.0.0", "address the control API listens on")
	fs.IntVar(&cfg.Port, "port", DefaultPort, "control API port (exempt from network faults)")
	fs.StringVar(&cfg.Token, "token", os.Getenv(tokenEnv), "bearer token for the control API (default $"+tokenEnv+")")
	fs.StringVar(&cfg.FuseData, "fuse-data", "", "data folder to mount through FUSE for disk faults")
	fs.StringVar(&cfg.FuseBacking, "fuse-backing", "", "folder to serve at --fuse-data (default: the folder's own contents)")
	fs.StringVar(&cfg.User, "user", "", "user (name or uid in /etc/passwd) to run COMMAND as; the agent stays root")
	fs.StringVar(&cfg.UserData, "user-data", "", "folder to create and hand to --user before COMMAND starts (the data folder)")
	fs.IntVar(&cfg.JournalMiB, "journal-mib", 0, "memory bound of the power-loss journal in MiB (default 64; past it, writes count as written back)")
	fs.StringVar(&cfg.Faketime, "faketime", "", "libfaketime library for the clock fault (default: found in the usual places)")
	fs.DurationVar(&cfg.StopTimeout, "stop-timeout", 0, "how long a cancelled agent waits for the process after SIGTERM (default 10s)")
	fs.Var(sidecarFlag{&cfg.Sidecars}, "also", "a sidecar command to supervise beside COMMAND, as a JSON array of strings (repeatable)")
	fs.StringVar(&level, "log-level", "info", "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	cfg.Command = fs.Args()
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(strings.ToUpper(level))); err != nil {
		return Config{}, fmt.Errorf("parse --log-level: %w", err)
	}
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lv})).
		With("component", "hadrill-agent")
	return cfg, nil
}

// Main is the `hadrill agent` subcommand: it parses args, runs the agent and
// returns the process exit code: the supervised process's own code, 0 after
// a clean stop, 2 for bad arguments, 1 for any other failure.
func Main(ctx context.Context, args []string) int {
	cfg, err := ParseArgs(args, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "hadrill agent:", err)
		return 2
	}
	err = Run(ctx, cfg)
	var exit *ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		return exit.Code
	case errors.Is(err, ErrInvalid):
		fmt.Fprintln(os.Stderr, "hadrill agent:", err)
		return 2
	}
	fmt.Fprintln(os.Stderr, "hadrill agent:", err)
	return 1
}
