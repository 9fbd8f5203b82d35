package engine

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hadrill/hadrill/cluster/label"
)

func TestPlaceNodes(t *testing.T) {
	nodes := []string{"n1", "n2", "n3", "s1"}
	got, err := PlaceNodes(nodes, []string{"a", "b"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"n1": "a", "n2": "b", "n3": "a", "s1": "b"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("spread = %v, want %v", got, want)
	}
	got, err = PlaceNodes(nodes, []string{"a", "b"}, map[string]string{"n1": "b", "n2": "b"})
	if err != nil {
		t.Fatal(err)
	}
	want = map[string]string{"n1": "b", "n2": "b", "n3": "a", "s1": "b"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("map = %v, want %v", got, want)
	}
	if _, err := PlaceNodes(nodes, []string{"a"}, map[string]string{"n9": "a"}); err == nil {
		t.Error("placement of an unknown node accepted")
	}
	if _, err := PlaceNodes(nodes, []string{"a"}, map[string]string{"n1": "c"}); err == nil {
		t.Error("placement on an unlisted engine accepted")
	}
}

func TestPublishIP(t *testing.T) {
	for _, c := range []struct {
		host   string
		labels []string
		want   string
	}{
		{"unix:///var/run/docker.sock", nil, "127.0.0.1"},
		{"unix:///run/x.sock", []string{"a=b", label.PublishIP + "=10.213.0.2"}, "10.213.0.2"},
		{"tcp://10.1.2.3:2375", nil, "10.1.2.3"},
	} {
		got, err := publishIP(c.host, c.labels)
		if err != nil || got.String() != c.want {
			t.Errorf("publishIP(%s, %v) = %v, %v; want %s", c.host, c.labels, got, err, c.want)
		}
	}
	if _, err := publishIP("unix:///x", []string{label.PublishIP + "=nope"}); err == nil {
		t.Error("bad label accepted")
	}
}

func TestContextHost(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("DOCKER_CONFIG", dir)
	// The layout the docker CLI writes: meta/<sha256("second")>/meta.json.
	sum := "16367aacb67a4a017c8da8ab95682ccb390863780f7114dda0a0e0c55644c7c4" // sha256("second")
	p := filepath.Join(dir, "contexts", "meta", sum)
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
	body := `{"Name":"second","Metadata":{},"Endpoints":{"docker":{"Host":"unix:///run/s.sock","SkipTLSVerify":false}}}`
	if err := os.WriteFile(filepath.Join(p, "meta.json"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := resolveEngine("second")
	if err != nil || got != "unix:///run/s.sock" {
		t.Errorf("resolveEngine(second) = %q, %v", got, err)
	}
	if _, err := resolveEngine("third"); err == nil || !strings.Contains(err.Error(), "no docker context") {
		t.Errorf("unknown context: %v", err)
	}
	if got, _ := resolveEngine("tcp://10.0.0.1:2375"); got != "tcp://10.0.0.1:2375" {
		t.Errorf("endpoint not kept: %s", got)
	}
}
