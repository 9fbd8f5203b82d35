package agent

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/hadrill/hadrill/faults/kind"
)

// Resource faults run inside the agent process, which lives in the node's
// container and therefore in its cgroup: CPU burned here competes with the
// workload for the container's CPU quota, and memory touched here counts
// against its memory limit, exactly like a noisy neighbour process would.

// burnPeriod is the duty-cycle period of a partial burn: short against the
// scheduler's 100 ms quota period, so the load looks continuous.
const burnPeriod = 10 * time.Millisecond

// cpuFault is an applied CPU burn.
type cpuFault struct {
	a       *Agent
	duty    float64 // share of each period a thread spins
	stop    atomic.Bool
	wg      sync.WaitGroup
	threads []atomic.Int64 // CPU ns each burner thread consumed so far
}

func init() { register(applyCPU, kind.CPU) }

// applyCPU starts the burner threads. Each goroutine is locked to its OS
// thread, so the Go scheduler cannot fold them together.
func applyCPU(a *Agent, f Fault) (fault, error) {
	threads, duty, err := cpuPlan(f.Params)
	if err != nil {
		return nil, err
	}
	c := &cpuFault{a: a, duty: duty, threads: make([]atomic.Int64, threads)}
	a.burners.Add(int64(threads))
	started := make(chan struct{}, threads)
	for i := range threads {
		c.wg.Add(1)
		go c.spin(&c.threads[i], started)
	}
	for range threads {
		<-started
	}
	return c, nil
}

// cpuPlan turns the parameters into threads and a duty cycle. Cores alone
// burns that many full threads. Percent is a share of the node's CPU (its
// cgroup quota when it has one, else its CPU count), spread over Cores
// threads or over as few as can carry it.
func cpuPlan(p Params) (threads int, duty float64, err error) {
	limit := 4 * runtime.NumCPU()
	if p.Cores < 0 || p.Cores > limit {
		return 0, 0, badParams("cores %d is not in [1, %d]", p.Cores, limit)
	}
	if p.Percent < 0 || p.Percent > 100 {
		return 0, 0, badParams("cpu percent %v is not in (0, 100]", p.Percent)
	}
	if p.Percent == 0 {
		return max(p.Cores, 1), 1, nil
	}
	load := p.Percent / 100 * nodeCPUs()
	threads = p.Cores
	if threads == 0 {
		threads = max(int(math.Ceil(load)), 1)
	}
	return threads, min(1, load/float64(threads)), nil
}

// spin burns one thread until stopped: duty of every burnPeriod busy, the
// rest asleep. The thread is not unlocked at the end, so it exits with the
// goroutine rather than returning to the pool.
func (c *cpuFault) spin(used *atomic.Int64, started chan<- struct{}) {
	defer c.wg.Done()
	runtime.LockOSThread()
	base := threadCPU()
	started <- struct{}{}
	busy := time.Duration(c.duty * float64(burnPeriod))
	for {
		period := time.Now()
		for i := 0; ; i++ {
			if i&0x3ff == 0 && time.Since(period) >= busy {
				break
			}
		}
		used.Store(threadCPU() - base)
		if c.stop.Load() {
			return
		}
		if c.duty < 1 {
			time.Sleep(time.Until(period.Add(burnPeriod)))
		}
	}
}

// nodeCPUs is how much CPU the node may use: its cgroup's quota (v2
// cpu.max or v1 cfs quota) when set, else the CPU count.
func nodeCPUs() float64 {
	if b, err := os.ReadFile("/sys/fs/cgroup/cpu.max"); err == nil {
		f := strings.Fields(string(b))
		if len(f) == 2 && f[0] != "max" {
			if q, p := atof(f[0]), atof(f[1]); q > 0 && p > 0 {
				return q / p
			}
		}
	}
	for _, dir := range []string{"/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpu,cpuacct"} {
		q, _ := os.ReadFile(dir + "/cpu.cfs_quota_us")
		p, _ := os.ReadFile(dir + "/cpu.cfs_period_us")
		if qv, pv := atof(string(q)), atof(string(p)); qv > 0 && pv > 0 {
			return qv / pv
		}
	}
	return float64(runtime.NumCPU())
}

func atof(s string) float64 {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		return 0
	}
	return v
}

// threadCPU is the calling thread's user+system CPU time in ns.
func threadCPU() int64 {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_THREAD, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func (c *cpuFault) mechanism() string { return "threads" }

func (c *cpuFault) measure() (Measured, error) {
	var ns int64
	for i := range c.threads {
		ns += c.threads[i].Load()
	}
	return Measured{CPUSeconds: float64(ns) / 1e9}, nil
}

func (c *cpuFault) heal() (Measured, error) {
	c.stop.Store(true)
	c.wg.Wait()
	c.a.burners.Add(-int64(len(c.threads)))
	return c.measure()
}

// memoryFault is an applied memory allocation.
type memoryFault struct {
	a   *Agent
	mem []byte
	rss uint64
}

func init() { register(applyMemory, kind.Memory) }

// applyMemory maps anonymous memory outside the Go heap and writes to every
// page, so it is resident at once and unmapping gives it back immediately,
// whatever the garbage collector would have done.
func applyMemory(a *Agent, f Fault) (fault, error) {
	if f.Params.MiB <= 0 {
		return nil, badParams("memory needs mib > 0")
	}
	size := f.Params.MiB << 20
	mem, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, fmt.Errorf("map %d MiB: %w", f.Params.MiB, err)
	}
	page := os.Getpagesize()
	for i := 0; i < len(mem); i += page {
		mem[i] = 1
	}
	rss, _ := selfRSS()
	a.mapped.Add(int64(size))
	return &memoryFault{a: a, mem: mem, rss: rss}, nil
}

func (m *memoryFault) mechanism() string { return "mmap" }

func (m *memoryFault) measure() (Measured, error) {
	return Measured{MemoryBytes: uint64(len(m.mem)), RSSBytes: m.rss}, nil
}

func (m *memoryFault) heal() (Measured, error) {
	out, _ := m.measure()
	if err := unix.Munmap(m.mem); err != nil {
		return out, fmt.Errorf("unmap memory: %w", err)
	}
	m.a.mapped.Add(-int64(len(m.mem)))
	return out, nil
}

// selfRSS reads the agent's resident set size from /proc.
func selfRSS() (uint64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, fmt.Errorf("read rss: %w", err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("parse rss: %w", err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("read rss: no VmRSS line")
}

// cgroupCPU reports whether the node's cgroup has a CPU controller (v2
// cpu.max or v1 cpu.cfs_quota_us), for the capabilities answer.
func cgroupCPU() bool {
	for _, p := range []string{"/sys/fs/cgroup/cpu.max", "/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us"} {
		if _, err := os.Stat(p); err == nil {
			return true
		}
	}
	return false
}
