package agent

import (
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/hadrill/hadrill/faults/kind"
)

// The clock fault shifts the wall clock of the supervised process, or makes
// it run fast or slow, without touching the node's (or the host's) real
// clock: the agent preloads libfaketime into the process (LD_PRELOAD) and
// rewrites libfaketime's control file while the process runs
// (FAKETIME_TIMESTAMP_FILE, re-read on every call with FAKETIME_NO_CACHE=1).
// Only CLOCK_REALTIME is faked (FAKETIME_DONT_FAKE_MONOTONIC=1): a clock
// step or drift is what NTP trouble looks like, while monotonic timers keep
// running. A statically linked process ignores LD_PRELOAD, so the clock
// fault is refused for it. Re-reading the file costs a stat on every time
// call, which is why the agent preloads the library only when started
// with --faketime.

// faketimePaths are where Debian's libfaketime package puts the library.
var faketimePaths = []string{
	"/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
	"/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
	"/usr/lib/faketime/libfaketime.so.1",
	"/usr/local/lib/faketime/libfaketime.so.1",
}

// faketimeSetup is the clock machinery of an agent started with --faketime.
type faketimeSetup struct {
	lib, rc string
	err     error // why the clock fault is unavailable, when it is
}

// setupFaketime finds the library (want is a path, or "auto"), checks the
// command is dynamically linked, and writes a neutral control file. It
// returns the environment to add to the process.
func setupFaketime(want string, argv []string) (*faketimeSetup, []string) {
	ft := &faketimeSetup{}
	if want != "auto" {
		ft.lib = want
	}
	for _, p := range faketimePaths {
		if ft.lib == "" {
			if _, err := os.Stat(p); err == nil {
				ft.lib = p
			}
		}
	}
	if ft.lib == "" {
		ft.err = fmt.Errorf("libfaketime.so.1 not found (looked in %s); install Debian's libfaketime in the node's image", strings.Join(faketimePaths, ", "))
		return ft, nil
	}
	if _, err := os.Stat(ft.lib); err != nil {
		ft.err = fmt.Errorf("libfaketime: %w", err)
		return ft, nil
	}
	if len(argv) > 0 {
		if static, path := isStatic(argv[0]); static {
			ft.err = fmt.Errorf("%s is statically linked: LD_PRELOAD cannot reach its clock", path)
			return ft, nil
		}
	}
	ft.rc = filepath.Join(os.TempDir(), "hadrill-faketime-"+strconv.Itoa(os.Getpid())+".rc")
	if err := writeFaketime(ft.rc, 0, 1); err != nil {
		ft.err = err
		return ft, nil
	}
	return ft, ft.env()
}

func (ft *faketimeSetup) env() []string {
	return []string{"LD_PRELOAD=" + ft.lib, "FAKETIME_TIMESTAMP_FILE=" + ft.rc, "FAKETIME_NO_CACHE=1",
		"FAKETIME_XRESET=1", "FAKETIME_DONT_FAKE_MONOTONIC=1", "FAKETIME_DONT_RESET=1"}
}

// isStatic reports whether the program has no ELF interpreter.
func isStatic(prog string) (bool, string) {
	path, err := exec.LookPath(prog)
	if err != nil {
		return false, prog
	}
	f, err := elf.Open(path)
	if err != nil {
		return false, path // a script: its interpreter is what runs
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return false, path
		}
	}
	return true, path
}

// writeFaketime replaces the control file atomically, so the process never
// reads half a line.
func writeFaketime(rc string, offset time.Duration, rate float64) error {
	line := fmt.Sprintf("%+.6f x%s\n", offset.Seconds(), strconv.FormatFloat(rate, 'f', -1, 64))
	tmp := rc + ".tmp"
	if err := os.WriteFile(tmp, []byte(line), 0o644); err != nil {
		return fmt.Errorf("write faketime file: %w", err)
	}
	if err := os.Rename(tmp, rc); err != nil {
		return fmt.Errorf("write faketime file: %w", err)
	}
	return nil
}

// clockFault is an applied clock.
type clockFault struct {
	ft       *faketimeSetup
	observed float64 // ms, NaN-free: 0 when not observed
}

func init() { register(applyClock, kind.Clock) }

func applyClock(a *Agent, f Fault) (fault, error) {
	ft := a.faketime
	if ft == nil {
		return nil, fmt.Errorf("%w: the agent was started without --faketime", ErrUnavailable)
	}
	if ft.err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, ft.err)
	}
	rate := f.Params.ClockRate
	if rate == 0 {
		rate = 1
	}
	if rate < 0 || (f.Params.Offset == 0 && rate == 1) {
		return nil, badParams("clock needs an offset or a rate > 0 other than 1")
	}
	if err := writeFaketime(ft.rc, time.Duration(f.Params.Offset), rate); err != nil {
		return nil, err
	}
	c := &clockFault{ft: ft}
	if off, err := ft.observe(); err == nil {
		c.observed = off
	} else {
		a.log.Warn("clock offset not observed", "err", err)
	}
	return c, nil
}

// observe runs date under the same preload and returns its clock's offset
// from the agent's, in ms.
func (ft *faketimeSetup) observe() (float64, error) {
	date, err := exec.LookPath("date")
	if err != nil {
		return 0, errors.New("no date program in the node to observe the clock with")
	}
	cmd := exec.Command(date, "+%s.%N")
	cmd.Env = append(os.Environ(), ft.env()...)
	before := time.Now()
	out, err := cmd.Output()
	after := time.Now()
	if err != nil {
		return 0, fmt.Errorf("run date: %w", err)
	}
	secs, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil {
		return 0, fmt.Errorf("parse date output %q: %w", out, err)
	}
	mid := before.Add(after.Sub(before) / 2)
	return (secs - float64(mid.UnixNano())/1e9) * 1000, nil
}

func (c *clockFault) mechanism() string { return "libfaketime" }

func (c *clockFault) measure() (Measured, error) {
	return Measured{ClockOffsetMS: c.observed}, nil
}

// heal puts the clock back: no offset, normal rate.
func (c *clockFault) heal() (Measured, error) {
	return Measured{ClockOffsetMS: c.observed}, writeFaketime(c.ft.rc, 0, 1)
}
