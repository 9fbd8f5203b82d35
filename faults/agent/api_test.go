package agent

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/nftables/expr"
	"github.com/google/nftables/xt"
	"golang.org/x/sys/unix"

	"github.com/hadrill/hadrill/faults/kind"
)

// These tests need no privileges: they check the wire contract and the
// bytes the agent hands to the kernel.

func TestDurationJSON(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{`"50ms"`, 50 * time.Millisecond, true},
		{`"1.5s"`, 1500 * time.Millisecond, true},
		{`2000000`, 2 * time.Millisecond, true},
		{`"fast"`, 0, false},
		{`true`, 0, false},
	} {
		var d Duration
		err := json.Unmarshal([]byte(tc.in), &d)
		if (err == nil) != tc.ok || time.Duration(d) != tc.want {
			t.Errorf("unmarshal %s: %v, %v; want %v, ok=%v", tc.in, time.Duration(d), err, tc.want, tc.ok)
		}
	}
	b, _ := json.Marshal(Params{Params: kind.Params{Delay: kind.Duration(50 * time.Millisecond)}})
	if string(b) != `{"delay":"50ms"}` {
		t.Errorf("marshal: %s", b)
	}
}

// TestRandomBelow checks the loss threshold: numgen draws 0..9999 and the
// rule matches below percent×100, compared big-endian after the byteorder.
func TestRandomBelow(t *testing.T) {
	for percent, want := range map[float64]uint32{30: 3000, 0.01: 1, 100: 10000, 12.345: 1235} {
		exprs := randomBelow(percent)
		ng, bo, cmp := exprs[0].(*expr.Numgen), exprs[1].(*expr.Byteorder), exprs[2].(*expr.Cmp)
		if ng.Modulus != 10000 || ng.Type != unix.NFT_NG_RANDOM || bo.Op != expr.ByteorderHton || bo.Size != 4 {
			t.Fatalf("numgen %+v byteorder %+v", ng, bo)
		}
		if got := binary.BigEndian.Uint32(cmp.Data); cmp.Op != expr.CmpOpLt || got != want {
			t.Errorf("percent %v: cmp %v %d, want < %d", percent, cmp.Op, got, want)
		}
	}
}

// TestQueueTarget checks the xt_NFQ_info_v3 bytes: queue number, one queue,
// bypass flag, in host order.
func TestQueueTarget(t *testing.T) {
	tg := queueTarget(0x4845).(*expr.Target)
	info := []byte(*tg.Info.(*xt.Unknown))
	want := make([]byte, 8)
	binary.NativeEndian.PutUint16(want[0:], 0x4845)
	binary.NativeEndian.PutUint16(want[2:], 1)
	binary.NativeEndian.PutUint16(want[4:], nfqFlagBypass)
	if tg.Name != "NFQUEUE" || tg.Rev != 3 || !bytes.Equal(info, want) {
		t.Errorf("target %s rev %d info %x, want NFQUEUE rev 3 %x", tg.Name, tg.Rev, info, want)
	}
}

func TestExitCode(t *testing.T) {
	if got := exitCode(unix.WaitStatus(3 << 8)); got != 3 {
		t.Errorf("exit 3: got %d", got)
	}
	if got := exitCode(unix.WaitStatus(unix.SIGKILL)); got != 137 {
		t.Errorf("killed: got %d, want 137", got)
	}
}

func TestParseArgs(t *testing.T) {
	t.Setenv(tokenEnv, "from-env")
	cfg, err := ParseArgs([]string{"--port", "7171", "--fuse-data", "/data", "--", "/bin/server", "-x"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Port != 7171 || cfg.Token != "from-env" || cfg.FuseData != "/data" ||
		strings.Join(cfg.Command, " ") != "/bin/server -x" {
		t.Errorf("config %+v", cfg)
	}
	if _, err := ParseArgs([]string{"--log-level", "loud"}, io.Discard); err == nil {
		t.Error("bad log level accepted")
	}
	if _, err := New(Config{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("no token: %v", err)
	}
}

// TestClientContract drives the real handler through the real client with
// a fault that needs no privilege (cpu), and the error paths.
func TestClientContract(t *testing.T) {
	a, err := New(Config{Token: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	c := NewClient(srv.URL, "secret")
	ctx := context.Background()

	if _, err := NewClient(srv.URL, "nope").Health(ctx); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("wrong token: %v", err)
	}
	resp, err := http.Post(srv.URL+"/faults", "application/json", strings.NewReader(`{}`))
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("no token: %v %v", resp.StatusCode, err)
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/faults", strings.NewReader(`{"id":"x","kind":"cpu","colour":1}`))
	req.Header.Set("Authorization", "Bearer secret")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown field: %v %v", resp.StatusCode, err)
	}

	applied, err := c.Apply(ctx, Fault{ID: "burn", Kind: kind.CPU, Params: Params{Cores: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if applied.Mechanism != "threads" || applied.EffectiveNS < applied.ReceivedNS {
		t.Errorf("applied %+v", applied)
	}
	time.Sleep(50 * time.Millisecond)
	st, err := c.Status(ctx)
	if err != nil || len(st.Faults) != 1 || st.Faults[0].Fault.ID != "burn" {
		t.Fatalf("status %+v %v", st, err)
	}
	healed, err := c.Heal(ctx, "burn")
	if err != nil || healed.Measured.CPUSeconds <= 0 || healed.HealedNS < applied.EffectiveNS {
		t.Errorf("healed %+v %v", healed, err)
	}
	if _, err := c.Heal(ctx, "burn"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second heal: %v", err)
	}
}

func TestRateBits(t *testing.T) {
	if got, err := rateBits(Params{Params: kind.Params{Rate: 2_000_000}}); err != nil || got != 2e6 {
		t.Errorf("rateBits(rate 2mbit) = %d, %v; want 2000000", got, err)
	}
	if got, err := rateBits(Params{RateKbit: 500}); err != nil || got != 5e5 {
		t.Errorf("rateBits(rate_kbit 500) = %d, %v; want 500000", got, err)
	}
	for _, p := range []Params{{}, {Params: kind.Params{Rate: 8}}, {RateKbit: 1000, Params: kind.Params{Rate: 1_000_000}}} {
		if _, err := rateBits(p); !errors.Is(err, ErrInvalid) {
			t.Errorf("rateBits(%+v) accepted", p)
		}
	}
}

func TestCPUPlan(t *testing.T) {
	cpus := nodeCPUs()
	for _, tc := range []struct {
		p       Params
		threads int
		duty    float64
	}{
		{Params{}, 1, 1},
		{Params{Cores: 2}, 2, 1},
		{Params{Params: kind.Params{Percent: 100}}, int(math.Ceil(cpus)), cpus / math.Ceil(cpus)},
		{Params{Cores: 4, Params: kind.Params{Percent: 50}}, 4, min(1, cpus/2/4)},
	} {
		threads, duty, err := cpuPlan(tc.p)
		if err != nil || threads != tc.threads || math.Abs(duty-tc.duty) > 1e-9 {
			t.Errorf("cpuPlan(%+v) = %d threads at %.2f (%v); want %d at %.2f", tc.p, threads, duty, err, tc.threads, tc.duty)
		}
	}
	if _, _, err := cpuPlan(Params{Params: kind.Params{Percent: 150}}); !errors.Is(err, ErrInvalid) {
		t.Error("150% accepted")
	}
}
