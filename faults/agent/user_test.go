package agent

import (
	"strings"
	"testing"
)

// TestFindAccount checks the passwd parsing the agent uses to pick the
// child's user: by name or by uid, and a clear error for an unknown user.
func TestFindAccount(t *testing.T) {
	const passwd = `root:x:0:0:root:/root:/bin/bash
# a comment
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
postgres:x:101:104:PostgreSQL administrator,,,:/var/lib/postgresql:/bin/bash
`
	for _, tc := range []struct {
		name, want string
		uid, gid   uint32
		home       string
	}{
		{name: "postgres", want: "postgres", uid: 101, gid: 104, home: "/var/lib/postgresql"},
		{name: "65534", want: "nobody", uid: 65534, gid: 65534, home: "/nonexistent"},
	} {
		a, err := findAccount(strings.NewReader(passwd), tc.name)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if a.Name != tc.want || a.UID != tc.uid || a.GID != tc.gid || a.Home != tc.home {
			t.Errorf("%s: got %+v", tc.name, a)
		}
	}
	if _, err := findAccount(strings.NewReader(passwd), "mysql"); err == nil || !strings.Contains(err.Error(), "no such user") {
		t.Errorf("unknown user: got %v", err)
	}
	env := account{Name: "postgres", Home: "/var/lib/postgresql"}.environ([]string{"HOME=/root", "PATH=/bin", "USER=root"})
	if strings.Join(env, " ") != "PATH=/bin HOME=/var/lib/postgresql USER=postgres LOGNAME=postgres" {
		t.Errorf("environ: got %v", env)
	}
}
