package agent

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Resource faults run inside the agent process, which lives in the node's
// container and therefore in its cgroup: CPU burned here competes with the
// workload for the container's CPU quota, and memory touched here counts
// against its memory limit, exactly like a noisy neighbour process would.

// cpuFault is an applied CPU burn.
type cpuFault struct {
	a       *Agent
	stop    atomic.Bool
	wg      sync.WaitGroup
	threads []atomic.Int64 // CPU ns each burner thread consumed so far
}

// applyCPU starts one spinning thread per core asked for. Each goroutine is
// locked to its OS thread, so the Go scheduler cannot fold them together.
func applyCPU(a *Agent, f Fault) (fault, error) {
	cores := f.Params.Cores
	if cores == 0 {
		cores = 1
	}
	if cores < 0 || cores > 4*runtime.NumCPU() {
		return nil, badParams("cores %d is not in [1, %d]", cores, 4*runtime.NumCPU())
	}
	c := &cpuFault{a: a, threads: make([]atomic.Int64, cores)}
	a.burners.Add(int64(cores))
	started := make(chan struct{}, cores)
	for i := range cores {
		c.wg.Add(1)
		go c.spin(&c.threads[i], started)
	}
	for range cores {
		<-started
	}
	return c, nil
}

// spin burns one thread until stopped. The thread is not unlocked at the
// end, so it exits with the goroutine rather than returning to the pool.
func (c *cpuFault) spin(used *atomic.Int64, started chan<- struct{}) {
	defer c.wg.Done()
	runtime.LockOSThread()
	base := threadCPU()
	started <- struct{}{}
	for i := 0; ; i++ {
		if i&0xfffff == 0 {
			used.Store(threadCPU() - base)
			if c.stop.Load() {
				return
			}
		}
	}
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
