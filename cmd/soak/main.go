// Command soak interrupts many hadrill runs at random moments and counts
// what each one leaves behind (`make soak N`).
//
// Run i aims at one phase of a run (round robin over build, start cluster,
// wait for primary, load, heal, settle, final read, stop, teardown, check).
// It reads hadrill's progress lines on stderr, and when the aimed phase
// appears it waits a random delay and sends SIGINT; every fifth run gets
// SIGKILL instead (the phase it falls on shifts each round, so every phase
// gets both), followed by `hadrill cleanup`, as a user would after a
// kill -9. After each run it counts the leftovers of that run only (by the
// owner pid label hadrill puts on everything), and checks every run folder
// with `hadrill check`, which must exit 0, 1 or 2 and never crash.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/hadrill/hadrill/drill"
)

// phases are the moments aimed at, in run order: the runner's own list,
// which hadrill's progress lines name.
var phases = drill.Phases

// maxDelay is the longest random delay after a phase line, about the
// phase's usual length, so the signal lands anywhere inside it. The check
// of a soak run's short history takes about 10 ms on a quiet machine.
// A phase of the runner missing here is refused at start.
var maxDelay = map[drill.Phase]time.Duration{
	drill.PhaseBuild: 20 * time.Millisecond, drill.PhaseStart: 2 * time.Second, drill.PhaseWaitPrimary: time.Second,
	drill.PhaseLoad: 10 * time.Second, drill.PhaseHeal: 30 * time.Millisecond, drill.PhaseSettle: 2 * time.Second,
	drill.PhaseFinalRead: 30 * time.Millisecond, drill.PhaseStop: 500 * time.Millisecond,
	drill.PhaseTeardown: 150 * time.Millisecond, drill.PhaseCheck: 5 * time.Millisecond,
}

// runTimeout bounds one run; a SIGINTed run still going then has hung.
const runTimeout = 5 * time.Minute

// outcome is what one interrupted run did and left.
type outcome struct {
	phase   drill.Phase
	signal  string
	hit     bool // the signal was sent while the run was in the aimed phase
	exit    int
	left    leftovers
	checked []int // exit codes of hadrill check on each run folder
	crashed int   // checks that panicked or exited outside 0, 1, 2
}

func main() {
	n := flag.Int("n", 20, "how many interrupted runs")
	bin := flag.String("bin", "bin/hadrill", "the hadrill binary")
	scenario := flag.String("scenario", "cmd/soak/soak.yaml", "the scenario to run")
	killEvery := flag.Int("kill-every", 5, "every k-th run gets SIGKILL and `hadrill cleanup` (0: never)")
	seed := flag.Uint64("seed", uint64(time.Now().UnixNano()), "random seed for the delays")
	flag.Parse()
	for _, p := range phases {
		if _, ok := maxDelay[p]; !ok {
			fmt.Fprintf(os.Stderr, "soak: no delay for the runner's phase %q: add it to maxDelay\n", p)
			os.Exit(2)
		}
	}
	rng := rand.New(rand.NewPCG(*seed, 1))
	work, err := os.MkdirTemp("", "soak-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(3)
	}
	fmt.Printf("soak: %d runs of %s, seed %d, results in %s\n", *n, *scenario, *seed, work)
	baseImages := danglingImages()
	var outs []outcome
	for i := range *n {
		phase := phases[i%len(phases)]
		// Every k-th run is killed, shifted by one phase each round, so
		// that over k rounds every phase gets SIGKILLs and SIGINTs alike
		// (for k not a multiple of len(phases)+1).
		kill := *killEvery > 0 && (i+1+i/len(phases))%*killEvery == 0
		o := soakOne(*bin, *scenario, filepath.Join(work, fmt.Sprint(i)), phase, kill, rng)
		fmt.Printf("run %3d: aim %-16s %-7s hit %-5v exit %3d  check %v  left %s\n",
			i+1, phase, o.signal, o.hit, o.exit, o.checked, o.left)
		outs = append(outs, o)
	}
	imgs := newImages(baseImages, danglingImages())
	printTable(os.Stdout, outs, imgs)
	if total(outs).any() || imgs > 0 || crashes(outs) > 0 {
		os.Exit(1)
	}
}

