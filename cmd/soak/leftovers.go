package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
)

// leftovers counts what one run left behind.
type leftovers struct {
	Containers int
	Networks   int
	NftTables  int // hadrill tables in surviving containers' namespaces
	FuseMounts int // FUSE mounts in surviving containers
	TempDirs   int // hadrill-* folders in the run's private TMPDIR
}

func (l leftovers) any() bool { return l != leftovers{} }

func (l leftovers) String() string {
	return fmt.Sprintf("ctr %d net %d nft %d fuse %d tmp %d", l.Containers, l.Networks, l.NftTables, l.FuseMounts, l.TempDirs)
}

func (l *leftovers) add(o leftovers) {
	l.Containers += o.Containers
	l.Networks += o.Networks
	l.NftTables += o.NftTables
	l.FuseMounts += o.FuseMounts
	l.TempDirs += o.TempDirs
}

// countLeftovers counts the containers and networks owned by hadrill pid
// (its owner labels, so other drills on the engine are not counted), the
// in-node state of any container that survived, and the temp folders.
func countLeftovers(pid int, tmp string) leftovers {
	host, _ := os.Hostname()
	own := []string{"--filter", fmt.Sprintf("label=hadrill.owner.pid=%d", pid),
		"--filter", "label=hadrill.owner.host=" + host}
	var l leftovers
	ctrs := docker(append([]string{"ps", "-aq"}, own...)...)
	l.Containers = len(ctrs)
	l.Networks = len(docker(append([]string{"network", "ls", "-q"}, own...)...))
	for _, id := range ctrs {
		st := docker("inspect", "-f", "{{.State.Pid}}", id)
		if len(st) == 0 || st[0] == "0" {
			continue // not running: no namespace to look into
		}
		out, _ := exec.Command("nsenter", "-t", st[0], "-n", "nft", "list", "tables").Output()
		l.NftTables += strings.Count(string(out), "hadrill")
		mounts, _ := os.ReadFile("/proc/" + st[0] + "/mounts")
		l.FuseMounts += strings.Count(string(mounts), "fuse")
	}
	entries, _ := filepath.Glob(filepath.Join(tmp, "hadrill-*"))
	l.TempDirs = len(entries)
	return l
}

// danglingImages lists untagged images hadrill built (half-built or
// superseded builds).
func danglingImages() []string {
	return docker("images", "-q", "--no-trunc", "--filter", "dangling=true", "--filter", "label=hadrill.build")
}

// newImages counts images in after that were not in before.
func newImages(before, after []string) int {
	n := 0
	for _, id := range after {
		if !slices.Contains(before, id) {
			n++
		}
	}
	return n
}

// docker runs a docker command and returns its output's lines.
func docker(args ...string) []string {
	out, err := exec.Command("docker", args...).Output()
	if err != nil {
		return nil
	}
	return strings.Fields(string(out))
}

func total(outs []outcome) leftovers {
	var t leftovers
	for _, o := range outs {
		t.add(o.left)
	}
	return t
}

func crashes(outs []outcome) int {
	n := 0
	for _, o := range outs {
		n += o.crashed
	}
	return n
}

// printTable prints, per aimed phase, the runs, hits, exit codes, checks and
// leftovers, then the totals.
func printTable(w io.Writer, outs []outcome, images int) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "phase\truns\thit\tSIGKILL\texits\tchecks (0/1/2)\tcheck crashes\tcontainers\tnetworks\tnft tables\tfuse mounts\ttmp dirs\t")
	for _, p := range phases {
		var runs, hits, kills, crashed int
		var l leftovers
		exits := map[int]int{}
		checks := [3]int{}
		for _, o := range outs {
			if o.phase != p {
				continue
			}
			runs++
			if o.hit {
				hits++
			}
			if o.signal == "SIGKILL" {
				kills++
			}
			exits[o.exit]++
			for _, c := range o.checked {
				if c >= 0 && c <= 2 {
					checks[c]++
				}
			}
			crashed += o.crashed
			l.add(o.left)
		}
		if runs == 0 {
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%d/%d/%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", p, runs, hits, kills, fmtExits(exits),
			checks[0], checks[1], checks[2], crashed, l.Containers, l.Networks, l.NftTables, l.FuseMounts, l.TempDirs)
	}
	t := total(outs)
	fmt.Fprintf(tw, "total\t%d\t%d\t\t\t\t%d\t%d\t%d\t%d\t%d\t%d\t\n", len(outs), hits(outs), crashes(outs),
		t.Containers, t.Networks, t.NftTables, t.FuseMounts, t.TempDirs)
	tw.Flush()
	fmt.Fprintf(w, "new dangling hadrill images: %d\n", images)
}

func hits(outs []outcome) int {
	n := 0
	for _, o := range outs {
		if o.hit {
			n++
		}
	}
	return n
}

// fmtExits renders exit code counts as "130×3 137×1".
func fmtExits(m map[int]int) string {
	var keys []int
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%d×%d", k, m[k]))
	}
	return strings.Join(parts, " ")
}
