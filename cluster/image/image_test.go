package image

import (
	"testing"
)

// TestContextTag checks that the image tag depends on every byte of the build
// context and on nothing else (not the order files are listed in).
func TestContextTag(t *testing.T) {
	base := []File{{Path: "a", Content: []byte("x"), Mode: 0o755}, {Path: "b", Content: []byte("y"), Mode: 0o644}}
	tag := func(t *testing.T, df string, fs []File) string {
		t.Helper()
		loaded, err := LoadFiles(fs)
		if err != nil {
			t.Fatal(err)
		}
		return contextTag(df, loaded)
	}
	want := tag(t, "FROM scratch", base)
	if len(want) != contextTagLen {
		t.Fatalf("tag %q has %d characters, want %d", want, len(want), contextTagLen)
	}
	cases := []struct {
		name  string
		df    string
		files []File
		same  bool
	}{
		{"same context", "FROM scratch", base, true},
		{"files listed in another order", "FROM scratch", []File{base[1], base[0]}, true},
		{"another Dockerfile", "FROM scratch\n", base, false},
		{"another byte", "FROM scratch", []File{{Path: "a", Content: []byte("z"), Mode: 0o755}, base[1]}, false},
		{"another mode", "FROM scratch", []File{{Path: "a", Content: []byte("x"), Mode: 0o644}, base[1]}, false},
		{"bytes moved between files", "FROM scratch", []File{{Path: "a", Content: []byte("xy"), Mode: 0o755}, {Path: "b", Content: []byte{}, Mode: 0o644}}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tag(t, tc.df, tc.files); (got == want) != tc.same {
				t.Errorf("tag %s vs %s: same = %v, want %v", got, want, got == want, tc.same)
			}
		})
	}
}