// soakOne runs hadrill once, interrupts it in phase, and counts leftovers.
func soakOne(bin, scenario, dir string, phase drill.Phase, kill bool, rng *rand.Rand) outcome {
	o := outcome{phase: phase, signal: "SIGINT"}
	if kill {
		o.signal = "SIGKILL"
	}
	tmp := filepath.Join(dir, "tmp")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		panic(err)
	}
	// The whole of hadrill's stderr is kept beside the run's results, so a
	// run that ended in an unexpected way can be read in full afterwards.
	logf, err := os.Create(filepath.Join(dir, "hadrill.stderr"))
	if err != nil {
		panic(err)
	}
	defer logf.Close()
	results := filepath.Join(dir, "results")
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "run", scenario, "--results", results)
	// A private TMPDIR: every hadrill-* folder in it is this run's.
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp, "TESTCONTAINERS_RYUK_DISABLED=true")
	stderr, _ := cmd.StderrPipe()
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		panic(err)
	}
	pid := cmd.Process.Pid
	lines := make(chan string, 64)
	var tail []string // the last lines, to say why a run ended on its own
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			fmt.Fprintln(logf, sc.Text())
			tail = append(tail[max(0, len(tail)-3):], sc.Text())
			lines <- sc.Text()
		}
		close(lines)
	}()
	o.hit = aim(lines, phase, rng, func() {
		sig := syscall.SIGINT
		if kill {
			sig = syscall.SIGKILL
		}
		_ = cmd.Process.Signal(sig)
	})
	for range lines {
	}
	_ = cmd.Wait()
	o.exit = cmd.ProcessState.ExitCode()
	// A hit is a signal sent while the aimed phase was the run's current
	// one and taken by the run: a SIGINT at any moment exits 130 (after the
	// load too, with the results complete), a SIGKILL -1. A run that ended
	// on its own before the signal (0, 1 or 3) is a miss, and the reason
	// for an unexpected code is shown.
	want := 130
	if kill {
		want = -1
	}
	o.hit = o.hit && o.exit == want
	if !kill && o.exit == -1 {
		fmt.Printf("  hung after SIGINT: killed by the soak's %v timeout (all of it in %s)\n", runTimeout,
			filepath.Join(dir, "hadrill.stderr"))
	} else if o.exit != 130 && o.exit != -1 && o.exit != 0 && o.exit != 1 {
		fmt.Printf("  ended on its own (exit %d): %s (all of it in %s)\n", o.exit, strings.Join(tail, " | "),
			filepath.Join(dir, "hadrill.stderr"))
	}
	if kill {
		// What a user does after kill -9: the run's process is gone, so a
		// cleanup without flags must remove it (and nothing of others').
		out, err := exec.Command(bin, "cleanup").CombinedOutput()
		if err != nil {
			fmt.Printf("  cleanup: %v: %s", err, out)
		}
	}
	o.left = countLeftovers(pid, tmp)
	o.checked, o.crashed = checkAll(bin, results)
	return o
}

// aim reads progress lines until the phase appears, waits a random delay
// within it and calls signal. It reports whether the run was still in that
// phase (no later phase line seen) when the signal went.
func aim(lines <-chan string, phase drill.Phase, rng *rand.Rand, signal func()) bool {
	for line := range lines {
		if !strings.HasSuffix(line, ": "+string(phase)) && !(phase == drill.PhaseLoad && isLoadLine(line)) {
			continue
		}
		delay := time.Duration(rng.Int64N(int64(maxDelay[phase]) + 1))
		deadline := time.After(delay)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					return false // it ended before the signal
				}
				if isPhaseLine(l) && !isLoadLine(l) {
					signal() // a later phase began: still interrupt, but a miss
					return false
				}
			case <-deadline:
				signal()
				return true
			}
		}
	}
	return false
}

// isLoadLine tells a load progress line ("soak:   5s/10s ...").
func isLoadLine(l string) bool { return strings.Contains(l, "s/") && strings.Contains(l, "ops/s") }

// isPhaseLine tells a progress line naming a phase ("soak: heal").
func isPhaseLine(l string) bool {
	for _, p := range phases {
		if strings.HasSuffix(l, ": "+string(p)) {
			return true
		}
	}
	return isLoadLine(l)
}

// checkAll runs `hadrill check` on every run folder under results.
func checkAll(bin, results string) (codes []int, crashed int) {
	dirs, _ := filepath.Glob(filepath.Join(results, "*", "2*"))
	for _, d := range dirs {
		cmd := exec.Command(bin, "check", d)
		out, _ := cmd.CombinedOutput()
		code := cmd.ProcessState.ExitCode()
		codes = append(codes, code)
		if code < 0 || code > 2 || strings.Contains(string(out), "panic:") || strings.Contains(string(out), "goroutine ") {
			crashed++
			fmt.Printf("  check %s crashed (exit %d):\n%s\n", d, code, out)
		}
	}
	return codes, crashed
}
