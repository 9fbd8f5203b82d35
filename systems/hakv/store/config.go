package store

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Replication says when a primary acknowledges a write. The three modes are
// the classic hot-standby trade-off between latency and the writes a failover
// may lose.
type Replication string

// Replication modes.
const (
	// Sync acknowledges once a majority (the primary included) has the entry.
	Sync Replication = "sync"
	// SemiSync acknowledges once one standby has the entry, or after
	// --semi-sync-timeout on the primary alone, as MySQL does.
	SemiSync Replication = "semi-sync"
	// Async acknowledges once the primary has the entry.
	Async Replication = "async"
)

// Election says how a standby becomes primary.
type Election string

// Election modes.
const (
	// Quorum needs the votes of a majority, and primaries hold a lease.
	Quorum Election = "quorum"
	// Unilateral promotes a standby on its own when heartbeats stop, and never
	// demotes a primary: the naive two-node set-up that splits the brain.
	Unilateral Election = "unilateral"
)

// Peer is one member of the cluster, as given in --peers.
type Peer struct {
	ID   string
	Addr string // host:port; resolved on every dial, never at start
}

// Config is a node's whole configuration, as parsed from its flags.
type Config struct {
	ID              string
	Listen          string
	Peers           []Peer // every member, this node included, in flag order
	DataDir         string
	Replication     Replication
	Election        Election
	Heartbeat       time.Duration
	FailoverTimeout time.Duration
	FsyncAlways     bool
	StaleReads      bool
	SemiSyncTimeout time.Duration
	WriteTimeout    time.Duration
	FlushInterval   time.Duration
	// ShipDelay makes asynchronous replication a delayed standby: an entry
	// is shipped only once it is at least this old (MySQL's MASTER_DELAY,
	// PostgreSQL's recovery_min_apply_delay). The standbys then lag by it,
	// and a primary that dies takes that much acknowledged history with it.
	ShipDelay time.Duration
}

// ErrUsage marks a bad command line; the binary exits 2 on it.
var ErrUsage = errors.New("bad command line")

// ParseFlags parses a command line (without the program name). Every error
// names the offending flag and matches ErrUsage; flag.ErrHelp is returned
// as is after the usage was written to usage.
func ParseFlags(args []string, usage io.Writer) (Config, error) {
	cfg := Config{Replication: Sync, Election: Quorum, FsyncAlways: true}
	fs := flag.NewFlagSet("hakv", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&cfg.ID, "id", "", "this node's id, one of the ids in --peers")
	fs.StringVar(&cfg.Listen, "listen", "0.0.0.0:7000", "address for clients and peers")
	fs.Func("peers", "every node as id=host:port, comma-separated (this one included)", func(v string) error {
		p, err := parsePeers(v)
		cfg.Peers = p
		return err
	})
	fs.StringVar(&cfg.DataDir, "data", "", "folder for the write-ahead log and the vote")
	fs.Func("replication", "sync, semi-sync or async (default sync)", func(v string) error {
		r, err := oneOf(v, Sync, SemiSync, Async)
		cfg.Replication = r
		return err
	})
	fs.Func("election", "quorum or unilateral (default quorum)", func(v string) error {
		e, err := oneOf(v, Quorum, Unilateral)
		cfg.Election = e
		return err
	})
	fs.DurationVar(&cfg.Heartbeat, "heartbeat", 200*time.Millisecond, "interval between the primary's heartbeats")
	fs.DurationVar(&cfg.FailoverTimeout, "failover-timeout", 2*time.Second, "silence after which a standby stands for election")
	fs.Func("fsync", "always or never (default always)", func(v string) error {
		f, err := oneOf(v, "always", "never")
		cfg.FsyncAlways = f == "always"
		return err
	})
	fs.BoolVar(&cfg.StaleReads, "stale-reads", false, "let standbys serve reads from their own state")
	fs.DurationVar(&cfg.SemiSyncTimeout, "semi-sync-timeout", time.Second, "semi-sync: wait this long for a standby before acknowledging alone")
	fs.DurationVar(&cfg.WriteTimeout, "write-timeout", 5*time.Second, "longest a write waits for replication before its outcome is unknown (500)")
	fs.DurationVar(&cfg.FlushInterval, "flush-interval", time.Second, "fsync=never: how often the log buffer is handed to the OS")
	fs.DurationVar(&cfg.ShipDelay, "ship-delay", 0, "async: ship each entry to the standbys only once it is this old (a delayed standby)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			writeUsage(fs, usage)
			return cfg, err
		}
		return cfg, fmt.Errorf("%w: %w", ErrUsage, err)
	}
	heartbeatSet := false
	fs.Visit(func(f *flag.Flag) { heartbeatSet = heartbeatSet || f.Name == "heartbeat" })
	if !heartbeatSet && 2*cfg.Heartbeat >= cfg.FailoverTimeout {
		// Only --failover-timeout was shortened: keep the default's ratio.
		cfg.Heartbeat = cfg.FailoverTimeout / 10
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("%w: unexpected argument %q (flags only)", ErrUsage, fs.Arg(0))
	}
	if err := cfg.validate(); err != nil {
		return cfg, fmt.Errorf("%w: %w", ErrUsage, err)
	}
	return cfg, nil
}

