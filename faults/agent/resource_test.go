package agent_test

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hadrill/hadrill/faults/agent"
	"github.com/hadrill/hadrill/faults/kind"
	"golang.org/x/sys/unix"
)

// TestCPU burns one core for two seconds and reads the agent's CPU time
// from /proc before and after: it must grow by about the CPU time one
// thread could get, and the agent's own figure must agree. The two cores of
// the test machines are shared with other jobs, so the expectation is
// calibrated, with no absolute floor: a reference spinner in the test
// process runs over the same window, and the agent's burner must get at
// least half of what the reference got and at most one and a half times
// it, and exactly one of its threads may burn that much.
//
// Both are pinned to the same CPU once the burn is applied. Unpinned, each
// sits on whichever core's run queue the balancer gave it, and beside
// stress-ng one core can hold twice the runnable threads of the other: the
// burner got 0.41 CPU s while the reference got 1.07 s in the same 2 s. On
// one run queue the scheduler shares a core evenly between equal threads,
// so the reference is what the burner should get. An agent that does not
// burn gets next to nothing.
func TestCPU(t *testing.T) {
	p := startAgent(t, newNetns(t), agentOpts{})
	pid := p.cmd.Process.Pid
	before, threadsBefore := procCPU(t, pid), threadCPUs(t, pid)
	start := time.Now()
	p.apply(t, agent.Fault{ID: "cpu", Kind: kind.CPU, Params: agent.Params{Cores: 1}})
	cpu := firstCPU(t)
	pinThreads(t, pid, cpu)
	ref := spin(2*time.Second, cpu)
	if ref < 0 {
		t.Fatalf("could not pin the reference spinner to CPU %d", cpu)
	}
	// The burner's thread ends with the heal: count the busy ones now.
	busy := 0
	for tid, v := range threadCPUs(t, pid) {
		if v-threadsBefore[tid] >= 0.5*ref {
			busy++
		}
	}
	if busy != 1 {
		t.Errorf("%d threads of the agent each burned at least half the reference's %.2f CPU s, want 1 for one core", busy, ref)
	}
	m := p.heal(t, "cpu").Measured
	window := time.Since(start).Seconds()
	used := procCPU(t, pid) - before
	t.Logf("window %.2fs: agent process used %.2f CPU s (agent measured %.2f); reference spinner got %.2f",
		window, used, m.CPUSeconds, ref)
	if used < 0.5*ref || used > 1.5*ref+0.1 {
		t.Errorf("process CPU time %.2fs over %.2fs with 1 core burning, want about the reference's %.2fs",
			used, window, ref)
	}
	if m.CPUSeconds < used-0.1 || m.CPUSeconds > used+0.05 {
		t.Errorf("agent measured %.2f CPU s, want the process's %.2f", m.CPUSeconds, used)
	}
	idle := procCPU(t, pid)
	time.Sleep(300 * time.Millisecond)
	if after := procCPU(t, pid) - idle; after > 0.05 {
		t.Errorf("after heal the agent still used %.2f CPU s in 0.3 s", after)
	}
}

// TestCPUPercent burns a quarter of the node's CPU: a duty-cycled share,
// not full threads.
func TestCPUPercent(t *testing.T) {
	p := startAgent(t, newNetns(t), agentOpts{})
	caps, err := p.client.Capabilities(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	pid := p.cmd.Process.Pid
	before := procCPU(t, pid)
	start := time.Now()
	p.apply(t, agent.Fault{ID: "cpu", Kind: kind.CPU, Params: agent.Params{Params: kind.Params{Percent: 25}}})
	ref := spin(time.Second, -1) // what one thread could get meanwhile
	m := p.heal(t, "cpu").Measured
	used, window := procCPU(t, pid)-before, time.Since(start).Seconds()
	want := 0.25 * caps.CPULimit * window
	// On a shared machine the burner gets what the machine gives: the floor
	// is scaled by the reference spinner's share of its window.
	floor := 0.4 * want * min(1, ref/window)
	t.Logf("25%% of %.1f CPUs over %.2fs: process used %.2f CPU s (agent measured %.2f), want ≈ %.2f (reference got %.2f, floor %.2f)",
		caps.CPULimit, window, used, m.CPUSeconds, want, ref, floor)
	if used < floor || used > 1.3*want+0.1 {
		t.Errorf("used %.2f CPU s, want ≈ %.2f (at least %.2f)", used, want, floor)
	}
}

// spin busy-loops one locked thread for d and returns the CPU seconds that
// thread got. With cpu >= 0 the thread runs on that CPU only; it is not
// unlocked then, so the pinned thread exits instead of serving others.
func spin(d time.Duration, cpu int) float64 {
	got := make(chan float64)
	go func() {
		runtime.LockOSThread()
		if cpu >= 0 {
			var set unix.CPUSet
			set.Set(cpu)
			if err := unix.SchedSetaffinity(0, &set); err != nil {
				got <- -1
				return
			}
		} else {
			defer runtime.UnlockOSThread()
		}
		var r0, r1 unix.Rusage
		_ = unix.Getrusage(unix.RUSAGE_THREAD, &r0)
		for end := time.Now().Add(d); time.Now().Before(end); {
		}
		_ = unix.Getrusage(unix.RUSAGE_THREAD, &r1)
		used := r1.Utime.Nano() + r1.Stime.Nano() - r0.Utime.Nano() - r0.Stime.Nano()
		got <- float64(used) / 1e9
	}()
	return <-got
}

// firstCPU is the lowest CPU this test may run on (a CI job's cpuset need
// not include CPU 0).
func firstCPU(t testing.TB) int {
	t.Helper()
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		t.Fatal(err)
	}
	for cpu := range 1024 {
		if set.IsSet(cpu) {
			return cpu
		}
	}
	t.Fatal("no CPU in this thread's affinity mask")
	return -1
}

