package agent

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// The agent needs root (nftables, FUSE, signals to any process), but some
// systems refuse to run as root: PostgreSQL's postmaster exits when started
// by uid 0. So the agent stays root and starts its child as the image's
// user (--user). The agent is static, and os/user without cgo reads only
// /etc/passwd anyway, so it parses that file itself: the image's own users
// are the ones that count.

// passwdPath is where the container's users are listed.
const passwdPath = "/etc/passwd"

// account is one /etc/passwd entry, as the child needs it.
type account struct {
	Name string
	UID  uint32
	GID  uint32
	Home string
}

// lookupAccount finds name (or a numeric uid) in the passwd file at path.
func lookupAccount(path, name string) (account, error) {
	f, err := os.Open(path)
	if err != nil {
		return account{}, fmt.Errorf("look up user %s: %w", name, err)
	}
	defer f.Close()
	return findAccount(f, name)
}

// findAccount scans passwd lines (name:pw:uid:gid:gecos:home:shell) for
// name, or for a uid when name is a number.
func findAccount(r io.Reader, name string) (account, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, ":")
		if len(f) < 7 || (f[0] != name && f[2] != name) {
			continue
		}
		uid, uerr := strconv.ParseUint(f[2], 10, 32)
		gid, gerr := strconv.ParseUint(f[3], 10, 32)
		if uerr != nil || gerr != nil {
			return account{}, fmt.Errorf("look up user %s: bad passwd line %q", name, line)
		}
		return account{Name: f[0], UID: uint32(uid), GID: uint32(gid), Home: f[5]}, nil
	}
	if err := sc.Err(); err != nil {
		return account{}, fmt.Errorf("look up user %s: %w", name, err)
	}
	return account{}, fmt.Errorf("look up user %s: no such user in %s", name, passwdPath)
}

// credential is what the child is started with: the user's uid and
// primary gid, and no supplementary groups (root's must not leak).
func (a account) credential() *syscall.Credential {
	return &syscall.Credential{Uid: a.UID, Gid: a.GID, Groups: []uint32{}}
}

// environ replaces HOME, USER and LOGNAME in env with the user's, so that
// programs writing below ~ (pg_autoctl's ~/.config) do not try root's home.
func (a account) environ(env []string) []string {
	out := make([]string, 0, len(env)+3)
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if k != "HOME" && k != "USER" && k != "LOGNAME" {
			out = append(out, kv)
		}
	}
	return append(out, "HOME="+a.Home, "USER="+a.Name, "LOGNAME="+a.Name)
}

// runAs makes the supervisor start its child as the named user, and hands
// the data folder (when given) to that user, so that a fresh folder created
// by root in the image is writable by the child.
func (s *supervisor) runAs(name, dataDir string) error {
	acct, err := lookupAccount(passwdPath, name)
	if err != nil {
		return err
	}
	if dataDir != "" {
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return fmt.Errorf("make data folder for %s: %w", name, err)
		}
		if err := os.Chown(dataDir, int(acct.UID), int(acct.GID)); err != nil {
			return fmt.Errorf("hand data folder to %s: %w", name, err)
		}
	}
	s.cred = acct.credential()
	s.env = acct.environ(s.env)
	s.log.Info("child runs as user", "user", acct.Name, "uid", acct.UID, "gid", acct.GID)
	return nil
}

// prepareUser applies --user to the supervisor, before anything starts.
func (a *Agent) prepareUser() error {
	if a.cfg.User == "" || a.sup == nil {
		return nil
	}
	if err := a.sup.runAs(a.cfg.User, a.cfg.UserData); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return nil
}
