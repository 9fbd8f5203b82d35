package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/hadrill/hadrill/drill"
	"github.com/hadrill/hadrill/results"
)

// progress renders a run's progress on stderr: one line redrawn in place on
// a terminal, plain log lines (phase changes and every 5 s) otherwise, so CI
// logs stay readable.
type progress struct {
	w        io.Writer
	name     string
	tty      bool
	mu       sync.Mutex
	phase    drill.Phase
	detail   string
	lastLine time.Time
	drawn    bool
}

func newProgress(w io.Writer, name string) *progress {
	tty := false
	if f, ok := w.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	return &progress{w: w, name: name, tty: tty}
}

func (p *progress) update(s drill.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	line := p.line(s)
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s", line)
		p.drawn = true
		return
	}
	if s.Phase != p.phase || s.Detail != p.detail || time.Since(p.lastLine) >= 5*time.Second {
		fmt.Fprintln(p.w, line)
		p.lastLine = time.Now()
	}
	p.phase, p.detail = s.Phase, s.Detail
}

func (p *progress) line(s drill.Progress) string {
	if s.Phase != drill.PhaseLoad {
		if s.Detail != "" {
			return fmt.Sprintf("%s: %s %s", p.name, s.Phase, s.Detail)
		}
		return fmt.Sprintf("%s: %s", p.name, s.Phase)
	}
	primary := s.Primary
	if primary == "" {
		primary = "?"
	}
	faults := "none"
	if len(s.Faults) > 0 {
		faults = strings.Join(s.Faults, " ")
	}
	line := fmt.Sprintf("%s: %3.0fs/%.0fs  %4.0f ops/s  ok %d  fail %d  info %d  primary %s  faults %s",
		p.name, s.Elapsed.Seconds(), s.Total.Seconds(), s.Load.Rate,
		s.Load.OK, s.Load.Fail, s.Load.Info, primary, faults)
	if s.Detail != "" {
		line += "  " + s.Detail
	}
	return line
}

func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty && p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

// printSummary prints the run's outcome on stdout: the verdict, each check
// and where the results are.
func printSummary(w io.Writer, dir string, v *results.Verdict) {
	fmt.Fprintf(w, "%s  %s  seed %d  %.1fs  ops %d (ok %d, fail %d, info %d)\n",
		v.Scenario, strings.ToUpper(string(v.Verdict)), v.Seed, v.DurationSeconds,
		v.Ops.Total, v.Ops.OK, v.Ops.Fail, v.Ops.Info)
	names := make([]string, 0, len(v.Checks))
	for n := range v.Checks {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		c := v.Checks[n]
		val := ""
		if c.Value != nil {
			val = fmt.Sprintf("  %.3g %s", *c.Value, c.Unit)
		} else if c.Unbounded {
			val = "  unbounded"
		}
		if c.Target != nil {
			val += fmt.Sprintf(" (target %.3g)", *c.Target)
		}
		detail := ""
		if c.Result != "pass" && c.Detail != "" {
			detail = "  " + c.Detail
		}
		fmt.Fprintf(w, "  %-16s %-7s%s%s\n", n, c.Result, val, detail)
	}
	if v.Interrupted {
		fmt.Fprintln(w, "  (interrupted: the checks cover the partial history)")
	}
	fmt.Fprintf(w, "  results: %s\n", dir)
}