// pinThreads puts every thread of process pid on CPU cpu. Threads it starts
// later inherit the mask from the thread that starts them.
func pinThreads(t testing.TB, pid, cpu int) {
	t.Helper()
	var set unix.CPUSet
	set.Set(cpu)
	for _, tid := range threads(t, pid) {
		if err := unix.SchedSetaffinity(tid, &set); err != nil && err != unix.ESRCH {
			t.Fatalf("pin thread %d of the agent to CPU %d: %v", tid, cpu, err)
		}
	}
}

// TestMemory allocates 128 MiB and reads the agent's RSS from /proc: up by
// at least 120 MiB while applied, back down after healing.
func TestMemory(t *testing.T) {
	const mib = 128
	p := startAgent(t, newNetns(t), agentOpts{})
	pid := p.cmd.Process.Pid
	before := procRSS(t, pid)
	p.apply(t, agent.Fault{ID: "mem", Kind: kind.Memory, Params: agent.Params{Params: kind.Params{MiB: mib}}})
	during := procRSS(t, pid)
	m := p.heal(t, "mem").Measured
	after := procRSS(t, pid)
	t.Logf("RSS before %d MiB, during %d MiB, after %d MiB; measured %+v", before>>20, during>>20, after>>20, m)
	if during-before < 120<<20 {
		t.Errorf("RSS grew by %d MiB, want >= 120", (during-before)>>20)
	}
	if after > before+16<<20 {
		t.Errorf("RSS after heal %d MiB, want back near %d MiB", after>>20, before>>20)
	}
	if m.MemoryBytes != mib<<20 {
		t.Errorf("measured %d bytes, want %d", m.MemoryBytes, mib<<20)
	}
}

// procCPU is a process's user+system CPU time in seconds.
func procCPU(t testing.TB, pid int) float64 {
	t.Helper()
	v, err := statCPU(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// threadCPUs is the CPU time in seconds of each live thread of a process,
// by thread id. A thread that exits between the listing and the read is
// left out.
func threadCPUs(t testing.TB, pid int) map[int]float64 {
	t.Helper()
	out := map[int]float64{}
	for _, tid := range threads(t, pid) {
		if v, err := statCPU(fmt.Sprintf("/proc/%d/task/%d/stat", pid, tid)); err == nil {
			out[tid] = v
		}
	}
	return out
}

// threads lists the thread ids of a process.
func threads(t testing.TB, pid int) []int {
	t.Helper()
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		t.Fatal(err)
	}
	var tids []int
	for _, task := range tasks {
		if tid, err := strconv.Atoi(task.Name()); err == nil {
			tids = append(tids, tid)
		}
	}
	return tids
}

// statCPU reads user+system time in seconds from a /proc stat file.
func statCPU(path string) (float64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	utime, _ := strconv.ParseFloat(f[11], 64) // fields 14 and 15 of stat
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (utime + stime) / 100, nil // USER_HZ
}

// procRSS is a process's resident set size in bytes.
func procRSS(t testing.TB, pid int) uint64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.Fields(rest)[0], 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmRSS")
	return 0
}