func writeUsage(fs *flag.FlagSet, w io.Writer) {
	fs.SetOutput(w)
	fmt.Fprintln(w, "usage: hakv --id ID --peers ID=HOST:PORT,... --data DIR [flags]")
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

func oneOf[T ~string](v string, allowed ...T) (T, error) {
	if slices.Contains(allowed, T(v)) {
		return T(v), nil
	}
	names := make([]string, len(allowed))
	for i, a := range allowed {
		names[i] = string(a)
	}
	return "", fmt.Errorf("want one of %s", strings.Join(names, ", "))
}

// parsePeers reads "n1=host:7000,n2=host:7000". Host names are not resolved
// here: in a container network a peer may not exist yet.
func parsePeers(v string) ([]Peer, error) {
	var peers []Peer
	for item := range strings.SplitSeq(v, ",") {
		id, addr, ok := strings.Cut(strings.TrimSpace(item), "=")
		if !ok || id == "" || addr == "" {
			return nil, fmt.Errorf("want id=host:port, got %q", item)
		}
		host, port, err := net.SplitHostPort(addr)
		if err != nil || host == "" {
			return nil, fmt.Errorf("want id=host:port, got %q", item)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("bad port in %q", item)
		}
		if slices.ContainsFunc(peers, func(p Peer) bool { return p.ID == id }) {
			return nil, fmt.Errorf("id %q appears twice", id)
		}
		peers = append(peers, Peer{ID: id, Addr: addr})
	}
	return peers, nil
}

func (c *Config) validate() error {
	switch {
	case c.ID == "":
		return errors.New("flag --id is required")
	case len(c.Peers) == 0:
		return errors.New("flag --peers is required")
	case !slices.ContainsFunc(c.Peers, func(p Peer) bool { return p.ID == c.ID }):
		return fmt.Errorf("flag --peers must list this node's --id %q", c.ID)
	case c.DataDir == "":
		return errors.New("flag --data is required")
	case c.Heartbeat <= 0:
		return errors.New("flag --heartbeat must be positive")
	case c.FailoverTimeout <= 0:
		return errors.New("flag --failover-timeout must be positive")
	case 2*c.Heartbeat >= c.FailoverTimeout:
		return errors.New("flag --heartbeat must be shorter than half of --failover-timeout (the lease lasts half of it)")
	case c.SemiSyncTimeout <= 0:
		return errors.New("flag --semi-sync-timeout must be positive")
	case c.WriteTimeout <= 0:
		return errors.New("flag --write-timeout must be positive")
	case c.FlushInterval <= 0:
		return errors.New("flag --flush-interval must be positive")
	case c.ShipDelay < 0:
		return errors.New("flag --ship-delay must not be negative")
	case c.ShipDelay > 0 && c.Replication != Async:
		return errors.New("flag --ship-delay needs --replication=async (sync and semi-sync wait for the standbys)")
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return fmt.Errorf("flag --listen: %w", err)
	}
	return nil
}

// majority is the number of nodes, this one included, that make a quorum.
func (c *Config) majority() int { return len(c.Peers)/2 + 1 }

// lease is how long a majority's acknowledgement of a heartbeat lets a
// quorum primary serve. It is shorter than voteGuard so that no successor can
// be elected while an old primary still believes its lease.
func (c *Config) lease() time.Duration { return c.FailoverTimeout / 2 }

// voteGuard is how long after hearing a live primary a node refuses to vote.
// It sits between the lease and the shortest election timeout, so that a
// dead primary's successor is never refused by a voter that heard the same
// last heartbeat a few milliseconds later.
func (c *Config) voteGuard() time.Duration { return c.FailoverTimeout * 3 / 4 }
