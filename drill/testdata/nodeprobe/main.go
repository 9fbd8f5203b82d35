// Command nodeprobe is the measuring end of TestEveryFaultKindOnEverySystem.
// The test builds it static, copies it into every node and runs it there
// (docker exec), because the nodes' images have no common tool: hakv's is
// FROM scratch. It does one thing and prints one JSON line:
//
//	nodeprobe write PATH    create PATH, write and fsync it: {"ms":..,"err":".."}
//	nodeprobe nosync PATH   create PATH and write it, without fsync
//	nodeprobe exists PATH   {"exists":true|false,"size":N}
//	nodeprobe state PID     the process's state letter from /proc (R, S, T, ...), "" when gone
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// result is what one probe prints.
type result struct {
	MS     float64 `json:"ms"`
	Err    string  `json:"err,omitempty"`
	Exists bool    `json:"exists,omitempty"`
	Size   int64   `json:"size,omitempty"`
	State  string  `json:"state,omitempty"`
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: nodeprobe write|nosync|exists PATH, or nodeprobe state PID")
		os.Exit(2)
	}
	start := time.Now()
	var r result
	var err error
	switch op, arg := os.Args[1], os.Args[2]; op {
	case "write":
		err = write(arg, true)
	case "nosync":
		err = write(arg, false)
	case "exists":
		fi, serr := os.Stat(arg)
		if r.Exists = serr == nil; r.Exists {
			r.Size = fi.Size()
		}
		if serr != nil && !errors.Is(serr, os.ErrNotExist) {
			err = serr
		}
	case "state":
		r.State, err = state(arg)
	default:
		fmt.Fprintln(os.Stderr, "nodeprobe: unknown operation", op)
		os.Exit(2)
	}
	r.MS = float64(time.Since(start).Microseconds()) / 1000
	if err != nil {
		r.Err = err.Error()
	}
	_ = json.NewEncoder(os.Stdout).Encode(r)
}

// write creates path afresh (new space, for disk-full) and writes it, with
// an fsync when sync is set.
func write(path string, sync bool) error {
	_ = os.Remove(path)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write([]byte(strings.Repeat("hadrill probe\n", 256)))
	if err == nil && sync {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}

// state reads the state letter of a process; a process that is gone has
// none.
func state(pid string) (string, error) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	// pid (comm) S ...: comm may hold spaces and parentheses; the state
	// follows the last ")".
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return "", fmt.Errorf("parse /proc/%s/stat: %q", pid, s)
	}
	return s[i+2 : i+3], nil
}
